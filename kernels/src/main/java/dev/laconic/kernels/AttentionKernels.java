package dev.laconic.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector inner loops of {@link Attention}: small register-blocked matrix products between a
 * tile of query rows and a tile of at most {@link #BK} keys, plus the row-wise softmax pieces.
 *
 * <p>Layouts. Query-side rows (q, dout) are read in place at {@code x[xo + row[r]·D]}; keys and
 * values in place at {@code y[yo + j·ys]} (ys = KVH·D, the cache row stride) or, for scores, from a
 * transposed copy kᵀ[D][Sp] so that 16 keys are one vector. Scratch tiles (scores [rows][BK],
 * accumulators [rows][Dp] with Dp a multiple of 2L) are contiguous. Row counts are multiples of 4
 * (padding rows carry zero weights); head dims need not be multiples of L: loads are masked.
 *
 * <p>The AVX-512 machines this was tuned on (Zen 4) sustain about one 512-bit FMA and one 512-bit
 * load per cycle, so the kernels keep at least as many FMAs as loads (a broadcast is a load):
 * blocks of 4 rows × 2 vectors. Measured alone, the blocked score kernel runs at ~85–105 GFLOP/s
 * on one core.
 */
final class AttentionKernels {
    static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    static final int L = SP.length();
    /** Keys per tile: four vectors of scores per row (64 with AVX-512). */
    static final int BK = 4 * L;

    private AttentionKernels() {}

    /** Head dim rounded up to the 2-vector step of the D-vectorised kernels (scratch row stride). */
    static int padD(int d) {
        return (d + 2 * L - 1) / (2 * L) * (2 * L);
    }

    // ---- scores s = x·yᵀ ----------------------------------------------------------------------------

    /**
     * s[r·BK + j] = scale · x_r·k_j from kᵀ at kT[kto + e·sp + j] (all BK columns are computed; those
     * past the tile's keys are finite garbage the caller ignores). 4 rows × 2 key vectors = 8 sums
     * per pass: 2 loads + 4 broadcasts per 8 FMAs (a 4 × 4 block ran 4× slower under C2 on JDK 25).
     */
    static void scoresTransposed(float[] x, int xo, int[] row, int rowsPad, int d, float[] kT, int kto, int sp,
                                 float scale, float[] s) {
        for (int r = 0; r < rowsPad; r += 4) {
            int x0 = xo + row[r] * d, x1 = xo + row[r + 1] * d, x2 = xo + row[r + 2] * d, x3 = xo + row[r + 3] * d;
            for (int jv = 0; jv < BK; jv += 2 * L) {
                FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int e = 0; e < d; e++) {
                    int ke = kto + e * sp + jv;
                    FloatVector k0 = FloatVector.fromArray(SP, kT, ke), k1 = FloatVector.fromArray(SP, kT, ke + L);
                    FloatVector b = FloatVector.broadcast(SP, x[x0 + e]);
                    a00 = k0.fma(b, a00); a01 = k1.fma(b, a01);
                    b = FloatVector.broadcast(SP, x[x1 + e]);
                    a10 = k0.fma(b, a10); a11 = k1.fma(b, a11);
                    b = FloatVector.broadcast(SP, x[x2 + e]);
                    a20 = k0.fma(b, a20); a21 = k1.fma(b, a21);
                    b = FloatVector.broadcast(SP, x[x3 + e]);
                    a30 = k0.fma(b, a30); a31 = k1.fma(b, a31);
                }
                int o = r * BK + jv;
                a00.mul(scale).intoArray(s, o);
                a01.mul(scale).intoArray(s, o + L);
                a10.mul(scale).intoArray(s, o + BK);
                a11.mul(scale).intoArray(s, o + BK + L);
                a20.mul(scale).intoArray(s, o + 2 * BK);
                a21.mul(scale).intoArray(s, o + 2 * BK + L);
                a30.mul(scale).intoArray(s, o + 3 * BK);
                a31.mul(scale).intoArray(s, o + 3 * BK + L);
            }
        }
    }

    /**
     * s[r·BK + j] = scale · x_r·y_j with keys read in place (decode: a handful of rows, so a transposed
     * copy of the cache would cost more than it saves). Blocks of 4 rows × 2 keys share their loads;
     * one horizontal sum per score.
     */
    static void scoresDirect(float[] x, int xo, int[] row, int rowsPad, float[] y, int yo, int ys, int nj, int d,
                             float scale, float[] s) {
        if (rowsPad == 1) {
            scoresDirect1(x, xo + row[0] * d, y, yo, ys, nj, d, scale, s);
            return;
        }
        for (int r = 0; r < rowsPad; r += 4) {
            int x0 = xo + row[r] * d, x1 = xo + row[r + 1] * d, x2 = xo + row[r + 2] * d, x3 = xo + row[r + 3] * d;
            int j = 0;
            for (; j + 2 <= nj; j += 2) {
                int ya = yo + j * ys, yb = ya + ys;
                FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int e = 0; e < d; e += L) {
                    VectorMask<Float> m = SP.indexInRange(e, d);
                    FloatVector ka = FloatVector.fromArray(SP, y, ya + e, m), kb = FloatVector.fromArray(SP, y, yb + e, m);
                    FloatVector q = FloatVector.fromArray(SP, x, x0 + e, m);
                    a0 = q.fma(ka, a0); b0 = q.fma(kb, b0);
                    q = FloatVector.fromArray(SP, x, x1 + e, m);
                    a1 = q.fma(ka, a1); b1 = q.fma(kb, b1);
                    q = FloatVector.fromArray(SP, x, x2 + e, m);
                    a2 = q.fma(ka, a2); b2 = q.fma(kb, b2);
                    q = FloatVector.fromArray(SP, x, x3 + e, m);
                    a3 = q.fma(ka, a3); b3 = q.fma(kb, b3);
                }
                int o = r * BK + j;
                s[o] = VectorMath.sum(a0) * scale;
                s[o + 1] = VectorMath.sum(b0) * scale;
                s[o + BK] = VectorMath.sum(a1) * scale;
                s[o + BK + 1] = VectorMath.sum(b1) * scale;
                s[o + 2 * BK] = VectorMath.sum(a2) * scale;
                s[o + 2 * BK + 1] = VectorMath.sum(b2) * scale;
                s[o + 3 * BK] = VectorMath.sum(a3) * scale;
                s[o + 3 * BK + 1] = VectorMath.sum(b3) * scale;
            }
            if (j < nj) {                                              // odd last key
                int ya = yo + j * ys;
                FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
                for (int e = 0; e < d; e += L) {
                    VectorMask<Float> m = SP.indexInRange(e, d);
                    FloatVector ka = FloatVector.fromArray(SP, y, ya + e, m);
                    a0 = FloatVector.fromArray(SP, x, x0 + e, m).fma(ka, a0);
                    a1 = FloatVector.fromArray(SP, x, x1 + e, m).fma(ka, a1);
                    a2 = FloatVector.fromArray(SP, x, x2 + e, m).fma(ka, a2);
                    a3 = FloatVector.fromArray(SP, x, x3 + e, m).fma(ka, a3);
                }
                int o = r * BK + j;
                s[o] = VectorMath.sum(a0) * scale;
                s[o + BK] = VectorMath.sum(a1) * scale;
                s[o + 2 * BK] = VectorMath.sum(a2) * scale;
                s[o + 3 * BK] = VectorMath.sum(a3) * scale;
            }
        }
    }

    /**
     * kT[(h·D + e)·sp + j] = k[ko + (j·KVH + h)·D + e] for keys j0 ≤ j &lt; j1 of kv head h: one
     * gather of 16 keys per (h, e). Columns past the last key stay 0.
     */
    static void transposeHead(float[] k, int ko, int kvh, int h, int d, int j0, int j1, float[] kT, int sp) {
        int stride = kvh * d;
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) idx[i] = i * stride;
        int j = j0;
        for (; j + L <= j1; j += L) {
            int src = ko + j * stride + h * d;
            for (int e = 0; e < d; e++) FloatVector.fromArray(SP, k, src + e, idx, 0).intoArray(kT, (h * d + e) * sp + j);
        }
        for (; j < j1; j++)                    // ragged end: a masked gather range-checks every lane on JDK 25
            for (int e = 0; e < d; e++) kT[(h * d + e) * sp + j] = k[ko + j * stride + h * d + e];
    }

    // ---- weighted sums along D ------------------------------------------------------------------

    /**
     * The one-row case of {@link #scoresDirect} (decode, one query row per kv head): s[j] = scale·x·y_j,
     * with the same per-row accumulation order (FMAs along D, then {@link VectorMath#sum}), so the
     * same bits; 4 keys per pass keep 4 independent accumulators in flight.
     */
    static void scoresDirect1(float[] x, int x0, float[] y, int yo, int ys, int nj, int d, float scale, float[] s) {
        int j = 0;
        for (; j + 4 <= nj; j += 4) {
            int ya = yo + j * ys;
            FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
            for (int e = 0; e < d; e += L) {
                VectorMask<Float> m = SP.indexInRange(e, d);
                FloatVector q = FloatVector.fromArray(SP, x, x0 + e, m);
                a0 = q.fma(FloatVector.fromArray(SP, y, ya + e, m), a0);
                a1 = q.fma(FloatVector.fromArray(SP, y, ya + ys + e, m), a1);
                a2 = q.fma(FloatVector.fromArray(SP, y, ya + 2 * ys + e, m), a2);
                a3 = q.fma(FloatVector.fromArray(SP, y, ya + 3 * ys + e, m), a3);
            }
            s[j] = VectorMath.sum(a0) * scale;
            s[j + 1] = VectorMath.sum(a1) * scale;
            s[j + 2] = VectorMath.sum(a2) * scale;
            s[j + 3] = VectorMath.sum(a3) * scale;
        }
        for (; j < nj; j++) {
            FloatVector a = FloatVector.zero(SP);
            for (int e = 0; e < d; e += L) {
                VectorMask<Float> m = SP.indexInRange(e, d);
                a = FloatVector.fromArray(SP, x, x0 + e, m).fma(FloatVector.fromArray(SP, y, yo + j * ys + e, m), a);
            }
            s[j] = VectorMath.sum(a) * scale;
        }
    }

    /** The one-row case of {@link #addWeightedKeys}: acc = acc·f + Σ_j w_j·y_j, same order per element. */
    static void addWeightedKeys1(float[] w, int nj, float[] y, int yo, int ys, int d, float[] acc, float[] f) {
        for (int e = 0; e < d; e += L) {
            VectorMask<Float> m = SP.indexInRange(e, d);
            FloatVector c = FloatVector.fromArray(SP, acc, e);
            if (f != null) c = c.mul(f[0]);
            for (int j = 0; j < nj; j++)
                c = FloatVector.fromArray(SP, y, yo + j * ys + e, m).fma(FloatVector.broadcast(SP, w[j]), c);
            c.intoArray(acc, e);
        }
    }

    /**
     * acc[r·as .. +d] = acc·f_r + Σ_{j&lt;nj} w[r·BK + j]·y_j for rows r &lt; rowsPad (acc is a scratch
     * tile, rows padded to 4; f is the online-softmax rescale e^(m − m'), null for 1), keys at
     * y[yo + j·ys]. 4 rows × 2 D-chunks of accumulators stay in registers across the keys; D is
     * walked outermost.
     */
    static void addWeightedKeys(float[] w, int rowsPad, int nj, float[] y, int yo, int ys, int d, float[] acc, int as,
                                float[] f) {
        if (rowsPad == 1) {
            addWeightedKeys1(w, nj, y, yo, ys, d, acc, f);
            return;
        }
        for (int e = 0; e < d; e += 2 * L) {
            VectorMask<Float> m0 = SP.indexInRange(e, d), m1 = SP.indexInRange(e + L, d);
            for (int r = 0; r < rowsPad; r += 4) {
                int o = r * as + e, w0 = r * BK;
                FloatVector c00 = FloatVector.fromArray(SP, acc, o), c01 = FloatVector.fromArray(SP, acc, o + L);
                FloatVector c10 = FloatVector.fromArray(SP, acc, o + as), c11 = FloatVector.fromArray(SP, acc, o + as + L);
                FloatVector c20 = FloatVector.fromArray(SP, acc, o + 2 * as), c21 = FloatVector.fromArray(SP, acc, o + 2 * as + L);
                FloatVector c30 = FloatVector.fromArray(SP, acc, o + 3 * as), c31 = FloatVector.fromArray(SP, acc, o + 3 * as + L);
                if (f != null) {
                    c00 = c00.mul(f[r]); c01 = c01.mul(f[r]);
                    c10 = c10.mul(f[r + 1]); c11 = c11.mul(f[r + 1]);
                    c20 = c20.mul(f[r + 2]); c21 = c21.mul(f[r + 2]);
                    c30 = c30.mul(f[r + 3]); c31 = c31.mul(f[r + 3]);
                }
                for (int j = 0; j < nj; j++) {
                    int yj = yo + j * ys + e;
                    FloatVector y0 = FloatVector.fromArray(SP, y, yj, m0), y1 = FloatVector.fromArray(SP, y, yj + L, m1);
                    FloatVector b = FloatVector.broadcast(SP, w[w0 + j]);
                    c00 = y0.fma(b, c00); c01 = y1.fma(b, c01);
                    b = FloatVector.broadcast(SP, w[w0 + BK + j]);
                    c10 = y0.fma(b, c10); c11 = y1.fma(b, c11);
                    b = FloatVector.broadcast(SP, w[w0 + 2 * BK + j]);
                    c20 = y0.fma(b, c20); c21 = y1.fma(b, c21);
                    b = FloatVector.broadcast(SP, w[w0 + 3 * BK + j]);
                    c30 = y0.fma(b, c30); c31 = y1.fma(b, c31);
                }
                c00.intoArray(acc, o); c01.intoArray(acc, o + L);
                c10.intoArray(acc, o + as); c11.intoArray(acc, o + as + L);
                c20.intoArray(acc, o + 2 * as); c21.intoArray(acc, o + 2 * as + L);
                c30.intoArray(acc, o + 3 * as); c31.intoArray(acc, o + 3 * as + L);
            }
        }
    }

    /**
     * z[j·zs .. +d] += Σ_{r&lt;rowsPad} w[r·BK + j]·x_r for keys j &lt; nj4 (a multiple of 4; weights of
     * the keys past the tile are 0), rows read in place at x[xo + row[r]·D]; z is a [BK][zs] scratch
     * tile. 4 keys × 2 D-chunks of accumulators stay in registers across the rows.
     */
    static void addWeightedRows(float[] w, int rowsPad, int nj4, float[] x, int xo, int[] row, int d, float[] z, int zs) {
        for (int e = 0; e < d; e += 2 * L) {
            VectorMask<Float> m0 = SP.indexInRange(e, d), m1 = SP.indexInRange(e + L, d);
            for (int j = 0; j < nj4; j += 4) {
                int o = j * zs + e;
                FloatVector c00 = FloatVector.fromArray(SP, z, o), c01 = FloatVector.fromArray(SP, z, o + L);
                FloatVector c10 = FloatVector.fromArray(SP, z, o + zs), c11 = FloatVector.fromArray(SP, z, o + zs + L);
                FloatVector c20 = FloatVector.fromArray(SP, z, o + 2 * zs), c21 = FloatVector.fromArray(SP, z, o + 2 * zs + L);
                FloatVector c30 = FloatVector.fromArray(SP, z, o + 3 * zs), c31 = FloatVector.fromArray(SP, z, o + 3 * zs + L);
                for (int r = 0; r < rowsPad; r++) {
                    int xr = xo + row[r] * d + e, wr = r * BK + j;
                    FloatVector x0 = FloatVector.fromArray(SP, x, xr, m0), x1 = FloatVector.fromArray(SP, x, xr + L, m1);
                    FloatVector b = FloatVector.broadcast(SP, w[wr]);
                    c00 = x0.fma(b, c00); c01 = x1.fma(b, c01);
                    b = FloatVector.broadcast(SP, w[wr + 1]);
                    c10 = x0.fma(b, c10); c11 = x1.fma(b, c11);
                    b = FloatVector.broadcast(SP, w[wr + 2]);
                    c20 = x0.fma(b, c20); c21 = x1.fma(b, c21);
                    b = FloatVector.broadcast(SP, w[wr + 3]);
                    c30 = x0.fma(b, c30); c31 = x1.fma(b, c31);
                }
                c00.intoArray(z, o); c01.intoArray(z, o + L);
                c10.intoArray(z, o + zs); c11.intoArray(z, o + zs + L);
                c20.intoArray(z, o + 2 * zs); c21.intoArray(z, o + 2 * zs + L);
                c30.intoArray(z, o + 3 * zs); c31.intoArray(z, o + 3 * zs + L);
            }
        }
    }

    /** dst[do + e] += src[so + e] for e &lt; d (dst in place in a caller's tensor: masked tail). */
    static void addRow(float[] src, int so, float[] dst, int dof, int d) {
        for (int e = 0; e < d; e += L) {
            VectorMask<Float> m = SP.indexInRange(e, d);
            FloatVector.fromArray(SP, dst, dof + e, m).add(FloatVector.fromArray(SP, src, so + e, m)).intoArray(dst, dof + e, m);
        }
    }

    /** dst[do + e] = src[so + e]·f for e &lt; d. */
    static void scaledRow(float[] src, int so, float f, float[] dst, int dof, int d) {
        for (int e = 0; e < d; e += L) {
            VectorMask<Float> m = SP.indexInRange(e, d);
            FloatVector.fromArray(SP, src, so + e, m).mul(f).intoArray(dst, dof + e, m);
        }
    }

    // ---- row-wise softmax pieces ------------------------------------------------------------------

    /** max of a[o, o+n). */
    static float max(float[] a, int o, int n) {
        FloatVector m = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> mk = SP.indexInRange(j, n);
            m = m.max(FloatVector.fromArray(SP, a, o + j, mk).blend(Float.NEGATIVE_INFINITY, mk.not()));
        }
        return m.reduceLanes(VectorOperators.MAX);
    }

    /** p[o + j] = e^(s[o + j] − m) for j &lt; n, 0 for n ≤ j &lt; BK; returns Σ_j p_j. */
    static float expShifted(float[] s, int o, int n, float m, float[] p) {
        FloatVector total = FloatVector.zero(SP);
        for (int j = 0; j < BK; j += L) {
            VectorMask<Float> mk = SP.indexInRange(j, n);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(SP, s, o + j).sub(m));
            e = e.blend(0f, mk.not());
            e.intoArray(p, o + j);
            total = total.add(e);
        }
        return VectorMath.sum(total);
    }

    /**
     * s ← p = e^(s − lse);  dp ← ds = p·(dp − Δ)·scale for j &lt; n; both 0 for n ≤ j &lt; BK
     * (keys in the row's future, or past the tile).
     */
    static void probsAndGrads(float[] s, float[] dp, int o, int n, float lse, float delta, float scale) {
        for (int j = 0; j < BK; j += L) {
            VectorMask<Float> mk = SP.indexInRange(j, n);
            FloatVector p = VectorMath.exp(FloatVector.fromArray(SP, s, o + j).sub(lse)).blend(0f, mk.not());
            p.intoArray(s, o + j);
            FloatVector.fromArray(SP, dp, o + j).sub(delta).mul(p).mul(scale).blend(0f, mk.not()).intoArray(dp, o + j);
        }
    }

    /** Σ a·b over n elements, horizontal sum in double. */
    static double dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(SP);
        int e = 0;
        for (int bound = SP.loopBound(n); e < bound; e += L)
            acc = FloatVector.fromArray(SP, a, ao + e).fma(FloatVector.fromArray(SP, b, bo + e), acc);
        double s = VectorMath.sum(acc);
        for (; e < n; e++) s += (double) a[ao + e] * b[bo + e];
        return s;
    }
}
