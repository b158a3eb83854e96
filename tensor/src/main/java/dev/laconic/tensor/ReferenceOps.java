package dev.laconic.tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The specification of every op in {@link Ops}: plain loops, double accumulation, no tricks.
 *
 * <p>It is the test oracle for the fast kernels. Each op's math is a package-private static method
 * on {@code double[]} (row-major, dims passed explicitly); the
 * {@link Tensor} methods validate shapes, widen the inputs (F32/BF16/F16) to double, call it and
 * round the results to F32 once. The double methods are what the finite-difference gradient tests
 * differentiate, so the checks run in f64 and are not blurred by F32 rounding. Attention here is the
 * textbook full-softmax form, so the tiled online-softmax kernels are checked against an independent
 * formulation, not against themselves.
 *
 * <p>Shape mismatches throw {@link IllegalArgumentException}; token ids outside the vocabulary throw
 * {@link IndexOutOfBoundsException} naming the id and its position, before anything is written.
 */
public final class ReferenceOps implements Ops {

    // ---- linear ---------------------------------------------------------------------------------

    @Override
    public void matmul(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = matrix(w, "w").dim(0), k = w.dim(1), t = rows(x, k);
        if (b != null) size(b, n, "b");
        check(y, (long) t * n, "y");
        store(y, matmul(d(x), d(w), b == null ? null : d(b), t, k, n));
    }

