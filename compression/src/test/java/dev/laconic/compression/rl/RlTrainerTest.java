package dev.laconic.compression.rl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Problem;
import dev.laconic.tensor.DType;
import dev.laconic.training.AdamW;
import dev.laconic.training.Export;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.RunDir;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The RL loop on the tiny EOS-prone policy ({@link TinyPolicy}): on-policy start, resume, the all-cut guard rail, learning. */
class RlTrainerTest {
    @TempDir Path tmp;

    record Setup(double alpha, int prompts, int samples, int rollouts, int cap, int minibatch, int epochs, double lr, long stopAfter) {
        RlTrainer.Options options(Path base) {
            return new RlTrainer.Options(alpha, prompts, new Rollout.Sampling("{problem}", samples, 1f, 1f, cap, 5, 64), rollouts,
                    0.05, 0.2, minibatch, epochs, PolicyLoss.Aggregation.SEQUENCE_MEAN, lr, 0, new AdamW.Hyper(0.9, 0.95, 1e-8, 0),
                    1.0, 300, 7, 0, 0, stopAfter, base, DType.F32);
        }
    }

    /** One run (or slice of a run) of a fresh trainable model over the same starting weights. */
    RlTrainer.Result run(boolean lora, double eosShift, Setup s, RunDir run, boolean resume, Rollout.Grader grader,
                         RlTrainer.Eval eval) throws IOException {
        Transformer start = TinyPolicy.transformer(eosShift, 3);
        TrainableModel tm = lora ? TrainableModel.lora(start, new LoraConfig(4, 8, Set.of("q", "v", "down")), 1) : TrainableModel.full(start);
        if (!resume) run.create(RunDir.JSON.createObjectNode());
        Path base = tmp.resolve("base");
        if (!Files.exists(base)) TinyPolicy.writeHf(base, eosShift, 3);
        return RlTrainer.run(tm, lora ? null : start, TinyPolicy.TOK, TinyPolicy.problems(10), s.options(base), eval, run, resume,
                grader, null);
    }

