package dev.laconic.kernels;

import dev.laconic.kernels.Pack.Src;
import dev.laconic.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * y[T,N] = x[T,K] · w[N,K]ᵀ (+ b[N]) for few rows T (decode: T = 1; a few sequences decoded
 * together), as dot products along K that read w straight from its storage: no packing, no transpose.
 *
 * <p>Why a separate path: with T rows each weight is used for 2T flops. For T = 1 the product is
 * bound by the bandwidth at which w streams from memory (a BF16 8960×1536 matrix is 27 MB read once
 * for 27 MFLOP), so the goals are to read w once, as one sequential stream, in its own dtype: L BF16
 * lanes (2L bytes) are widened to F32 in registers (sign-extend, shift left 16). The packed GEMM
 * would first write a transposed F32 copy of w, twice the bytes of the BF16 original.
 *
 * <p>Blocking: threads take runs of consecutive w rows (dynamic chunks, so a core slowed by another
 * process does not hold up the rest) and walk them one row at a time, front to back: one
 * sequential stream per thread. Measured on Zen 4: reading four rows side by side (four streams,
 * 3 KiB apart) streamed at half the rate of one row after the other. For each w row, x rows go
 * four at a time through {@link #dot4} (two w vectors widened once and used by 8 FMAs into 8
 * accumulators), then pairs and singles; the row's w is read from memory by the first x block and
 * from L1 by the next ones. T = 1 ({@link #dot1}) keeps 4 independent accumulators over 4L
 * elements per step, enough loads in flight to keep the stream going.
 *
 * <p>Reductions add lanes in lane order ({@link VectorMath#sum}) so results are the same bits in
 * every JIT tier.
 */
final class MatVec {
    static final VectorSpecies<Float> F = Pack.F;
    static final int L = Pack.L;

    private MatVec() {}

    /** y[t·n + j] (at yo) = Σ_p x[t·k + p] (at xo) · w[j·k + p] (+ b[j] at bo when b != null). */
    static void forward(float[] x, int xo, int t, int k, Src w, int n, float[] b, int bo, float[] y, int yo) {
        int grain = Math.max(1, Math.min(256, n / (Parallel.threads() * 8)));
        Pack.forChunks(w.shared, n, grain, (j0, j1) -> {
            for (int j = j0; j < j1; j++) {
                long wr = (long) j * k;
                float bj = b == null ? 0f : b[bo + j];
                int i = 0;
                for (; i + 4 <= t; i += 4) dot4(x, xo + i * k, k, w, wr, y, yo + i * n + j, n, bj);
                for (; i + 2 <= t; i += 2) dot2(x, xo + i * k, k, w, wr, y, yo + i * n + j, n, bj);
                if (i < t) y[yo + i * n + j] = dot1(x, xo + i * k, k, w, wr) + bj;
            }
        });
    }

    /** x[xo ..]·w[wr ..] over k elements: 4 accumulators, 4L elements per step. */
    private static float dot1(float[] x, int xo, int k, Src w, long wr) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        // Loop limits precomputed as multiples of the step ("p < limit" form): C2 then removes the range checks.
        int p = 0, k4 = k - k % (4 * L), k1 = k - k % L;
        for (; p < k4; p += 4 * L) {
            a0 = w.vec(wr + p).fma(FloatVector.fromArray(F, x, xo + p), a0);
            a1 = w.vec(wr + p + L).fma(FloatVector.fromArray(F, x, xo + p + L), a1);
            a2 = w.vec(wr + p + 2 * L).fma(FloatVector.fromArray(F, x, xo + p + 2 * L), a2);
            a3 = w.vec(wr + p + 3 * L).fma(FloatVector.fromArray(F, x, xo + p + 3 * L), a3);
        }
        for (; p < k1; p += L) a0 = w.vec(wr + p).fma(FloatVector.fromArray(F, x, xo + p), a0);
        float s = VectorMath.sum(a0.add(a1).add(a2.add(a3)));
        for (; p < k; p++) s += x[xo + p] * w.get(wr + p);
        return s;
    }

    /**
     * Two x rows against one w row. Each row is summed exactly as {@link #dot1} sums it (4
     * accumulators over 4L-element steps, then L steps into the first, lanes in order, scalar tail),
     * so a row's result is the same bits whether it is computed alone or with others.
     */
    private static void dot2(float[] x, int xo, int k, Src w, long wr, float[] y, int yo, int ldy, float bias) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        int x1 = xo + k, p = 0, k4 = k - k % (4 * L), k1 = k - k % L;
        for (; p < k4; p += 4 * L) {
            FloatVector w0 = w.vec(wr + p), w1 = w.vec(wr + p + L), w2 = w.vec(wr + p + 2 * L), w3 = w.vec(wr + p + 3 * L);
            a0 = w0.fma(FloatVector.fromArray(F, x, xo + p), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x, xo + p + L), a1);
            a2 = w2.fma(FloatVector.fromArray(F, x, xo + p + 2 * L), a2);
            a3 = w3.fma(FloatVector.fromArray(F, x, xo + p + 3 * L), a3);
            b0 = w0.fma(FloatVector.fromArray(F, x, x1 + p), b0);
            b1 = w1.fma(FloatVector.fromArray(F, x, x1 + p + L), b1);
            b2 = w2.fma(FloatVector.fromArray(F, x, x1 + p + 2 * L), b2);
            b3 = w3.fma(FloatVector.fromArray(F, x, x1 + p + 3 * L), b3);
        }
        for (; p < k1; p += L) {
            FloatVector u = w.vec(wr + p);
            a0 = u.fma(FloatVector.fromArray(F, x, xo + p), a0);
            b0 = u.fma(FloatVector.fromArray(F, x, x1 + p), b0);
        }
        float s0 = VectorMath.sum(a0.add(a1).add(a2.add(a3))), s1 = VectorMath.sum(b0.add(b1).add(b2.add(b3)));
        for (; p < k; p++) {
            float e = w.get(wr + p);
            s0 += x[xo + p] * e;
            s1 += x[x1 + p] * e;
        }
        y[yo] = s0 + bias;
        y[yo + ldy] = s1 + bias;
    }

    /** Four x rows against one w row (16 accumulators), each summed exactly as {@link #dot1} sums it. */
    private static void dot4(float[] x, int xo, int k, Src w, long wr, float[] y, int yo, int ldy, float bias) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
        int x1 = xo + k, x2 = xo + 2 * k, x3 = xo + 3 * k, p = 0, k4 = k - k % (4 * L), k1 = k - k % L;
        for (; p < k4; p += 4 * L) {
            FloatVector w0 = w.vec(wr + p), w1 = w.vec(wr + p + L), w2 = w.vec(wr + p + 2 * L), w3 = w.vec(wr + p + 3 * L);
            a0 = w0.fma(FloatVector.fromArray(F, x, xo + p), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x, xo + p + L), a1);
            a2 = w2.fma(FloatVector.fromArray(F, x, xo + p + 2 * L), a2);
            a3 = w3.fma(FloatVector.fromArray(F, x, xo + p + 3 * L), a3);
            b0 = w0.fma(FloatVector.fromArray(F, x, x1 + p), b0);
            b1 = w1.fma(FloatVector.fromArray(F, x, x1 + p + L), b1);
            b2 = w2.fma(FloatVector.fromArray(F, x, x1 + p + 2 * L), b2);
            b3 = w3.fma(FloatVector.fromArray(F, x, x1 + p + 3 * L), b3);
            c0 = w0.fma(FloatVector.fromArray(F, x, x2 + p), c0);
            c1 = w1.fma(FloatVector.fromArray(F, x, x2 + p + L), c1);
            c2 = w2.fma(FloatVector.fromArray(F, x, x2 + p + 2 * L), c2);
            c3 = w3.fma(FloatVector.fromArray(F, x, x2 + p + 3 * L), c3);
            d0 = w0.fma(FloatVector.fromArray(F, x, x3 + p), d0);
            d1 = w1.fma(FloatVector.fromArray(F, x, x3 + p + L), d1);
            d2 = w2.fma(FloatVector.fromArray(F, x, x3 + p + 2 * L), d2);
            d3 = w3.fma(FloatVector.fromArray(F, x, x3 + p + 3 * L), d3);
        }
        for (; p < k1; p += L) {
            FloatVector u = w.vec(wr + p);
            a0 = u.fma(FloatVector.fromArray(F, x, xo + p), a0);
            b0 = u.fma(FloatVector.fromArray(F, x, x1 + p), b0);
            c0 = u.fma(FloatVector.fromArray(F, x, x2 + p), c0);
            d0 = u.fma(FloatVector.fromArray(F, x, x3 + p), d0);
        }
        float s0 = VectorMath.sum(a0.add(a1).add(a2.add(a3))), s1 = VectorMath.sum(b0.add(b1).add(b2.add(b3)));
        float s2 = VectorMath.sum(c0.add(c1).add(c2.add(c3))), s3 = VectorMath.sum(d0.add(d1).add(d2.add(d3)));
        for (; p < k; p++) {
            float e = w.get(wr + p);
            s0 += x[xo + p] * e;
            s1 += x[x1 + p] * e;
            s2 += x[x2 + p] * e;
            s3 += x[x3 + p] * e;
        }
        y[yo] = s0 + bias;
        y[yo + ldy] = s1 + bias;
        y[yo + 2 * ldy] = s2 + bias;
        y[yo + 3 * ldy] = s3 + bias;
    }
}
