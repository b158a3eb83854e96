package dev.laconic.training;

/**
 * The loss or the gradient norm of an optimizer step went NaN/Inf. Thrown by {@link OptimizerStep#update}
 * before the update, so the weights and the AdamW state are those of the step before, and no trainer
 * saves anything for this step. The message names the step and both values; a trainer may add where
 * it can resume from ({@link Checkpoints#diverged}) and what to try.
 */
public final class Diverged extends IllegalStateException {
    private final long step;
    private final boolean weightAtFault;

    /** {@code badWeight}: the non-finite weight found ({@link TrainableModel#nonFiniteWeight}), or null. */
    Diverged(long step, double loss, double gradNorm, String badWeight) {
        this(step, "step " + step + ": loss " + loss + ", gradient norm " + gradNorm + ": stopped before this step's update"
                + (badWeight == null ? "" : "; the weights were not finite before it (" + badWeight
                + "): a corrupt checkpoint, not the learning rate"), badWeight != null);
    }

    private Diverged(long step, String message, boolean weightAtFault) {
        super(message);
        this.step = step;
        this.weightAtFault = weightAtFault;
    }

    /** Whether a weight was NaN or infinite before the step (then no hyper-parameter is to blame). */
    public boolean weightAtFault() { return weightAtFault; }

    /** The optimizer step (1-based) that diverged. */
    public long step() { return step; }

    /** The same divergence with the trainer's context around the message (e.g. "rollout 3, ", ". Try a lower lr."). */
    public Diverged explained(String before, String after) {
        return new Diverged(step, before + getMessage() + after, weightAtFault);
    }
}
