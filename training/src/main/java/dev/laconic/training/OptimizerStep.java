package dev.laconic.training;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * One optimizer step, the same for every trainer (SFT, TL;DR, RL, gym pretraining) and the train
 * bench. Like llm.c's step it is three calls:
 * <pre>
 *   zeroGrad()                  g ← 0
 *   backward(seqs, objective)   loss += objective(log p(seqs));  g += ∂objective/∂θ     once per micro-batch
 *   update(lr)                  ‖g‖ ← clip_grad_norm_(g, C)          (the norm before clipping is the metric)
 *                               stop on a NaN/Inf loss or ‖g‖: {@link Diverged}, nothing updated
 *                               AdamW with lr (the trainer's schedule at this step)
 * </pre>
 * The forward runs inside {@link #backward}: {@link TrainableModel#forwardBackward} is forward, objective
 * and backward in one pass, so the micro-batch's activations are freed before the next one runs.
 * Everything runs on the model's backend ({@link dev.laconic.tensor.Ops}), the AdamW state included.
 */
public final class OptimizerStep {
    /** What step {@code step} (1-based) did; {@code tokens}: ids run through the model. */
    public record Update(long step, double loss, double lr, double gradNorm, long tokens) {
        /** The fields of the metrics.jsonl row of SFT and TL;DR ({@link RunDir#appendMetrics} adds split and time). */
        public ObjectNode json() {
            ObjectNode m = RunDir.JSON.createObjectNode();
            m.put("step", step);
            m.put("loss", loss);
            m.put("lr", lr);
            m.put("grad_norm", gradNorm);
            m.put("tokens", tokens);
            return m;
        }
    }

    private final TrainableModel model;
    private final AdamW adamw;
    private final double clip;
    private double loss;        // Σ of the objectives since zeroGrad
    private long tokens;

    /** @param clip C, the gradient-norm bound (0: no clipping) */
    public OptimizerStep(TrainableModel model, AdamW.Hyper hyper, double clip) {
        if (!(clip >= 0)) throw new IllegalArgumentException("clip must be ≥ 0 (0: no clipping), got " + clip);
        this.model = model;
        this.adamw = new AdamW(model.parameters(), hyper, model.transformer().ops());
        this.clip = clip;
    }

    public TrainableModel model() { return model; }

    /** The optimizer, whose m, v and step count a checkpoint stores. */
    public AdamW adamw() { return adamw; }

    /** Updates done so far (the AdamW step count). */
    public long done() { return adamw.step(); }

    public void zeroGrad() {
        model.zeroGrad();
        loss = 0;
        tokens = 0;
    }

    /** Forward and backward of one micro-batch; gradients add up. Returns this micro-batch's loss. */
    public double backward(List<int[]> seqs, TokenObjective objective) {
        double l = model.forwardBackward(seqs, objective);
        loss += l;
        for (int[] s : seqs) tokens += s.length;
        return l;
    }

    /** Clip, check, AdamW: the update of step {@link #done()} + 1 with learning rate {@code lr}. */
    public Update update(double lr) {
        long step = adamw.step() + 1;
        double gradNorm = adamw.clipGradNorm(clip);
        if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) throw new Diverged(step, loss, gradNorm, model.nonFiniteWeight());
        adamw.step(lr);
        return new Update(step, loss, lr, gradNorm, tokens);
    }
}
