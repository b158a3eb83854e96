package dev.laconic.kernels;

import dev.laconic.kernels.GemmParityTest.Storage;
import dev.laconic.kernels.Pack.Src;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

import static dev.laconic.kernels.GemmParityTest.atol;
import static dev.laconic.kernels.GemmParityTest.offHeap;
import static dev.laconic.kernels.GemmParityTest.weight;
import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;

/**
 * The streaming decode path (dot products along K straight from w's storage) against ReferenceOps:
 * T around the 4-row x blocks, N around the 4-row w groups (repeated last row at the edge), K around
 * the vector width (scalar tails, K &lt; L entirely scalar), every weight storage, with and without bias.
 */
class MatVecParityTest {
    private static final ReferenceOps REF = new ReferenceOps();

    static List<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (int t : new int[]{1, 2, 3, 4, 5, 9})
            for (int n : new int[]{1, 3, 5, 15, 33, 97})
                for (int k : new int[]{1, 15, 16, 31, 257})
                    out.add(Arguments.of(t, n, k));
        return out;
    }

    @ParameterizedTest(name = "T={0} N={1} K={2}")
    @MethodSource("shapes")
    void matchesReference(int t, int n, int k) {
        try (Arena arena = Arena.ofConfined()) {
            for (Storage s : Storage.values()) {
                long seed = 1000L * t + 37L * n + k + 7L * s.ordinal();
                Tensor x = randn(seed, t, k), w = weight(seed + 1, s, arena, n, k);
                Tensor b = (n + k + s.ordinal()) % 2 == 0 ? randn(seed + 2, n) : null;
                Tensor ref = Tensor.zeros(DType.F32, t, n);
                REF.matmul(x, w, b, ref);
                Tensor y = poisoned(t, n);
                MatVec.forward(x.floatArray(), 0, t, k, Src.of(w), n, b == null ? null : b.floatArray(), 0, y.floatArray(), 0);
                assertClose(ref, y, atol(k), 1e-4, "matvec " + s + (b == null ? "" : " + b"));
            }
        }
    }

    @Test
    void decodeShapesThroughTheOp() {
        // T = 1 and the largest T still below the GEMM threshold, at widths with tails, through VectorOps.
        VectorOps fast = new VectorOps();
        try (Arena arena = Arena.ofConfined()) {
            for (int t : new int[]{1, Linear.GEMM_MIN_ROWS - 1}) {
                int n = 301, k = 523;
                Tensor x = randn(t, t, k), w = offHeap(randn(t + 1, n, k).to(DType.BF16), arena), b = randn(t + 2, n);
                Tensor ref = Tensor.zeros(DType.F32, t, n), y = poisoned(t, n);
                REF.matmul(x, w, b, ref);
                fast.matmul(x, w, b, y);
                assertClose(ref, y, atol(k), 1e-4, "decode T=" + t);
            }
        }
    }

    @Test
    void f16Weights() {
        int t = 3, n = 21, k = 40;
        Tensor x = randn(5, t, k), w = randn(6, n, k).to(DType.F16);
        Tensor ref = Tensor.zeros(DType.F32, t, n), y = poisoned(t, n);
        REF.matmul(x, w, null, ref);
        MatVec.forward(x.floatArray(), 0, t, k, Src.of(Src.readable(w)), n, null, 0, y.floatArray(), 0);
        assertClose(ref, y, atol(k), 1e-4, "matvec F16");
    }
}
