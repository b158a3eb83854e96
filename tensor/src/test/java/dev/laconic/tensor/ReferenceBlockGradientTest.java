package dev.laconic.tensor;

import org.junit.jupiter.api.Test;

import java.util.function.DoubleSupplier;

import static dev.laconic.tensor.ReferenceOps.attention;
import static dev.laconic.tensor.ReferenceOps.attentionBackward;
import static dev.laconic.tensor.ReferenceOps.matmul;
import static dev.laconic.tensor.ReferenceOps.matmulBackward;
import static dev.laconic.tensor.ReferenceOps.rmsnorm;
import static dev.laconic.tensor.ReferenceOps.rmsnormBackward;
import static dev.laconic.tensor.ReferenceOps.rotate;
import static dev.laconic.tensor.ReferenceOps.swiglu;
import static dev.laconic.tensor.ReferenceOps.swigluBackward;
import static dev.laconic.tensor.testing.FiniteDifference.assertGradient;
import static dev.laconic.tensor.testing.FiniteDifference.dot;
import static dev.laconic.tensor.testing.FiniteDifference.gradient;
import static dev.laconic.tensor.testing.TestTensors.randnDoubles;

/**
 * One whole pre-norm transformer block (Qwen2 layout) built from the double forms of the reference
 * ops, its backward chained by hand from their backwards, and checked in f64 against finite
 * differences with respect to the block input and several weights:
 * <pre>
 *   n1 = rmsnorm(x, w1);  q,k,v = n1·Wq,k,vᵀ + b;  rope(q), rope(k);  a = attention(q, k, v)
 *   h1 = x + a·Woᵀ;  n2 = rmsnorm(h1, w2);  y = h1 + (silu(n2·Wgᵀ) ⊙ n2·Wuᵀ)·Wdᵀ;  L = Σ r·y
 * </pre>
 * This checks that the ops' gradient conventions (assigned vs accumulated, rope transpose, GQA
 * head sharing) compose into a correct layer backward, which is how the transformer module uses them.
 */
class ReferenceBlockGradientTest {
    static final int T = 4, C = 12, H = 4, KVH = 2, D = 4, F = 10;
    static final double EPS = 1e-6;
    static final int[] POS = {0, 1, 2, 3};
    static final float[] INV_FREQ = {1.0f, 0.01f};

    // Parameters and input, all double; the finite differences perturb them in place.
    final double[] x = randnDoubles(1, T * C), w1 = randnDoubles(2, C), w2 = randnDoubles(3, C);
    final double[] wq = scaled(4, H * D * C), bq = randnDoubles(5, H * D);
    final double[] wk = scaled(6, KVH * D * C), bk = randnDoubles(7, KVH * D);
    final double[] wv = scaled(8, KVH * D * C), bv = randnDoubles(9, KVH * D);
    final double[] wo = scaled(10, C * H * D), wg = scaled(11, F * C), wu = scaled(12, F * C), wd = scaled(13, C * F);
    final double[] r = randnDoubles(14, T * C);
    final ReferenceOps.Dims dims = new ReferenceOps.Dims(T, H, KVH, D, T);

    /** Saved activations of one forward. */
    record Saved(double[] n1, double[] rstd1, double[] q, double[] k, double[] v, double[] a, double[] lse,
                 double[] h1, double[] n2, double[] rstd2, double[] g, double[] u, double[] m, double[] y) {}

    Saved forward() {
        double[] rstd1 = new double[T], n1 = new double[T * C];
        rmsnorm(x, w1, EPS, T, C, n1, rstd1);
        double[] q = matmul(n1, wq, bq, T, C, H * D), k = matmul(n1, wk, bk, T, C, KVH * D), v = matmul(n1, wv, bv, T, C, KVH * D);
        rotate(q, POS, INV_FREQ, H, 1);
        rotate(k, POS, INV_FREQ, KVH, 1);
        double[] a = new double[T * H * D], lse = new double[T * H];
        attention(q, k, v, dims, 0, a, lse);
        double[] o = matmul(a, wo, null, T, H * D, C), h1 = new double[T * C];
        for (int i = 0; i < h1.length; i++) h1[i] = x[i] + o[i];
        double[] rstd2 = new double[T], n2 = new double[T * C];
        rmsnorm(h1, w2, EPS, T, C, n2, rstd2);
        double[] g = matmul(n2, wg, null, T, C, F), u = matmul(n2, wu, null, T, C, F), m = new double[T * F];
        swiglu(g, u, m);
        double[] down = matmul(m, wd, null, T, F, C), y = new double[T * C];
        for (int i = 0; i < y.length; i++) y[i] = h1[i] + down[i];
        return new Saved(n1, rstd1, q, k, v, a, lse, h1, n2, rstd2, g, u, m, y);
    }

