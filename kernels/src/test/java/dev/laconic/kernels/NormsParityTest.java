package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;
import static dev.laconic.tensor.testing.TestTensors.randnBf16;

/** RMSNorm forward/backward (VectorOps) against ReferenceOps, F32 and BF16 weights, heap and off-heap x. */
class NormsParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // T, C, weight dtype, x off-heap
    @ParameterizedTest(name = "T={0} C={1} weight={2} offHeap={3}")
    @CsvSource({
            "7, 100, F32, false",
            "1, 1536, BF16, false",   // decode row, model width
            "37, 24, BF16, true",
            "40, 1000, F32, false",   // several parallel chunks
    })
    void forwardAndBackwardMatchReference(int t, int c, DType wdt, boolean offHeap) {
        long seed = 17L * t + c;
        Tensor x = randn(seed, t, c);
        if (offHeap) x = offHeap(x);
        Tensor w = wdt == DType.BF16 ? randnBf16(seed + 1, c) : randn(seed + 1, c);
        float eps = 1e-6f;

        Tensor yRef = Tensor.zeros(DType.F32, t, c), rRef = Tensor.zeros(DType.F32, t);
        REF.rmsnorm(x, w, eps, yRef, rRef);
        Tensor y = poisoned(t, c), r = poisoned(t);
        FAST.rmsnorm(x, w, eps, y, r);
        assertClose(yRef, y, 1e-5, 1e-5, "y");
        assertClose(rRef, r, 0, 1e-6, "rstd");

        // dweight accumulates onto what is already there; dx is assigned.
        Tensor dy = randn(seed + 2, t, c), dw0 = randn(seed + 3, c);
        Tensor dxRef = Tensor.zeros(DType.F32, t, c), dwRef = dw0.to(DType.F32);
        REF.rmsnormBackward(x, w, rRef, dy, dxRef, dwRef);
        Tensor dx = poisoned(t, c), dw = dw0.to(DType.F32);
        FAST.rmsnormBackward(x, w, rRef, dy, dx, dw);
        assertClose(dxRef, dx, 1e-5, 1e-4, "dx");
        assertClose(dwRef, dw, 1e-4, 1e-5, "dweight");

        // Either gradient may be skipped.
        Tensor dwOnly = dw0.to(DType.F32);
        FAST.rmsnormBackward(x, w, rRef, dy, null, dwOnly);
        assertClose(dwRef, dwOnly, 1e-4, 1e-5, "dweight without dx");
        Tensor dxOnly = poisoned(t, c);
        FAST.rmsnormBackward(x, w, rRef, dy, dxOnly, null);
        assertClose(dxRef, dxOnly, 1e-5, 1e-4, "dx without dweight");
    }

    private static Tensor offHeap(Tensor t) {
        MemorySegment seg = Arena.ofAuto().allocate(t.byteSize(), 64);
        seg.copyFrom(t.segment());
        return Tensor.wrap(seg, t.dtype(), t.shape());
    }
}
