package dev.laconic.compression.rl;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Method B's reward, RLOO, k1 shaping, returns and whitening against values worked out by hand. */
class RewardsTest {
    static final double EPS = 1e-12;

    @Test
    void aLoneCorrectSampleGetsZScoreZero() {
        // one correct sample: mean = its length, std = 0 → z = 0/(0 + 1e-7) = 0 → 1 − α·σ(0) = 1 − α/2
        assertArrayEquals(new double[]{0, 0.9, 0, 0}, Rewards.rewards(new int[]{10, 20, 30, 40},
                new boolean[]{false, true, false, false}, 0.2), EPS);
    }

    @Test
    void allCorrectShorterIsBetter() {
        // lengths 100..400: mean 250, population std √12500 = 111.80339887…, z = ±1.3416408, ±0.4472136
        double[] r = Rewards.rewards(new int[]{100, 200, 300, 400}, new boolean[]{true, true, true, true}, 0.2);
        assertArrayEquals(new double[]{0.9585519276981956, 0.9219953074694351, 0.8780046925305648, 0.8414480723018044}, r, 1e-12);
        // σ(z) + σ(−z) = 1: symmetric lengths give rewards summing to 2 − α
        assertEquals(2 - 0.2, r[0] + r[3], EPS);
        assertEquals(2 - 0.2, r[1] + r[2], EPS);
        // two correct, 30 and 60 tokens: mean 45, std 15, z = ∓15/(15 + 1e-7) ≈ ∓1: 1 − 0.4·σ(∓1) (to 1e-9)
        double s1 = 1 / (1 + Math.exp(-1));
        assertArrayEquals(new double[]{1 - 0.4 * (1 - s1), 1 - 0.4 * s1, 0}, Rewards.rewards(new int[]{30, 60, 5},
                new boolean[]{true, true, false}, 0.4), 1e-9);
    }

    @Test
    void wrongSamplesGetZeroAndEveryCorrectOneOutscoresThem() {
        assertArrayEquals(new double[]{0, 0, 0}, Rewards.rewards(new int[]{1, 50, 999}, new boolean[]{false, false, false}, 0.2), 0);
        double[] r = Rewards.rewards(new int[]{5, 10_000, 7}, new boolean[]{false, true, true}, 0.99);
        assertEquals(0, r[0]);
        assertTrue(r[1] > 0 && r[2] > r[1], java.util.Arrays.toString(r));
    }

    @Test
    void tiesHaveStdZeroAndGetOneMinusHalfAlpha() {
        assertArrayEquals(new double[]{0.95, 0.95, 0.95}, Rewards.rewards(new int[]{50, 50, 50}, new boolean[]{true, true, true}, 0.1), EPS);
        assertArrayEquals(new double[]{0.9, 0.9, 0}, Rewards.rewards(new int[]{50, 50, 80}, new boolean[]{true, true, false}, 0.2), EPS);
        // α = 0: plain correctness
        assertArrayEquals(new double[]{1, 0, 1}, Rewards.rewards(new int[]{3, 4, 500}, new boolean[]{true, false, true}, 0), 0);
    }

    @Test
    void alphaOutsideTheRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Rewards.rewards(new int[]{1}, new boolean[]{true}, 1));
        assertThrows(IllegalArgumentException.class, () -> Rewards.rewards(new int[]{1}, new boolean[]{true}, -0.1));
        assertThrows(IllegalArgumentException.class, () -> Rewards.rewards(new int[]{1}, new boolean[]{true}, Double.NaN));
    }

    @Test
    void leaveOneOutBaseline() {
        // r = (1, 0, ½, ½): baselines (0+½+½)/3 = ⅓, (1+½+½)/3 = ⅔, (1+0+½)/3 = ½, ½
        assertArrayEquals(new double[]{2.0 / 3, -2.0 / 3, 0, 0}, Rewards.rloo(new double[]{1, 0, 0.5, 0.5}), EPS);
        assertArrayEquals(new double[]{0, 0, 0}, Rewards.rloo(new double[]{0.9, 0.9, 0.9}), EPS);   // all correct, tied
        assertArrayEquals(new double[]{0, 0}, Rewards.rloo(new double[]{0, 0}), 0);                 // all wrong
        assertArrayEquals(new double[]{0.9, -0.9}, Rewards.rloo(new double[]{0.9, 0}), EPS);
        assertThrows(IllegalArgumentException.class, () -> Rewards.rloo(new double[]{1}));
    }

    @Test
    void klShapedReturnsToGo() {
        // β = 0.1: s = −0.1·(old − ref) = −0.1·(0.5, 0, −0.25) = (−0.05, 0, 0.025); the last token adds a = 0.5
        // returns: A₂ = 0.525, A₁ = 0 + 0.525, A₀ = −0.05 + 0.525
        double[] a = Rewards.returns(0.5, new float[]{-1f, -2f, -0.5f}, new float[]{-1.5f, -2f, -0.25f}, 0.1);
        assertArrayEquals(new double[]{0.475, 0.525, 0.525}, a, EPS);
        // β = 0: every token carries the sample's advantage
        assertArrayEquals(new double[]{-0.3, -0.3}, Rewards.returns(-0.3, new float[]{-1f, -3f}, new float[]{-2f, -1f}, 0), EPS);
        // policy = reference: no penalty
        assertArrayEquals(new double[]{1, 1, 1}, Rewards.returns(1, new float[]{-1f, -2f, -3f}, new float[]{-1f, -2f, -3f}, 0.5), 0);
    }

    @Test
    void whiteningOverEveryTokenOfTheBatch() {
        // the values 1..6 spread over three sequences: mean 3.5, population std √(35/12) = 1.7078251…
        List<double[]> a = List.of(new double[]{1, 2}, new double[]{3}, new double[]{4, 5, 6});
        Rewards.Whitening w = Rewards.whiten(a);
        assertEquals(3.5, w.mean(), EPS);
        assertEquals(Math.sqrt(35.0 / 12), w.std(), EPS);
        assertEquals(6, w.tokens());
        assertEquals(-1.4638501008513713, a.get(0)[0], 1e-12);
        assertEquals(1.4638501008513713, a.get(2)[2], 1e-12);
        assertEquals(0, a.get(1)[0] + a.get(2)[0], 1e-12);                   // 3 and 4 sit symmetric around 3.5
        // all equal (e.g. every group tied and ρ = ref): zeros, not NaN
        List<double[]> same = List.of(new double[]{0.25, 0.25}, new double[]{0.25});
        Rewards.whiten(same);
        assertArrayEquals(new double[]{0, 0}, same.get(0), 0);
    }
}
