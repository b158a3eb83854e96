package dev.laconic.tensor;

/**
 * The specification of every op in {@link Ops}: plain loops, double accumulation, no tricks.
 *
 * <p>It is the test oracle for the fast kernels and the fallback for any backend. Inputs are read
 * once into float arrays (widening BF16/F16 weights), results are computed in double and stored as
 * F32. Attention here is the textbook full-softmax form, so the tiled online-softmax kernels are
 * checked against an independent formulation, not against themselves.
 */
public final class ReferenceOps implements Ops {

    // ---- linear ---------------------------------------------------------------------------------

    @Override
    public void matmul(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = w.dim(0), k = w.dim(1);
        int t = rows(x, k);
        check(y, (long) t * n, "y");
        float[] xa = x.toFloatArray(), wa = w.toFloatArray(), ba = b == null ? null : b.toFloatArray();
        float[] ya = new float[t * n];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < n; j++) {
                double s = ba == null ? 0 : ba[j];
                for (int p = 0; p < k; p++) s += (double) xa[i * k + p] * wa[j * k + p];
                ya[i * n + j] = (float) s;
            }
        store(y, ya);
    }

    @Override
    public void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int n = w.dim(0), k = w.dim(1);
        int t = rows(x, k);
        check(dy, (long) t * n, "dy");
        float[] xa = x.toFloatArray(), wa = w.toFloatArray(), g = dy.toFloatArray();
        if (dx != null) {
            check(dx, (long) t * k, "dx");
            float[] out = new float[t * k];
            for (int i = 0; i < t; i++)
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += (double) g[i * n + j] * wa[j * k + p];
                    out[i * k + p] = (float) s;
                }
            store(dx, out);
        }
        if (dw != null) {
            check(dw, (long) n * k, "dw");
            float[] acc = dw.toFloatArray();
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) {
                    double s = acc[j * k + p];
                    for (int i = 0; i < t; i++) s += (double) g[i * n + j] * xa[i * k + p];
                    acc[j * k + p] = (float) s;
                }
            store(dw, acc);
        }
        if (db != null) {
            check(db, n, "db");
            float[] acc = db.toFloatArray();
            for (int j = 0; j < n; j++) {
                double s = acc[j];
                for (int i = 0; i < t; i++) s += g[i * n + j];
                acc[j] = (float) s;
            }
            store(db, acc);
        }
    }

    // ---- RMSNorm --------------------------------------------------------------------------------

    @Override
    public void rmsnorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd) {
        int c = weight.dim(0), t = rows(x, c);
        float[] xa = x.toFloatArray(), wa = weight.toFloatArray(), ya = new float[t * c];
        for (int i = 0; i < t; i++) {
            double ss = 0;
            for (int j = 0; j < c; j++) ss += (double) xa[i * c + j] * xa[i * c + j];
            double r = 1.0 / Math.sqrt(ss / c + eps);
            // HF order: (x * rstd) rounded to the activation dtype, then * weight.
            for (int j = 0; j < c; j++) ya[i * c + j] = (float) (xa[i * c + j] * r * wa[j]);
            if (rstd != null) rstd.setFloat(i, (float) r);
        }
        store(y, ya);
    }

    @Override
    public void rmsnormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight) {
        int c = weight.dim(0), t = rows(x, c);
        float[] xa = x.toFloatArray(), wa = weight.toFloatArray(), g = dy.toFloatArray();
        float[] dxa = new float[t * c];
        double[] dwa = dweight == null ? null : new double[c];
        if (dwa != null) for (int j = 0; j < c; j++) dwa[j] = dweight.getFloat(j);
        for (int i = 0; i < t; i++) {
            double r = rstd.getFloat(i);
            double dot = 0;                                   // mean(g·xhat) with g = dy·weight
            for (int j = 0; j < c; j++) dot += (double) g[i * c + j] * wa[j] * xa[i * c + j] * r;
            dot /= c;
            for (int j = 0; j < c; j++) {
                double xhat = xa[i * c + j] * r;
                dxa[i * c + j] = (float) (r * ((double) g[i * c + j] * wa[j] - xhat * dot));
                if (dwa != null) dwa[j] += g[i * c + j] * xhat;
            }
        }
        if (dx != null) store(dx, dxa);
        if (dwa != null) for (int j = 0; j < c; j++) dweight.setFloat(j, (float) dwa[j]);
    }

    // ---- RoPE -----------------------------------------------------------------------------------

    @Override
    public void rope(Tensor x, int[] pos, float[] invFreq) {
        rotate(x, pos, invFreq, 1);
    }

    @Override
    public void ropeBackward(Tensor dx, int[] pos, float[] invFreq) {
        rotate(dx, pos, invFreq, -1);
    }

    private static void rotate(Tensor x, int[] pos, float[] invFreq, int sign) {
        int half = invFreq.length, d = 2 * half, t = pos.length;
        if (x.numel() % ((long) t * d) != 0) throw new IllegalArgumentException("rope: " + x + " is not [T=" + t + ",H,D=" + d + "]");
        int heads = (int) (x.numel() / ((long) t * d));
        float[] a = x.toFloatArray();
        for (int i = 0; i < t; i++)
            for (int h = 0; h < heads; h++) {
                int base = (i * heads + h) * d;
                for (int f = 0; f < half; f++) {
                    // HF computes the angle in f32 (inv_freq[None] @ position_ids), then cos/sin.
                    float angle = (float) pos[i] * invFreq[f];
                    double c = Math.cos(angle), s = sign * Math.sin(angle);
                    double x1 = a[base + f], x2 = a[base + f + half];
                    a[base + f] = (float) (x1 * c - x2 * s);
                    a[base + f + half] = (float) (x2 * c + x1 * s);
                }
            }
        store(x, a);
    }

    // ---- attention (full softmax: the textbook form) ---------------------------------------------

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse) {
        Dims m = Dims.of(q, k, start);
        float[] qa = q.toFloatArray(), ka = k.toFloatArray(), va = v.toFloatArray(), oa = new float[qa.length];
        double scale = 1.0 / Math.sqrt(m.d);
        for (int t = 0; t < m.t; t++)
            for (int h = 0; h < m.h; h++) {
                int kvh = h / (m.h / m.kvh), len = start + t + 1;
                double[] s = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    double dot = 0;
                    for (int e = 0; e < m.d; e++) dot += (double) qa[m.q(t, h, e)] * ka[m.kv(j, kvh, e)];
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < len; j++) sum += Math.exp(s[j] - max);
                for (int e = 0; e < m.d; e++) {
                    double acc = 0;
                    for (int j = 0; j < len; j++) acc += Math.exp(s[j] - max) / sum * va[m.kv(j, kvh, e)];
                    oa[m.q(t, h, e)] = (float) acc;
                }
                if (lse != null) lse.setFloat((long) t * m.h + h, (float) (max + Math.log(sum)));
            }
        store(out, oa);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse,
                                  Tensor dout, Tensor dq, Tensor dk, Tensor dv) {
        Dims m = Dims.of(q, k, start);
        float[] qa = q.toFloatArray(), ka = k.toFloatArray(), va = v.toFloatArray();
        float[] oa = out.toFloatArray(), g = dout.toFloatArray();
        float[] dqa = new float[qa.length];
        float[] dka = dk == null ? null : dk.toFloatArray(), dva = dv == null ? null : dv.toFloatArray();
        double scale = 1.0 / Math.sqrt(m.d);
        for (int t = 0; t < m.t; t++)
            for (int h = 0; h < m.h; h++) {
                int kvh = h / (m.h / m.kvh), len = start + t + 1;
                double l = lse.getFloat((long) t * m.h + h);
                double delta = 0;                              // Δ = Σ_d dout·out
                for (int e = 0; e < m.d; e++) delta += (double) g[m.q(t, h, e)] * oa[m.q(t, h, e)];
                for (int j = 0; j < len; j++) {
                    double dot = 0, dp = 0;
                    for (int e = 0; e < m.d; e++) {
                        dot += (double) qa[m.q(t, h, e)] * ka[m.kv(j, kvh, e)];
                        dp += (double) g[m.q(t, h, e)] * va[m.kv(j, kvh, e)];
                    }
                    double p = Math.exp(dot * scale - l);
                    double ds = p * (dp - delta);
                    for (int e = 0; e < m.d; e++) {
                        dqa[m.q(t, h, e)] += (float) (ds * ka[m.kv(j, kvh, e)] * scale);
                        if (dka != null) dka[m.kv(j, kvh, e)] += (float) (ds * qa[m.q(t, h, e)] * scale);
                        if (dva != null) dva[m.kv(j, kvh, e)] += (float) (p * g[m.q(t, h, e)]);
                    }
                }
            }
        if (dq != null) store(dq, dqa);
        if (dka != null) store(dk, dka);
        if (dva != null) store(dv, dva);
    }

    /** Index arithmetic for q[T,H,D] and k/v[S,KVH,D]. */
    private record Dims(int t, int h, int kvh, int d, int s) {
        static Dims of(Tensor q, Tensor k, int start) {
            if (q.rank() != 3 || k.rank() != 3) throw new IllegalArgumentException("attention wants q[T,H,D], k[S,KVH,D]: " + q + ", " + k);
            Dims m = new Dims(q.dim(0), q.dim(1), k.dim(1), q.dim(2), k.dim(0));
            if (k.dim(2) != m.d || m.h % m.kvh != 0 || start < 0 || start + m.t > m.s)
                throw new IllegalArgumentException("attention shapes: q=" + q + " k=" + k + " start=" + start);
            return m;
        }
        int q(int t, int head, int e) { return (t * h + head) * d + e; }
        int kv(int j, int head, int e) { return (j * kvh + head) * d + e; }
    }

    // ---- SwiGLU ---------------------------------------------------------------------------------

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor h) {
        float[] g = gate.toFloatArray(), u = up.toFloatArray(), o = new float[g.length];
        for (int i = 0; i < g.length; i++) o[i] = (float) (silu(g[i]) * u[i]);
        store(h, o);
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup) {
        float[] g = gate.toFloatArray(), u = up.toFloatArray(), d = dh.toFloatArray();
        float[] dg = new float[g.length], du = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            double sig = 1 / (1 + Math.exp(-g[i]));
            dg[i] = (float) (d[i] * u[i] * sig * (1 + g[i] * (1 - sig)));
            du[i] = (float) (d[i] * silu(g[i]));
        }
        if (dgate != null) store(dgate, dg);
        if (dup != null) store(dup, du);
    }

    private static double silu(double g) {
        return g / (1 + Math.exp(-g));
    }

    // ---- embedding ------------------------------------------------------------------------------

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        int vocab = table.dim(0), c = table.dim(1);
        check(out, (long) ids.length * c, "out");
        for (int t = 0; t < ids.length; t++) {
            checkId(ids, t, vocab);
            for (int j = 0; j < c; j++) out.setFloat((long) t * c + j, table.getFloat((long) ids[t] * c + j));
        }
    }

    @Override
    public void embeddingBackward(int[] ids, Tensor dout, Tensor dtable) {
        int vocab = dtable.dim(0), c = dtable.dim(1);
        for (int t = 0; t < ids.length; t++) {
            checkId(ids, t, vocab);
            for (int j = 0; j < c; j++) {
                long i = (long) ids[t] * c + j;
                dtable.setFloat(i, dtable.getFloat(i) + dout.getFloat((long) t * c + j));
            }
        }
    }

    private static void checkId(int[] ids, int t, int vocab) {
        if (ids[t] < 0 || ids[t] >= vocab)
            throw new IndexOutOfBoundsException("token id " + ids[t] + " at position " + t + " is outside the vocabulary [0, " + vocab + ")");
    }

    // ---- token log-probabilities ----------------------------------------------------------------

    @Override
    public void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse) {
        int t = targets.length, vocab = (int) (logits.numel() / Math.max(1, t));
        float[] a = logits.toFloatArray();
        for (int i = 0; i < t; i++) {
            checkId(targets, i, vocab);
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, a[i * vocab + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp(a[i * vocab + v] - max);
            double l = max + Math.log(sum);
            logp.setFloat(i, (float) (a[i * vocab + targets[i]] - l));
            if (lse != null) lse.setFloat(i, (float) l);
        }
    }

    @Override
    public void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits) {
        int t = targets.length, vocab = (int) (logits.numel() / Math.max(1, t));
        float[] a = logits.toFloatArray(), out = new float[a.length];
        for (int i = 0; i < t; i++) {
            double l = lse.getFloat(i), g = dlogp.getFloat(i);
            for (int v = 0; v < vocab; v++) {
                double p = Math.exp(a[i * vocab + v] - l);
                out[i * vocab + v] = (float) (g * ((v == targets[i] ? 1 : 0) - p));
            }
        }
        store(dlogits, out);
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Rows of x read as a matrix with {@code cols} columns. */
    static int rows(Tensor x, int cols) {
        if (cols == 0 || x.numel() % cols != 0) throw new IllegalArgumentException(x + " does not have rows of " + cols);
        return (int) (x.numel() / cols);
    }

    private static void check(Tensor t, long numel, String name) {
        if (t.numel() != numel) throw new IllegalArgumentException(name + " is " + t + ", expected " + numel + " elements");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " must be F32, is " + t.dtype());
    }

    private static void store(Tensor t, float[] a) {
        for (int i = 0; i < a.length; i++) t.setFloat(i, a[i]);
    }
}
