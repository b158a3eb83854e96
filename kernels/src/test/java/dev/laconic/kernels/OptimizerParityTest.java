package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.laconic.tensor.testing.TestTensors.randn;
import static dev.laconic.tensor.testing.TestTensors.uniform;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The optimizer ops (VectorOps, chunked and multi-threaded) against ReferenceOps: AdamW and the clipping
 * scale are element-wise in double, so they must agree bit for bit; Σ x² is summed in another order, so
 * to rounding. Sizes span several {@link Optimizer#CHUNK}s, and parameter and gradient are views at an offset.
 */
class OptimizerParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();
    private static final int N = 3 * Optimizer.CHUNK + 77;

    /** A view of n elements at offset 5 inside a larger random tensor. */
    private static Tensor view(long seed, int n) {
        return randn(seed, n + 9).slice(5, 5 + n);
    }

    @Test
    void adamwIsBitIdenticalToTheReference() {
        Tensor pRef = view(1, N), p = Tensor.of(pRef.toFloatArray(), N);
        Tensor mRef = Tensor.zeros(DType.F32, N), m = Tensor.zeros(DType.F32, N);
        Tensor vRef = Tensor.zeros(DType.F32, N), v = Tensor.zeros(DType.F32, N);
        for (int k = 1; k <= 3; k++) {
            Tensor g = view(10 + k, N);
            REF.adamw(pRef, g, mRef, vRef, 1e-2, 0.9, 0.95, 1e-8, 0.1, k);
            FAST.adamw(p, g, m, v, 1e-2, 0.9, 0.95, 1e-8, 0.1, k);
            assertArrayEquals(pRef.toFloatArray(), p.toFloatArray(), "param after step " + k);
            assertArrayEquals(mRef.toFloatArray(), m.toFloatArray(), "m after step " + k);
            assertArrayEquals(vRef.toFloatArray(), v.toFloatArray(), "v after step " + k);
        }
        assertNotEquals(view(1, N).getFloat(0), p.getFloat(0), "the parameter moved");
        assertThrows(IllegalArgumentException.class, () -> FAST.adamw(p, view(2, N - 1), m, v, 1e-2, 0.9, 0.95, 1e-8, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> REF.adamw(p, view(2, N), m, v, 1e-2, 0.9, 0.95, 1e-8, 0, 0));
    }

    @Test
    void theFirstAdamWStepMovesEachElementByLrTimesTheGradientSign() {
        // k = 1, wd = 0: m̂ = g, v̂ = g², so p ← p − lr·g/(|g| + eps) ≈ p − lr·sign(g)
        Tensor p = Tensor.zeros(DType.F32, 4), m = Tensor.zeros(DType.F32, 4), v = Tensor.zeros(DType.F32, 4);
        FAST.adamw(p, Tensor.of(new float[]{2f, -0.5f, 0.25f, -40f}, 4), m, v, 0.1, 0.9, 0.999, 1e-8, 0, 1);
        assertArrayEquals(new float[]{-0.1f, 0.1f, -0.1f, 0.1f}, p.toFloatArray(), 1e-6f);
    }

    @Test
    void scaleIsBitIdenticalToTheReference() {
        Tensor ref = view(3, N), x = Tensor.of(ref.toFloatArray(), N);
        REF.scale(ref, 0.3125 / 7);
        FAST.scale(x, 0.3125 / 7);
        assertArrayEquals(ref.toFloatArray(), x.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> FAST.scale(Tensor.zeros(DType.BF16, 4), 2));
    }

    @Test
    void sumOfSquaresMatchesTheReference() {
        List<Tensor> xs = List.of(view(4, N), uniform(5, -3, 3, 7, 11), view(6, 1));
        double ref = REF.sumOfSquares(xs), fast = FAST.sumOfSquares(xs);
        assertEquals(ref, fast, 1e-12 * ref);
        assertEquals(fast, FAST.sumOfSquares(xs), "the same order every time");
        assertEquals(25.0, FAST.sumOfSquares(List.of(Tensor.of(new float[]{3, 0}, 2), Tensor.of(new float[]{4}, 1))));
        assertEquals(0.0, FAST.sumOfSquares(List.of()));
    }
}
