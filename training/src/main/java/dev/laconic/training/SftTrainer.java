package dev.laconic.training;

import dev.laconic.tensor.DType;
import dev.laconic.training.SftData.Example;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Supervised fine-tuning: the mean −log p of the response tokens, AdamW, checkpoints, resume.
 * Each optimizer step:
 * <pre>
 *   examples ← next batch·gradAccum of the data stream       (file order or seeded shuffle, cycling)
 *   g ← 0;  loss ← Σ_micro-batches backward(...)              (each term already divided by the step's
 *                                                              total loss positions: loss = mean −log p)
 *   update: ‖g‖ clipped to C, stop on NaN/Inf, AdamW with lr = schedule(step)   ({@link OptimizerStep})
 *   metrics line;  checkpoint every saveEvery steps and at the end
 * </pre>
 * At the last step RUN_DIR/final receives the model (HF directory) or the adapter (PEFT directory).
 * A resumed run restores weights, AdamW m/v/step and the data cursor from the newest complete
 * checkpoint ({@link Checkpoints}), so it computes exactly the losses the uninterrupted run would
 * have (same thread count).
 */
public final class SftTrainer {
    /**
     * @param saveEvery     checkpoint every this many steps (0: only at the end or at stopAfter)
     * @param keep          checkpoints kept (0: all)
     * @param stopAfter     steps to run in this call before checkpointing and returning (resume later)
     * @param base          the base model directory (its config/tokenizer files go into the export)
     * @param saveDtype     dtype of the final HF model directory (BF16 or F32)
     */
    public record Options(Schedule schedule, AdamW.Hyper hyper, double clip, int batch, int gradAccum, int microBatchTokens,
                          boolean shuffle, long seed, int saveEvery, int keep, long stopAfter, Path base, DType saveDtype) {
        public Options {
            if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1, got " + batch);
            if (gradAccum < 1) throw new IllegalArgumentException("gradAccum must be ≥ 1, got " + gradAccum);
            if (microBatchTokens < 1) throw new IllegalArgumentException("microBatchTokens must be ≥ 1, got " + microBatchTokens);
            if (saveEvery < 0 || keep < 0) throw new IllegalArgumentException("saveEvery and keep must be ≥ 0");
            if (stopAfter < 1) throw new IllegalArgumentException("stopAfter must be ≥ 1, got " + stopAfter);
            if (!(clip >= 0)) throw new IllegalArgumentException("clip must be ≥ 0 (0: no clipping), got " + clip);
        }

        public int steps() { return schedule.totalSteps(); }
    }

    /** @param completed all steps done and RUN_DIR/final written; {@code step} = steps done so far */
    public record Result(long startStep, long step, boolean completed, OptimizerStep.Update last) {}

    private SftTrainer() {}

    public static Result run(TrainableModel model, List<Example> examples, Options o, RunDir run, boolean resume,
                             Consumer<OptimizerStep.Update> progress) throws IOException {
        OptimizerStep opt = new OptimizerStep(model, o.hyper(), o.clip());
        Checkpoints checkpoints = new Checkpoints(run, opt, o.seed(), o.keep());
        Batches data = new Batches(examples, o.shuffle(), o.seed());
        RunDir.State resumed = resume ? checkpoints.restore() : null;
        if (resumed != null) data.seek(resumed.dataCursor());
        long start = resumed == null ? 0 : resumed.step(), step = start;
        OptimizerStep.Update u = null;
        while (step < o.steps() && step - start < o.stopAfter()) {
            List<Example> batch = data.next(o.batch() * o.gradAccum());
            opt.zeroGrad();
            for (Batches.MicroBatch mb : Batches.sft(batch, o.gradAccum(), o.microBatchTokens())) opt.backward(mb.ids(), mb.objective());
            try {
                u = opt.update(o.schedule().lr(step));
            } catch (Diverged e) {
                throw checkpoints.diverged(e, "Try a lower lr or clip.");
            }
            step++;
            run.appendMetrics(RunDir.TRAIN, u.json());
            progress.accept(u);
            boolean last = step == o.steps() || step - start == o.stopAfter();
            if ((o.saveEvery() > 0 && step % o.saveEvery() == 0) || last) checkpoints.save(step, data.cursor(), data.epoch(), null);
        }
        boolean completed = step == o.steps();
        if (completed) Export.result(model, o.base(), run.finalDir(), o.saveDtype());
        return new Result(start, step, completed, u);
    }
}
