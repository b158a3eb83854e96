package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;

import java.util.List;

/**
 * The optimizer's element-wise passes over the parameters: Σ g² for the gradient norm, the clipping
 * scale, and the AdamW update. Each runs over fixed chunks of {@link #CHUNK} elements, so the norm's
 * partial sums are added in the same order at any thread count; the update of an element never
 * depends on another, so it has one result however the chunks are shared out.
 */
final class Optimizer {
    /** Elements per parallel chunk: fixed, so the chunked reduction sums in one order at any thread count. */
    static final int CHUNK = 1 << 14;

    private Optimizer() {}

    /** Σ x², tensor by tensor, each as partial sums of CHUNK elements added in order. */
    static double sumOfSquares(List<Tensor> xs) {
        double total = 0;
        for (Tensor x : xs) {
            FloatView xv = FloatView.read(x);
            float[] a = xv.a();
            int o = xv.off(), n = (int) x.numel();
            int chunks = (n + CHUNK - 1) / CHUNK;
            double[] partial = new double[chunks];
            Parallel.forChunks(chunks, 1, (from, to) -> {
                for (int c = from; c < to; c++) {
                    double s = 0;
                    for (int j = c * CHUNK, end = Math.min(n, j + CHUNK); j < end; j++) s += (double) a[o + j] * a[o + j];
                    partial[c] = s;
                }
            });
            for (double s : partial) total += s;
        }
        return total;
    }

    /** x ← x·factor. */
    static void scale(Tensor x, double factor) {
        FloatView.requireF32(x, x.numel(), "x");
        FloatView xv = FloatView.update(x);
        float[] a = xv.a();
        int o = xv.off();
        Parallel.forChunks((int) x.numel(), CHUNK, (from, to) -> {
            for (int j = from; j < to; j++) a[o + j] = (float) (a[o + j] * factor);
        });
        xv.commit();
    }

    /** The AdamW update of {@link dev.laconic.tensor.Ops#adamw}, element by element in double. */
    static void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double b1, double b2, double eps,
                      double weightDecay, long step) {
        long n = param.numel();
        FloatView.requireF32(param, n, "param");
        FloatView.requireF32(grad, n, "grad");
        FloatView.requireF32(m, n, "m");
        FloatView.requireF32(v, n, "v");
        if (step < 1) throw new IllegalArgumentException("AdamW step " + step + " < 1");
        double decay = 1 - lr * weightDecay;
        double stepSize = lr / (1 - Math.pow(b1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        FloatView pv = FloatView.update(param), gv = FloatView.read(grad), mv = FloatView.update(m), vv = FloatView.update(v);
        float[] pa = pv.a(), ga = gv.a(), ma = mv.a(), va = vv.a();
        int po = pv.off(), go = gv.off(), mo = mv.off(), vo = vv.off();
        Parallel.forChunks((int) n, CHUNK, (from, to) -> {
            for (int j = from; j < to; j++) {
                double g = ga[go + j];
                // m, v are used as stored (rounded to F32), as PyTorch uses its F32 state
                float mj = ma[mo + j] = (float) (b1 * ma[mo + j] + (1 - b1) * g);
                float vj = va[vo + j] = (float) (b2 * va[vo + j] + (1 - b2) * g * g);
                double denom = Math.sqrt(vj) / bc2Sqrt + eps;
                pa[po + j] = (float) (pa[po + j] * decay - stepSize * mj / denom);
            }
        });
        pv.commit();
        mv.commit();
        vv.commit();
    }
}