    /** Gradients of L = Σ r·y for the input and the weights the test checks. */
    record Grads(double[] x, double[] w1, double[] wq, double[] bk, double[] wv, double[] wo, double[] w2, double[] wg) {}

    Grads backward(Saved s) {
        double[] dy = r;
        // MLP: y = h1 + m·Wdᵀ
        double[] dm = new double[T * F], dwd = new double[wd.length];
        matmulBackward(s.m, wd, dy, T, F, C, dm, dwd, null);
        double[] dg = new double[T * F], du = new double[T * F];
        swigluBackward(s.g, s.u, dm, dg, du);
        double[] dn2 = new double[T * C], dn2u = new double[T * C], dwg = new double[wg.length], dwu = new double[wu.length];
        matmulBackward(s.n2, wg, dg, T, C, F, dn2, dwg, null);
        matmulBackward(s.n2, wu, du, T, C, F, dn2u, dwu, null);
        add(dn2, dn2u);
        double[] dh1 = new double[T * C], dw2 = new double[C];
        rmsnormBackward(s.h1, w2, s.rstd2, dn2, T, C, dh1, dw2);
        add(dh1, dy);                                            // residual
        // attention: h1 = x + a·Woᵀ
        double[] da = new double[T * H * D], dwo = new double[wo.length];
        matmulBackward(s.a, wo, dh1, T, H * D, C, da, dwo, null);
        double[] dq = new double[T * H * D], dk = new double[T * KVH * D], dv = new double[T * KVH * D];
        attentionBackward(s.q, s.k, s.v, dims, 0, s.a, s.lse, da, dq, dk, dv);
        rotate(dq, POS, INV_FREQ, H, -1);
        rotate(dk, POS, INV_FREQ, KVH, -1);
        double[] dn1 = new double[T * C], tmp = new double[T * C];
        double[] dwq = new double[wq.length], dbq = new double[bq.length], dwk = new double[wk.length];
        double[] dbk = new double[bk.length], dwv = new double[wv.length], dbv = new double[bv.length];
        matmulBackward(s.n1, wq, dq, T, C, H * D, dn1, dwq, dbq);
        matmulBackward(s.n1, wk, dk, T, C, KVH * D, tmp, dwk, dbk);
        add(dn1, tmp);
        matmulBackward(s.n1, wv, dv, T, C, KVH * D, tmp, dwv, dbv);
        add(dn1, tmp);
        double[] dx = new double[T * C], dw1 = new double[C];
        rmsnormBackward(x, w1, s.rstd1, dn1, T, C, dx, dw1);
        add(dx, dh1);                                            // residual
        return new Grads(dx, dw1, dwq, dbk, dwv, dwo, dw2, dwg);
    }

    @Test
    void blockGradientMatchesFiniteDifferences() {
        Grads g = backward(forward());
        DoubleSupplier loss = () -> dot(r, forward().y());
        double h = 1e-3, rtol = 1e-7, atol = 1e-8;
        assertGradient(gradient(x, loss, h), g.x(), rtol, atol, "block dx");
        assertGradient(gradient(w1, loss, h), g.w1(), rtol, atol, "block d(input norm weight)");
        assertGradient(gradient(wq, loss, h), g.wq(), rtol, atol, "block dWq");
        assertGradient(gradient(bk, loss, h), g.bk(), rtol, atol, "block dbk");
        assertGradient(gradient(wv, loss, h), g.wv(), rtol, atol, "block dWv");
        assertGradient(gradient(wo, loss, h), g.wo(), rtol, atol, "block dWo");
        assertGradient(gradient(w2, loss, h), g.w2(), rtol, atol, "block d(post-attention norm weight)");
        assertGradient(gradient(wg, loss, h), g.wg(), rtol, atol, "block dWgate");
    }

    private static double[] scaled(long seed, int n) {
        double[] a = randnDoubles(seed, n);
        for (int i = 0; i < n; i++) a[i] *= 0.3;   // keeps activations O(1) through the block
        return a;
    }

    private static void add(double[] acc, double[] b) {
        for (int i = 0; i < acc.length; i++) acc[i] += b[i];
    }
}
