package dev.laconic.transformer.generate;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The sampler against distributions computed by hand in the test. */
class SamplerTest {
    // probabilities ∝ exp(logits): p = [0.5, 0.25, 0.125, 0.0625, 0.0625] at T = 1
    static final float[] LOGITS = {(float) Math.log(8), (float) Math.log(4), (float) Math.log(2), 0f, 0f};

    @Test
    void greedyPicksTheArgmaxAndReportsItsModelLogProb() {
        Sampler.Pick p = Sampler.greedy().pick(LOGITS, 0, 5, new SplittableRandom(1));
        assertEquals(0, p.token());
        assertEquals(Math.log(0.5), p.logprob(), 1e-6);
    }

    @Test
    void samplingFrequenciesFollowTheTemperatureScaledDistribution() {
        // T = 2: p ∝ sqrt([8, 4, 2, 1, 1])
        double[] w = {Math.sqrt(8), 2, Math.sqrt(2), 1, 1};
        double z = 0;
        for (double x : w) z += x;
        assertFrequencies(new Sampler(2f, 1f, 0), w, z, -1);
    }

    @Test
    void topKKeepsTheKMostProbableAndRenormalises() {
        double[] w = {8, 4, 0, 0, 0};
        assertFrequencies(new Sampler(1f, 1f, 2), w, 12, 2);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // cumulative 0.5, 0.75, 0.875 → top-p 0.7 keeps {0, 1}; top-p 0.8 keeps {0, 1, 2}
        assertFrequencies(new Sampler(1f, 0.7f, 0), new double[]{8, 4, 0, 0, 0}, 12, 2);
        assertFrequencies(new Sampler(1f, 0.8f, 0), new double[]{8, 4, 2, 0, 0}, 14, 3);
    }

    @Test
    void topPOverALargeVocabularyWithAFlatTailMatchesTheFullSort() {
        // a vocabulary where the nucleus reaches into the tail below the 1e-4 pre-filter
        int v = 50_000;
        float[] logits = new float[v];
        logits[0] = 12f;                              // p0 = e^12/(e^12 + 49999) ≈ 0.765; tail p/max ≈ 6e-6
        Sampler s = new Sampler(1f, 0.9f, 0);
        int hits0 = 0;
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 2000; i++) if (s.pick(logits, 0, v, r).token() == 0) hits0++;
        // nucleus = token 0 plus m tail tokens of q each, the fewest reaching 0.9
        double p0 = Math.exp(12) / (Math.exp(12) + v - 1), q = (1 - p0) / (v - 1);
        double expected = p0 / (p0 + Math.ceil((0.9 - p0) / q) * q);
        assertEquals(expected, hits0 / 2000.0, 0.01);
    }

    @Test
    void sameSeedSameSamples() {
        Sampler s = new Sampler(0.7f, 0.95f, 0);
        SplittableRandom a = new SplittableRandom(42), b = new SplittableRandom(42);
        for (int i = 0; i < 200; i++) assertEquals(s.pick(LOGITS, 0, 5, a), s.pick(LOGITS, 0, 5, b));
    }

    @Test
    void badSettingsAndNonFiniteLogitsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 1.5f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 1f, -2));
        float[] bad = {1f, Float.NaN, 0f};
        assertThrows(IllegalStateException.class, () -> new Sampler(1f, 1f, 0).pick(bad, 0, 3, new SplittableRandom(1)));
    }

    /** Draws 40k samples; each token's frequency within 4 sigma of w/z; the reported logprob equals log(w/z). */
    private static void assertFrequencies(Sampler s, double[] w, double z, int support) {
        int n = 40_000;
        int[] counts = new int[w.length];
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            Sampler.Pick p = s.pick(LOGITS, 0, LOGITS.length, rng);
            counts[p.token()]++;
            assertEquals(Math.log(w[p.token()] / z), p.logprob(), 1e-5, "logprob of token " + p.token());
        }
        for (int i = 0; i < w.length; i++) {
            double p = w[i] / z, sigma = Math.sqrt(n * p * (1 - p)) + 1;
            assertEquals(n * p, counts[i], 4 * sigma, "token " + i + " (support " + support + ")");
        }
    }
}