    /** y[T,N] = x[T,K]·w[N,K]ᵀ (+ b[N]; b may be null). */
    static double[] matmul(double[] x, double[] w, double[] b, int t, int k, int n) {
        double[] y = new double[t * n];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < n; j++) {
                double s = b == null ? 0 : b[j];
                for (int p = 0; p < k; p++) s += x[i * k + p] * w[j * k + p];
                y[i * n + j] = s;
            }
        return y;
    }

    @Override
    public void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int n = matrix(w, "w").dim(0), k = w.dim(1), t = rows(x, k);
        check(dy, (long) t * n, "dy");
        if (dx != null) check(dx, (long) t * k, "dx");
        if (dw != null) check(dw, (long) n * k, "dw");
        if (db != null) check(db, n, "db");
        double[] dxa = dx == null ? null : new double[t * k];
        double[] dwa = dw == null ? null : d(dw), dba = db == null ? null : d(db);
        matmulBackward(d(x), d(w), d(dy), t, k, n, dxa, dwa, dba);
        if (dx != null) store(dx, dxa);
        if (dw != null) store(dw, dwa);
        if (db != null) store(db, dba);
    }

    /** dx[T,K] = dy[T,N]·w[N,K] (assigned); dw[N,K] += dyᵀ·x; db[N] += Σ_t dy[t,:]. Nulls are skipped. */
    static void matmulBackward(double[] x, double[] w, double[] dy, int t, int k, int n,
                               double[] dx, double[] dw, double[] db) {
        if (dx != null)
            for (int i = 0; i < t; i++)
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += dy[i * n + j] * w[j * k + p];
                    dx[i * k + p] = s;
                }
        if (dw != null)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int i = 0; i < t; i++) s += dy[i * n + j] * x[i * k + p];
                    dw[j * k + p] += s;
                }
        if (db != null)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int i = 0; i < t; i++) s += dy[i * n + j];
                db[j] += s;
            }
    }

    // ---- residual -------------------------------------------------------------------------------

    @Override
    public void residual(Tensor x, Tensor y) {
        check(x, x.numel(), "x");
        size(y, x.numel(), "y");
        double[] xa = d(x);
        residual(xa, d(y));
        store(x, xa);
    }

    /** x += y (a sum of two floats is exact in double, so the one rounding gives the F32 sum). */
    static void residual(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    // ---- RMSNorm --------------------------------------------------------------------------------

    @Override
    public void rmsnorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd) {
        int c = (int) weight.numel(), t = rows(x, c);
        check(y, (long) t * c, "y");
        if (rstd != null) check(rstd, t, "rstd");
        double[] ya = new double[t * c], ra = new double[t];
        rmsnorm(d(x), d(weight), eps, t, c, ya, ra);
        store(y, ya);
        if (rstd != null) store(rstd, ra);
    }

    /**
     * y[T,C] = x·rstd·weight[C], rstd[T] = 1/sqrt(mean(x²) + eps). HF Qwen2RMSNorm multiplies in the
     * order (x·rstd)·weight in f32; here the whole product is double, rounded once by the caller.
     */
    static void rmsnorm(double[] x, double[] weight, double eps, int t, int c, double[] y, double[] rstd) {
        for (int i = 0; i < t; i++) {
            double ss = 0;
            for (int j = 0; j < c; j++) ss += x[i * c + j] * x[i * c + j];
            double r = 1.0 / Math.sqrt(ss / c + eps);
            for (int j = 0; j < c; j++) y[i * c + j] = x[i * c + j] * r * weight[j];
            if (rstd != null) rstd[i] = r;
        }
    }

    @Override
    public void rmsnormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight) {
        int c = (int) weight.numel(), t = rows(x, c);
        size(rstd, t, "rstd");
        check(dy, (long) t * c, "dy");
        if (dx != null) check(dx, (long) t * c, "dx");
        if (dweight != null) check(dweight, c, "dweight");
        double[] dxa = dx == null ? null : new double[t * c], dwa = dweight == null ? null : d(dweight);
        rmsnormBackward(d(x), d(weight), d(rstd), d(dy), t, c, dxa, dwa);
        if (dx != null) store(dx, dxa);
        if (dweight != null) store(dweight, dwa);
    }

    /**
     * With xhat = x·rstd and g = dy·weight: dx = rstd·(g − xhat·mean(g·xhat)) (assigned),
     * dweight += Σ_t dy·xhat. Nulls are skipped.
     */
    static void rmsnormBackward(double[] x, double[] weight, double[] rstd, double[] dy, int t, int c,
                                double[] dx, double[] dweight) {
        for (int i = 0; i < t; i++) {
            double r = rstd[i], dot = 0;
            for (int j = 0; j < c; j++) dot += dy[i * c + j] * weight[j] * x[i * c + j] * r;
            dot /= c;
            for (int j = 0; j < c; j++) {
                double xhat = x[i * c + j] * r;
                if (dx != null) dx[i * c + j] = r * (dy[i * c + j] * weight[j] - xhat * dot);
                if (dweight != null) dweight[j] += dy[i * c + j] * xhat;
            }
        }
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
        int heads = ropeHeads(x, pos, invFreq);
        if (x.dtype() != DType.F32) throw new IllegalArgumentException("rope works in place on F32, got " + x);
        double[] a = d(x);
        rotate(a, pos, invFreq, heads, sign);
        store(x, a);
    }

    /** H of x[T,H,D] with T = pos.length and D = 2·invFreq.length; throws when x is not of that form. */
    static int ropeHeads(Tensor x, int[] pos, float[] invFreq) {
        int d = 2 * invFreq.length, t = pos.length;
        boolean ok = d > 0 && (t == 0 ? x.numel() == 0 : x.numel() % ((long) t * d) == 0)
                && (x.rank() != 3 || (x.dim(0) == t && x.dim(2) == d));
        if (!ok)
            throw new IllegalArgumentException("rope: " + x + " is not [T=" + t + ",H,D=" + d + "]");
        return t == 0 ? 0 : (int) (x.numel() / ((long) t * d));
    }

    /**
     * In place on x[T,H,D]: (x[i], x[i+D/2]) ← (x[i]·cos a − x[i+D/2]·sin a, x[i+D/2]·cos a + x[i]·sin a)
     * with a = sign·pos[t]·invFreq[i]; sign −1 is the transpose, i.e. the backward.
     */
    static void rotate(double[] x, int[] pos, float[] invFreq, int heads, int sign) {
        int half = invFreq.length, d = 2 * half;
        for (int i = 0; i < pos.length; i++)
            for (int h = 0; h < heads; h++) {
                int base = (i * heads + h) * d;
                for (int f = 0; f < half; f++) {
                    // HF computes the angle in f32 (inv_freq[None] @ position_ids), then cos/sin.
                    float angle = (float) pos[i] * invFreq[f];
                    double c = Math.cos(angle), s = sign * Math.sin(angle);
                    double x1 = x[base + f], x2 = x[base + f + half];
                    x[base + f] = x1 * c - x2 * s;
                    x[base + f + half] = x2 * c + x1 * s;
                }
            }
    }

    // ---- attention (full softmax: the textbook form) ---------------------------------------------

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse) {
        Dims m = Dims.of(q, k, v, start);
        check(out, q.numel(), "out");
        if (lse != null) check(lse, (long) m.t * m.h, "lse");
        double[] oa = new double[(int) q.numel()], la = new double[m.t * m.h];
        attention(d(q), d(k), d(v), m, start, oa, la);
        store(out, oa);
        if (lse != null) store(lse, la);
    }

    /**
     * out[T,H,D] = softmax(q·kᵀ/√D + causal mask)·v for queries at positions start..start+T-1 over
     * cache rows k,v[S,KVH,D]; query head h reads kv head h/(H/KVH); lse[T,H] = log Σ_j exp(s_j).
     */
    static void attention(double[] q, double[] k, double[] v, Dims m, int start, double[] out, double[] lse) {
        double scale = 1.0 / Math.sqrt(m.d);
        for (int t = 0; t < m.t; t++)
            for (int h = 0; h < m.h; h++) {
                int kvh = h / (m.h / m.kvh), len = start + t + 1;
                double[] s = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    double dot = 0;
                    for (int e = 0; e < m.d; e++) dot += q[m.q(t, h, e)] * k[m.kv(j, kvh, e)];
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < len; j++) sum += Math.exp(s[j] - max);
                for (int e = 0; e < m.d; e++) {
                    double acc = 0;
                    for (int j = 0; j < len; j++) acc += Math.exp(s[j] - max) / sum * v[m.kv(j, kvh, e)];
                    out[m.q(t, h, e)] = acc;
                }
                if (lse != null) lse[t * m.h + h] = max + Math.log(sum);
            }
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse,
                                  Tensor dout, Tensor dq, Tensor dk, Tensor dv) {
        Dims m = Dims.of(q, k, v, start);
        size(out, q.numel(), "out");
        size(lse, (long) m.t * m.h, "lse");
        size(dout, q.numel(), "dout");
        if (dq != null) check(dq, q.numel(), "dq");
        if (dk != null) check(dk, k.numel(), "dk");
        if (dv != null) check(dv, v.numel(), "dv");
        double[] dqa = dq == null ? null : new double[(int) q.numel()];
        double[] dka = dk == null ? null : d(dk), dva = dv == null ? null : d(dv);
        attentionBackward(d(q), d(k), d(v), m, start, d(out), d(lse), d(dout), dqa, dka, dva);
        if (dq != null) store(dq, dqa);
        if (dk != null) store(dk, dka);
        if (dv != null) store(dv, dva);
    }

    /**
     * Recomputes p = exp(s − lse); with Δ_t = Σ_d dout·out, ds = p·(dout·vᵀ − Δ):
     * dq = ds·k/√D (assigned), dk += dsᵀ·q/√D, dv += pᵀ·dout. Nulls are skipped.
     */
    static void attentionBackward(double[] q, double[] k, double[] v, Dims m, int start, double[] out,
                                  double[] lse, double[] dout, double[] dq, double[] dk, double[] dv) {
        double scale = 1.0 / Math.sqrt(m.d);
        if (dq != null) Arrays.fill(dq, 0);
        for (int t = 0; t < m.t; t++)
            for (int h = 0; h < m.h; h++) {
                int kvh = h / (m.h / m.kvh), len = start + t + 1;
                double l = lse[t * m.h + h], delta = 0;
                for (int e = 0; e < m.d; e++) delta += dout[m.q(t, h, e)] * out[m.q(t, h, e)];
                for (int j = 0; j < len; j++) {
                    double dot = 0, dp = 0;
                    for (int e = 0; e < m.d; e++) {
                        dot += q[m.q(t, h, e)] * k[m.kv(j, kvh, e)];
                        dp += dout[m.q(t, h, e)] * v[m.kv(j, kvh, e)];
                    }
                    double p = Math.exp(dot * scale - l), ds = p * (dp - delta);
                    for (int e = 0; e < m.d; e++) {
                        if (dq != null) dq[m.q(t, h, e)] += ds * k[m.kv(j, kvh, e)] * scale;
                        if (dk != null) dk[m.kv(j, kvh, e)] += ds * q[m.q(t, h, e)] * scale;
                        if (dv != null) dv[m.kv(j, kvh, e)] += p * dout[m.q(t, h, e)];
                    }
                }
            }
    }

    /** Dimensions of q[T,H,D] and k/v[S,KVH,D], with their flat index arithmetic. */
    record Dims(int t, int h, int kvh, int d, int s) {
        static Dims of(Tensor q, Tensor k, Tensor v, int start) {
            if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3)
                throw new IllegalArgumentException("attention wants q[T,H,D], k,v[S,KVH,D]: " + q + ", " + k + ", " + v);
            Dims m = new Dims(q.dim(0), q.dim(1), k.dim(1), q.dim(2), k.dim(0));
            if (!Arrays.equals(k.shape(), v.shape()) || k.dim(2) != m.d || m.kvh == 0 || m.h % m.kvh != 0
                    || start < 0 || start + m.t > m.s)
                throw new IllegalArgumentException("attention shapes: q=" + q + " k=" + k + " v=" + v + " start=" + start);
            return m;
        }
        int q(int t, int head, int e) { return (t * h + head) * d + e; }
        int kv(int j, int head, int e) { return (j * kvh + head) * d + e; }
    }

    // ---- SwiGLU ---------------------------------------------------------------------------------

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor h) {
        size(up, gate.numel(), "up");
        check(h, gate.numel(), "h");
        double[] o = new double[(int) gate.numel()];
        swiglu(d(gate), d(up), o);
        store(h, o);
    }

    /** h = silu(g)·u, silu(g) = g·σ(g). */
    static void swiglu(double[] g, double[] u, double[] h) {
        for (int i = 0; i < g.length; i++) h[i] = silu(g[i]) * u[i];
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup) {
        long n = gate.numel();
        size(up, n, "up");
        size(dh, n, "dh");
        if (dgate != null) check(dgate, n, "dgate");
        if (dup != null) check(dup, n, "dup");
        double[] dg = dgate == null ? null : new double[(int) n], du = dup == null ? null : new double[(int) n];
        swigluBackward(d(gate), d(up), d(dh), dg, du);
        if (dgate != null) store(dgate, dg);
        if (dup != null) store(dup, du);
    }

    /** dgate = dh·u·σ(g)·(1 + g·(1−σ(g))), dup = dh·silu(g); both assigned, nulls skipped. */
    static void swigluBackward(double[] g, double[] u, double[] dh, double[] dgate, double[] dup) {
        for (int i = 0; i < g.length; i++) {
            double sig = 1 / (1 + Math.exp(-g[i]));
            if (dgate != null) dgate[i] = dh[i] * u[i] * sig * (1 + g[i] * (1 - sig));
            if (dup != null) dup[i] = dh[i] * silu(g[i]);
        }
    }

    private static double silu(double g) {
        return g / (1 + Math.exp(-g));
    }

    // ---- embedding ------------------------------------------------------------------------------

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        int vocab = matrix(table, "table").dim(0), c = table.dim(1);
        check(out, (long) ids.length * c, "out");
        checkIds(ids, vocab);
        // A gather is exact: read element-wise so a memory-mapped table is never copied whole.
        for (int t = 0; t < ids.length; t++)
            for (int j = 0; j < c; j++) out.setFloat((long) t * c + j, table.getFloat((long) ids[t] * c + j));
    }

    /** out[T,C] = table[ids[t], :] for table[V,C]. */
    static void embedding(double[] table, int c, int[] ids, double[] out) {
        for (int t = 0; t < ids.length; t++) System.arraycopy(table, ids[t] * c, out, t * c, c);
    }

    @Override
    public void embeddingBackward(int[] ids, Tensor dout, Tensor dtable) {
        int vocab = matrix(dtable, "dtable").dim(0), c = dtable.dim(1);
        size(dout, (long) ids.length * c, "dout");
        check(dtable, dtable.numel(), "dtable");
        checkIds(ids, vocab);
        // Only the rows that ids touch, accumulated in double (repeated ids add up before one rounding).
        Map<Integer, double[]> rows = new LinkedHashMap<>();
        for (int t = 0; t < ids.length; t++) {
            double[] row = rows.computeIfAbsent(ids[t], id -> {
                double[] r = new double[c];
                for (int j = 0; j < c; j++) r[j] = dtable.getFloat((long) id * c + j);
                return r;
            });
            for (int j = 0; j < c; j++) row[j] += dout.getFloat((long) t * c + j);
        }
        rows.forEach((id, row) -> {
            for (int j = 0; j < c; j++) dtable.setFloat((long) id * c + j, (float) row[j]);
        });
    }

    /** dtable[ids[t], :] += dout[t, :] for dtable[V,C]. */
    static void embeddingBackward(int[] ids, double[] dout, int c, double[] dtable) {
        for (int t = 0; t < ids.length; t++)
            for (int j = 0; j < c; j++) dtable[ids[t] * c + j] += dout[t * c + j];
    }

    // ---- token log-probabilities ----------------------------------------------------------------

    @Override
    public void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse) {
        int t = targets.length, vocab = vocab(logits, t);
        check(logp, t, "logp");
        if (lse != null) check(lse, t, "lse");
        checkIds(targets, vocab);
        double[] lp = new double[t], la = new double[t];
        tokenLogProbs(d(logits), targets, vocab, lp, la);
        store(logp, lp);
        if (lse != null) store(lse, la);
    }

    /** logp[t] = logits[t,target] − lse[t], lse[t] = max + log Σ_v exp(logits[t,v] − max). */
    static void tokenLogProbs(double[] logits, int[] targets, int vocab, double[] logp, double[] lse) {
        for (int i = 0; i < targets.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[i * vocab + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp(logits[i * vocab + v] - max);
            double l = max + Math.log(sum);
            logp[i] = logits[i * vocab + targets[i]] - l;
            if (lse != null) lse[i] = l;
        }
    }

    @Override
    public void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits) {
        int t = targets.length, vocab = vocab(logits, t);
        size(lse, t, "lse");
        size(dlogp, t, "dlogp");
        check(dlogits, logits.numel(), "dlogits");
        checkIds(targets, vocab);
        double[] out = new double[(int) logits.numel()];
        tokenLogProbsBackward(d(logits), targets, vocab, d(lse), d(dlogp), out);
        store(dlogits, out);   // logits were read in full above, so dlogits may alias them
    }

    /** dlogits[t,v] = dlogp[t]·(1[v = target] − exp(logits[t,v] − lse[t])) (assigned). */
    static void tokenLogProbsBackward(double[] logits, int[] targets, int vocab, double[] lse, double[] dlogp,
                                      double[] dlogits) {
        for (int i = 0; i < targets.length; i++)
            for (int v = 0; v < vocab; v++) {
                double p = Math.exp(logits[i * vocab + v] - lse[i]);
                dlogits[i * vocab + v] = dlogp[i] * ((v == targets[i] ? 1 : 0) - p);
            }
    }

    // ---- optimizer ------------------------------------------------------------------------------

    @Override
    public double sumOfSquares(List<Tensor> xs) {
        double s = 0;
        for (Tensor x : xs) {
            size(x, x.numel(), "x");
            for (long i = 0; i < x.numel(); i++) s += (double) x.getFloat(i) * x.getFloat(i);
        }
        return s;
    }

    @Override
    public void scale(Tensor x, double factor) {
        check(x, x.numel(), "x");
        for (long i = 0; i < x.numel(); i++) x.setFloat(i, (float) (x.getFloat(i) * factor));
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                      double weightDecay, long step) {
        long n = param.numel();
        check(param, n, "param");
        check(grad, n, "grad");
        check(m, n, "m");
        check(v, n, "v");
        if (step < 1) throw new IllegalArgumentException("AdamW step " + step + " < 1");
        double decay = 1 - lr * weightDecay, stepSize = lr / (1 - Math.pow(beta1, step)), bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        for (long j = 0; j < n; j++) {
            double g = grad.getFloat(j);
            float mj = (float) (beta1 * m.getFloat(j) + (1 - beta1) * g), vj = (float) (beta2 * v.getFloat(j) + (1 - beta2) * g * g);
            m.setFloat(j, mj);
            v.setFloat(j, vj);
            param.setFloat(j, (float) (param.getFloat(j) * decay - stepSize * mj / (Math.sqrt(vj) / bc2Sqrt + eps)));
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Rows of x read as a matrix with {@code cols} columns. */
    static int rows(Tensor x, int cols) {
        if (cols == 0 || x.numel() % cols != 0) throw new IllegalArgumentException(x + " does not have rows of " + cols);
        return (int) (x.numel() / cols);
    }

    /** V of logits[T,V]: the last dimension, which must account for all elements. */
    private static int vocab(Tensor logits, int t) {
        int vocab = logits.rank() == 0 ? 1 : logits.dim(-1);
        if (logits.numel() != (long) t * vocab)
            throw new IllegalArgumentException("logits " + logits + " are not [T=" + t + ",V]");
        return vocab;
    }

    private static Tensor matrix(Tensor w, String name) {
        if (w.rank() != 2) throw new IllegalArgumentException(name + " must be a matrix, is " + w);
        return w;
    }

    /** Validates every id before any output is touched: a bad id never leaves a half-updated gradient. */
    private static void checkIds(int[] ids, int vocab) {
        for (int t = 0; t < ids.length; t++)
            if (ids[t] < 0 || ids[t] >= vocab)
                throw new IndexOutOfBoundsException("token id " + ids[t] + " at position " + t
                        + " is outside the vocabulary [0, " + vocab + ")");
    }

    /** An input of any float dtype with this many elements. */
    private static void size(Tensor t, long numel, String name) {
        if (t.numel() != numel) throw new IllegalArgumentException(name + " is " + t + ", expected " + numel + " elements");
        if (!t.dtype().isFloat()) throw new IllegalArgumentException(name + " must be a float tensor, is " + t.dtype());
    }

    /** An output (or accumulated gradient): F32 with this many elements. */
    private static void check(Tensor t, long numel, String name) {
        if (t.numel() != numel) throw new IllegalArgumentException(name + " is " + t + ", expected " + numel + " elements");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " must be F32, is " + t.dtype());
    }

    /** The elements widened to double (exact for F32, BF16 and F16). */
    static double[] d(Tensor t) {
        if (t.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException("reference op on a tensor too large: " + t);
        double[] a = new double[(int) t.numel()];
        float[] f = t.floatArray();
        if (f != null) {
            for (int i = 0, o = t.floatOffset(); i < a.length; i++) a[i] = f[o + i];
        } else {
            for (int i = 0; i < a.length; i++) a[i] = t.getFloat(i);
        }
        return a;
    }

    /** Rounds each element to F32 (nearest) into t. */
    private static void store(Tensor t, double[] a) {
        for (int i = 0; i < a.length; i++) t.setFloat(i, (float) a[i]);
    }
}
