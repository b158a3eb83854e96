package dev.laconic.compression.gym;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.compression.gym.GymFormat.Style;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Parallel;
import dev.laconic.training.AdamW;
import dev.laconic.training.Diverged;
import dev.laconic.training.OptimizerStep;
import dev.laconic.training.TokenObjective;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Sampler;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Trains the gym reasoner from scratch: a tiny Qwen2 on an endless stream of fresh gym problems
 * with System-2 (or System-1) solutions, then writes a Hugging Face directory.
 *
 * <pre>
 *   weights ← GymModel.init(seed)                                  (F32 master weights, all trained)
 *   every step: B fresh examples, one per row (an example is never split from its prompt, rows
 *               are never packed: each row starts with BOS and the R1 prompt, as at evaluation)
 *               loss = mean −log p over the response tokens and EOS of the batch
 *               one {@link OptimizerStep}: ‖g‖ clipped to C, stop on NaN/Inf, AdamW(β = 0.9, 0.95),
 *               lr: linear warm-up, cosine to lr·minLr
 *   at the end: MODEL_DIR/{config.json, generation_config.json, model.safetensors, tokenizer.json,
 *               tokenizer_config.json, gym_pretrain.json}; a dev evaluation (greedy, and sampled)
 * </pre>
 * The step count is fixed by {@code steps}, or, when only {@code minutes} is given, from the time
 * of the first {@code warmup} (≤ 20) steps; the run then prints the count it settled on, and the
 * same command with {@code --steps N} reproduces it exactly (same seed, same thread count: the
 * kernels' sums are ordered by chunk, not by thread). The training examples depend only on
 * {@code dataSeed}; the weights' initialisation only on {@code seed}.
 */
public final class GymPretrain {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_CALIBRATION_STEPS = 20;

    private GymPretrain() {}

    public record Options(Style style, long seed, long dataSeed, int steps, double minutes, GymModel.Size size, int batch,
                          double lr, double minLrFraction, int warmup, double weightDecay, double clip, double[] levelWeights,
                          int evalPerLevel, int evalMaxTokens, List<Float> evalTemperatures, int evalEvery, int logEvery,
                          DType saveDtype, Path init, long skipExamples) {
        public Options {
            if (steps < 0) throw new IllegalArgumentException("steps must be ≥ 0");
            if (steps == 0 && !(minutes > 0)) throw new IllegalArgumentException("steps = 0 needs minutes > 0");
            if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1");
            if (!(lr > 0)) throw new IllegalArgumentException("lr must be > 0");
            if (warmup < 0) throw new IllegalArgumentException("warmup must be ≥ 0");
            if (evalPerLevel < 0 || evalPerLevel > GymData.Sizes.DEFAULT.devPerLevel())
                throw new IllegalArgumentException("evalPerLevel must be in 0.." + GymData.Sizes.DEFAULT.devPerLevel());
            if (skipExamples < 0) throw new IllegalArgumentException("skipExamples must be ≥ 0");
            evalTemperatures = List.copyOf(evalTemperatures);
        }

        public static Options defaults(Style style) {
            return new Options(style, 0, 0, 0, 12, GymModel.Size.DEFAULT, 16, 3e-3, 0.1, 50, 0.0, 1.0,
                    GymData.uniformLevels(), 50, 900, List.of(0f, 0.7f), 0, 10, DType.F32, null, 0);
        }
    }

    /** What a run did. */
    public record Result(int steps, long trainTokens, double trainSeconds, double lastLoss, long parameters,
                         Map<String, List<GymEval.Row>> evals) {}

    /** Trains on {@code ops} (the caller's backend) and writes MODEL_DIR = {@code out}. */
    public static Result run(Options o, Ops ops, Path out, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        Files.createDirectories(out);
        // the files first: the tokenizer is then read back exactly as any consumer of MODEL_DIR reads it
        GymTokenizer.write(out, o.size().maxPositions());
        Tokenizer tok = Tokenizer.load(out);
        ModelConfig cfg = GymModel.config(o.size(), tok);
        GymModel.writeConfigs(out, cfg, o.saveDtype());
        TrainableModel model = initial(o, cfg, ops);
        OptimizerStep opt = new OptimizerStep(model, new AdamW.Hyper(0.9, 0.95, 1e-8, o.weightDecay()), o.clip());
        Set<Problem> held = GymData.heldOut(o.dataSeed());
        GymData.TrainStream stream = new GymData.TrainStream(o.dataSeed(), held, o.style(), o.levelWeights());
        for (long i = 0; i < o.skipExamples(); i++) stream.next();   // continue a stream where an earlier phase stopped
        List<Problem> dev = devSubset(o.dataSeed(), o.evalPerLevel());
        log.printf(Locale.ROOT, "gym pretrain: %s, %,d parameters (hidden %d, %d layers, %d heads, ffn %d, vocab %d), %d threads%n",
                o.style().label(), cfg.parameterCount(), cfg.hidden(), cfg.layers(), cfg.heads(), cfg.intermediate(), cfg.vocab(), Parallel.threads());

        int total = o.steps() > 0 ? o.steps() : Integer.MAX_VALUE;
        int calibration = o.steps() > 0 ? 0 : Math.max(1, Math.min(MAX_CALIBRATION_STEPS, o.warmup()));
        long tokens = 0;
        double loss = Double.NaN;
        long tTrain = System.nanoTime(), tCal = 0;
        int step = 0;
        while (step < total) {
            List<GymFormat.Row> batch = batch(stream, tok, o.batch(), cfg.maxPositions());
            opt.zeroGrad();
            opt.backward(batch.stream().map(GymFormat.Row::ids).toList(),
                    TokenObjective.crossEntropy(batch.stream().map(GymFormat.Row::weights).toArray(float[][]::new)));
            OptimizerStep.Update u;
            try {
                u = opt.update(lr(o, step, total));
            } catch (Diverged e) {
                throw e.explained("", ". Try a lower lr.");
            }
            step++;
            tokens += u.tokens();
            loss = u.loss();
            if (step == 2) tCal = System.nanoTime();       // the first steps include JIT compilation
            if (step == calibration) {
                double budget = o.minutes() * 60 - (System.nanoTime() - t0) / 1e9;
                double perStep = (System.nanoTime() - (calibration > 2 ? tCal : tTrain)) / 1e9 / Math.max(1, calibration - (calibration > 2 ? 2 : 0));
                total = Math.max(step, step + (int) (budget / perStep));
                log.printf(Locale.ROOT, "settled on --steps %d (%.2f s/step; the same command with --steps %d reproduces this run)%n",
                        total, perStep, total);
            }
            double elapsed = (System.nanoTime() - tTrain) / 1e9;
            if (step % o.logEvery() == 0 || step == total)
                log.printf(Locale.ROOT, "step %5d/%d  loss %.4f  lr %.2e  |g| %.3f  %,.0f tok/s  %.0fs%n",
                        step, total, loss, u.lr(), u.gradNorm(), tokens / elapsed, elapsed);
            if (o.evalEvery() > 0 && step % o.evalEvery() == 0 && step < total) {
                long te = System.nanoTime();
                // MODEL_DIR always holds the latest evaluated weights: an interrupted run leaves a usable model
                GymModel.writeHf(out, cfg, model.exportWeights(true), o.saveDtype());
                if (!dev.isEmpty()) {
                    List<GymEval.Row> rows = GymEval.evaluate(model.transformer(), tok, dev, GenerationConfig.greedy(o.evalMaxTokens()), 64);
                    log.println("  dev greedy at step " + step + ": " + summary(rows));
                }
                tTrain += System.nanoTime() - te;               // evaluation time is not training time
            }
        }
        double trainSeconds = (System.nanoTime() - tTrain) / 1e9;
        GymModel.writeHf(out, cfg, model.exportWeights(true), o.saveDtype());
        log.printf(Locale.ROOT, "trained %d steps, %,d tokens in %.0f s (%,.0f tok/s); final loss %.4f; wrote %s%n",
                step, tokens, trainSeconds, tokens / trainSeconds, loss, out);

        Map<String, List<GymEval.Row>> evals = new LinkedHashMap<>();
        if (!dev.isEmpty()) {
            for (float temp : o.evalTemperatures()) {
                GenerationConfig gc = new GenerationConfig(o.evalMaxTokens(), temp == 0 ? Sampler.greedy() : new Sampler(temp, 1, 0),
                        1, o.seed(), false, List.of(), -1);
                List<GymEval.Row> rows = GymEval.evaluate(model.transformer(), tok, dev, gc, 64);
                String name = temp == 0 ? "greedy" : "T=" + temp;
                evals.put(name, rows);
                log.println("dev (" + dev.size() + " problems), " + name + ":");
                log.println("  " + GymEval.HEADER);
                for (GymEval.Row r : rows) log.println("  " + r.format());
            }
        }
        Result result = new Result(step, tokens, trainSeconds, loss, cfg.parameterCount(), evals);
        writeSummary(out, o, result);
        return result;
    }

    /**
     * F32 master weights, all trained: GymModel.init(seed), or for a second phase a model this command
     * wrote (same size and tokenizer), which then trains with a fresh optimizer and schedule.
     */
    static TrainableModel initial(Options o, ModelConfig cfg, Ops ops) throws IOException {
        if (o.init() == null) return TrainableModel.full(new Transformer(cfg, GymModel.init(cfg, o.seed()), ops));
        try (Model start = Model.load(o.init(), DType.F32, ops)) {
            if (start.config().hidden() != cfg.hidden() || start.config().layers() != cfg.layers() || start.config().vocab() != cfg.vocab())
                throw new IllegalArgumentException(o.init() + ": not a gym model of the size asked for (hidden " + start.config().hidden()
                        + ", layers " + start.config().layers() + ", vocab " + start.config().vocab() + ")");
            return TrainableModel.full(start.transformer());   // copies the weights into F32 master tensors
        }
    }

    /** The next {@code batch} examples of the stream, one row each (never packed, never split from its prompt). */
    static List<GymFormat.Row> batch(GymData.TrainStream stream, Tokenizer tok, int batch, int maxPositions) {
        List<GymFormat.Row> rows = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            GymData.Example e = stream.next();
            GymFormat.Row row = GymFormat.row(tok, GymFormat.userMessage(e.problem()), e.response());
            if (row.ids().length > maxPositions)
                throw new IllegalStateException("an example of " + row.ids().length + " tokens exceeds the context " + maxPositions);
            rows.add(row);
        }
        return rows;
    }

    /** Linear warm-up to lr over {@code warmup} steps, then cosine from lr down to lr·minLrFraction at the last step. */
    static double lr(Options o, int step, int total) {
        if (step < o.warmup()) return o.lr() * (step + 1) / o.warmup();
        if (total == Integer.MAX_VALUE) return o.lr();
        double progress = Math.min(1, (double) (step - o.warmup()) / Math.max(1, total - o.warmup()));
        double cos = 0.5 * (1 + Math.cos(Math.PI * progress));
        return o.lr() * (o.minLrFraction() + (1 - o.minLrFraction()) * cos);
    }

    /** The first {@code perLevel} problems of each level of the default dev set. */
    static List<Problem> devSubset(long dataSeed, int perLevel) {
        List<Problem> dev = GymData.dev(dataSeed, GymData.Sizes.DEFAULT.devPerLevel(), GymData.Sizes.DEFAULT.testPerLevel());
        List<Problem> out = new ArrayList<>();
        int[] taken = new int[Problem.LEVELS.size()];
        for (Problem p : dev) if (taken[p.level() - 1]++ < perLevel) out.add(p);
        return out;
    }

    static String summary(List<GymEval.Row> rows) {
        StringBuilder s = new StringBuilder();
        for (GymEval.Row r : rows) s.append(String.format(Locale.ROOT, "%s %.2f (%.0f tok)  ", r.name(), r.accuracy(), r.meanTokens()));
        return s.toString().trim();
    }

    private static void writeSummary(Path out, Options o, Result r) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("style", o.style().label());
        m.put("seed", o.seed());
        m.put("data_seed", o.dataSeed());
        m.put("steps", r.steps());
        m.put("batch", o.batch());
        m.put("lr", o.lr());
        m.put("min_lr_fraction", o.minLrFraction());
        m.put("warmup_steps", o.warmup());
        m.put("weight_decay", o.weightDecay());
        m.put("clip", o.clip());
        m.put("hidden", o.size().hidden());
        m.put("layers", o.size().layers());
        m.put("heads", o.size().heads());
        m.put("kv_heads", o.size().kvHeads());
        m.put("intermediate", o.size().intermediate());
        m.put("max_positions", o.size().maxPositions());
        m.put("parameters", r.parameters());
        m.put("threads", Parallel.threads());
        m.put("train_tokens", r.trainTokens());
        m.put("train_seconds", r.trainSeconds());
        m.put("tokens_per_second", r.trainTokens() / r.trainSeconds());
        m.put("final_loss", r.lastLoss());
        if (o.init() != null) m.put("init", o.init().toString());
        if (o.skipExamples() > 0) m.put("skip_examples", o.skipExamples());
        Map<String, Object> ev = new LinkedHashMap<>();
        r.evals().forEach((k, rows) -> ev.put(k, rows.stream().map(GymEval.Row::json).toList()));
        m.put("dev_eval", ev);
        Files.write(out.resolve("gym_pretrain.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    }
}
