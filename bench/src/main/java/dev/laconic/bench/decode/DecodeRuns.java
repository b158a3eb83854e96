package dev.laconic.bench.decode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The llama-bench-style measurements, the same for every {@link Engine} (ours in this process,
 * Jlama in a child JVM), so their rows compare like with like:
 * <pre>
 *   warm-up   one pp of P tokens and a few decode steps (JIT, page faults, worker wake-up), untimed
 *   ppP       reps × { new sequence; prefill P prompt tokens in one call }               → P / time
 *   tgG       reps × { new sequence; prefill 16 tokens (untimed); G greedy decode steps } → G / time
 *   with a context N (optional, one rep; the shape of generating up to N positions):
 *   ppD       new sequence of capacity N; prefill D = N − G tokens in one call            → D / time
 *   tgG@dD    then G greedy decode steps, the last one at position N − 1                  → G / time
 * </pre>
 * Prompt ids are uniform random in [0, V) from the seed (every engine gets the same ids). Each row
 * keeps the seconds of every rep; tokens/s is reported from the best rep (the one least disturbed on a
 * shared machine, as the roofline does) and from the mean.
 */
final class DecodeRuns {
    /** Positions prefilled before the timed decode steps of a tg row. */
    static final int TG_PREFILL = 16;
    private static final int WARMUP_DECODE = 4;

    /** What to run: P prompt tokens, G generated tokens, reps, a context N (0: none), the id seed. */
    record Settings(int promptTokens, int genTokens, int reps, int context, long seed) {
        Settings {
            if (promptTokens < 1) throw new IllegalArgumentException("--prompt-tokens must be >= 1, not " + promptTokens);
            if (genTokens < 1) throw new IllegalArgumentException("--gen-tokens must be >= 1, not " + genTokens);
            if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1, not " + reps);
            if (context != 0 && context <= genTokens)
                throw new IllegalArgumentException("--context (" + context + ") must exceed --gen-tokens (" + genTokens + ")");
        }

        /** Positions a model must support for these runs. */
        int positionsNeeded() {
            return Math.max(Math.max(promptTokens + WARMUP_DECODE, TG_PREFILL + genTokens), context);
        }
    }

    /**
     * One measured row: test name, kind ("pp" or "tg"), tokens processed per rep, the seconds of each
     * rep, and for decode rows the greedy ids of the first rep (the same model must pick the same tokens).
     */
    record Result(String test, String kind, int tokens, double[] seconds, int[] greedy) {
        double bestTokensPerSecond() {
            return tokens / Arrays.stream(seconds).min().orElseThrow();
        }

        double meanTokensPerSecond() {
            return tokens / Arrays.stream(seconds).average().orElseThrow();
        }
    }

    private DecodeRuns() {}

    static List<Result> run(Engine e, Settings s, int vocab, PrintStream log) {
        int p = s.promptTokens(), g = s.genTokens();
        int[] ids = new SplittableRandom(s.seed()).ints(Math.max(p, Math.max(s.context(), TG_PREFILL)), 0, vocab).toArray();
        List<Result> out = new ArrayList<>();

        long w0 = System.nanoTime();
        e.reset(p + WARMUP_DECODE);
        int tok = e.prefill(Arrays.copyOf(ids, p));
        for (int i = 0; i < WARMUP_DECODE; i++) tok = e.decode(tok);
        log.printf(Locale.ROOT, "bench decode: %s: warm-up %.1f s%n", e.name(), (System.nanoTime() - w0) * 1e-9);

        double[] pp = new double[s.reps()];
        for (int r = 0; r < s.reps(); r++) {
            e.reset(p);
            int[] prompt = Arrays.copyOf(ids, p);
            long t0 = System.nanoTime();
            e.prefill(prompt);
            pp[r] = seconds(t0);
        }
        out.add(log(log, e, new Result("pp" + p, "pp", p, pp, null)));

        double[] tg = new double[s.reps()];
        int[] greedy = null;
        for (int r = 0; r < s.reps(); r++) {
            e.reset(TG_PREFILL + g);
            int[] picked = new int[g];
            tok = e.prefill(Arrays.copyOf(ids, TG_PREFILL));
            long t0 = System.nanoTime();
            for (int i = 0; i < g; i++) picked[i] = tok = e.decode(tok);
            tg[r] = seconds(t0);
            if (greedy == null) greedy = picked;
        }
        out.add(log(log, e, new Result("tg" + g, "tg", g, tg, greedy)));

        if (s.context() > 0) {
            int d = s.context() - g;
            e.reset(s.context());
            long t0 = System.nanoTime();
            tok = e.prefill(Arrays.copyOf(ids, d));
            out.add(log(log, e, new Result("pp" + d, "pp", d, new double[]{seconds(t0)}, null)));
            int[] picked = new int[g];
            t0 = System.nanoTime();
            for (int i = 0; i < g; i++) picked[i] = tok = e.decode(tok);
            out.add(log(log, e, new Result("tg" + g + "@d" + d, "tg", g, new double[]{seconds(t0)}, picked)));
        }
        return out;
    }

    private static double seconds(long t0) {
        return Math.max(1, System.nanoTime() - t0) * 1e-9;
    }

    private static Result log(PrintStream log, Engine e, Result r) {
        log.printf(Locale.ROOT, "bench decode: %s: %-12s %9.2f tok/s best, %9.2f mean (%d reps)%n",
                e.name(), r.test(), r.bestTokensPerSecond(), r.meanTokensPerSecond(), r.seconds().length);
        return r;
    }
}
