package dev.laconic.kernels;

import dev.laconic.kernels.Pack.Src;
import dev.laconic.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * y[T,N] = x[T,K] · w[N,K]ᵀ (+ b[N]) for few rows T (decode: T = 1; small prefill chunks), as dot
 * products along K that read w straight from its storage: no packing, no transpose.
 *
 * <p>Why a separate path: with T rows each weight is used 2T times. For T = 1 the product is bound
 * by the bandwidth at which w streams from memory (a BF16 8960×1536 matrix is 27 MB read once for
 * 27 MFLOP), so the only goals are to read w once, at full bandwidth, in its own dtype: a BF16
 * vector of L lanes (L·2 bytes) is widened to F32 in registers (sign-extend, shift left 16). The
 * packed GEMM would first write a transposed F32 copy of w, twice the bytes of the BF16 original.
 *
 * <p>Blocking: threads take groups of R = 4 consecutive w rows (dynamic chunks, so a core slowed by
 * another process does not hold up the rest). For one group, x rows go 4 at a time through
 * {@link #dot4x4} (16 accumulators: 4 w vectors and 4 x vectors per 16 FMAs), the rest through
 * {@link #dot1x4}. The group's w rows (4·K elements) are read from memory by the first x block and
 * from L1/L2 by the next ones, so w streams from memory once whatever T is.
 */
final class MatVec {
    static final VectorSpecies<Float> F = Pack.F;
    static final int L = Pack.L;
    static final int R = 4;

    private MatVec() {}

    /** y[t·n + j] (at yo) = Σ_p x[t·k + p] (at xo) · w[j·k + p] (+ b[j] at bo when b != null). */
    static void forward(float[] x, int xo, int t, int k, Src w, int n, float[] b, int bo, float[] y, int yo) {
        int groups = (n + R - 1) / R;
        int grain = Math.max(1, groups / (Parallel.threads() * 16));
        Pack.forChunks(w.shared, groups, grain, (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                int j0 = g * R, rows = Math.min(R, n - j0);
                // Rows past n repeat the last real row (computed, not stored): one code path for the edge.
                long w0 = (long) j0 * k, w1 = (long) (j0 + Math.min(1, rows - 1)) * k;
                long w2 = (long) (j0 + Math.min(2, rows - 1)) * k, w3 = (long) (j0 + Math.min(3, rows - 1)) * k;
                int i = 0;
                for (; i + 4 <= t; i += 4) dot4x4(x, xo + i * k, k, w, w0, w1, w2, w3, y, yo + i * n + j0, n, rows);
                for (; i < t; i++) dot1x4(x, xo + i * k, k, w, w0, w1, w2, w3, y, yo + i * n + j0, rows);
                if (b != null)
                    for (int r = 0; r < rows; r++) {
                        float bj = b[bo + j0 + r];
                        for (int ti = 0; ti < t; ti++) y[yo + ti * n + j0 + r] += bj;
                    }
            }
        });
    }

    /** y[r] = x·w_r for one x row and four w rows starting at elements w0..w3 (first `rows` stored). */
    private static void dot1x4(float[] x, int xo, int k, Src w, long w0, long w1, long w2, long w3,
                               float[] y, int yo, int rows) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int p = 0;
        for (; p + L <= k; p += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + p);
            a0 = w.vec(w0 + p).fma(xv, a0);
            a1 = w.vec(w1 + p).fma(xv, a1);
            a2 = w.vec(w2 + p).fma(xv, a2);
            a3 = w.vec(w3 + p).fma(xv, a3);
        }
        float s0 = VectorMath.sum(a0), s1 = VectorMath.sum(a1);
        float s2 = VectorMath.sum(a2), s3 = VectorMath.sum(a3);
        for (; p < k; p++) {
            float xp = x[xo + p];
            s0 += xp * w.get(w0 + p);
            s1 += xp * w.get(w1 + p);
            s2 += xp * w.get(w2 + p);
            s3 += xp * w.get(w3 + p);
        }
        y[yo] = s0;
        if (rows > 1) y[yo + 1] = s1;
        if (rows > 2) y[yo + 2] = s2;
        if (rows > 3) y[yo + 3] = s3;
    }

    /** The 4×4 block: x rows xo + i·k (i &lt; 4) against four w rows; output row i at yo + i·ldy. */
    private static void dot4x4(float[] x, int xo, int k, Src w, long w0, long w1, long w2, long w3,
                               float[] y, int yo, int ldy, int rows) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int x1 = xo + k, x2 = xo + 2 * k, x3 = xo + 3 * k;
        int p = 0;
        for (; p + L <= k; p += L) {
            FloatVector v0 = w.vec(w0 + p), v1 = w.vec(w1 + p), v2 = w.vec(w2 + p), v3 = w.vec(w3 + p);
            FloatVector xv = FloatVector.fromArray(F, x, xo + p);
            a00 = v0.fma(xv, a00); a01 = v1.fma(xv, a01); a02 = v2.fma(xv, a02); a03 = v3.fma(xv, a03);
            xv = FloatVector.fromArray(F, x, x1 + p);
            a10 = v0.fma(xv, a10); a11 = v1.fma(xv, a11); a12 = v2.fma(xv, a12); a13 = v3.fma(xv, a13);
            xv = FloatVector.fromArray(F, x, x2 + p);
            a20 = v0.fma(xv, a20); a21 = v1.fma(xv, a21); a22 = v2.fma(xv, a22); a23 = v3.fma(xv, a23);
            xv = FloatVector.fromArray(F, x, x3 + p);
            a30 = v0.fma(xv, a30); a31 = v1.fma(xv, a31); a32 = v2.fma(xv, a32); a33 = v3.fma(xv, a33);
        }
        float[] s = {
                VectorMath.sum(a00), VectorMath.sum(a01), VectorMath.sum(a02), VectorMath.sum(a03),
                VectorMath.sum(a10), VectorMath.sum(a11), VectorMath.sum(a12), VectorMath.sum(a13),
                VectorMath.sum(a20), VectorMath.sum(a21), VectorMath.sum(a22), VectorMath.sum(a23),
                VectorMath.sum(a30), VectorMath.sum(a31), VectorMath.sum(a32), VectorMath.sum(a33)};
        for (; p < k; p++) {
            float e0 = w.get(w0 + p), e1 = w.get(w1 + p), e2 = w.get(w2 + p), e3 = w.get(w3 + p);
            for (int i = 0; i < 4; i++) {
                float xp = x[xo + i * k + p];
                s[4 * i] += xp * e0;
                s[4 * i + 1] += xp * e1;
                s[4 * i + 2] += xp * e2;
                s[4 * i + 3] += xp * e3;
            }
        }
        for (int i = 0; i < 4; i++)
            for (int r = 0; r < rows; r++) y[yo + i * ldy + r] = s[4 * i + r];
    }
}
