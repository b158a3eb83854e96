package dev.laconic.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The polynomial exp against Math.exp (double), and its scalar twin bit for bit. */
class VectorMathTest {
    @Test
    void expIsWithinThreeUlpOfMathExpAndTheScalarTwinGivesTheSameBits() {
        SplittableRandom r = new SplittableRandom(1);
        int n = VectorMath.SP.length();
        float[] x = new float[n], y = new float[n];
        double worstUlps = 0;
        for (int rep = 0; rep < 20_000; rep++) {
            for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 175 - 87);   // the whole normal range
            VectorMath.exp(FloatVector.fromArray(VectorMath.SP, x, 0)).intoArray(y, 0);
            for (int i = 0; i < n; i++) {
                double want = Math.exp(x[i]);
                worstUlps = Math.max(worstUlps, Math.abs(y[i] - want) / Math.ulp((float) want));
                assertEquals(Float.floatToIntBits(y[i]), Float.floatToIntBits(VectorMath.exp(x[i])), "scalar twin at " + x[i]);
            }
        }
        assertTrue(worstUlps <= 3, "worst error " + worstUlps + " ulp");
    }

    @Test
    void specialValues() {
        float[] x = new float[VectorMath.SP.length()], y = new float[x.length];
        float[] in = {Float.NEGATIVE_INFINITY, -1000f, -87.5f, 0f, Float.NaN, 100f, -0f, 1f};
        System.arraycopy(in, 0, x, 0, Math.min(in.length, x.length));
        VectorMath.exp(FloatVector.fromArray(VectorMath.SP, x, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        assertEquals(0f, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(1f, y[3]);
        assertTrue(Float.isNaN(y[4]));
        assertEquals(Float.POSITIVE_INFINITY, y[5]);
        assertEquals(1f, y[6]);
        assertEquals((float) Math.E, y[7], Math.ulp((float) Math.E) * 2);
    }
}
