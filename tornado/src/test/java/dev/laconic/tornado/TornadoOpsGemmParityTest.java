package dev.laconic.tornado;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;

/**
 * TornadoOps' device GEMMs against ReferenceOps with the CPU GEMM tests' tolerances (atol 1e-4·√K over
 * the summed dimension, rtol 1e-4): y = x·Wᵀ + b, dx = dy·W (assigned over a poisoned dx),
 * dW += dyᵀ·x and db += Σ dy (accumulated onto non-zero gradients), for F32, BF16 and F16 weights,
 * row counts that leave padded rows in the plan (T = 3 in a 16-row plan, T = 17 in a 32-row one) and
 * a [B, T, K] input. Device only: skipped, with the reason, without a TornadoVM runtime.
 */
class TornadoOpsGemmParityTest {
    private static final ReferenceOps REF = new ReferenceOps();

    private static Tensor copy(Tensor t) {
        return t.to(t.dtype());
    }

    @Test
    void forwardAndBackwardMatchReference() {
        Device.assumeRuntime();
        TornadoOps ops = new TornadoOps(1);    // every product on the device
        int n = 37, k = 45;
        for (DType dt : new DType[]{DType.F32, DType.BF16, DType.F16})
            for (int t : new int[]{3, 17}) {
                long seed = 100L * t + dt.ordinal();
                Tensor x = randn(seed, t, k), w = randn(seed + 1, n, k).to(dt), b = randn(seed + 2, n), dy = randn(seed + 3, t, n);
                String what = dt + " T=" + t;

                Tensor yRef = Tensor.zeros(DType.F32, t, n), y = poisoned(t, n);
                REF.matmul(x, w, b, yRef);
                ops.matmul(x, w, b, y);
                assertClose(yRef, y, 1e-4 * Math.sqrt(k), 1e-4, what + ": y = x·Wᵀ + b");

                Tensor dw0 = randn(seed + 4, n, k), db0 = randn(seed + 5, n);
                Tensor dxRef = Tensor.zeros(DType.F32, t, k), dwRef = copy(dw0), dbRef = copy(db0);
                REF.matmulBackward(x, w, dy, dxRef, dwRef, dbRef);
                Tensor dx = poisoned(t, k), dw = copy(dw0), db = copy(db0);
                ops.matmulBackward(x, w, dy, dx, dw, db);
                assertClose(dxRef, dx, 1e-4 * Math.sqrt(n), 1e-4, what + ": dx = dy·W");
                assertClose(dwRef, dw, 1e-4 * Math.sqrt(t), 1e-4, what + ": dW += dyᵀ·x");
                assertClose(dbRef, db, 1e-4 * Math.sqrt(t), 1e-4, what + ": db += Σ dy");
            }
        // a batched [B, T, K] input, no bias, only dW asked for
        Tensor x = randn(7, 2, 5, k), w = randn(8, n, k), dy = randn(9, 2, 5, n);
        Tensor yRef = Tensor.zeros(DType.F32, 10, n), y = poisoned(10, n);
        REF.matmul(x, w, null, yRef);
        ops.matmul(x, w, null, y);
        assertClose(yRef, y, 1e-4 * Math.sqrt(k), 1e-4, "[B,T,K] input");
        Tensor dwRef = Tensor.zeros(DType.F32, n, k), dw = Tensor.zeros(DType.F32, n, k);
        REF.matmulBackward(x, w, dy, null, dwRef, null);
        ops.matmulBackward(x, w, dy, null, dw, null);
        assertClose(dwRef, dw, 1e-4 * Math.sqrt(10), 1e-4, "[B,T,K] dW alone");
    }
}