    /** The lines of a metrics or eval log without "time" (the one field a resumed run differs in); each has the split. */
    static List<JsonNode> withoutTime(Path file, String split) throws IOException {
        List<JsonNode> out = lines(file);
        for (JsonNode n : out) {
            assertEquals(split, n.path("split").asText(), n.toString());
            assertTrue(n.path("time").asDouble(-1) >= 0, n.toString());
            ((com.fasterxml.jackson.databind.node.ObjectNode) n).remove("time");
        }
        return out;
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) out.add(RunDir.JSON.readTree(l));
        return out;
    }

    @Test
    void everyRolloutStartsOnPolicyAndTheFirstStartsAtTheReference() throws IOException {
        for (boolean lora : new boolean[]{false, true}) {
            RunDir run = new RunDir(tmp.resolve("onpolicy-" + lora));
            // one minibatch per rollout: the update's forward sees exactly the weights that computed logp_old
            run(lora, 0.5, new Setup(0.2, 3, 4, 3, 40, 12, 1, 3e-3, Long.MAX_VALUE), run, false, TinyPolicy::evenFirstToken, null);
            List<JsonNode> m = lines(run.metrics());
            assertEquals(3, m.size());
            for (JsonNode line : m) {
                assertEquals(0.0, line.get("approx_kl").asDouble(), "ρ = 1 exactly on a rollout's first minibatch: " + line);
                assertEquals(0.0, line.get("clip_fraction").asDouble(), line.toString());
            }
            assertEquals(0.0, m.get(0).get("kl").asDouble(), "the starting policy is the reference (" + (lora ? "LoRA, B = 0" : "full") + ")");
            assertNotEquals(0.0, m.get(2).get("kl").asDouble(), "after two updates the policy has moved");
            assertTrue(m.get(0).get("accuracy").asDouble() > 0 && m.get(0).get("accuracy").asDouble() < 1, "a mixed rollout: " + m.get(0));
            assertEquals(m.get(0).get("samples").asInt(), 12);
            assertEquals(3, m.get(2).get("optimizer_step").asInt());
            assertTrue(Files.size(run.dir().resolve(RlTrainer.CURVES)) > 1000);
        }
        // two minibatches: the second runs after the first update, so ρ ≠ 1 there
        RunDir two = new RunDir(tmp.resolve("two-minibatches"));
        run(false, 0.5, new Setup(0.2, 3, 4, 1, 40, 6, 1, 3e-3, Long.MAX_VALUE), two, false, TinyPolicy::evenFirstToken, null);
        assertNotEquals(0.0, lines(two.metrics()).getFirst().get("approx_kl").asDouble());
    }

    @Test
    void aStoppedAndResumedRunEqualsTheStraightRun() throws IOException {
        EvalSettings es = new EvalSettings("{problem}", 1, 0.6f, 1f, 30, 9, 8);
        RlTrainer.Eval eval = new RlTrainer.Eval(TinyPolicy.problems(4), es, 2);
        for (boolean lora : new boolean[]{false, true}) {
            RunDir a = new RunDir(tmp.resolve("straight-" + lora)), b = new RunDir(tmp.resolve("resumed-" + lora));
            Setup straight = new Setup(0.3, 2, 4, 3, 40, 4, 2, 3e-3, Long.MAX_VALUE);
            assertTrue(run(lora, 0.5, straight, a, false, TinyPolicy::evenFirstToken, eval).completed());
            RlTrainer.Result first = run(lora, 0.5, new Setup(0.3, 2, 4, 3, 40, 4, 2, 3e-3, 1), b, false, TinyPolicy::evenFirstToken, eval);
            assertEquals(1, first.step());
            assertFalse(first.completed());
            assertFalse(Files.exists(b.finalDir()));
            assertEquals(List.of(1L), b.checkpointSteps(), "a slice ends with a checkpoint");
            RlTrainer.Result second = run(lora, 0.5, straight, b, true, TinyPolicy::evenFirstToken, eval);
            assertEquals(1, second.startStep());
            assertTrue(second.completed());
            assertEquals(withoutTime(a.metrics(), RunDir.TRAIN), withoutTime(b.metrics(), RunDir.TRAIN), "all but the time bit-identical");
            assertEquals(3, Files.readAllLines(b.metrics()).size());
            // evaluations before the first rollout, after rollout 2 (every 2) and after the last
            assertEquals(withoutTime(a.dir().resolve(RlTrainer.EVAL_LOG), RunDir.EVAL), withoutTime(b.dir().resolve(RlTrainer.EVAL_LOG), RunDir.EVAL));
            assertEquals(List.of(0L, 2L, 3L), lines(b.dir().resolve(RlTrainer.EVAL_LOG)).stream().map(n -> n.get("step").asLong()).toList());
            String weights = lora ? Export.ADAPTER_WEIGHTS : "model.safetensors";
            assertArrayEquals(Files.readAllBytes(a.finalDir().resolve(weights)), Files.readAllBytes(b.finalDir().resolve(weights)));
            if (lora) assertTrue(Files.exists(b.dir().resolve(RlTrainer.MERGED).resolve("model.safetensors")));
        }
    }

    @Test
    void aRolloutWhoseSamplesAreAllCutStopsTheRun() throws IOException {
        RunDir run = new RunDir(tmp.resolve("all-cut"));
        RolloutMetrics.AllCut e = assertThrows(RolloutMetrics.AllCut.class, () ->
                run(false, -2, new Setup(0.2, 2, 3, 5, 4, 6, 1, 1e-3, Long.MAX_VALUE), run, false, TinyPolicy::terminated, null));
        assertTrue(e.getMessage().startsWith("rollout 1: all 6 samples were cut at maxTokens 4"), e.getMessage());
        assertTrue(e.getMessage().contains("Raise maxTokens"), e.getMessage());
        assertEquals(List.of(), Files.readAllLines(run.metrics()));
        assertEquals(List.of(), run.checkpointSteps());
    }

    /**
     * The gradient points the right way: "correct" = ended with EOS, α = 0.5, so shorter completions earn
     * more (a higher reward among the correct ones, and fewer cut at the cap). Full fine-tuning at a high lr
     * should cut the mean length within a few rollouts.
     */
    @Test
    void lengthFallsUnderTheLengthPenalty() throws IOException {
        RunDir run = new RunDir(tmp.resolve("learn"));
        run(false, 0.5, new Setup(0.5, 4, 4, 5, 30, 16, 1, 1e-2, Long.MAX_VALUE), run, false, TinyPolicy::terminated, null);
        List<JsonNode> m = lines(run.metrics());
        double first = (m.get(0).get("mean_length").asDouble() + m.get(1).get("mean_length").asDouble()) / 2;
        double last = (m.get(3).get("mean_length").asDouble() + m.get(4).get("mean_length").asDouble()) / 2;
        assertTrue(last < 0.7 * first, "mean length of rollouts 1-2: " + first + ", of rollouts 4-5: " + last);   // measured 22.0 → 12.6
        assertTrue(m.get(4).get("reward").asDouble() > m.get(0).get("reward").asDouble());
    }

    @Test
    void thePromptStreamVisitsEveryProblemOncePerEpoch() {
        List<Problem> train = TinyPolicy.problems(10);
        Set<Integer> epoch0 = new HashSet<>(), epoch1 = new HashSet<>();
        List<Integer> positions = new ArrayList<>();
        for (int r = 1; r <= 5; r++) {                              // 5 rollouts × 4 prompts = 2 epochs of 10
            int[] pos = new int[4];
            List<Problem> ps = RlTrainer.prompts(train, 4, 7, r, pos);
            for (int j = 0; j < 4; j++) {
                positions.add(pos[j]);
                assertTrue((pos[j] < 10 ? epoch0 : epoch1).add(ps.get(j).index()), "problem " + ps.get(j).index() + " twice in an epoch");
            }
        }
        assertEquals(10, epoch0.size());
        assertEquals(10, epoch1.size());
        for (int k = 0; k < 20; k++) assertEquals(k, positions.get(k));
        int[] a = new int[4], b = new int[4];
        assertEquals(RlTrainer.prompts(train, 4, 7, 3, a), RlTrainer.prompts(train, 4, 7, 3, b), "a function of (seed, rollout)");
        assertNotEquals(RlTrainer.prompts(train, 10, 7, 1, new int[10]), RlTrainer.prompts(train, 10, 8, 1, new int[10]));
    }
}
