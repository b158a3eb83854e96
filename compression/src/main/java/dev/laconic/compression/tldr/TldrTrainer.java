package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Evaluator;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.ProgressListener;
import dev.laconic.compression.eval.Summary;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.tensor.DType;
import dev.laconic.training.Batches;
import dev.laconic.training.Checkpoints;
import dev.laconic.training.Diverged;
import dev.laconic.training.Export;
import dev.laconic.training.OptimizerStep;
import dev.laconic.training.RunDir;
import dev.laconic.training.SftData.Example;
import dev.laconic.training.SftTrainer;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * TL;DR: supervised fine-tuning on a System-1/System-2 mixture whose weights follow the model's dev
 * length and accuracy (methods.md, Method A; arXiv 2506.02678).
 * <pre>
 *   w = [0.5, 0.5];  buffer ← MixtureSampler.build(w, B = K·batch·gradAccum, seed, step 0)
 *   each optimizer step: batch·gradAccum examples, each from the domain the buffer names next
 *                        (MixtureSampler); the SFT step of the training core (loss on response + EOS)
 *   every K steps (and at the last step):
 *       acc, tok ← Evaluator(current weights, dev set, n = 1, the run's sampling settings)
 *       b_short, b_long, w ← WeightUpdate (w stays at [0.5, 0.5] with --static)
 *       metrics line {step, w_short, w_long, dev_accuracy, dev_tokens, b_short, b_long}
 *       buffer ← MixtureSampler.build(w, B, seed, step);  checkpoint (weights, AdamW, w, buffer, cursors)
 *   at the end: Selection (fewest dev tokens among checkpoints with step ≥ K and acc &gt; (1 − tol)·acc_L)
 *               → RUN_DIR/final (Hugging Face directory, LoRA merged), summary.json, weights.png
 * </pre>
 * The evaluation decodes with the weights being trained (the transformer of the TrainableModel): no
 * export and reload. Its samples go to RUN_DIR/evals/step-NNNNNN/, so an evaluation cut short resumes
 * from what it had decoded. A resumed run restores the weights, AdamW state, w, the buffer and both
 * domain cursors from the newest checkpoint and computes what the uninterrupted run would have (same
 * thread count). Checkpoints are kept for the newest {@code keep} (0: all) and for the current choice of
 * {@link Selection}, which the final export needs.
 */
public final class TldrTrainer {
    private TldrTrainer() {}

    /**
     * @param training   the SFT options (schedule, AdamW, batch, clip, seed, keep, stopAfter, base, saveDtype);
     *                   saveEvery is not used: a checkpoint follows every evaluation
     * @param evalEvery  K: optimizer steps between evaluations (and weight updates)
     * @param dynamic    false: --static, w stays [0.5, 0.5] (the paper's ablation)
     * @param tolerance  final selection: accuracy must exceed (1 − tolerance)·acc_L
     * @param eval       dev evaluation settings (n = 1)
     */
    public record Options(SftTrainer.Options training, int evalEvery, double eta, double smoothing, boolean dynamic,
                          double tolerance, EvalSettings eval) {
        public Options {
            if (evalEvery < 1) throw new IllegalArgumentException("evalEvery must be ≥ 1, got " + evalEvery);
            if (!Double.isFinite(eta) || eta < 0) throw new IllegalArgumentException("eta must be a finite number ≥ 0, got " + eta);
            if (!(smoothing >= 0 && smoothing <= 1)) throw new IllegalArgumentException("smoothing must be in [0, 1], got " + smoothing);
            if (!(tolerance >= 0 && tolerance <= 1)) throw new IllegalArgumentException("tolerance must be in [0, 1], got " + tolerance);
            if (eval.samples() != 1) throw new IllegalArgumentException("TL;DR evaluates the dev set with n = 1 sample per problem, not " + eval.samples());
            if ((long) evalEvery * training.batch() * training.gradAccum() > Integer.MAX_VALUE)
                throw new IllegalArgumentException("evalEvery × batch × gradAccum is too large");
        }

        /** B: examples drawn between two evaluations. */
        public int bufferSize() { return evalEvery * examplesPerStep(); }

        public int examplesPerStep() { return training.batch() * training.gradAccum(); }
    }

    /** What the caller hears about (all optional). */
    public interface Listener {
        default void step(OptimizerStep.Update u, int system1, int system2) {}

        default void evaluating(long step) {}

        default ProgressListener evalProgress() { return ProgressListener.NONE; }

        default void evaluated(Evaluation e, Summary s) {}

        Listener NONE = new Listener() {};
    }

    /** @param choice the final selection (null unless completed) */
    public record Result(long startStep, long step, boolean completed, List<Evaluation> evaluations, Selection.Choice choice) {}

    /**
     * Trains {@code model} (its transformer is what gets evaluated). A fresh run starts at step 0 with
     * w = [0.5, 0.5]; with {@code resume}, from the newest checkpoint of {@code run}.
     */
    public static Result run(TrainableModel model, Tokenizer tok, List<Example> system1, List<Example> system2, List<Problem> dev,
                             References refs, Options o, RunDir run, boolean resume, Listener listener) throws IOException {
        return run(model, tok, system1, system2, dev, refs, o, run, resume, listener, GenerationBackend.IN_PROCESS);
    }

    /** As above, with the dev evaluations decoded by {@code backend} ({@code model} on the base in the training options). */
    public static Result run(TrainableModel model, Tokenizer tok, List<Example> system1, List<Example> system2, List<Problem> dev,
                             References refs, Options o, RunDir run, boolean resume, Listener listener, GenerationBackend backend)
            throws IOException {
        if (listener == null) listener = Listener.NONE;
        SftTrainer.Options t = o.training();
        OptimizerStep opt = new OptimizerStep(model, t.hyper(), t.clip());
        Checkpoints checkpoints = new Checkpoints(run, opt, t.seed(), t.keep());
        MixtureSampler mix = new MixtureSampler(system1, system2, t.shuffle(), t.seed(), o.bufferSize());
        RunDir.State resumed = resume ? checkpoints.restore() : null;
        if (resumed != null) mix.restore(run.readExtra(run.checkpoint(resumed.step())));
        long start = resumed == null ? 0 : resumed.step(), step = start;
        List<Evaluation> history = new ArrayList<>(Evaluation.read(run.metrics()));
        while (step < t.steps() && step - start < t.stopAfter()) {
            int[] perDomain = new int[MixtureSampler.DOMAINS];
            List<Example> batch = mix.next(o.examplesPerStep(), perDomain);
            opt.zeroGrad();
            for (Batches.MicroBatch mb : Batches.sft(batch, t.gradAccum(), t.microBatchTokens())) opt.backward(mb.ids(), mb.objective());
            OptimizerStep.Update u;
            try {
                u = opt.update(t.schedule().lr(step));
            } catch (Diverged e) {
                throw checkpoints.diverged(e, "Try a lower lr or clip.");
            }
            step++;
            ObjectNode line = u.json();
            line.put("system1", perDomain[0]);
            line.put("system2", perDomain[1]);
            run.appendMetrics(RunDir.TRAIN, line);
            listener.step(u, perDomain[0], perDomain[1]);

            if (step % o.evalEvery() == 0 || step == t.steps()) {
                Evaluation e = evaluate(Policy.trained(model, tok, t.base(), opt.done()), backend, dev, refs, mix.weights(), step, o, run, listener);
                history.add(e);
                run.appendMetrics(RunDir.EVAL, e.json());
                mix.rebuild(new double[]{e.wShort(), e.wLong()}, step);
                Selection.Choice c = Selection.choose(history, o.evalEvery(), refs.longRef().accuracy(), o.tolerance());
                save(checkpoints, mix, step, c.evaluation().step());
                TldrReport.write(run, refs, o, history, c, false);
            } else if (step - start == t.stopAfter()) {
                Selection.Choice c = Selection.choose(history, o.evalEvery(), refs.longRef().accuracy(), o.tolerance());
                save(checkpoints, mix, step, c == null ? -1 : c.evaluation().step());
            }
        }
        boolean completed = step == t.steps();
        Selection.Choice choice = null;
        if (completed) {
            choice = Selection.choose(history, o.evalEvery(), refs.longRef().accuracy(), o.tolerance());
            Checkpoints.loadTrainable(model, run.checkpoint(choice.evaluation().step()));
            Export.model(model, t.base(), run.finalDir(), t.saveDtype());
            TldrReport.write(run, refs, o, history, choice, true);
        }
        return new Result(start, step, completed, List.copyOf(history), choice);
    }

    /** The dev evaluation at {@code step}, and the weights it leads to. */
    static Evaluation evaluate(Policy policy, GenerationBackend backend, List<Problem> dev, References refs, double[] w, long step,
                               Options o, RunDir run, Listener listener) throws IOException {
        listener.evaluating(step);
        Path dir = run.dir().resolve("evals").resolve(String.format("step-%06d", step));
        Evaluator.Result r = Evaluator.evaluate(policy, backend, dev, o.eval(), dir, listener.evalProgress());
        double acc = r.summary().all().accuracy(), tokens = r.summary().all().meanTokens();
        double bShort = WeightUpdate.bShort(tokens, refs), bLong = WeightUpdate.bLong(acc, refs);
        double[] next = o.dynamic() ? WeightUpdate.update(w, bShort, bLong, o.eta(), o.smoothing()) : w.clone();
        Evaluation e = new Evaluation(step, next[0], next[1], acc, tokens, bShort, bLong, r.seconds());
        listener.evaluated(e, r.summary());
        return e;
    }

    /** Checkpoint with the mixture state (w, buffer, domain cursors); the newest {@code keep} and the chosen one stay. */
    static void save(Checkpoints checkpoints, MixtureSampler mix, long step, long chosen) throws IOException {
        checkpoints.save(step, mix.cursor(0) + mix.cursor(1), 0, mix.state(), chosen);
    }

    // ---- reference points -------------------------------------------------------------------------

    /**
     * The run's reference points: RUN_DIR/reference.json when it exists (a resumed run or a rerun never
     * measures again), else the given points, and for a missing one a dev evaluation with the run's
     * settings: of {@code shortModel} for (tok_S, acc_S), of {@code start} (the model before training)
     * for (tok_L, acc_L). The measurements' samples go to RUN_DIR/reference/{short,long}/ (an
     * interrupted measurement resumes); the result is cached in reference.json. The short model runs on
     * {@code start}'s ops, so both points are measured on the backend the caller chose.
     */
    public static References references(RunDir run, References.Point givenShort, Path shortModel, DType shortDtype,
                                        References.Point givenLong, Transformer start, Tokenizer tok, List<Problem> dev,
                                        EvalSettings s, Listener listener) throws IOException {
        return references(run, givenShort, shortModel, shortDtype, givenLong, Policy.of(start, tok), dev, s, listener,
                GenerationBackend.IN_PROCESS);
    }

    /** As above, both points measured through {@code backend}; {@code start}: the policy before training. */
    public static References references(RunDir run, References.Point givenShort, Path shortModel, DType shortDtype,
                                        References.Point givenLong, Policy start, List<Problem> dev, EvalSettings s,
                                        Listener listener, GenerationBackend backend) throws IOException {
        Tokenizer tok = start.tok();
        References cached = References.read(run.dir());
        if (cached != null) return cached;
        if (listener == null) listener = Listener.NONE;
        References.Point shortRef = givenShort, longRef = givenLong;
        if (shortRef == null) {
            if (shortModel == null) throw new IllegalArgumentException("give the short reference point: a given point (tokens, accuracy) or a short model to measure");
            if (!Files.isDirectory(shortModel)) throw new IllegalArgumentException(shortModel + ": no such model directory (the short model)");
            try (Model m = Model.load(shortModel, shortDtype, start.model().ops())) {
                Tokenizer st = m.tokenizer();
                if (st == null) throw new IllegalArgumentException(shortModel + ": no tokenizer.json");
                shortRef = measure(Policy.of(m), backend, dev, s, run.dir().resolve("reference").resolve("short"),
                        shortModel.toAbsolutePath().normalize().toString(), listener);
            }
        }
        if (longRef == null)
            longRef = measure(start, backend, dev, s, run.dir().resolve("reference").resolve("long"), "the starting model", listener);
        References r = new References(shortRef, longRef);
        r.write(run.dir());
        return r;
    }

    static References.Point measure(Policy policy, GenerationBackend backend, List<Problem> dev, EvalSettings s, Path dir, String source,
                                    Listener listener) throws IOException {
        Evaluator.Result r = Evaluator.evaluate(policy, backend, dev, s, dir, listener.evalProgress());
        return new References.Point(r.summary().all().meanTokens(), r.summary().all().accuracy(), source);
    }
}
