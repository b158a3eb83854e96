package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding, rotate-half form (Su et al. 2021; HF apply_rotary_pos_emb), in place
 * on x[T,H,D]. For token t and pair i &lt; D/2 with angle a = pos[t]·invFreq[i]:
 * <pre>
 *   (x[i], x[i+D/2]) ← (x[i]·cos a − x[i+D/2]·sin a,  x[i+D/2]·cos a + x[i]·sin a)
 * </pre>
 * The backward rotates by −a. cos/sin are computed once per token (vector COS/SIN of the f32 angle,
 * as HF does in f32) and shared by its H heads; the rotation is vectorised over i.
 */
final class Rope {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    private static final int MIN_CHUNK_ELEMS = 16_384;

    private Rope() {}

    /** sign = +1: rope; sign = −1: its backward (rotation by −a, the transpose). */
    static void rotate(Tensor x, int[] pos, float[] invFreq, int sign) {
        int half = invFreq.length, d = 2 * half, t = pos.length;
        if (t == 0) return;
        if (d == 0 || x.numel() % ((long) t * d) != 0)
            throw new IllegalArgumentException("rope: " + x + " is not [T=" + t + ",H,D=" + d + "]");
        FloatView.requireF32(x, x.numel(), "rope input");
        int heads = (int) (x.numel() / ((long) t * d));
        FloatView xv = FloatView.update(x);
        float[] a = xv.a();
        int xo = xv.off();
        Parallel.forChunks(t, Math.max(1, MIN_CHUNK_ELEMS / (heads * d)), (from, to) -> {
            float[] cos = new float[half], sin = new float[half];
            for (int i = from; i < to; i++) {
                angles(pos[i], invFreq, sign, cos, sin);
                for (int h = 0; h < heads; h++) rotateHead(a, xo + (i * heads + h) * d, half, cos, sin);
            }
        });
        xv.commit();
    }

    /** cos[i] = cos(a_i), sin[i] = sign·sin(a_i) with a_i = pos·invFreq[i] rounded to f32. */
    private static void angles(int pos, float[] invFreq, int sign, float[] cos, float[] sin) {
        int half = invFreq.length;
        float p = pos;
        // scalar Math.cos/sin: D/2 calls per token is cheap, and unlike lanewise(COS/SIN), which C2
        // compiles to SVML stubs, they give the same bits before and after JIT warm-up
        for (int i = 0; i < half; i++) {
            double angle = p * invFreq[i];
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) (sign * Math.sin(angle));
        }
    }

    /** One head vector at a[o, o+D): x1 = a[o+i], x2 = a[o+half+i]. */
    private static void rotateHead(float[] a, int o, int half, float[] cos, float[] sin) {
        int i = 0;
        for (int bound = SP.loopBound(half); i < bound; i += L) {
            FloatVector x1 = FloatVector.fromArray(SP, a, o + i), x2 = FloatVector.fromArray(SP, a, o + half + i);
            FloatVector c = FloatVector.fromArray(SP, cos, i), s = FloatVector.fromArray(SP, sin, i);
            x1.mul(c).sub(x2.mul(s)).intoArray(a, o + i);          // x1·cos − x2·sin
            x2.mul(c).add(x1.mul(s)).intoArray(a, o + half + i);   // x2·cos + x1·sin
        }
        for (; i < half; i++) {
            float x1 = a[o + i], x2 = a[o + half + i];
            a[o + i] = x1 * cos[i] - x2 * sin[i];
            a[o + half + i] = x2 * cos[i] + x1 * sin[i];
        }
    }
}
