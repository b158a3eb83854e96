package dev.laconic.transformer.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits: greedy, or sampled from softmax(logits / temperature)
 * restricted to the top-k tokens and then to the smallest set whose probability reaches top-p
 * (the nucleus; Holtzman et al. 2020), renormalised — the order Hugging Face's logits warpers use
 * (temperature, top-k, top-p).
 *
 * <p>The returned log-probability is that of the chosen token under the distribution it was drawn
 * from (after temperature, top-k and top-p). For greedy decoding it is log softmax(logits) at the
 * argmax, the model's own probability of its choice.
 *
 * @param temperature 0 means greedy
 * @param topP        1 disables
 * @param topK        0 disables
 */
public record Sampler(float temperature, float topP, int topK) {

    public Sampler {
        if (temperature < 0 || !Float.isFinite(temperature)) throw new IllegalArgumentException("temperature must be ≥ 0: " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1]: " + topP);
        if (topK < 0) throw new IllegalArgumentException("top-k must be ≥ 0: " + topK);
    }

    public static Sampler greedy() { return new Sampler(0, 1, 0); }

    /** A sampled token and its log-probability. */
    public record Pick(int token, float logprob) {}

    /** Chooses from logits[offset, offset+vocab). */
    public Pick pick(float[] logits, int offset, int vocab, SplittableRandom rng) {
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < vocab; i++) if (logits[offset + i] > logits[offset + best]) best = i;
            return new Pick(best, (float) (logits[offset + best] - logSumExp(logits, offset, vocab, 1)));
        }
        // probabilities of softmax(logits / T), max-shifted
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        if (Double.isNaN(max) || Double.isInfinite(max)) throw new IllegalStateException("logits are not finite (max " + max + ")");
        double[] p = new double[vocab];
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += p[i] = Math.exp((logits[offset + i] - max) / temperature);

        int[] keep = null;                 // candidate ids, by descending probability, when truncating
        if ((topK > 0 && topK < vocab) || topP < 1) {
            keep = sortedByProbability(p, topK > 0 && topK < vocab ? topK : vocab, sum);
            int n = keep.length;
            double kept = 0;
            for (int i = 0; i < n; i++) kept += p[keep[i]];
            if (topP < 1) {                // smallest prefix with mass ≥ topP·kept (ties by order)
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    acc += p[keep[i]];
                    if (acc >= topP * kept) { n = i + 1; break; }
                }
            }
            keep = Arrays.copyOf(keep, n);
            sum = 0;
            for (int id : keep) sum += p[id];
        }
        double u = rng.nextDouble() * sum, acc = 0;
        int chosen = -1;
        if (keep == null) {
            for (int i = 0; i < vocab && chosen < 0; i++) if ((acc += p[i]) > u) chosen = i;
            if (chosen < 0) chosen = vocab - 1;
        } else {
            for (int i = 0; i < keep.length && chosen < 0; i++) if ((acc += p[keep[i]]) > u) chosen = keep[i];
            if (chosen < 0) chosen = keep[keep.length - 1];
        }
        return new Pick(chosen, (float) Math.log(p[chosen] / sum));
    }

    /**
     * The k most probable ids in descending probability (ties by id). Sorting 152k ids costs
     * milliseconds per token, so first try only the ids with p ≥ 1e-4·max (p is max-normalised,
     * so max = 1): that set is exactly the head of the order, and it suffices when it holds k ids
     * (top-k) or, without top-k, a mass of at least topP·sum (the nucleus lies inside it).
     */
    private int[] sortedByProbability(double[] p, int k, double sum) {
        int[] cand = new int[p.length];
        int n = 0;
        double mass = 0;
        for (int i = 0; i < p.length; i++) if (p[i] >= 1e-4) { cand[n++] = i; mass += p[i]; }
        boolean enough = k < p.length ? n >= k : mass >= topP * sum;
        if (!enough) {
            n = p.length;
            for (int i = 0; i < n; i++) cand[i] = i;
        }
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) idx[i] = cand[i];
        Arrays.sort(idx, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int[] out = new int[Math.min(k, n)];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }

    static double logSumExp(float[] a, int off, int n, double scale) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, a[off + i]);
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.exp((a[off + i] - max) / scale);
        return max + scale * Math.log(s);
    }
}
