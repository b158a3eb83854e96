package dev.laconic.bench.train;

import dev.laconic.bench.decode.ProcessMemory;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.training.AdamW;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.OptimizerStep;
import dev.laconic.training.TokenObjective;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.RandomWeights;
import dev.laconic.transformer.Transformer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Our side of a row: random weights with the config's shapes, then warm-up and timed training steps,
 * each the trainers' {@link OptimizerStep}:
 * <pre>
 *   g ← 0;  loss ← backward(batch of random ids, mean −log p of every next token);  update: ‖g‖ (no clipping), AdamW
 * </pre>
 * (the ids are drawn before the clock starts, as the PyTorch peer draws its own). The peak resident
 * memory is VmHWM from just before the weights are created: weights, trainable state, optimizer state,
 * activations and whatever Java heap the run has committed.
 */
final class OurTraining {

    /** @param warmupSeq the warm-up steps' sequence length (JIT compilation; shorter than seq saves minutes at 1.5B) */
    record Settings(int seq, int batch, int warmupSteps, int warmupSeq, int steps, long seed, double lr) {
        Settings {
            if (seq < 2 || warmupSeq < 2) throw new IllegalArgumentException("sequences need at least 2 tokens, got " + seq + ", " + warmupSeq);
            if (batch < 1 || steps < 1 || warmupSteps < 0)
                throw new IllegalArgumentException("need batch >= 1, steps >= 1, warm-up steps >= 0; got " + batch + ", " + steps + ", " + warmupSteps);
        }
    }

    /** tokensPerSecond = tokens of all timed steps ÷ their total time. */
    record Result(double tokensPerSecond, double[] stepSeconds, long tokensPerStep, double loss, long peakRssBytes,
                  boolean peakSinceWeights, long trainableParameters) {}

    private OurTraining() {}

    /** Full fine-tuning: every weight an F32 master copy with its gradient, AdamW on all of them. */
    static Result full(ModelConfig cfg, Settings s, Ops ops, PrintStream log) {
        return run(cfg, null, DType.F32, s, ops, log);
    }

    /** LoRA on a frozen base held as {@code base} (BF16 or F32). */
    static Result lora(ModelConfig cfg, LoraConfig lora, DType base, Settings s, Ops ops, PrintStream log) {
        return run(cfg, lora, base, s, ops, log);
    }

    private static Result run(ModelConfig cfg, LoraConfig lora, DType dtype, Settings s, Ops ops, PrintStream log) {
        String what = lora == null ? "full F32" : "LoRA r" + lora.rank() + " on " + dtype.name();
        long need = liveBytes(cfg, lora, dtype, s.seq() * s.batch()), max = Runtime.getRuntime().maxMemory();
        if (max < 1.25 * need)
            log.printf(Locale.ROOT, "bench train: warning: ours %s keeps ~%.1f GB live and the Java heap may grow to %.1f GB: "
                    + "expect long GC pauses or OutOfMemoryError; give it more, e.g. LACONIC_JAVA_OPTS=-Xmx%dg%n",
                    what, need / 1e9, max / 1e9, (long) Math.ceil(1.5 * need / 1e9));
        System.gc();
        boolean reset = ProcessMemory.resetPeak();
        long t0 = System.nanoTime();
        Transformer base = new Transformer(cfg, RandomWeights.create(cfg, s.seed(), dtype), ops);
        TrainableModel model = lora == null ? TrainableModel.full(base) : TrainableModel.lora(base, lora, s.seed());
        base = null;   // full fine-tuning trains a copy: the base's tensors may go
        OptimizerStep opt = new OptimizerStep(model, new AdamW.Hyper(0.9, 0.999, 1e-8, 0.0), 0);
        long trainable = 0;
        for (var p : model.parameters()) trainable += p.value().numel();
        log.printf(Locale.ROOT, "bench train: ours %s: %.1f M trainable parameters, built in %.1f s; RSS %.2f GB%n",
                what, trainable / 1e6, (System.nanoTime() - t0) * 1e-9, ProcessMemory.rssBytes() / 1e9);

        SplittableRandom rng = new SplittableRandom(s.seed() ^ 0x5DEECE66DL);
        for (int i = 0; i < s.warmupSteps(); i++) {
            double sec = step(opt, ids(rng, s.batch(), s.warmupSeq(), cfg.vocab()), s.lr())[0];
            log.printf(Locale.ROOT, "bench train: ours %s warm-up step %d (T=%d): %.2f s%n", what, i + 1, s.warmupSeq(), sec);
        }
        double[] seconds = new double[s.steps()];
        double loss = Double.NaN;
        for (int i = 0; i < s.steps(); i++) {
            double[] r = step(opt, ids(rng, s.batch(), s.seq(), cfg.vocab()), s.lr());
            seconds[i] = r[0];
            loss = r[1];
            log.printf(Locale.ROOT, "bench train: ours %s step %d: %.2f s (%.1f tokens/s, loss %.3f)%n",
                    what, i + 1, r[0], (double) s.seq() * s.batch() / r[0], loss);
        }
        long tokens = (long) s.seq() * s.batch();
        double total = Arrays.stream(seconds).sum();
        return new Result(tokens * s.steps() / total, seconds, tokens, loss, ProcessMemory.peakRssBytes(), reset, trainable);
    }

