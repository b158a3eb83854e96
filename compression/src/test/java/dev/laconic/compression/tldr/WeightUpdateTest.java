package dev.laconic.compression.tldr;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The re-weighting rule against values worked out by hand (methods.md, Method A). */
class WeightUpdateTest {
    /** Short model 100 tokens / 30 %, long model 500 tokens / 80 %: |tok_L − tok_S| = 400, |acc_L − acc_S| = 0.5. */
    static final References REFS = new References(new References.Point(100, 0.3, "given"), new References.Point(500, 0.8, "given"));

    @Test
    void excessesAreNormalisedDistancesClampedAtZero() {
        assertEquals(0.5, WeightUpdate.bShort(300, REFS), 1e-15);      // (300 − 100) / 400
        assertEquals(1.0, WeightUpdate.bShort(500, REFS), 1e-15);      // as long as the long model
        assertEquals(1.25, WeightUpdate.bShort(600, REFS), 1e-15);     // longer still: not capped at 1
        assertEquals(0.0, WeightUpdate.bShort(50, REFS));              // shorter than the short model: 0, not −0.125
        assertEquals(0.5, WeightUpdate.bLong(0.55, REFS), 1e-15);      // (0.8 − 0.55) / 0.5
        assertEquals(1.4, WeightUpdate.bLong(0.1, REFS), 1e-15);       // below the short model
        assertEquals(0.0, WeightUpdate.bLong(0.9, REFS));              // above the long model: 0
        // references given the other way round (a "short" model that is longer) still use |·|
        References swapped = new References(new References.Point(500, 0.8, "given"), new References.Point(100, 0.3, "given"));
        assertEquals(0.0, WeightUpdate.bShort(300, swapped));          // max((300 − 500)/400, 0)
        assertEquals(0.5, WeightUpdate.bLong(0.05, swapped), 1e-15);   // (0.3 − 0.05)/0.5
    }

    @Test
    void updateIsTheExponentiatedStepThenTheSmoothing() {
        // w = [½, ½], b = [0.5, 0]: softmax([log ½ + 2, log ½]) = [e²/(e²+1), 1/(e²+1)]
        double[] w = WeightUpdate.update(new double[]{0.5, 0.5}, 0.5, 0, 4, 0);
        assertEquals(0.8807970779778824, w[0], 1e-15);
        assertEquals(1 - 0.8807970779778824, w[1], 1e-15);
        // c = 1e-4: (1 − c)·w + c/2, renormalised (the sum is already 1)
        double[] s = WeightUpdate.update(new double[]{0.5, 0.5}, 0.5, 0, 4, 1e-4);
        assertEquals(0.8807589982700846, s[0], 1e-15);
        assertEquals(0.11924100172991536, s[1], 1e-15);
        // w = [0.2, 0.8], b = [0.25, 0.75]: log(w0/w1) = log ¼ + 4·(0.25 − 0.75) = log ¼ − 2 → w0 = σ(log ¼ − 2)
        double[] t = WeightUpdate.update(new double[]{0.2, 0.8}, 0.25, 0.75, 4, 0);
        assertEquals(0.032726556365386045, t[0], 1e-15);
        assertEquals(1 - 0.032726556365386045, t[1], 1e-15);
    }

    @Test
    void equalExcessesAreAFixedPoint() {
        for (double b : new double[]{0, 0.3, 1, 7.5}) {
            double[] w = WeightUpdate.update(new double[]{0.9, 0.1}, b, b, 4, 0);
            assertEquals(0.9, w[0], 1e-15, "b_short = b_long = " + b);
            assertEquals(0.1, w[1], 1e-15);
            // with smoothing only the smoothing moves it: (1 − c)·w + c/2 with c = 0.01
            double[] sm = WeightUpdate.update(new double[]{0.9, 0.1}, b, b, 4, 0.01);
            assertEquals(0.896, sm[0], 1e-15);
            assertEquals(0.104, sm[1], 1e-15);
        }
    }

    @Test
    void logRatioMovesByEtaTimesTheDifference() {
        double[] w = {0.7, 0.3};
        for (double[] b : new double[][]{{0.4, 0.1}, {0, 0.9}, {2.5, 0}}) {
            double[] next = WeightUpdate.update(w, b[0], b[1], 3, 0);
            assertEquals(Math.log(0.7 / 0.3) + 3 * (b[0] - b[1]), Math.log(next[0] / next[1]), 1e-12);
        }
    }

    @Test
    void hugeStepsStayFiniteAndSmoothingKeepsBothDomainsAlive() {
        double[] w = WeightUpdate.update(new double[]{0.5, 0.5}, 1000, 0, 4, 1e-4);
        assertEquals(1 - 0.5e-4, w[0], 1e-15);
        assertEquals(0.5e-4, w[1], 1e-15);
        double[] back = WeightUpdate.update(w, 0, 0.5, 4, 1e-4);
        assertTrue(back[1] > w[1] && Double.isFinite(back[0]));
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> WeightUpdate.update(new double[]{0.5, 0.5}, Double.NaN, 0, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> WeightUpdate.update(new double[]{1, 0}, 0, 0, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> WeightUpdate.update(new double[]{0.5, 0.5}, 0, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> WeightUpdate.update(new double[]{0.5, 0.5}, 0, 0, 4, 1.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new References(new References.Point(100, 0.3, "given"), new References.Point(100, 0.8, "given")));
        assertTrue(e.getMessage().contains("same mean tokens"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new References(new References.Point(100, 0.3, "given"), new References.Point(500, 0.3, "given")));
        assertThrows(IllegalArgumentException.class, () -> References.Point.parse("25", "--ref-short"));
        assertThrows(IllegalArgumentException.class, () -> References.Point.parse("25,abc", "--ref-short"));
        assertThrows(IllegalArgumentException.class, () -> References.Point.parse("25,1.5", "--ref-short"));
        References.Point p = References.Point.parse(" 25.5 , 0.41", "--ref-short");
        assertEquals(25.5, p.tokens());
        assertEquals(0.41, p.accuracy());
    }
}
