package dev.laconic.tensor;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

import static dev.laconic.tensor.testing.FiniteDifference.assertGradient;
import static dev.laconic.tensor.testing.FiniteDifference.dot;
import static dev.laconic.tensor.testing.FiniteDifference.gradient;
import static dev.laconic.tensor.testing.TestTensors.randnDoubles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Finite-difference checks, in f64, of every backward in {@link ReferenceOps}.
 *
 * <p>Each test takes an op y = f(inputs) in its double form, a random r, and the objective
 * L = Σ r·y; the backward fed dy = r must give dL/d(input) as measured by a five-point stencil
 * (error ~1e-12, see FiniteDifference). Parameter gradients are pre-filled with random values to
 * check that they accumulate (+=); assigned gradients are pre-filled with NaN to check that every
 * element is written.
 */
class ReferenceOpsGradientTest {
    static final double H = 1e-3, RTOL = 1e-8, ATOL = 1e-9;

    @Test
    void matmulBackward() {
        int t = 5, k = 7, n = 6;
        double[] x = randnDoubles(1, t * k), w = randnDoubles(2, n * k), b = randnDoubles(3, n), r = randnDoubles(4, t * n);
        DoubleSupplier loss = () -> dot(r, ReferenceOps.matmul(x, w, b, t, k, n));
        double[] dx = nan(t * k), dw0 = randnDoubles(5, n * k), db0 = randnDoubles(6, n);
        double[] dw = dw0.clone(), db = db0.clone();
        ReferenceOps.matmulBackward(x, w, r, t, k, n, dx, dw, db);
        assertGradient(gradient(x, loss, H), dx, RTOL, ATOL, "matmul dx");
        assertGradient(gradient(w, loss, H), minus(dw, dw0), RTOL, ATOL, "matmul dw (accumulated)");
        assertGradient(gradient(b, loss, H), minus(db, db0), RTOL, ATOL, "matmul db (accumulated)");
        // Null gradients are skipped, the others unaffected.
        double[] dx2 = nan(t * k);
        ReferenceOps.matmulBackward(x, w, r, t, k, n, dx2, null, null);
        assertEquals(Arrays.toString(dx), Arrays.toString(dx2));
    }

    /**
     * out = x + y: the backward is the pass-through dx = dy = dout (no op computes it); what the
     * model does add is the fan-in, dstream += dbranch, which is residual again.
     */
    @Test
    void residualBackwardIsAPassThrough() {
        int n = 23;
        double[] x = randnDoubles(7, n), y = randnDoubles(8, n), r = randnDoubles(9, n);
        DoubleSupplier loss = () -> {
            double[] out = x.clone();
            ReferenceOps.residual(out, y);
            return dot(r, out);
        };
        assertGradient(gradient(x, loss, H), r, RTOL, ATOL, "residual dx = dout");
        assertGradient(gradient(y, loss, H), r, RTOL, ATOL, "residual dy = dout");
        // The fan-in: z feeds the stream (identity) and a branch b(z) = 3z; dz = dout + b'(z)·dout.
        double[] z = randnDoubles(10, n);
        DoubleSupplier fanIn = () -> {
            double[] out = z.clone(), branch = new double[n];
            for (int i = 0; i < n; i++) branch[i] = 3 * z[i];
            ReferenceOps.residual(out, branch);
            return dot(r, out);
        };
        double[] dz = r.clone(), dbranch = new double[n];
        for (int i = 0; i < n; i++) dbranch[i] = 3 * r[i];
        ReferenceOps.residual(dz, dbranch);
        assertGradient(gradient(z, fanIn, H), dz, RTOL, ATOL, "residual fan-in dz = dout + dbranch");
    }

    @Test
    void rmsnormBackward() {
        int t = 4, c = 9;
        double eps = 1e-5;
        double[] x = randnDoubles(10, t * c), w = randnDoubles(11, c), r = randnDoubles(12, t * c);
        for (int j = 0; j < c; j++) x[3 * c + j] *= 1e-3;   // a row small enough for eps to matter
        DoubleSupplier loss = () -> {
            double[] y = new double[t * c];
            ReferenceOps.rmsnorm(x, w, eps, t, c, y, null);
            return dot(r, y);
        };
        double[] y = new double[t * c], rstd = new double[t];
        ReferenceOps.rmsnorm(x, w, eps, t, c, y, rstd);
        double[] dx = nan(t * c), dw0 = randnDoubles(13, c), dw = dw0.clone();
        ReferenceOps.rmsnormBackward(x, w, rstd, r, t, c, dx, dw);
        assertGradient(gradient(x, loss, H * 1e-3), dx, 1e-6, 1e-7, "rmsnorm dx");
        assertGradient(gradient(w, loss, H), minus(dw, dw0), RTOL, ATOL, "rmsnorm dweight (accumulated)");
    }

