package dev.laconic.training;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The shared step on the tiny golden Qwen2: accumulation over micro-batches, and a NaN/Inf loss or gradient stopping before the update. */
class OptimizerStepTest {
    static final AdamW.Hyper HYPER = new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1);
    static final int[] A = {3, 17, 5, 9}, B = {8, 2, 11};
    static Model model;

    @BeforeAll
    static void load() throws IOException {
        model = Model.load(SftTrainerTest.BASE, DType.F32, new VectorOps());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static float[][] values(TrainableModel m) {
        return m.parameters().stream().map(p -> p.value().toFloatArray()).toArray(float[][]::new);
    }

    static float[] ones(int[] ids) {
        float[] w = new float[ids.length - 1];
        Arrays.fill(w, 1f);
        return w;
    }

    @Test
    void microBatchesAddUpAndZeroGradStartsAfresh() {
        TrainableModel m = TrainableModel.full(model);
        OptimizerStep opt = new OptimizerStep(m, HYPER, 0);
        float[][] w = {ones(A), ones(B)};
        double positions = A.length - 1 + B.length - 1;
        opt.zeroGrad();
        double whole = opt.backward(List.of(A, B), TokenObjective.crossEntropy(w));
        double wholeNorm = opt.adamw().gradNorm();
        opt.zeroGrad();
        assertEquals(0.0, opt.adamw().gradNorm(), "zeroGrad clears every gradient");
        double a = opt.backward(List.of(A), TokenObjective.crossEntropy(new float[][]{w[0]}, positions));
        double b = opt.backward(List.of(B), TokenObjective.crossEntropy(new float[][]{w[1]}, positions));
        assertEquals(whole, a + b, 1e-6 * whole);
        assertEquals(wholeNorm, opt.adamw().gradNorm(), 1e-5 * wholeNorm);
        OptimizerStep.Update u = opt.update(1e-3);
        assertEquals(new OptimizerStep.Update(1, a + b, 1e-3, u.gradNorm(), A.length + B.length), u);
        assertEquals(wholeNorm, u.gradNorm(), 1e-5 * wholeNorm, "the norm before clipping");
        assertEquals(1, opt.done());
        var line = u.json();
        assertEquals(List.of("step", "loss", "lr", "grad_norm", "tokens"), List.copyOf(line.properties().stream().map(java.util.Map.Entry::getKey).toList()));
        assertEquals(a + b, line.get("loss").asDouble());
        assertEquals(7, line.get("tokens").asInt());
    }

    @Test
    void aNaNOrInfiniteLossOrGradientStopsBeforeTheUpdateAndNamesTheStep() {
        TrainableModel m = TrainableModel.full(model);
        OptimizerStep opt = new OptimizerStep(m, HYPER, 1.0);
        opt.zeroGrad();
        opt.backward(List.of(A), TokenObjective.crossEntropy(new float[][]{ones(A)}));
        opt.update(1e-3);
        float[][] before = values(m);
        List<TokenObjective> bad = List.of(
                (s, logp, dlogp) -> Double.NaN,                                   // NaN loss, zero gradient
                (s, logp, dlogp) -> Double.POSITIVE_INFINITY,
                (s, logp, dlogp) -> {                                             // finite loss, NaN gradient
                    Arrays.fill(dlogp, Float.NaN);
                    return 1.0;
                });
        List<String> expected = List.of("step 2: loss NaN, gradient norm 0.0", "step 2: loss Infinity, gradient norm 0.0",
                "step 2: loss 1.0, gradient norm NaN");
        for (int i = 0; i < bad.size(); i++) {
            opt.zeroGrad();
            opt.backward(List.of(B), bad.get(i));
            Diverged e = assertThrows(Diverged.class, () -> opt.update(1e-3));
            assertEquals(expected.get(i) + ": stopped before this step's update", e.getMessage());
            assertEquals(2, e.step());
            assertEquals(1, opt.done(), "no AdamW step taken");
            assertArrayEquals(before, values(m), "weights untouched");
        }
        Diverged e = assertThrows(Diverged.class, () -> opt.update(1e-3));
        assertEquals("rollout 3: " + e.getMessage() + ". Try a lower --lr.", e.explained("rollout 3: ", ". Try a lower --lr.").getMessage());
    }
}
