package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Protocol;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.training.AdamW;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.RunDir;
import dev.laconic.training.Schedule;
import dev.laconic.training.SftData;
import dev.laconic.training.SftData.Example;
import dev.laconic.training.SftTrainer;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The TL;DR loop on a tiny random gym model: resume, the logged rule, buffer composition, checkpoints, selection, references. */
class TldrTrainerTest {
    static final int K = 2, BATCH = 2, STEPS = 6;
    /** Short 2 tokens / 50 %, long 10 tokens / 90 % (the tiny model writes 6-token noise: b_short = ½, b_long = 2.25). */
    static final References REFS = new References(new References.Point(2, 0.5, "given"), new References.Point(10, 0.9, "given"));
    static final EvalSettings EVAL = new EvalSettings(Protocol.BARE, 1, 0.7f, 1f, 6, 11, 8);

    @TempDir static Path shared;
    static Path base;
    static Model model;
    static Tokenizer tok;
    static List<Example> s1, s2;
    static List<Problem> dev;

    @BeforeAll
    static void setUp() throws IOException {
        base = TinyGym.model(shared.resolve("model"), 0);
        model = Model.load(base, DType.F32, new VectorOps());
        tok = model.tokenizer();
        s1 = SftData.load(TinyGym.system1(shared.resolve("s1.jsonl"), 5), tok, SftData.Template.R1, model.config().vocab(), 256, false).examples();
        s2 = SftData.load(TinyGym.system2(shared.resolve("s2.jsonl"), 3), tok, SftData.Template.R1, model.config().vocab(), 256, false).examples();
        assertEquals(3, s2.size(), "the System-2 lines fit the tiny context");
        dev = DataFormat.GYM.load(TinyGym.dev(shared.resolve("dev.jsonl"), 4));
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    static TldrTrainer.Options options(long stopAfter, boolean dynamic, int keep) {
        SftTrainer.Options t = new SftTrainer.Options(new Schedule(Schedule.Kind.WARMUP, 3e-3, 2, STEPS), new AdamW.Hyper(0.9, 0.95, 1e-8, 0),
                1.0, BATCH, 1, 4096, true, 5, 0, keep, stopAfter, base, DType.F32);
        return new TldrTrainer.Options(t, K, 4, 1e-4, dynamic, 0.3, EVAL);
    }

    static TldrTrainer.Result run(boolean lora, RunDir run, TldrTrainer.Options o, boolean resume) throws IOException {
        TrainableModel m = lora ? TrainableModel.lora(model, new LoraConfig(2, 4, Set.of("q", "v", "down")), 3) : TrainableModel.full(model);
        if (!resume) run.create(RunDir.JSON.createObjectNode());
        return TldrTrainer.run(m, tok, s1, s2, dev, REFS, o, run, resume, null);
    }

    /** metrics.jsonl without the wall-clock fields (eval_seconds, time). */
    static List<JsonNode> metrics(RunDir run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.metrics())) {
            ObjectNode n = (ObjectNode) RunDir.JSON.readTree(line);
            n.remove("eval_seconds");
            n.remove("time");
            out.add(n);
        }
        return out;
    }

    @Test
    void stoppedAndResumedRunEqualsTheStraightRun(@TempDir Path dir) throws IOException {
        for (boolean lora : new boolean[]{false, true}) {
            RunDir a = new RunDir(dir.resolve("straight-" + lora)), b = new RunDir(dir.resolve("sliced-" + lora));
            assertTrue(run(lora, a, options(Long.MAX_VALUE, true, 0), false).completed());
            // slices end mid-interval (step 3, between evaluations) and at an evaluation (step 4)
            TldrTrainer.Result first = run(lora, b, options(3, true, 0), false);
            assertEquals(3, first.step());
            assertFalse(first.completed());
            assertFalse(Files.exists(b.finalDir()));
            assertEquals(List.of(2L, 3L), b.checkpointSteps());
            assertEquals(4, run(lora, b, options(1, true, 0), true).step());
            TldrTrainer.Result last = run(lora, b, options(Long.MAX_VALUE, true, 0), true);
            assertEquals(4, last.startStep());
            assertTrue(last.completed());
            assertEquals(metrics(a), metrics(b), "same losses, domains, evaluations and weights");
            assertEquals(STEPS + STEPS / K, metrics(a).size());
            assertArrayEquals(Files.readAllBytes(a.finalDir().resolve("model.safetensors")), Files.readAllBytes(b.finalDir().resolve("model.safetensors")));
            for (long s = K; s <= STEPS; s += K) {
                Path samples = Path.of("evals", String.format("step-%06d", s), "samples.jsonl");
                assertEquals(Files.readString(a.dir().resolve(samples)), Files.readString(b.dir().resolve(samples)), samples.toString());
            }
        }
    }

    @Test
    void loggedWeightsFollowTheRuleAndTheBuffersTheirWeights(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        run(false, run, options(Long.MAX_VALUE, true, 0), false);
        double w0 = 0.5, w1 = 0.5;
        int system1 = 0;
        int evals = 0;
        for (JsonNode n : metrics(run)) {
            if (n.has("loss")) {
                assertEquals(BATCH, n.get("system1").asInt() + n.get("system2").asInt());
                system1 += n.get("system1").asInt();
                continue;
            }
            evals++;
            long step = n.get("step").asLong();
            // the interval that just ended drew ⌊w0·B⌋ System-1 examples, plus the remainder (B = K·batch = 4)
            int b = K * BATCH, n0 = (int) Math.floor(w0 * b), n1 = (int) Math.floor(w1 * b);
            assertEquals(n0 + (b - n0 - n1), system1, "System-1 examples before step " + step);
            system1 = 0;
            // dev numbers: recomputed from the evaluation's own samples
            double tokens = 0, correct = 0;
            List<String> lines = Files.readAllLines(run.dir().resolve("evals").resolve(String.format("step-%06d", step)).resolve("samples.jsonl"));
            assertEquals(dev.size(), lines.size());
            for (String l : lines) {
                JsonNode smp = RunDir.JSON.readTree(l);
                tokens += smp.get("tokens").asInt();
                if (smp.get("correct").asBoolean()) correct++;
            }
            assertEquals(tokens / lines.size(), n.get("dev_tokens").asDouble(), 1e-12);
            assertEquals(correct / lines.size(), n.get("dev_accuracy").asDouble(), 1e-12);
            // b = max(normalised distance, 0) with the given references (short 2 / 0.5, long 10 / 0.9)
            double bs = Math.max((n.get("dev_tokens").asDouble() - 2) / 8, 0), bl = Math.max((0.9 - n.get("dev_accuracy").asDouble()) / 0.4, 0);
            assertEquals(bs, n.get("b_short").asDouble(), 1e-12);
            assertEquals(bl, n.get("b_long").asDouble(), 1e-12);
            // w ← softmax(log w + 4·b), then (1 − c)·w + c/2 with c = 1e-4
            double r = Math.log(w0 / w1) + 4 * (bs - bl);
            double p0 = 1 / (1 + Math.exp(-r));
            double q0 = 0.9999 * p0 + 0.5e-4, q1 = 0.9999 * (1 - p0) + 0.5e-4;
            w0 = q0 / (q0 + q1);
            w1 = q1 / (q0 + q1);
            assertEquals(w0, n.get("w_short").asDouble(), 1e-12);
            assertEquals(w1, n.get("w_long").asDouble(), 1e-12);
        }
        assertEquals(STEPS / K, evals);
        assertTrue(Files.size(run.dir().resolve("weights.png")) > 1000);
        JsonNode summary = RunDir.JSON.readTree(run.dir().resolve("summary.json").toFile());
        assertTrue(summary.get("completed").asBoolean());
        assertEquals("dynamic", summary.get("mode").asText());
        assertEquals(STEPS / K, summary.get("history").size());
    }

    @Test
    void staticKeepsAnEvenMix(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        run(false, run, options(Long.MAX_VALUE, false, 0), false);
        int system1 = 0;
        for (JsonNode n : metrics(run)) {
            if (n.has("loss")) {
                system1 += n.get("system1").asInt();
            } else {
                assertEquals(0.5, n.get("w_short").asDouble());
                assertEquals(0.5, n.get("w_long").asDouble());
                assertEquals(K * BATCH / 2, system1);
                system1 = 0;
            }
        }
        assertEquals("static", RunDir.JSON.readTree(run.dir().resolve("summary.json").toFile()).get("mode").asText());
    }

    @Test
    void finalModelIsTheChosenCheckpointAndOnlyItAndTheNewestAreKept(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        TldrTrainer.Result r = run(false, run, options(Long.MAX_VALUE, true, 1), false);
        Selection.Choice c = r.choice();
        // the noise model never answers right: no checkpoint is eligible and the fallback is the most accurate
        assertFalse(c.eligible());
        assertEquals(Selection.choose(r.evaluations(), K, 0.9, 0.3), c);
        Set<Long> expected = new java.util.TreeSet<>(List.of((long) STEPS, c.evaluation().step()));
        assertEquals(List.copyOf(expected), run.checkpointSteps());
        try (Checkpoint ck = Checkpoint.open(run.checkpoint(c.evaluation().step()).resolve(RunDir.PARAMS));
             Checkpoint fin = Checkpoint.open(run.finalDir())) {
            for (String name : ck.names()) {
                Tensor a = ck.tensor(name), b = fin.tensor(name);
                assertEquals(DType.F32, b.dtype());
                for (long i = 0; i < a.numel(); i++) assertEquals(a.getFloat(i), b.getFloat(i), name);
            }
        }
        JsonNode summary = RunDir.JSON.readTree(run.dir().resolve("summary.json").toFile());
        assertEquals(c.evaluation().step(), summary.get("selected").get("step").asLong());
        assertFalse(summary.get("selected").get("eligible").asBoolean());
        assertEquals(0.63, summary.get("accuracy_bar").asDouble(), 1e-12);
    }

    @Test
    void referencesAreMeasuredOnceAndCached(@TempDir Path dir) throws IOException {
        Path shortModel = TinyGym.model(dir.resolve("short"), 7);
        TrainableModel start = TrainableModel.full(model);
        // short measured, long given
        RunDir a = new RunDir(dir.resolve("a"));
        a.create(RunDir.JSON.createObjectNode());
        References ra = TldrTrainer.references(a, null, shortModel, DType.F32, REFS.longRef(), start.transformer(), tok, dev, EVAL, null);
        JsonNode s = RunDir.JSON.readTree(a.dir().resolve("reference/short/summary.json").toFile());
        assertEquals(s.get("mean_completion_tokens").asDouble(), ra.shortRef().tokens());
        assertEquals(s.get("accuracy").asDouble(), ra.shortRef().accuracy());
        assertEquals(shortModel.toAbsolutePath().normalize().toString(), ra.shortRef().source());
        assertEquals(REFS.longRef(), ra.longRef());
        assertFalse(Files.exists(a.dir().resolve("reference/long")));
        // a rerun reads reference.json and measures nothing (the short model is gone)
        RunDir.deleteTree(shortModel);
        assertEquals(ra, TldrTrainer.references(a, null, shortModel, DType.F32, null, start.transformer(), tok, dev, EVAL, null));

        // long measured on the starting model, short given
        RunDir b = new RunDir(dir.resolve("b"));
        b.create(RunDir.JSON.createObjectNode());
        References rb = TldrTrainer.references(b, REFS.shortRef(), null, DType.F32, null, start.transformer(), tok, dev, EVAL, null);
        JsonNode l = RunDir.JSON.readTree(b.dir().resolve("reference/long/summary.json").toFile());
        assertEquals(l.get("mean_completion_tokens").asDouble(), rb.longRef().tokens());
        assertEquals(l.get("accuracy").asDouble(), rb.longRef().accuracy());
        assertEquals(rb, References.read(b.dir()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TldrTrainer.references(new RunDir(dir.resolve("c")),
                null, null, DType.F32, null, start.transformer(), tok, dev, EVAL, null));
        assertTrue(e.getMessage().contains("give the short reference point"), e.getMessage());
    }
}