    @Test
    void ropeBackward() {
        int t = 3, heads = 2, d = 8;
        int[] pos = {5, 6, 1000};
        float[] invFreq = {1.0f, 0.3f, 0.05f, 0.001f};
        double[] x = randnDoubles(20, t * heads * d), r = randnDoubles(21, t * heads * d);
        DoubleSupplier loss = () -> {
            double[] y = x.clone();
            ReferenceOps.rotate(y, pos, invFreq, heads, 1);
            return dot(r, y);
        };
        double[] dx = r.clone();
        ReferenceOps.rotate(dx, pos, invFreq, heads, -1);
        assertGradient(gradient(x, loss, H), dx, RTOL, ATOL, "rope dx");
        // A rotation: the backward (transpose) undoes the forward.
        double[] y = x.clone();
        ReferenceOps.rotate(y, pos, invFreq, heads, 1);
        ReferenceOps.rotate(y, pos, invFreq, heads, -1);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-13);
    }

    @Test
    void attentionBackwardWithCacheLongerThanQueries() {
        attentionCase(3, 4, 2, 5, 4, 9, 30);   // T=3 queries at positions 4..6, cache of S=9 rows
    }

    @Test
    void attentionBackwardFromStart() {
        attentionCase(5, 4, 2, 6, 0, 5, 40);   // prefill: start 0, S = T
    }

    @Test
    void attentionBackwardMultiHeadNoGrouping() {
        attentionCase(4, 2, 2, 3, 2, 7, 50);   // H = KVH
    }

    private static void attentionCase(int t, int h, int kvh, int d, int start, int s, long seed) {
        ReferenceOps.Dims m = new ReferenceOps.Dims(t, h, kvh, d, s);
        double[] q = randnDoubles(seed, t * h * d), k = randnDoubles(seed + 1, s * kvh * d);
        double[] v = randnDoubles(seed + 2, s * kvh * d), r = randnDoubles(seed + 3, t * h * d);
        DoubleSupplier loss = () -> {
            double[] out = new double[t * h * d];
            ReferenceOps.attention(q, k, v, m, start, out, null);
            return dot(r, out);
        };
        double[] out = new double[t * h * d], lse = new double[t * h];
        ReferenceOps.attention(q, k, v, m, start, out, lse);
        double[] dq = nan(q.length), dk0 = randnDoubles(seed + 4, k.length), dv0 = randnDoubles(seed + 5, v.length);
        double[] dk = dk0.clone(), dv = dv0.clone();
        ReferenceOps.attentionBackward(q, k, v, m, start, out, lse, r, dq, dk, dv);
        String c = " (T=" + t + " H=" + h + " KVH=" + kvh + " start=" + start + " S=" + s + ")";
        double[] gk = gradient(k, loss, H), gv = gradient(v, loss, H);
        assertGradient(gradient(q, loss, H), dq, RTOL, ATOL, "attention dq" + c);
        assertGradient(gk, minus(dk, dk0), RTOL, ATOL, "attention dk (accumulated)" + c);
        assertGradient(gv, minus(dv, dv0), RTOL, ATOL, "attention dv (accumulated)" + c);
        // Cache rows past the last query position are never read: zero gradient, left untouched.
        for (int i = (start + t) * kvh * d; i < k.length; i++) {
            assertEquals(0.0, gk[i], 1e-12);
            assertEquals(dk0[i], dk[i]);
            assertEquals(dv0[i], dv[i]);
        }
    }

    @Test
    void swigluBackward() {
        int n = 40;
        double[] g = randnDoubles(60, n), u = randnDoubles(61, n), r = randnDoubles(62, n);
        g[0] = 12; g[1] = -12; g[2] = 0; g[3] = -30;   // saturated and centre points of σ
        DoubleSupplier loss = () -> {
            double[] hh = new double[n];
            ReferenceOps.swiglu(g, u, hh);
            return dot(r, hh);
        };
        double[] dg = nan(n), du = nan(n);
        ReferenceOps.swigluBackward(g, u, r, dg, du);
        assertGradient(gradient(g, loss, H), dg, RTOL, ATOL, "swiglu dgate");
        assertGradient(gradient(u, loss, H), du, RTOL, ATOL, "swiglu dup");
    }

    @Test
    void embeddingBackward() {
        int vocab = 6, c = 4;
        int[] ids = {2, 5, 2, 0, 2};
        double[] table = randnDoubles(70, vocab * c), r = randnDoubles(71, ids.length * c);
        DoubleSupplier loss = () -> {
            double[] out = new double[ids.length * c];
            ReferenceOps.embedding(table, c, ids, out);
            return dot(r, out);
        };
        double[] dt0 = randnDoubles(72, vocab * c), dt = dt0.clone();
        ReferenceOps.embeddingBackward(ids, r, c, dt);
        assertGradient(gradient(table, loss, H), minus(dt, dt0), RTOL, ATOL, "embedding dtable (accumulated)");
    }

    @Test
    void tokenLogProbsBackward() {
        int t = 4, vocab = 9;
        int[] targets = {3, 0, 8, 3};
        double[] logits = randnDoubles(80, t * vocab), r = randnDoubles(81, t);
        for (int v = 0; v < vocab; v++) logits[2 * vocab + v] = 30 * logits[2 * vocab + v] + 500; // needs the max shift
        DoubleSupplier loss = () -> {
            double[] logp = new double[t];
            ReferenceOps.tokenLogProbs(logits, targets, vocab, logp, null);
            return dot(r, logp);
        };
        double[] logp = new double[t], lse = new double[t];
        ReferenceOps.tokenLogProbs(logits, targets, vocab, logp, lse);
        for (double lp : logp) if (!(lp <= 0)) throw new AssertionFailedError("log-prob " + lp + " is not ≤ 0");
        double[] dl = nan(t * vocab);
        ReferenceOps.tokenLogProbsBackward(logits, targets, vocab, lse, r, dl);
        assertGradient(gradient(logits, loss, H), dl, RTOL, ATOL, "tokenLogProbs dlogits");
    }

    /** The LM-head composite in double: logp = logsoftmax(h·wOutᵀ)[target], chained backward. */
    @Test
    void lmHeadCompositeBackward() {
        int t = 7, c = 5, vocab = 11;
        int[] targets = {1, 10, 0, 4, 4, 7, 2};
        double[] h = randnDoubles(90, t * c), w = randnDoubles(91, vocab * c), r = randnDoubles(92, t);
        DoubleSupplier loss = () -> {
            double[] logp = new double[t];
            ReferenceOps.tokenLogProbs(ReferenceOps.matmul(h, w, null, t, c, vocab), targets, vocab, logp, null);
            return dot(r, logp);
        };
        double[] logits = ReferenceOps.matmul(h, w, null, t, c, vocab), logp = new double[t], lse = new double[t];
        ReferenceOps.tokenLogProbs(logits, targets, vocab, logp, lse);
        double[] dlogits = new double[t * vocab], dh = nan(t * c), dw = new double[vocab * c];
        ReferenceOps.tokenLogProbsBackward(logits, targets, vocab, lse, r, dlogits);
        ReferenceOps.matmulBackward(h, w, dlogits, t, c, vocab, dh, dw, null);
        assertGradient(gradient(h, loss, H), dh, RTOL, ATOL, "lm head dh");
        assertGradient(gradient(w, loss, H), dw, RTOL, ATOL, "lm head dwOut");
    }

    /** The check is strong: a gradient off by 1e-6 relative in a single element is caught. */
    @Test
    void checkDetectsSmallErrors() {
        int t = 3, k = 4, n = 5;
        double[] x = randnDoubles(100, t * k), w = randnDoubles(101, n * k), r = randnDoubles(102, t * n);
        double[] dx = new double[t * k];
        ReferenceOps.matmulBackward(x, w, r, t, k, n, dx, null, null);
        double[] fd = gradient(x, () -> dot(r, ReferenceOps.matmul(x, w, null, t, k, n)), H);
        assertGradient(fd, dx, RTOL, ATOL, "matmul dx");
        dx[7] *= 1 + 1e-6;
        assertThrows(AssertionFailedError.class, () -> assertGradient(fd, dx, RTOL, ATOL, "perturbed"));
    }

    // ---- helpers --------------------------------------------------------------------------------

    static double[] nan(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }

    static double[] minus(double[] a, double[] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) c[i] = a[i] - b[i];
        return c;
    }
}
