package dev.laconic.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.training.SftData.Example;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Supervised fine-tuning: the mean −log p of the response tokens, AdamW, checkpoints, resume.
 * Each optimizer step:
 * <pre>
 *   examples ← next batch·gradAccum of the data stream       (file order or seeded shuffle, cycling)
 *   grads ← 0;  loss ← Σ_micro-batches forwardBackward(...)   (each term already divided by the step's
 *                                                              total loss positions: loss = mean −log p)
 *   ‖g‖ ← clip(grads, C)                                       (before clipping is what metrics show)
 *   stop if loss or ‖g‖ is NaN/Inf                             (no update, no checkpoint)
 *   AdamW step with lr = schedule(step);  metrics line;  checkpoint every saveEvery steps and at the end
 * </pre>
 * At the last step RUN_DIR/final receives the model (HF directory) or the adapter (PEFT directory).
 * A resumed run restores weights, AdamW m/v/step and the data cursor from the newest complete
 * checkpoint, so it computes exactly the losses the uninterrupted run would have (same thread count).
 */
public final class SftTrainer {
    private static final ObjectMapper LINE = new ObjectMapper();

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

    /** One line of metrics.jsonl. {@code tokens}: ids run through the model in this step. */
    public record StepMetrics(long step, double loss, double lr, double gradNorm, long tokens) {
        public String json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", step);
            m.put("loss", loss);
            m.put("lr", lr);
            m.put("grad_norm", gradNorm);
            m.put("tokens", tokens);
            try {
                return LINE.writeValueAsString(m);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** @param completed all steps done and RUN_DIR/final written; {@code step} = steps done so far */
    public record Result(long startStep, long step, boolean completed, StepMetrics last) {}

    /** The loss went NaN/Inf: nothing was updated or saved for that step. */
    public static final class Diverged extends IllegalStateException {
        public Diverged(String message) { super(message); }
    }

    private SftTrainer() {}

    public static Result run(TrainableModel model, List<Example> examples, Options o, RunDir run, boolean resume,
                             Consumer<StepMetrics> progress) throws IOException {
        AdamW opt = new AdamW(model.parameters(), o.hyper());
        Batches data = new Batches(examples, o.shuffle(), o.seed());
        long start = resume ? restore(model, opt, data, o, run) : 0;
        long lastSaved = start;
        StepMetrics m = null;
        long step = start;
        while (step < o.steps() && step - start < o.stopAfter()) {
            List<Example> batch = data.next(o.batch() * o.gradAccum());
            try {
                m = step(model, opt, batch, o, step);
            } catch (Diverged e) {
                throw new Diverged(e.getMessage() + "; " + (lastSaved > 0
                        ? "the last checkpoint is step " + lastSaved + " (" + run.checkpoint(lastSaved) + ")"
                        : "no checkpoint was written by this run") + ". Try a lower lr or clip.");
            }
            step++;
            run.appendMetrics(m.json());
            progress.accept(m);
            boolean last = step == o.steps() || step - start == o.stopAfter();
            if ((o.saveEvery() > 0 && step % o.saveEvery() == 0) || last) {
                save(model, opt, data, o, run, step);
                lastSaved = step;
            }
        }
        boolean completed = step == o.steps();
        if (completed) writeFinal(model, o.base(), run.finalDir(), o.saveDtype());
        return new Result(start, step, completed, m);
    }

    /**
     * One optimizer step on {@code batch} (batch·gradAccum examples), the step after {@code done} completed ones:
     * zero the gradients, forward/backward every micro-batch, clip, AdamW with lr = schedule(done).
     * Returns the metrics line of step done+1. A NaN/Inf loss or gradient norm throws {@link Diverged}
     * before the update (the weights and optimizer state are untouched). Also the step of other
     * trainers that choose their own examples (the TL;DR mixture).
     */
    public static StepMetrics step(TrainableModel model, AdamW opt, List<Example> batch, Options o, long done) {
        double positions = 0;
        long tokens = 0;
        for (Example e : batch) {
            positions += e.lossPositions();
            tokens += e.ids().length;
        }
        model.zeroGrad();
        double loss = 0;
        for (List<Example> micro : Batches.microBatches(batch, o.gradAccum(), o.microBatchTokens()))
            loss += model.forwardBackward(micro.stream().map(Example::ids).toList(), meanLoss(micro, positions));
        double gradNorm = AdamW.clipGradNorm(opt.params(), o.clip());
        if (!Double.isFinite(loss) || !Double.isFinite(gradNorm))
            throw new Diverged("step " + (done + 1) + ": loss " + loss + ", gradient norm " + gradNorm + ": stopped before this step's update");
        double lr = o.schedule().lr(done);
        opt.step(lr);
        return new StepMetrics(done + 1, loss, lr, gradNorm, tokens);
    }

    /** Loss term of one micro-batch: Σ_b Σ_t −w[b][t]·logp[b][t] / positions, positions = Σ w over the whole step. */
    static TokenObjective meanLoss(List<Example> micro, double positions) {
        return (b, logp, dlogp) -> {
            float[] w = micro.get(b).weights();
            if (w.length != logp.length) throw new IllegalStateException("sequence " + b + ": " + w.length + " weights for " + logp.length + " log-probs");
            double loss = 0;
            for (int t = 0; t < logp.length; t++) {
                loss -= w[t] * (double) logp[t];
                dlogp[t] = (float) (-w[t] / positions);
            }
            return loss / positions;
        };
    }

    /** The result of a run: the model as an HF directory (full fine-tuning), else the adapter as a PEFT directory. */
    public static void writeFinal(TrainableModel model, Path base, Path out, DType saveDtype) throws IOException {
        if (model.loraConfig() == null) Export.model(model, base, out, saveDtype);
        else Export.adapter(model, base.toAbsolutePath().normalize().toString(), out);
    }

    static void save(TrainableModel model, AdamW opt, Batches data, Options o, RunDir run, long step) throws IOException {
        run.saveCheckpoint(new RunDir.State(step, opt.step(), data.cursor(), o.seed(), data.epoch()), values(model), opt.state(), o.keep());
    }

    /** The trainable tensors by name, as a checkpoint stores them (live tensors: write them before the next step). */
    public static Map<String, Tensor> values(TrainableModel model) {
        Map<String, Tensor> values = new LinkedHashMap<>();
        for (Param p : model.parameters()) values.put(p.name(), p.value());
        return values;
    }

    /** Loads the newest complete checkpoint (if any) into model, optimizer and data stream; returns its step. */
    static long restore(TrainableModel model, AdamW opt, Batches data, Options o, RunDir run) throws IOException {
        RunDir.State s = restoreLatest(model, opt, run);
        if (s == null) return 0;
        if (s.dataSeed() != o.seed())
            throw new IllegalArgumentException(run.checkpoint(s.step()) + ": data seed " + s.dataSeed() + " differs from seed " + o.seed());
        data.seek(s.dataCursor());
        return s.step();
    }

    /**
     * Resuming, the part every trainer shares: deletes temp directories of interrupted writes, loads the newest
     * complete checkpoint's weights and AdamW state (m, v, step count), and drops metrics lines of later steps.
     * Returns that checkpoint's state, or null when there is none (nothing loaded, metrics emptied).
     */
    public static RunDir.State restoreLatest(TrainableModel model, AdamW opt, RunDir run) throws IOException {
        run.cleanTemp();
        List<Long> steps = run.checkpointSteps();
        if (steps.isEmpty()) {
            run.truncateMetrics(0);
            return null;
        }
        Path dir = run.checkpoint(steps.getLast());
        loadCheckpoint(model, dir);
        RunDir.State s = run.readState(dir);
        try (Checkpoint ck = Checkpoint.open(dir.resolve(RunDir.OPTIMIZER))) {
            opt.load(tensors(ck), s.optimizerStep());
        }
        run.truncateMetrics(s.step());
        return s;
    }

    /** Copies a checkpoint's trainable tensors into the model. */
    public static void loadCheckpoint(TrainableModel model, Path checkpointDir) {
        try (Checkpoint ck = Checkpoint.open(checkpointDir.resolve(RunDir.PARAMS))) {
            model.loadParameters(tensors(ck));
        }
    }

    private static Map<String, Tensor> tensors(Checkpoint ck) {
        Map<String, Tensor> out = new HashMap<>();
        for (String name : ck.names()) out.put(name, ck.tensor(name));
        return out;
    }
}
