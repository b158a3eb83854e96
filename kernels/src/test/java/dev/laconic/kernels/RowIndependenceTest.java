package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.testing.TestTensors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A row of x·wᵀ must not depend on which other rows share the call, up to the 16 rows the
 * Generator decodes per step: decoding several sequences together must give the same bits as
 * decoding each alone (T = 1), or batched evaluation and sampling would not reproduce
 * one-at-a-time runs. (The packed GEMM, used from 32 rows, sums in another order.)
 */
class RowIndependenceTest {
    private final Ops ops = new VectorOps();

    @Test
    void eachRowOfAMatmulIsTheSameBitsWhateverTheRowCount() {
        for (DType wt : new DType[]{DType.F32, DType.BF16, DType.Q8_0}) {
            int n = 300, k = 224;   // whole Q8_0 blocks
            Tensor w = wt == DType.F32 ? TestTensors.randn(3, n, k) : TestTensors.randnBf16(3, n, k).to(wt);
            Tensor b = TestTensors.randn(4, n);
            Tensor x = TestTensors.randn(5, 16, k);
            Tensor alone = Tensor.zeros(DType.F32, 1, n);
            ops.matmul(x.slice(0, 1), w, b, alone);
            for (int t : new int[]{2, 3, 4, 5, 8, 15, 16}) {
                Tensor y = Tensor.zeros(DType.F32, t, n);
                ops.matmul(x.slice(0, t), w, b, y);
                assertArrayEquals(alone.toFloatArray(), y.row(0).toFloatArray(), 0f, wt + " row 0 with T = " + t);
            }
        }
    }
}
