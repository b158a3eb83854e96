package dev.laconic.training;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
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
 * m and v are F32 tensors shaped like their parameter (zero at k = 0, as PyTorch's lazy state).
 * The arithmetic is the backend's ({@link Ops#adamw}, {@link Ops#sumOfSquares}, {@link Ops#scale}), so
 * the backend that holds the parameters can hold this state too; each element's update is computed
 * in double and rounded once to F32, so the result does not depend on how the elements are split
 * between threads.
 */
public final class AdamW {
    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public Hyper {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
                throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + "," + beta2);
            if (!(eps >= 0)) throw new IllegalArgumentException("eps must be ≥ 0, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay must be ≥ 0, got " + weightDecay);
        }
    }

    private final List<Param> params;
    private final List<Tensor> grads;
    private final Hyper hyper;
    private final Ops ops;
    private final Tensor[] m, v;   // per parameter, its shape, F32
    private long step;

    public AdamW(List<Param> params, Hyper hyper, Ops ops) {
        this.params = List.copyOf(params);
        this.grads = this.params.stream().map(Param::grad).toList();
        this.hyper = hyper;
        this.ops = ops;
        this.m = new Tensor[params.size()];
        this.v = new Tensor[params.size()];
        for (int i = 0; i < m.length; i++) {
            Param p = this.params.get(i);
            if (p.value().dtype() != DType.F32 || p.grad().dtype() != DType.F32)
                throw new IllegalArgumentException(p.name() + ": AdamW needs F32 parameters and gradients");
            m[i] = Tensor.zeros(DType.F32, p.value().shape());
            v[i] = Tensor.zeros(DType.F32, p.value().shape());
        }
    }

    /** Optimizer steps taken so far (PyTorch's {@code state["step"]}). */
    public long step() { return step; }

    /** One update of every parameter from its {@code grad} with learning rate {@code lr}. */
    public void step(double lr) {
        step++;
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            ops.adamw(p.value(), p.grad(), m[i], v[i], lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.weightDecay, step);
        }
    }

    /** ‖g‖₂ over all parameters together (summed in double in an order fixed by the shapes). */
    public double gradNorm() {
        return Math.sqrt(ops.sumOfSquares(grads));
    }

    /**
     * torch.nn.utils.clip_grad_norm_(params, maxNorm): g ← g · min(1, maxNorm / (‖g‖₂ + 1e-6)).
     * Returns ‖g‖₂ before clipping (what the metrics report). maxNorm ≤ 0 means no clipping.
     */
    public double clipGradNorm(double maxNorm) {
        double norm = gradNorm();
        if (maxNorm <= 0 || !Double.isFinite(norm)) return norm;
        double coef = Math.min(1.0, maxNorm / (norm + 1e-6));
        if (coef == 1.0) return norm;
        for (Tensor g : grads) ops.scale(g, coef);
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
