package dev.laconic.training;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * A run's checkpoints, in one format for every trainer (the {@link RunDir} layout, each published
 * atomically): what the {@link OptimizerStep} trains (all weights, or the LoRA adapter, under their own
 * names), its AdamW m, v and step count, and where the trainer's data stands (cursor, seed, epoch, and
 * the trainer's own state as "extra"). Resuming from the newest complete checkpoint restores all of
 * it, so a resumed run computes exactly what the uninterrupted one would (same thread count).
 */
public final class Checkpoints {
    private final RunDir run;
    private final OptimizerStep opt;
    private final long seed;
    private final int keep;
    private long last;           // newest checkpoint written or resumed from by this run; 0: none

    /**
     * @param seed the data seed a resumed checkpoint must have been written with
     * @param keep checkpoints kept (0: all)
     */
    public Checkpoints(RunDir run, OptimizerStep opt, long seed, int keep) {
        if (keep < 0) throw new IllegalArgumentException("keep must be ≥ 0, got " + keep);
        this.run = run;
        this.opt = opt;
        this.seed = seed;
        this.keep = keep;
    }

    /**
     * Writes checkpoint {@code step}, then deletes all but the newest {@code keep} and the {@code pinned} ones.
     *
     * @param extra the trainer's own state (null: none)
     */
    public void save(long step, long dataCursor, long dataEpoch, JsonNode extra, long... pinned) throws IOException {
        Map<String, Tensor> trainable = new LinkedHashMap<>();
        for (Param p : opt.model().parameters()) trainable.put(p.name(), p.value());
        run.saveCheckpoint(new RunDir.State(step, opt.done(), dataCursor, seed, dataEpoch), trainable, opt.adamw().state(), extra);
        run.prune(keep, LongStream.of(pinned).boxed().collect(Collectors.toSet()));
        last = step;
    }

    /**
     * Resuming: deletes temp directories of interrupted writes, loads the newest complete checkpoint's
     * trainable tensors and AdamW state, and drops metrics lines of later steps. Returns its state, or
     * null when there is none (nothing loaded, metrics emptied). A checkpoint of another data seed is
     * refused before anything is loaded.
     */
    public RunDir.State restore() throws IOException {
        run.cleanTemp();
        List<Long> steps = run.checkpointSteps();
        if (steps.isEmpty()) {
            run.truncateMetrics(0);
            return null;
        }
        Path dir = run.checkpoint(steps.getLast());
        RunDir.State s = run.readState(dir);
        if (s.dataSeed() != seed) throw new IllegalArgumentException(dir + ": data seed " + s.dataSeed() + " differs from seed " + seed);
        loadTrainable(opt.model(), dir);
        try (Checkpoint ck = Checkpoint.open(dir.resolve(RunDir.OPTIMIZER))) {
            opt.adamw().load(tensors(ck), s.optimizerStep());
        }
        run.truncateMetrics(s.step());
        last = s.step();
        return s;
    }

    /** The divergence, saying where the run can be resumed from. */
    public Diverged diverged(Diverged e, String advice) {
        return e.explained("", "; " + (last > 0 ? "the last checkpoint is step " + last + " (" + run.checkpoint(last) + ")"
                : "no checkpoint was written by this run") + "." + (e.weightAtFault() ? "" : " " + advice));
    }

    /** Copies a checkpoint's trainable tensors into {@code model} (resume, export, the TL;DR final choice). */
    public static void loadTrainable(TrainableModel model, Path checkpointDir) {
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
