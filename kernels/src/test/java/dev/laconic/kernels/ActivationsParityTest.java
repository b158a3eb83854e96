package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;

/** SwiGLU forward/backward (VectorOps) against ReferenceOps, including saturated gates (|g| up to ~150). */
class ActivationsParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // T, F, gate scale
    @ParameterizedTest(name = "T={0} F={1} gateScale={2}")
    @CsvSource({
            "7, 100, 1",
            "1, 8960, 3",
            "37, 1000, 30",     // saturated: e^−g overflows for g < −88
            "3, 21, 1",
    })
    void swigluMatchesReference(int t, int f, float gateScale) {
        long seed = 19L * t + f;
        Tensor gate = randn(seed, gateScale, t, f), up = randn(seed + 1, t, f);
        Tensor hRef = Tensor.zeros(DType.F32, t, f);
        REF.swiglu(gate, up, hRef);
        Tensor h = poisoned(t, f);
        FAST.swiglu(gate, up, h);
        assertClose(hRef, h, 1e-6, 1e-5, "h");

        Tensor dh = randn(seed + 2, t, f);
        Tensor dgRef = Tensor.zeros(DType.F32, t, f), duRef = Tensor.zeros(DType.F32, t, f);
        REF.swigluBackward(gate, up, dh, dgRef, duRef);
        Tensor dg = poisoned(t, f), du = poisoned(t, f);
        FAST.swigluBackward(gate, up, dh, dg, du);
        assertClose(dgRef, dg, 1e-6, 1e-5, "dgate");
        assertClose(duRef, du, 1e-6, 1e-5, "dup");

        Tensor duOnly = poisoned(t, f);
        FAST.swigluBackward(gate, up, dh, null, duOnly);
        assertClose(duRef, duOnly, 1e-6, 1e-5, "dup without dgate");
    }
}
