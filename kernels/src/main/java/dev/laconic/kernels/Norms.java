package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019) as in HF Qwen2RMSNorm/LlamaRMSNorm, forward and backward, one
 * row of x[T,C] at a time on FloatVector lanes. Rows are independent, so the forward and dx split
 * across threads by rows; dweight[C] sums over rows, so it gets its own pass split by columns
 * (each thread owns a column range: no races, no partial buffers).
 */
final class Norms {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    /** Below this many elements per chunk, threading costs more than it saves. */
    private static final int MIN_CHUNK_ELEMS = 16_384;

    private Norms() {}

    /** y[T,C] = x[T,C] · rstd · weight[C], rstd[T] = 1/sqrt(mean(x²) + eps). */
    static void forward(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd) {
        int c = weight.dim(0), t = FloatView.rows(x, c);
        FloatView.requireF32(y, (long) t * c, "y");
        if (rstd != null) FloatView.requireF32(rstd, t, "rstd");
        FloatView xv = FloatView.read(x), wv = FloatView.read(weight), yv = FloatView.write(y);
        FloatView rv = rstd == null ? null : FloatView.write(rstd);
        float[] xa = xv.a(), wa = wv.a(), ya = yv.a();
        int xo = xv.off(), wo = wv.off(), yo = yv.off();
        Parallel.forChunks(t, rowGrain(c), (from, to) -> {
            for (int i = from; i < to; i++) {
                int xi = xo + i * c, yi = yo + i * c;
                // rstd = 1 / sqrt(Σ_j x_j² / C + eps)
                float r = (float) (1.0 / Math.sqrt(sumSquares(xa, xi, c) / c + eps));
                // y_j = (x_j · rstd) · w_j   (HF order: normalise, then scale)
                int j = 0;
                for (int bound = SP.loopBound(c); j < bound; j += L) {
                    FloatVector.fromArray(SP, xa, xi + j).mul(r).mul(FloatVector.fromArray(SP, wa, wo + j))
                            .intoArray(ya, yi + j);
                }
                for (; j < c; j++) ya[yi + j] = xa[xi + j] * r * wa[wo + j];
                if (rv != null) rv.a()[rv.off() + i] = r;
            }
        });
        yv.commit();
        if (rv != null) rv.commit();
    }

