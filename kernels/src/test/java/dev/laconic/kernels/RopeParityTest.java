package dev.laconic.kernels;

import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.randn;

/**
 * RoPE forward/backward (VectorOps, vector cos/sin) against ReferenceOps (double cos/sin of the same
 * f32 angle), including positions far into a long context where the angle is in the tens of
 * thousands of radians, and a non-geometric inverse-frequency table like llama3 scaling produces.
 */
class RopeParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // T, H, D, first position, llama3-like table
    @ParameterizedTest(name = "T={0} H={1} D={2} pos0={3} scaled={4}")
    @CsvSource({
            "7, 3, 24, 0, false",
            "37, 6, 64, 100, true",
            "1, 12, 128, 32000, false",   // decode deep into the context
            "16, 2, 128, 130000, true",
            "40, 4, 64, 5, false",        // several parallel chunks
    })
    void rotationAndItsTransposeMatchReference(int t, int h, int d, int pos0, boolean scaled) {
        long seed = 13L * t + h + d + pos0;
        float[] invFreq = invFreq(d, scaled);
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = pos0 + i * (1 + i % 3);   // gaps and repeats in spacing

        Tensor ref = randn(seed, t, h, d), fast = ref.to(ref.dtype());
        REF.rope(ref, pos, invFreq);
        FAST.rope(fast, pos, invFreq);
        assertClose(ref, fast, 2e-6, 2e-5, "rope");

        Tensor gRef = randn(seed + 1, t, h, d), g = gRef.to(gRef.dtype());
        REF.ropeBackward(gRef, pos, invFreq);
        FAST.ropeBackward(g, pos, invFreq);
        assertClose(gRef, g, 2e-6, 2e-5, "rope backward");
    }

    /** θ = 10⁶ geometric frequencies; "scaled" divides the low ones by 8 and blends the middle (llama3). */
    private static float[] invFreq(int d, boolean scaled) {
        float[] f = new float[d / 2];
        for (int i = 0; i < f.length; i++) {
            double base = Math.pow(1e6, -2.0 * i / d);
            double wavelen = 2 * Math.PI / base;
            if (scaled && wavelen > 8192) base /= 8;
            else if (scaled && wavelen > 2048) base = base * (1 - (wavelen - 2048) / 6144 * 7 / 8);
            f[i] = (float) base;
        }
        return f;
    }
}
