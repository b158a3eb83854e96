package dev.laconic.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp on vectors, built from IEEE-exact operations only (add, mul, fma, conversions, shifts).
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: C2 compiles it to an SVML stub while the
 * interpreter and C1 fall back to {@code Math.exp} per lane, and the two differ in the last bit.
 * The same call would then give different results before and after JIT warm-up, and a training
 * run could not be resumed bit for bit. This polynomial gives the same bits in every tier.
 *
 * <p>Cephes expf: n = round(x·log2 e); r = x − n·ln2 (ln2 split in two for exactness);
 * exp(r) ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2; exp(x) = 2ⁿ·exp(r), 2ⁿ built in the exponent bits.
 * Max relative error ≈ 2 ulp (checked against Math.exp in VectorMathTest). exp(−∞) = 0, overflow gives +∞, NaN stays NaN.
 */
final class VectorMath {
    static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float HI = 88.3762626647949f, LO = -87.3365447505531f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private VectorMath() {}

    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.lt(LO), over = x.compare(VectorOperators.GT, HI), nan = x.test(VectorOperators.IS_NAN);
        FloatVector xc = x.min(HI).max(LO);
        // n = floor(x·log2e + 0.5), via truncation corrected for negatives
        FloatVector t = xc.fma(FloatVector.broadcast(SP, LOG2E), FloatVector.broadcast(SP, 0.5f));
        FloatVector n = ((IntVector) t.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
        n = n.sub(1f, n.compare(VectorOperators.GT, t));
        FloatVector r = n.fma(FloatVector.broadcast(SP, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(SP, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(SP, P0), FloatVector.broadcast(SP, P1));
        p = p.fma(r, FloatVector.broadcast(SP, P2));
        p = p.fma(r, FloatVector.broadcast(SP, P3));
        p = p.fma(r, FloatVector.broadcast(SP, P4));
        p = p.fma(r, FloatVector.broadcast(SP, P5));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector pow2 = bits.reinterpretAsFloats();
        return y.mul(pow2).blend(0f, under).blend(Float.POSITIVE_INFINITY, over).blend(x, nan);
    }

    /**
     * Σ lanes, added in lane order. {@code reduceLanes(ADD)} may add in a different order once C2
     * compiles it (a tree) than in the interpreter (lane order), so the same call could give
     * different bits before and after warm-up; extracting lanes costs the same (measured on a
     * 8960×1536 matvec: 7.55 vs 7.40 ms) and is reproducible in every tier.
     */
    static float sum(FloatVector v) {
        // lane order, 0 + v0 + v1 + ...; constant lane indices (C2 compiles each to one extract,
        // while a variable index went through the Vector API's slow Java path in decode profiles)
        if (v.length() == 16) {
            float s = 0f + v.lane(0);
            s += v.lane(1); s += v.lane(2); s += v.lane(3); s += v.lane(4); s += v.lane(5); s += v.lane(6); s += v.lane(7);
            s += v.lane(8); s += v.lane(9); s += v.lane(10); s += v.lane(11); s += v.lane(12); s += v.lane(13); s += v.lane(14);
            return s + v.lane(15);
        }
        if (v.length() == 8) {
            float s = 0f + v.lane(0);
            s += v.lane(1); s += v.lane(2); s += v.lane(3); s += v.lane(4); s += v.lane(5); s += v.lane(6);
            return s + v.lane(7);
        }
        float s = 0;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /** The scalar twin, for loop tails: same operations, same bits as one lane of {@link #exp(FloatVector)}. */
    static float exp(float x) {
        if (Float.isNaN(x)) return x;
        if (x < LO) return 0f;
        if (x > HI) return Float.POSITIVE_INFINITY;
        float xc = Math.max(Math.min(x, HI), LO);
        float t = Math.fma(xc, LOG2E, 0.5f);
        float n = (float) (int) t;
        if (n > t) n -= 1f;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = p * (r * r) + r + 1f;
        return y * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}