    /**
     * What a step keeps alive, roughly: the weights (full: F32 base + master, gradient, m, v = 5 copies;
     * LoRA: the base as held, adapters ×4), the saved layer inputs [(L+1)·rows, C], one layer's
     * activations and their gradients (about 2·(5·C + 2·H·D + 2·KVH·D + 3·F) floats a row), one LM-head
     * chunk of logits.
     */
    static long liveBytes(ModelConfig cfg, LoraConfig lora, DType dtype, int rows) {
        long params = cfg.parameterCount();
        long weights = lora == null ? params * 4L * 5 : params * dtype.bytes + adapterParams(cfg, lora) * 4L * 4;
        long qd = (long) cfg.heads() * cfg.headDim(), kvd = (long) cfg.kvHeads() * cfg.headDim();
        long perRow = (cfg.layers() + 1L) * cfg.hidden() + 2 * (5L * cfg.hidden() + 2 * qd + 2 * kvd + 3L * cfg.intermediate());
        return weights + rows * perRow * 4 + (long) Ops.LM_HEAD_CHUNK * cfg.vocab() * 4;
    }

    private static long adapterParams(ModelConfig cfg, LoraConfig lora) {
        long c = cfg.hidden(), f = cfg.intermediate(), qd = (long) cfg.heads() * cfg.headDim(), kvd = (long) cfg.kvHeads() * cfg.headDim();
        long perRank = 0;
        for (String t : lora.targets())
            perRank += switch (t) {
                case "q", "o" -> c + qd;
                case "k", "v" -> c + kvd;
                default -> c + f;    // gate, up, down
            };
        return perRank * lora.rank() * cfg.layers();
    }

    /** One optimizer step; returns {seconds, loss}. */
    private static double[] step(OptimizerStep opt, List<int[]> seqs, double lr) {
        float[][] w = new float[seqs.size()][];
        for (int b = 0; b < w.length; b++) {
            w[b] = new float[seqs.get(b).length - 1];
            Arrays.fill(w[b], 1f);
        }
        TokenObjective meanNll = TokenObjective.crossEntropy(w);
        long t0 = System.nanoTime();
        opt.zeroGrad();
        opt.backward(seqs, meanNll);
        double loss = opt.update(lr).loss();
        return new double[]{(System.nanoTime() - t0) * 1e-9, loss};
    }

    private static List<int[]> ids(SplittableRandom rng, int batch, int seq, int vocab) {
        List<int[]> out = new ArrayList<>();
        for (int b = 0; b < batch; b++) out.add(rng.ints(seq, 0, vocab).toArray());
        return out;
    }
}