    /**
     * dx[T,C], dweight[C] from dy[T,C] and the saved rstd[T]. With g = dy·weight and xhat = x·rstd:  dx = rstd·(g − xhat·mean(g·xhat))  (assigned),
     * dweight += Σ_t dy·xhat  (accumulated).
     */
    static void backward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight) {
        int c = weight.dim(0), t = FloatView.rows(x, c);
        if (dy.numel() != (long) t * c) throw new IllegalArgumentException("dy is " + dy + ", expected " + t + "×" + c);
        if (rstd.numel() != t) throw new IllegalArgumentException("rstd is " + rstd + ", expected " + t + " rows");
        FloatView xv = FloatView.read(x), wv = FloatView.read(weight), rv = FloatView.read(rstd), gv = FloatView.read(dy);
        float[] xa = xv.a(), wa = wv.a(), ra = rv.a(), ga = gv.a();
        int xo = xv.off(), wo = wv.off(), ro = rv.off(), go = gv.off();

        if (dx != null) {
            FloatView.requireF32(dx, (long) t * c, "dx");
            FloatView dv = FloatView.write(dx);
            float[] da = dv.a();
            int dof = dv.off();
            Parallel.forChunks(t, rowGrain(c), (from, to) -> {
                for (int i = from; i < to; i++) {
                    int xi = xo + i * c, gi = go + i * c, di = dof + i * c;
                    float r = ra[ro + i];
                    // mean(g·xhat) = rstd/C · Σ_j dy_j·w_j·x_j
                    float mean = (float) (r / c * dotOfProduct(ga, gi, wa, wo, xa, xi, c));
                    // dx_j = rstd·dy_j·w_j − x_j·(rstd²·mean)     (= rstd·(g_j − xhat_j·mean))
                    float k = r * r * mean;
                    int j = 0;
                    for (int bound = SP.loopBound(c); j < bound; j += L) {
                        FloatVector g = FloatVector.fromArray(SP, ga, gi + j).mul(FloatVector.fromArray(SP, wa, wo + j));
                        FloatVector xj = FloatVector.fromArray(SP, xa, xi + j);
                        g.mul(r).sub(xj.mul(k)).intoArray(da, di + j);
                    }
                    for (; j < c; j++) da[di + j] = r * ga[gi + j] * wa[wo + j] - xa[xi + j] * k;
                }
            });
            dv.commit();
        }

        if (dweight != null) {
            FloatView.requireF32(dweight, c, "dweight");
            FloatView dwv = FloatView.update(dweight);
            float[] dw = dwv.a();
            int dwo = dwv.off();
            int vecCols = (c + L - 1) / L;
            int grain = Math.max(1, MIN_CHUNK_ELEMS / Math.max(1, t * L));
            Parallel.forChunks(vecCols, grain, (from, to) -> {
                for (int col = from; col < to; col++) {
                    int j = col * L;
                    VectorMask<Float> m = SP.indexInRange(j, c);
                    // dweight_j += Σ_t dy[t,j] · x[t,j] · rstd[t]
                    FloatVector acc = FloatVector.fromArray(SP, dw, dwo + j, m);
                    for (int i = 0; i < t; i++) {
                        FloatVector g = FloatVector.fromArray(SP, ga, go + i * c + j, m);
                        FloatVector xj = FloatVector.fromArray(SP, xa, xo + i * c + j, m);
                        acc = g.mul(xj).fma(FloatVector.broadcast(SP, ra[ro + i]), acc);
                    }
                    acc.intoArray(dw, dwo + j, m);
                }
            });
            dwv.commit();
        }
    }

    /** Σ x² over a[off, off+n), four float accumulators, summed in double at the end. */
    static double sumSquares(float[] a, int off, int n) {
        FloatVector s0 = FloatVector.zero(SP), s1 = s0, s2 = s0, s3 = s0;
        int j = 0;
        for (int bound = n - 4 * L; j <= bound; j += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(SP, a, off + j), v1 = FloatVector.fromArray(SP, a, off + j + L);
            FloatVector v2 = FloatVector.fromArray(SP, a, off + j + 2 * L), v3 = FloatVector.fromArray(SP, a, off + j + 3 * L);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
            s2 = v2.fma(v2, s2);
            s3 = v3.fma(v3, s3);
        }
        for (int bound = SP.loopBound(n); j < bound; j += L) {
            FloatVector v = FloatVector.fromArray(SP, a, off + j);
            s0 = v.fma(v, s0);
        }
        double s = (double) VectorMath.sum(s0.add(s1)) + VectorMath.sum(s2.add(s3));
        for (; j < n; j++) s += (double) a[off + j] * a[off + j];
        return s;
    }

    /** Σ_j a_j·b_j·c_j over n elements starting at the given offsets. */
    private static double dotOfProduct(float[] a, int ao, float[] b, int bo, float[] c, int co, int n) {
        FloatVector s0 = FloatVector.zero(SP), s1 = s0;
        int j = 0;
        for (int bound = n - 2 * L; j <= bound; j += 2 * L) {
            s0 = FloatVector.fromArray(SP, a, ao + j).mul(FloatVector.fromArray(SP, b, bo + j))
                    .fma(FloatVector.fromArray(SP, c, co + j), s0);
            s1 = FloatVector.fromArray(SP, a, ao + j + L).mul(FloatVector.fromArray(SP, b, bo + j + L))
                    .fma(FloatVector.fromArray(SP, c, co + j + L), s1);
        }
        for (int bound = SP.loopBound(n); j < bound; j += L) {
            s0 = FloatVector.fromArray(SP, a, ao + j).mul(FloatVector.fromArray(SP, b, bo + j))
                    .fma(FloatVector.fromArray(SP, c, co + j), s0);
        }
        double s = VectorMath.sum(s0.add(s1));
        for (; j < n; j++) s += (double) a[ao + j] * b[bo + j] * c[co + j];
        return s;
    }

    /** Rows per parallel chunk so that each chunk has at least MIN_CHUNK_ELEMS elements. */
    static int rowGrain(int c) {
        return Math.max(1, MIN_CHUNK_ELEMS / Math.max(1, c));
    }
}
