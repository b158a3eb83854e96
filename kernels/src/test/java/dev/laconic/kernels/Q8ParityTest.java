package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Q8;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.testing.TestTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

import static dev.laconic.kernels.GemmParityTest.atol;
import static dev.laconic.kernels.GemmParityTest.offHeap;
import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;

/**
 * Q8_0 weights through VectorOps against their own reference: dequantise to F32 (exact: scale·q), then
 * ReferenceOps. T on both sides of the matvec/GEMM switch and around the 4-row x blocks, N not a multiple
 * of anything, K whole blocks (1, 2, 3, 17 of them), weights in a shared and in a confined arena.
 */
class Q8ParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    static List<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (int t : new int[]{1, 2, 3, 4, 5, 9, 31, 32, 33, 70})
            for (int n : new int[]{1, 3, 17, 97})
                for (int k : new int[]{32, 64, 96, 544})
                    out.add(Arguments.of(t, n, k));
        return out;
    }

    @ParameterizedTest(name = "T={0} N={1} K={2}")
    @MethodSource("shapes")
    void forwardAndDxMatchTheDequantisedReference(int t, int n, int k) {
        try (Arena confined = Arena.ofConfined()) {
            for (boolean shared : new boolean[]{true, false}) {
                long seed = 101L * t + 13L * n + k + (shared ? 0 : 5);
                Tensor q = Q8.quantize(randn(seed, n, k).to(DType.BF16));
                if (!shared) q = offHeap(q, confined);
                Tensor deq = q.to(DType.F32);
                Tensor x = randn(seed + 1, t, k), b = (n + t) % 2 == 0 ? randn(seed + 2, n) : null;
                Tensor ref = Tensor.zeros(DType.F32, t, n), y = poisoned(t, n);
                REF.matmul(x, deq, b, ref);
                FAST.matmul(x, q, b, y);
                String what = (shared ? "shared" : "confined") + (b == null ? "" : " + b");
                assertClose(ref, y, atol(k), 1e-4, "Q8 forward " + what);

                Tensor dy = randn(seed + 3, t, n), dxRef = Tensor.zeros(DType.F32, t, k), dx = poisoned(t, k);
                REF.matmulBackward(x, deq, dy, dxRef, null, null);
                FAST.matmulBackward(x, q, dy, dx, null, null);
                assertClose(dxRef, dx, atol(n), 1e-4, "Q8 dx " + what);
            }
        }
    }

    @Test
    void theLmHeadAndEmbeddingReadQ8() {
        int v = 300, c = 96, t = 7;
        Tensor q = Q8.quantize(randn(3, v, c)), deq = q.to(DType.F32);
        int[] ids = TestTensors.randomIds(4, t, v);
        Tensor ref = Tensor.zeros(DType.F32, t, c), out = poisoned(t, c);
        REF.embedding(deq, ids, ref);
        FAST.embedding(q, ids, out);
        assertClose(ref, out, 0, 0, "Q8 embedding");
        Tensor h = randn(5, t, c), lpRef = Tensor.zeros(DType.F32, t), lp = poisoned(t), dhRef = Tensor.zeros(DType.F32, t, c), dh = poisoned(t, c);
        Tensor dlogp = randn(6, t);
        REF.lmHeadLogProbs(h, deq, ids, lpRef, dlogp, dhRef, null);
        FAST.lmHeadLogProbs(h, q, ids, lp, dlogp, dh, null);
        assertClose(lpRef, lp, 1e-4, 1e-5, "Q8 LM head log-probs");
        assertClose(dhRef, dh, 1e-4, 1e-4, "Q8 LM head dh");
    }
}
