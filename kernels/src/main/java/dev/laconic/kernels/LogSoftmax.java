package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Token log-probabilities over a vocabulary row of logits[T,V] (V up to 151,936), one row per task:
 * <pre>
 *   lse = m + log Σ_v e^(x_v − m),  m = max_v x_v        (max-shifted: e^(x−m) ≤ 1 never overflows)
 *   logp = x_target − lse
 *   dlogits_v = dlogp·(1[v = target] − e^(x_v − lse))   (the softmax is recomputed from the saved lse)
 * </pre>
 * Two passes per row (max, then Σ exp) over a row that stays in L2. The exps are summed in f32
 * lanes in blocks of {@link #BLOCK} elements and the block sums in double, so the rounding error
 * does not grow with V.
 */
final class LogSoftmax {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    /** Elements per f32 partial sum: 4 accumulators × 32 adds each per lane. */
    private static final int BLOCK = 128 * L;
    /** Rows are processed serially when a row is shorter than this (threading would cost more). */
    private static final int MIN_PARALLEL_V = 4_096;

    private LogSoftmax() {}

    /** logp[T] (and lse[T] when non-null) from logits[T,V]. */
    static void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse) {
        int t = targets.length;
        if (t == 0) return;
        int vocab = vocab(logits, t);
        FloatView.requireF32(logp, t, "logp");
        if (lse != null) FloatView.requireF32(lse, t, "lse");
        for (int i = 0; i < t; i++) checkTarget(targets, i, vocab);
        FloatView xv = FloatView.read(logits), pv = FloatView.write(logp);
        FloatView lv = lse == null ? null : FloatView.write(lse);
        float[] xa = xv.a();
        int xo = xv.off();
        Parallel.forChunks(t, vocab >= MIN_PARALLEL_V ? 1 : t, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = xo + i * vocab;
                float m = max(xa, row, vocab);
                float l = (float) (m + Math.log(sumExp(xa, row, vocab, m)));
                pv.a()[pv.off() + i] = xa[row + targets[i]] - l;   // logp = x_target − lse
                if (lv != null) lv.a()[lv.off() + i] = l;
            }
        });
        pv.commit();
        if (lv != null) lv.commit();
    }

    /** dlogits[T,V] (assigned) from dlogp[T]; dlogits may be the logits tensor itself. */
    static void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits) {
        int t = targets.length;
        if (t == 0) return;
        int vocab = vocab(logits, t);
        FloatView.requireF32(dlogits, (long) t * vocab, "dlogits");
        if (lse.numel() != t || dlogp.numel() != t)
            throw new IllegalArgumentException("lse " + lse + " and dlogp " + dlogp + " must have " + t + " elements");
        for (int i = 0; i < t; i++) checkTarget(targets, i, vocab);
        FloatView xv = FloatView.read(logits), lv = FloatView.read(lse), gv = FloatView.read(dlogp);
        // In place (dlogits == logits) works element by element: each x_v is read before d_v is stored.
        FloatView dv = dlogits == logits ? xv : FloatView.write(dlogits);
        float[] xa = xv.a(), da = dv.a();
        int xo = xv.off(), dof = dv.off();
        Parallel.forChunks(t, vocab >= MIN_PARALLEL_V ? 1 : t, (from, to) -> {
            for (int i = from; i < to; i++) {
                int src = xo + i * vocab, dst = dof + i * vocab;
                float l = lv.a()[lv.off() + i], g = gv.a()[gv.off() + i];
                float xTarget = xa[src + targets[i]];
                // d_v = −dlogp·e^(x_v − lse) for every v ...
                int v = 0;
                for (int bound = SP.loopBound(vocab); v < bound; v += L) {
                    FloatVector p = VectorMath.exp(FloatVector.fromArray(SP, xa, src + v).sub(l));
                    p.mul(-g).intoArray(da, dst + v);
                }
                for (; v < vocab; v++) da[dst + v] = -g * VectorMath.exp(xa[src + v] - l);
                // ... and d_target = dlogp·(1 − e^(x_target − lse)).
                da[dst + targets[i]] = (float) (g * (1 - Math.exp(xTarget - l)));
            }
        });
        dv.commit();
    }

    /** max over a[off, off+n). */
    static float max(float[] a, int off, int n) {
        FloatVector m0 = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY), m1 = m0;
        int v = 0;
        for (int bound = n - 2 * L; v <= bound; v += 2 * L) {
            m0 = m0.max(FloatVector.fromArray(SP, a, off + v));
            m1 = m1.max(FloatVector.fromArray(SP, a, off + v + L));
        }
        float m = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; v < n; v++) m = Math.max(m, a[off + v]);
        return m;
    }

    /** Σ e^(a_v − m) over a[off, off+n). */
    static double sumExp(float[] a, int off, int n, float m) {
        double total = 0;
        for (int b0 = 0; b0 < n; b0 += BLOCK) {
            int b1 = Math.min(n, b0 + BLOCK);
            FloatVector s0 = FloatVector.zero(SP), s1 = s0, s2 = s0, s3 = s0;
            int v = b0;
            for (int bound = b1 - 4 * L; v <= bound; v += 4 * L) {
                s0 = s0.add(VectorMath.exp(FloatVector.fromArray(SP, a, off + v).sub(m)));
                s1 = s1.add(VectorMath.exp(FloatVector.fromArray(SP, a, off + v + L).sub(m)));
                s2 = s2.add(VectorMath.exp(FloatVector.fromArray(SP, a, off + v + 2 * L).sub(m)));
                s3 = s3.add(VectorMath.exp(FloatVector.fromArray(SP, a, off + v + 3 * L).sub(m)));
            }
            for (; v < b1; v += L) {
                VectorMask<Float> mk = SP.indexInRange(v, b1);
                // Masked-off lanes load 0 and would add e^(0−m): blend them back to 0.
                FloatVector e = VectorMath.exp(FloatVector.fromArray(SP, a, off + v, mk).sub(m));
                s0 = s0.add(e, mk);
            }
            total += VectorMath.sum(s0.add(s1).add(s2.add(s3)));
        }
        return total;
    }

    private static int vocab(Tensor logits, int t) {
        if (logits.numel() % t != 0) throw new IllegalArgumentException("logits " + logits + " do not have " + t + " rows");
        long v = logits.numel() / t;
        if (v == 0) throw new IllegalArgumentException("empty vocabulary: " + logits);
        return (int) v;
    }

    private static void checkTarget(int[] targets, int t, int vocab) {
        if (targets[t] < 0 || targets[t] >= vocab)
            throw new IndexOutOfBoundsException("target id " + targets[t] + " at position " + t + " is outside the vocabulary [0, " + vocab + ")");
    }
}
