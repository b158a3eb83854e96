package dev.laconic.bench.decode;

import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.generate.DecodeEngine;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.Sampler;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The batched decode rows ({@code --batch}): B sequences decoded together through the {@link DecodeEngine}, the
 * path rollouts, {@code generate --n} and the server run, in the RL case's shape: sequences of different lengths, a
 * finished one leaves the batch and a waiting one joins at the next step.
 * <pre>
 *   S = B + ⌈B/2⌉ requests of one sample each, a 16-token random prompt, greedy, EOS ignored
 *   lengths G/2 … 3G/2 (evenly spread, mean ≈ G), in a seeded random order; at most B live at once
 *   step the engine until idle; joiners are prefilled alone inside the steps (DecodeEngine.prefillNanos)
 *   tokens/s       = generated tokens / (time of all steps − time spent prefilling)
 *   per sequence   = (time of its last token − time of its first) / (its tokens − 1): the inter-token
 *                    latency one caller sees, other sequences' prefills included
 * </pre>
 * One rep: a row is long (S·G tokens). A warm-up of min(B, 16) sequences × 4 tokens compiles the multi-row kernels.
 */
final class BatchRuns {
    private static final int PROMPT = DecodeRuns.TG_PREFILL, WARMUP_TOKENS = 4;

    /**
     * One batched row. steps: engine steps that decoded (each is at least one pass over the weights); latencies:
     * each sequence's ms per token, sorted.
     */
    record Result(int batch, int sequences, long tokens, double decodeSeconds, double prefillSeconds, long steps,
                  double[] latenciesMs) {
        double tokensPerSecond() { return tokens / decodeSeconds; }
        double stepsPerSecond() { return steps / decodeSeconds; }
        double latencyMs(double quantile) {
            return latenciesMs[(int) Math.min(latenciesMs.length - 1, Math.floor(quantile * latenciesMs.length))];
        }
    }

    private BatchRuns() {}

    /** The lengths of the S = B + ⌈B/2⌉ sequences of a batch-B row of G tokens: G/2 … 3G/2, shuffled by the seed. */
    static int[] lengths(int batch, int genTokens, long seed) {
        int n = batch + (batch + 1) / 2, lo = Math.max(1, genTokens / 2);
        int[] len = new int[n];
        for (int i = 0; i < n; i++) len[i] = lo + (int) ((long) i * genTokens / Math.max(1, n - 1));
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = len[i];
            len[i] = len[j];
            len[j] = t;
        }
        return len;
    }

    /** Positions a batch row needs: the prompt and the longest sequence. */
    static int positionsNeeded(int genTokens) {
        return PROMPT + Math.max(1, genTokens / 2) + genTokens;
    }

    static Result run(Transformer model, int batch, int genTokens, long seed, int vocab, PrintStream log) {
        Generator gen = new Generator(model, ids -> "", -1, -1, new int[0]);
        SplittableRandom ids = new SplittableRandom(seed);
        long w0 = System.nanoTime();
        int warm = Math.min(batch, 16);
        run(gen, warm, filled(warm, WARMUP_TOKENS), ids, vocab, seed);
        log.printf(Locale.ROOT, "bench decode: batch %d: warm-up %.1f s%n", batch, (System.nanoTime() - w0) * 1e-9);
        Result r = run(gen, batch, lengths(batch, genTokens, seed), ids, vocab, seed);
        log.printf(Locale.ROOT, "bench decode: batch %3d: %d sequences, %d tokens in %.1f s (+ %.1f s prefill): %.2f tok/s, "
                        + "per sequence %.0f ms/token (median), %.0f (max)%n", batch, r.sequences, r.tokens, r.decodeSeconds,
                r.prefillSeconds, r.tokensPerSecond(), r.latencyMs(0.5), r.latencyMs(1));
        return r;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    private static Result run(Generator gen, int batch, int[] lengths, SplittableRandom ids, int vocab, long seed) {
        DecodeEngine engine = new DecodeEngine(gen, batch);
        int n = lengths.length;
        long[] first = new long[n], last = new long[n];
        int[] count = new int[n];
        for (int i = 0; i < n; i++) {
            final int q = i;
            GenerationConfig gc = new GenerationConfig(lengths[i], Sampler.greedy(), 1, seed, true, List.of(), -1);
            engine.submit(i, ids.ints(PROMPT, 0, vocab).toArray(), i, gc, (sample, id, lp) -> {
                long t = System.nanoTime();
                if (count[q]++ == 0) first[q] = t;
                last[q] = t;
            });
        }
        long steps = 0, t0 = System.nanoTime();
        do steps++; while (engine.step());   // every call decodes the live sequences once
        double total = (System.nanoTime() - t0) * 1e-9, prefill = engine.prefillNanos() * 1e-9;
        long tokens = 0;
        double[] lat = new double[n];
        for (int i = 0; i < n; i++) {
            tokens += count[i];
            lat[i] = count[i] > 1 ? (last[i] - first[i]) * 1e-6 / (count[i] - 1) : 0;
        }
        Arrays.sort(lat);
        // the first token of every sequence comes from its prefill, not from a decode step
        return new Result(batch, n, tokens - n, Math.max(1e-9, total - prefill), prefill, steps, lat);
    }
}
