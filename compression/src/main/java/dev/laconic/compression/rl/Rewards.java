package dev.laconic.compression.rl;

import java.util.List;

/**
 * Method B's reward and advantages (Arora &amp; Zanette, arXiv 2502.04463; ../shared/methods.md, "Method B"),
 * as small pure functions. One rollout = P prompt groups of n samples each.
 *
 * <pre>
 *   reward       r_i = 0                                           wrong, or cut at the cap (no EOS)
 *                r_i = 1 − α·σ((len_i − mean) / (std + 1e-7))     correct; mean, std (population, ddof 0) of len
 *                                                                  over the CORRECT samples of the same prompt
 *   RLOO         a_i = r_i − (1/(n−1))·Σ_{j≠i} r_j                 leave-one-out baseline within the group
 *   KL shaping   s_t = −β·(logp_old_t − logp_ref_t)                every completion token (k1 estimator)
 *                s_{T−1} += a_i                                    the last token also gets the advantage
 *   returns      A_t = Σ_{u ≥ t} s_u                               γ = 1
 *   whitening    A ← (A − mean) / (std + 1e-8)                     mean, population std over every completion
 *                                                                  token of the whole rollout batch
 * </pre>
 * Every correct answer outscores every wrong one (σ &lt; 1 and α &lt; 1); a lone correct sample, or correct
 * samples of equal length, get z = 0, i.e. 1 − α/2. α = 0 is plain correctness RL.
 */
public final class Rewards {
    /** Added to the group's length std in the reward's z-score (methods.md). */
    public static final double LENGTH_STD_EPS = 1e-7;
    /** Added to the std in the whitening. */
    public static final double WHITEN_EPS = 1e-8;

    private Rewards() {}

    /**
     * The rewards of one prompt's samples.
     *
     * @param lengths completion tokens of each sample (EOS included)
     * @param correct finished with EOS and graded correct
     * @param alpha   the length penalty, in [0, 1)
     */
    public static double[] rewards(int[] lengths, boolean[] correct, double alpha) {
        if (lengths.length != correct.length) throw new IllegalArgumentException(lengths.length + " lengths, " + correct.length + " grades");
        if (!(alpha >= 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in [0, 1), got " + alpha);
        int k = 0;
        double sum = 0;
        for (int i = 0; i < lengths.length; i++) if (correct[i]) { k++; sum += lengths[i]; }
        double[] r = new double[lengths.length];
        if (k == 0) return r;
        double mean = sum / k, ss = 0;
        for (int i = 0; i < lengths.length; i++) if (correct[i]) ss += (lengths[i] - mean) * (lengths[i] - mean);
        double std = Math.sqrt(ss / k);                                // population std (ddof 0)
        for (int i = 0; i < lengths.length; i++)
            if (correct[i]) r[i] = 1 - alpha * sigmoid((lengths[i] - mean) / (std + LENGTH_STD_EPS));
        return r;
    }

    public static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** a_i = r_i − mean_{j≠i} r_j = n/(n−1)·(r_i − mean r); needs n ≥ 2. */
    public static double[] rloo(double[] rewards) {
        int n = rewards.length;
        if (n < 2) throw new IllegalArgumentException("the leave-one-out baseline needs at least 2 samples per prompt, got " + n);
        double sum = 0;
        for (double r : rewards) sum += r;
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = rewards[i] - (sum - rewards[i]) / (n - 1);
        return a;
    }

    /**
     * Per-token advantages of one sample before whitening: the k1-shaped rewards summed to the end.
     *
     * @param advantage the sample's RLOO advantage (goes on its last token)
     * @param logpOld   [T] log π_old of each completion token (the rollout policy, recomputed by a forward)
     * @param logpRef   [T] log π_ref of the same tokens (the starting model)
     * @param beta      the KL coefficient
     * @return [T] A_t = Σ_{u≥t} (−β·(logpOld_u − logpRef_u)) + advantage
     */
    public static double[] returns(double advantage, float[] logpOld, float[] logpRef, double beta) {
        int n = logpOld.length;
        if (logpRef.length != n) throw new IllegalArgumentException(n + " old log-probs, " + logpRef.length + " reference log-probs");
        double[] a = new double[n];
        double acc = 0;
        for (int t = n - 1; t >= 0; t--) {
            acc += -beta * ((double) logpOld[t] - logpRef[t]);
            if (t == n - 1) acc += advantage;
            a[t] = acc;
        }
        return a;
    }

    /** Mean and population std that {@link #whiten} used. */
    public record Whitening(double mean, double std, long tokens) {}

    /** In place: A ← (A − mean)/(std + 1e-8) over every entry of every array (the rollout's valid tokens). */
    public static Whitening whiten(List<double[]> advantages) {
        long n = 0;
        double sum = 0;
        for (double[] a : advantages) for (double x : a) { sum += x; n++; }
        if (n == 0) return new Whitening(0, 0, 0);
        double mean = sum / n, ss = 0;
        for (double[] a : advantages) for (double x : a) ss += (x - mean) * (x - mean);
        double std = Math.sqrt(ss / n);
        for (double[] a : advantages) for (int t = 0; t < a.length; t++) a[t] = (a[t] - mean) / (std + WHITEN_EPS);
        return new Whitening(mean, std, n);
    }
}
