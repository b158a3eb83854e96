package dev.laconic.training;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with PyTorch's semantics ({@code torch.optim.AdamW}, one parameter group, no amsgrad), and
 * global gradient-norm clipping as {@code torch.nn.utils.clip_grad_norm_}.
 *
 * <pre>
 *   k ← k + 1                                               (step count, shared by all parameters)
 *   p ← p · (1 − lr·wd)                                     decoupled weight decay (every parameter)
 *   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1 − β1^k)) · m / (sqrt(v) / sqrt(1 − β2^k) + eps)
 * </pre>
 * m and v are F32 tensors shaped like their parameter (zero at k = 0, as PyTorch's lazy state);
 * each element's update is computed in double and rounded once to F32, so the result does not
 * depend on how the elements are split between threads.
 */
public final class AdamW {
    /** Elements per parallel chunk: fixed, so chunked reductions sum in the same order at any thread count. */
    private static final int CHUNK = 1 << 14;

    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public Hyper {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
                throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + "," + beta2);
            if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay must be ≥ 0, got " + weightDecay);
        }
    }

    private final List<Param> params;
    private final Hyper hyper;
    private final Tensor[] m, v;   // per parameter, its shape, F32
    private long step;

    public AdamW(List<Param> params, Hyper hyper) {
        this.params = List.copyOf(params);
        this.hyper = hyper;
        this.m = new Tensor[params.size()];
        this.v = new Tensor[params.size()];
        for (int i = 0; i < m.length; i++) {
            Param p = this.params.get(i);
            if (p.value().floatArray() == null || p.grad().floatArray() == null)
                throw new IllegalArgumentException(p.name() + ": AdamW needs F32 heap tensors");
            m[i] = Tensor.zeros(DType.F32, p.value().shape());
            v[i] = Tensor.zeros(DType.F32, p.value().shape());
        }
    }

    public List<Param> params() { return params; }
    public Hyper hyper() { return hyper; }
    /** Optimizer steps taken so far (PyTorch's {@code state["step"]}). */
    public long step() { return step; }

    /** One update of every parameter from its {@code grad} with learning rate {@code lr}. */
    public void step(double lr) {
        step++;
        double b1 = hyper.beta1, b2 = hyper.beta2, eps = hyper.eps;
        double decay = 1 - lr * hyper.weightDecay;
        double stepSize = lr / (1 - Math.pow(b1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float[] pa = p.value().floatArray(), ga = p.grad().floatArray(), ma = m[i].floatArray(), va = v[i].floatArray();
            int po = p.value().floatOffset(), go = p.grad().floatOffset();
            Parallel.forChunks((int) p.value().numel(), CHUNK, (from, to) -> {
                for (int j = from; j < to; j++) {
                    double g = ga[go + j];
                    // m, v are used as stored (rounded to F32), as PyTorch uses its F32 state
                    float mj = ma[j] = (float) (b1 * ma[j] + (1 - b1) * g);
                    float vj = va[j] = (float) (b2 * va[j] + (1 - b2) * g * g);
                    double denom = Math.sqrt(vj) / bc2Sqrt + eps;
                    pa[po + j] = (float) (pa[po + j] * decay - stepSize * mj / denom);
                }
            });
        }
    }

    /** Sets every gradient to zero (before the first micro-batch of a step). */
    public static void zeroGrad(List<Param> params) {
        for (Param p : params) p.grad().fill(0);
    }

    /** ‖g‖₂ over all parameters together, summed in double in a fixed order. */
    public static double gradNorm(List<Param> params) {
        double total = 0;
        for (Param p : params) {
            float[] ga = p.grad().floatArray();
            int go = p.grad().floatOffset(), n = (int) p.grad().numel();
            int chunks = (n + CHUNK - 1) / CHUNK;
            double[] partial = new double[chunks];
            Parallel.forChunks(chunks, 1, (from, to) -> {
                for (int c = from; c < to; c++) {
                    double s = 0;
                    for (int j = c * CHUNK, end = Math.min(n, j + CHUNK); j < end; j++) s += (double) ga[go + j] * ga[go + j];
                    partial[c] = s;
                }
            });
            for (double s : partial) total += s;
        }
        return Math.sqrt(total);
    }

    /**
     * torch.nn.utils.clip_grad_norm_(params, maxNorm): g ← g · min(1, maxNorm / (‖g‖₂ + 1e-6)).
     * Returns ‖g‖₂ before clipping (what the metrics report). maxNorm ≤ 0 means no clipping.
     */
    public static double clipGradNorm(List<Param> params, double maxNorm) {
        double norm = gradNorm(params);
        if (maxNorm <= 0 || !Double.isFinite(norm)) return norm;
        double coef = Math.min(1.0, maxNorm / (norm + 1e-6));
        if (coef == 1.0) return norm;
        for (Param p : params) {
            float[] ga = p.grad().floatArray();
            int go = p.grad().floatOffset();
            Parallel.forChunks((int) p.grad().numel(), CHUNK, (from, to) -> {
                for (int j = from; j < to; j++) ga[go + j] = (float) (ga[go + j] * coef);
            });
        }
        return norm;
    }

    // ---- state for checkpoints ------------------------------------------------------------------

    /** m and v of every parameter, as {@code exp_avg.<name>} / {@code exp_avg_sq.<name>} (PyTorch's state keys). */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            out.put("exp_avg." + params.get(i).name(), m[i]);
            out.put("exp_avg_sq." + params.get(i).name(), v[i]);
        }
        return out;
    }

    /** Restores m, v (copied from {@code state}, e.g. a mapped checkpoint file) and the step count. */
    public void load(Map<String, Tensor> state, long step) {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).name();
            Tensor sm = state.get("exp_avg." + name), sv = state.get("exp_avg_sq." + name);
            if (sm == null || sv == null) {
                missing.add(name);
                continue;
            }
            m[i].copyFrom(checked(sm, m[i], name));
            v[i].copyFrom(checked(sv, v[i], name));
        }
        if (!missing.isEmpty()) throw new IllegalArgumentException("optimizer state lacks " + missing.size() + " parameter(s), e.g. " + missing.getFirst());
        if (step < 0) throw new IllegalArgumentException("optimizer step " + step + " < 0");
        this.step = step;
    }

    private static Tensor checked(Tensor src, Tensor dst, String name) {
        if (src.dtype() != DType.F32 || !java.util.Arrays.equals(src.shape(), dst.shape()))
            throw new IllegalArgumentException("optimizer state of " + name + " is " + src + ", expected F32" + java.util.Arrays.toString(dst.shape()));
        return src;
    }
}
