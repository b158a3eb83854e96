package dev.laconic.compression.gym;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.cli.GymCommand;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/** `gym data` and `gym pretrain` through the command line, as ./laconic runs them. */
class GymCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static int gym(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new GymCommand());
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        assertEquals(0, code, err.toString());
        return code;
    }

    static List<JsonNode> read(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) out.add(JSON.readTree(line));
        return out;
    }

    /** The problem a line states, rebuilt from its text (not from the generator). */
    static Problem problemOf(JsonNode line) {
        List<BigInteger> ops = ProblemTest.operandsOf(line.path("problem").asText());
        long[] a = ops.stream().mapToLong(BigInteger::longValueExact).toArray();
        return new Problem(line.path("difficulty").asInt(), a);
    }

    @Test
    void dataWritesBalancedDisjointCheckedSplits(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b"), c = dir.resolve("c"), s1 = dir.resolve("s1");
        gym("data", "--out", a.toString(), "--train", "300", "--dev-per-level", "10");
        List<JsonNode> train = read(a.resolve("train.jsonl")), dev = read(a.resolve("dev.jsonl")), test = read(a.resolve("test.jsonl"));
        assertEquals(300, train.size());
        assertEquals(40, dev.size());
        assertEquals(1000, test.size());
        int[] perLevel = new int[5];
        Set<String> testKeys = new HashSet<>(), devKeys = new HashSet<>();
        for (List<JsonNode> split : List.of(train, dev, test))
            for (JsonNode line : split) {
                assertEquals(new TreeSet<>(List.of("prompt", "response", "answer", "difficulty", "problem")), fields(line));
                Problem p = problemOf(line);
                assertEquals(GymFormat.INSTRUCTION + line.path("problem").asText(), line.path("prompt").asText());
                BigInteger sum = ProblemTest.operandsOf(line.path("problem").asText()).stream().reduce(BigInteger.ZERO, BigInteger::add);
                assertEquals(sum.toString(), line.path("answer").asText());
                WritersTest.check(p, line.path("response").asText());          // every step of the solution
                if (split == test) {
                    perLevel[p.level()]++;
                    assertTrue(testKeys.add(p.key()), "duplicate test problem " + p);
                }
                if (split == dev) assertTrue(devKeys.add(p.key()), "duplicate dev problem " + p);
            }
        assertArrayEquals(new int[]{0, 250, 250, 250, 250}, perLevel, "test balanced over the levels");
        for (String k : devKeys) assertFalse(testKeys.contains(k), "dev problem in test: " + k);
        for (JsonNode line : train) {
            String k = problemOf(line).key();
            assertFalse(testKeys.contains(k) || devKeys.contains(k), "held-out problem in train: " + k);
        }
        // passes vary between solutions
        Set<Integer> passes = new HashSet<>();
        for (JsonNode line : test) passes.add(GymEval.passes(line.path("response").asText()));
        assertEquals(Set.of(0, 1, 2, 3), passes);

        gym("data", "--out", b.toString(), "--train", "300", "--dev-per-level", "10");
        for (String f : List.of("train.jsonl", "dev.jsonl", "test.jsonl"))
            assertEquals(Files.readString(a.resolve(f)), Files.readString(b.resolve(f)), f + ": same seed, same file");
        gym("data", "--out", c.toString(), "--seed", "1", "--train", "10", "--dev-per-level", "1");
        assertNotEquals(Files.readString(a.resolve("test.jsonl")), Files.readString(c.resolve("test.jsonl")));

        gym("data", "--out", s1.toString(), "--style", "system1", "--train", "10", "--dev-per-level", "10");
        List<JsonNode> test1 = read(s1.resolve("test.jsonl"));
        for (int i = 0; i < test.size(); i++) {
            assertEquals(test.get(i).path("prompt"), test1.get(i).path("prompt"), "the test problems do not depend on the style");
            assertEquals(System1Writer.write(problemOf(test1.get(i))), test1.get(i).path("response").asText());
        }
    }

    private static Set<String> fields(JsonNode n) {
        Set<String> s = new TreeSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    static final String[] TINY = {"--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--intermediate", "48",
            "--steps", "2", "--batch", "2", "--warmup-steps", "1", "--eval-per-level", "1", "--eval-max-tokens", "6",
            "--eval-temperatures", "0,1", "--log-every", "1"};

    static String[] args(String[] tail, String... head) {
        List<String> l = new ArrayList<>(List.of(head));
        l.addAll(List.of(tail));
        return l.toArray(new String[0]);
    }

    @Test
    void pretrainSmokeRunWritesALoadableReproducibleModel(@TempDir Path dir) throws Exception {
        Path m1 = dir.resolve("m1"), m2 = dir.resolve("m2");
        gym(args(TINY, "pretrain", "--out", m1.toString(), "--style", "system1"));
        gym(args(TINY, "pretrain", "--out", m2.toString(), "--style", "system1"));
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "gym_pretrain.json"))
            assertTrue(Files.isRegularFile(m1.resolve(f)), f);
        assertArrayEquals(Files.readAllBytes(m1.resolve("model.safetensors")), Files.readAllBytes(m2.resolve("model.safetensors")),
                "same seeds, same weights");

        try (Model m = Model.load(m1, DType.F32, new VectorOps())) {
            assertEquals("Qwen2ForCausalLM", m.config().architecture());
            assertEquals(32, m.config().hidden());
            assertTrue(m.config().tieWordEmbeddings());
            assertTrue(m.config().vocab() >= m.tokenizer().vocabSize());
            assertEquals(m.tokenizer().bosId(), m.config().bosId());
            assertArrayEquals(new int[]{m.tokenizer().eosId()}, m.config().eosIds());
            Problem p = new Problem(1, new long[]{47, 85});
            List<Completion> out = GymEval.generator(m.transformer(), m.tokenizer())
                    .generate(List.of(GymFormat.promptIds(m.tokenizer(), p)), GenerationConfig.greedy(4), null);
            assertEquals(1, out.size());
            assertTrue(out.getFirst().tokens() >= 1 && out.getFirst().tokens() <= 4);
        }
        try (Checkpoint ck = Checkpoint.open(m1)) {
            assertTrue(ck.contains("model.embed_tokens.weight"));
            assertTrue(ck.contains("model.layers.0.self_attn.q_proj.bias"));
            assertFalse(ck.contains("lm_head.weight"), "tied head stored once");
        }
        JsonNode summary = JSON.readTree(Files.readString(m1.resolve("gym_pretrain.json")));
        assertEquals(2, summary.path("steps").asInt());
        assertEquals("system1", summary.path("style").asText());
        assertTrue(summary.path("final_loss").asDouble() > 0);
        assertEquals(5, summary.path("dev_eval").path("greedy").size(), "4 levels and all");
        assertEquals(4, summary.path("dev_eval").path("greedy").get(4).path("samples").asInt());
    }

    @Test
    void aSecondPhaseStartsFromTheGivenModel(@TempDir Path dir) throws Exception {
        Path m1 = dir.resolve("m1"), m2 = dir.resolve("m2"), fresh = dir.resolve("fresh");
        gym(args(TINY, "pretrain", "--out", m1.toString(), "--style", "system1"));
        // lr 1e-12: phase 2 changes nothing measurable, so its weights are phase 1's, not a fresh initialisation
        gym(args(TINY, "pretrain", "--out", m2.toString(), "--style", "system1", "--init", m1.toString(), "--skip-examples", "4",
                "--lr", "1e-12", "--seed", "5"));
        gym(args(TINY, "pretrain", "--out", fresh.toString(), "--style", "system1", "--lr", "1e-12", "--seed", "5"));
        try (Checkpoint a = Checkpoint.open(m1); Checkpoint b = Checkpoint.open(m2); Checkpoint c = Checkpoint.open(fresh)) {
            String name = "model.layers.0.mlp.up_proj.weight";
            float[] x = a.tensor(name).toFloatArray(), y = b.tensor(name).toFloatArray(), z = c.tensor(name).toFloatArray();
            double dInit = 0, dFresh = 0;
            for (int i = 0; i < x.length; i++) { dInit = Math.max(dInit, Math.abs(x[i] - y[i])); dFresh = Math.max(dFresh, Math.abs(z[i] - y[i])); }
            assertTrue(dInit < 1e-6, "phase 2 kept phase 1's weights: " + dInit);
            assertTrue(dFresh > 1e-3, "and is not a fresh initialisation: " + dFresh);
        }
        JsonNode summary = JSON.readTree(Files.readString(m2.resolve("gym_pretrain.json")));
        assertEquals(4, summary.path("skip_examples").asInt());
        assertEquals(m1.toString(), summary.path("init").asText());
    }

    @Test
    void pretrainRefusesBadOptions(@TempDir Path dir) {
        CommandLine cl = new CommandLine(new GymCommand());
        cl.setErr(new PrintWriter(new StringWriter(), true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> e instanceof IllegalArgumentException ? 1 : 2);
        assertEquals(1, cl.execute("pretrain", "--out", dir.toString(), "--style", "system3", "--steps", "1"));
        assertEquals(1, cl.execute("pretrain", "--out", dir.toString(), "--hidden", "30", "--heads", "4", "--steps", "1"));
        assertEquals(1, cl.execute("pretrain", "--out", dir.toString(), "--level-weights", "1,1", "--steps", "1"));
    }
}
