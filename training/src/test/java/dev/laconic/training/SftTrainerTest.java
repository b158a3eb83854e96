package dev.laconic.training;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.training.SftData.Example;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Resume, interrupted checkpoints, divergence and gradient accumulation, on the tiny golden Qwen2. */
class SftTrainerTest {
    static final Path BASE = SftTrainerGoldenTest.GOLDEN.resolve("qwen2-f32");

    record Setup(Schedule.Kind schedule, double lr, int batch, int accum, int microTokens, boolean shuffle, int saveEvery, long stopAfter) {
        SftTrainer.Options options(int steps) {
            return new SftTrainer.Options(new Schedule(schedule, lr, 2, steps), new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1), 1.0,
                    batch, accum, microTokens, shuffle, 5, saveEvery, 0, stopAfter, BASE, DType.F32);
        }
    }

    static SftTrainer.Result run(Model model, boolean lora, Setup s, int steps, RunDir run, boolean resume) throws IOException {
        TrainableModel m = lora ? TrainableModel.lora(model, new LoraConfig(4, 8, Set.of("q", "v", "down")), 3) : TrainableModel.full(model);
        if (!resume) run.create(RunDir.JSON.createObjectNode());
        return SftTrainer.run(m, SftTrainerGoldenTest.data(), s.options(steps), run, resume, x -> { });
    }

    /**
     * metrics.jsonl without "time" (the one field a resumed run may differ in), each line checked for its split and
     * a time that never goes back.
     */
    static List<String> withoutTime(RunDir run) throws IOException {
        List<String> out = new ArrayList<>();
        double last = 0;
        for (String line : Files.readAllLines(run.metrics())) {
            var n = (com.fasterxml.jackson.databind.node.ObjectNode) RunDir.JSON.readTree(line);
            assertEquals(RunDir.TRAIN, n.path("split").asText(), line);
            assertTrue(n.get("time").isNumber() && n.get("time").asDouble() >= last, "time goes on: " + line);
            last = n.get("time").asDouble();
            n.remove("time");
            out.add(n.toString());
        }
        return out;
    }

    @Test
    void resumedRunReproducesTheStraightRunBitForBit(@TempDir Path dir) throws IOException {
        for (boolean lora : new boolean[]{false, true}) {
            // shuffled, cosine with warm-up, accumulation over 2 micro-batches: everything the resume must restore
            Setup straight = new Setup(Schedule.Kind.COSINE, 3e-3, 1, 2, 4096, true, 3, Long.MAX_VALUE);
            Setup sliced = new Setup(Schedule.Kind.COSINE, 3e-3, 1, 2, 4096, true, 3, 2);
            try (Model model = Model.load(BASE, lora ? DType.BF16 : DType.F32, new VectorOps())) {
                RunDir a = new RunDir(dir.resolve("straight-" + lora)), b = new RunDir(dir.resolve("resumed-" + lora));
                assertTrue(run(model, lora, straight, 5, a, false).completed());
                SftTrainer.Result first = run(model, lora, sliced, 5, b, false);
                assertEquals(2, first.step());
                assertFalse(first.completed());
                assertFalse(Files.exists(b.finalDir()));
                assertEquals(List.of(2L), b.checkpointSteps(), "a slice ends with a checkpoint");
                SftTrainer.Result second = run(model, lora, new Setup(Schedule.Kind.COSINE, 3e-3, 1, 2, 4096, true, 3, 10), 5, b, true);
                assertEquals(2, second.startStep());
                assertTrue(second.completed());
                assertEquals(List.of(2L, 3L, 5L), b.checkpointSteps());
                assertEquals(withoutTime(a), withoutTime(b), "everything but the time is bit-identical");
                assertEquals(5, Files.readAllLines(b.metrics()).size());
                String adapterOrModel = lora ? Export.ADAPTER_WEIGHTS : "model.safetensors";
                assertArrayEquals(Files.readAllBytes(a.finalDir().resolve(adapterOrModel)), Files.readAllBytes(b.finalDir().resolve(adapterOrModel)));
            }
        }
    }

    @Test
    void aRunKilledWhileWritingACheckpointResumesFromThePreviousOne(@TempDir Path dir) throws IOException {
        Setup s = new Setup(Schedule.Kind.WARMUP, 2e-3, 1, 1, 4096, false, 2, Long.MAX_VALUE);
        try (Model model = Model.load(BASE, DType.F32, new VectorOps())) {
            RunDir a = new RunDir(dir.resolve("straight")), b = new RunDir(dir.resolve("killed"));
            run(model, false, s, 6, a, false);
            run(model, false, new Setup(Schedule.Kind.WARMUP, 2e-3, 1, 1, 4096, false, 2, 4), 6, b, false);
            // The kill: step 4's metrics line was written, its checkpoint only half (still under its temp name).
            RunDir.deleteTree(b.checkpoint(4));
            Path torn = b.checkpoints().resolve(".tmp-step-000004-0123abcd");
            Files.createDirectories(torn);
            Files.write(torn.resolve(RunDir.PARAMS), new byte[100]);
            assertEquals(4, Files.readAllLines(b.metrics()).size());

            SftTrainer.Result r = run(model, false, s, 6, b, true);
            assertEquals(2, r.startStep(), "resumed from the last complete checkpoint");
            assertFalse(Files.exists(torn), "the torn temp directory is cleaned up");
            assertEquals(withoutTime(a), withoutTime(b), "everything but the time is bit-identical");
        }
    }

    @Test
    void divergenceStopsBeforeTheUpdateAndLeavesTheLastCheckpoint(@TempDir Path dir) throws IOException {
        // lr 1e30 turns the weights into ±1e29 after one step; the next forward overflows.
        Setup s = new Setup(Schedule.Kind.CONSTANT, 1e30, 1, 1, 4096, false, 1, Long.MAX_VALUE);
        try (Model model = Model.load(BASE, DType.F32, new VectorOps())) {
            RunDir run = new RunDir(dir.resolve("run"));
            TrainableModel m = TrainableModel.full(model);
            run.create(RunDir.JSON.createObjectNode());
            List<OptimizerStep.Update> seen = new ArrayList<>();
            Diverged e = assertThrows(Diverged.class,
                    () -> SftTrainer.run(m, SftTrainerGoldenTest.data(), s.options(5), run, false, seen::add));
            assertTrue(e.getMessage().startsWith("step 2: loss "), e.getMessage());
            assertTrue(e.getMessage().contains("last checkpoint is step 1"), e.getMessage());
            assertEquals(1, seen.size());
            assertEquals(List.of(1L), run.checkpointSteps());
            assertEquals(1, Files.readAllLines(run.metrics()).size());
            assertFalse(Files.exists(run.finalDir()));
        }
    }

    @Test
    void gradientAccumulationAndMicroBatchesGiveTheSameSteps(@TempDir Path dir) throws IOException {
        try (Model model = Model.load(BASE, DType.F32, new VectorOps())) {
            List<List<String>> curves = new ArrayList<>();
            List<Setup> setups = List.of(
                    new Setup(Schedule.Kind.CONSTANT, 1e-3, 4, 1, 1 << 20, false, 0, Long.MAX_VALUE),   // one forward of 4
                    new Setup(Schedule.Kind.CONSTANT, 1e-3, 2, 2, 1 << 20, false, 0, Long.MAX_VALUE),   // 2 × 2
                    new Setup(Schedule.Kind.CONSTANT, 1e-3, 4, 1, 1, false, 0, Long.MAX_VALUE));        // one example each
            for (int i = 0; i < setups.size(); i++) {
                RunDir run = new RunDir(dir.resolve("run" + i));
                run(model, false, setups.get(i), 3, run, false);
                curves.add(Files.readAllLines(run.metrics()));
            }
            List<Example> d = SftTrainerGoldenTest.data();
            long tokens = 0;
            for (int i = 0; i < 4; i++) tokens += d.get(i).ids().length;
            for (List<String> c : curves) {
                for (int k = 0; k < 3; k++) {
                    var want = RunDir.JSON.readTree(curves.getFirst().get(k));
                    var got = RunDir.JSON.readTree(c.get(k));
                    assertEquals(want.get("loss").asDouble(), got.get("loss").asDouble(), 1e-6 * want.get("loss").asDouble());
                    assertEquals(want.get("grad_norm").asDouble(), got.get("grad_norm").asDouble(), 1e-5 * want.get("grad_norm").asDouble());
                    assertEquals(k + 1, got.get("step").asInt());
                }
                assertEquals(tokens, RunDir.JSON.readTree(c.getFirst()).get("tokens").asLong(), "step 1 = examples 0..3");
            }
        }
    }
}
