package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.tldr.TinyGym;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.training.Jsonl;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.laconic.cli.TrainSftCommandTest.args;
import static org.junit.jupiter.api.Assertions.*;

/** `compress tldr` and `compress tldr-data` as ./laconic runs them, on a tiny random gym model. */
class CompressTldrCommandTest {
    @TempDir static Path shared;
    static Path model, s1, s2, dev;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinyGym.model(shared.resolve("model"), 0);
        s1 = TinyGym.system1(shared.resolve("s1.jsonl"), 5);
        s2 = TinyGym.system2(shared.resolve("s2.jsonl"), 3);
        dev = TinyGym.dev(shared.resolve("dev.jsonl"), 3);
    }

    static String[] base(Path out) {
        return new String[]{"--model", model.toString(), "--system1", s1.toString(), "--system2", s2.toString(), "--dev", dev.toString(),
                "--format", "gym", "--out", out.toString(), "--full", "--lr", "3e-3", "--steps", "4", "--eval-every", "2", "--batch", "2",
                "--max-tokens", "6", "--save-dtype", "f32"};
    }

    /** Runs a command as ./laconic does (Laconic.isUserFault): a user fault ends as "error: message" and exit code 1. */
    static TrainSftCommandTest.Run cli(Object command, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (!(e instanceof Jsonl.BadInput || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException)) throw e;
            cmd.getErr().println("error: " + e.getMessage());
            return 1;
        });
        return new TrainSftCommandTest.Run(cl.execute(args), err.toString());
    }

    static TrainSftCommandTest.Run tldr(String... a) {
        return cli(new CompressTldrCommand(), a);
    }

    static List<JsonNode> metrics(Path run) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            ObjectNode n = (ObjectNode) RunDir.JSON.readTree(line);
            n.remove("eval_seconds");
            n.remove("time");
            out.add(n);
        }
        return out;
    }

    @Test
    void aRunWritesItsDirectoryAndALoadableFinalModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        TrainSftCommandTest.Run r = tldr(args(base(out), "--ref-short", "2,0.5", "--ref-long", "10,0.9"));
        assertEquals(0, r.exit(), r.err());
        for (String f : List.of("config.json", "reference.json", "metrics.jsonl", "summary.json", "weights.png",
                "final/model.safetensors", "final/config.json", "final/tokenizer.json", "evals/step-000002/samples.jsonl"))
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        List<JsonNode> m = metrics(out);
        assertEquals(4 + 2, m.size(), "4 training lines and 2 evaluation lines");
        assertTrue(m.get(2).has("w_short") && m.get(2).has("b_long") && m.get(2).has("dev_tokens"));
        JsonNode ref = RunDir.JSON.readTree(out.resolve("reference.json").toFile());
        assertEquals(2.0, ref.get("short").get("tokens").asDouble());
        assertEquals(0.9, ref.get("long").get("accuracy").asDouble());
        JsonNode summary = RunDir.JSON.readTree(out.resolve("summary.json").toFile());
        assertTrue(summary.get("completed").asBoolean());
        try (Model f = Model.load(out.resolve("final"), DType.F32, new VectorOps())) {
            assertEquals(32, f.config().hidden());
        }
        JsonNode config = RunDir.JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(0, config.get("warmup_steps").asInt(), "1 % of 4 steps");
        assertEquals(6, config.get("max_tokens").asInt());

        TrainSftCommandTest.Run again = tldr(args(base(out), "--ref-short", "2,0.5", "--ref-long", "10,0.9"));
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("already holds a run"), again.err());
    }

    @Test
    void resumeContinuesWithoutMeasuringTheReferencesAgain(@TempDir Path dir) throws Exception {
        Path shortModel = TinyGym.model(dir.resolve("short"), 7);
        Path sliced = dir.resolve("sliced"), straight = dir.resolve("straight");
        String[] refs = {"--short-model", shortModel.toString(), "--ref-long", "10,0.9"};
        assertEquals(0, tldr(args(args(base(straight), refs))).exit());
        TrainSftCommandTest.Run first = tldr(args(args(base(sliced), refs), "--stop-after", "3"));
        assertEquals(0, first.exit(), first.err());
        assertTrue(Files.isRegularFile(sliced.resolve("reference/short/summary.json")), "the short model was measured");
        RunDir.deleteTree(shortModel);
        TrainSftCommandTest.Run second = tldr(args(args(base(sliced), refs), "--resume"));
        assertEquals(0, second.exit(), second.err());
        assertEquals(metrics(straight), metrics(sliced));
        assertEquals(Files.readString(straight.resolve("reference.json")), Files.readString(sliced.resolve("reference.json")));
        assertArrayEquals(Files.readAllBytes(straight.resolve("final/model.safetensors")), Files.readAllBytes(sliced.resolve("final/model.safetensors")));

        TrainSftCommandTest.Run changed = tldr(args(args(base(sliced), refs), "--resume", "--eta", "2"));
        assertEquals(1, changed.exit());
        assertTrue(changed.err().contains("--eta 4.0 in the run, 2.0 now"), changed.err());
    }

    @Test
    void badInputEndsWithOneLine(@TempDir Path dir) throws Exception {
        TrainSftCommandTest.Run noRef = tldr(base(dir.resolve("a")));
        assertEquals(1, noRef.exit());
        assertEquals("error: give --ref-short TOKENS,ACCURACY or --short-model DIR", noRef.err().strip());
        TrainSftCommandTest.Run badRef = tldr(args(base(dir.resolve("b")), "--ref-short", "lots"));
        assertEquals(1, badRef.exit());
        assertTrue(badRef.err().startsWith("error: --ref-short takes TOKENS,ACCURACY"), badRef.err());
        TrainSftCommandTest.Run same = tldr(args(base(dir.resolve("c")), "--ref-short", "10,0.5", "--ref-long", "10,0.9"));
        assertEquals(1, same.exit());
        assertTrue(same.err().contains("same mean tokens"), same.err());
        Path broken = dir.resolve("dev.jsonl");
        Files.writeString(broken, "{\"prompt\": \"What is 1 + 2?\", \"answer\": 3, \"difficulty\": 1}\n{\"prompt\": \"x\"}\n");
        List<String> a = new ArrayList<>(List.of(base(dir.resolve("d"))));
        a.set(a.indexOf(dev.toString()), broken.toString());
        a.addAll(List.of("--ref-short", "2,0.5"));
        TrainSftCommandTest.Run badDev = tldr(a.toArray(new String[0]));
        assertEquals(1, badDev.exit());
        assertEquals("error: " + broken + ":2: field \"answer\": missing", badDev.err().strip());
        assertFalse(Files.exists(dir.resolve("d")), "nothing written");
    }

    @Test
    void dataFromSolutionsAndFromSamples(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("s2data");
        TrainSftCommandTest.Run r = cli(new CompressTldrDataCommand(), "--data", s2.toString(), "--format", "gym", "--out", out.toString(), "--solutions");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = Files.readAllLines(out.resolve("data.jsonl"));
        List<String> source = Files.readAllLines(s2);
        assertEquals(source.size(), lines.size());
        for (int i = 0; i < lines.size(); i++)
            assertEquals(RunDir.JSON.readTree(source.get(i)).get("response"), RunDir.JSON.readTree(lines.get(i)).get("response"));

        Path sampled = dir.resolve("sampled");
        String[] sample = {"--data", dev.toString(), "--format", "gym", "--out", sampled.toString(), "--model", model.toString(),
                "--dtype", "f32", "--k", "2", "--max-tokens", "5", "--batch", "4"};
        TrainSftCommandTest.Run s = cli(new CompressTldrDataCommand(), sample);
        assertEquals(0, s.exit(), s.err());
        assertEquals(3 * 2, Files.readAllLines(sampled.resolve("samples.jsonl")).size(), "k samples per problem");
        assertTrue(Files.isRegularFile(sampled.resolve("data.jsonl")));
        TrainSftCommandTest.Run rerun = cli(new CompressTldrDataCommand(), sample);
        assertEquals(0, rerun.exit(), "a rerun resumes: " + rerun.err());
        TrainSftCommandTest.Run other = cli(new CompressTldrDataCommand(), args(sample, "--seed", "5"));
        assertEquals(1, other.exit(), "other settings into the same directory are refused");

        TrainSftCommandTest.Run both = cli(new CompressTldrDataCommand(), "--data", s2.toString(), "--format", "gym", "--out", out.toString(),
                "--solutions", "--model", model.toString());
        assertNotEquals(0, both.exit());
    }

    @Test
    void compressListsItsMethods() {
        StringWriter w = new StringWriter();
        new CommandLine(new CompressCommand()).usage(new PrintWriter(w, true));
        assertTrue(w.toString().contains("tldr-data") && w.toString().contains("tldr "), w.toString());
    }
}
