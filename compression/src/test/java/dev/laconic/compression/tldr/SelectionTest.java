package dev.laconic.compression.tldr;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Final-model selection: fewest dev tokens among checkpoints at step ≥ K above (1 − tolerance)·acc_L. */
class SelectionTest {
    static Evaluation e(long step, double acc, double tokens) {
        return new Evaluation(step, 0.5, 0.5, acc, tokens, 0, 0, 0);
    }

    @Test
    void fewestTokensAmongTheEligible() {
        // acc_L = 0.8, tolerance 0.3: the bar is 0.56 (strictly above)
        List<Evaluation> h = List.of(e(32, 0.78, 400), e(64, 0.60, 210), e(96, 0.55, 120), e(128, 0.70, 260));
        Selection.Choice c = Selection.choose(h, 32, 0.8, 0.3);
        assertEquals(64, c.evaluation().step(), "step 96 is shorter but below the bar");
        assertTrue(c.eligible());
        assertEquals(0.56, c.threshold(), 1e-15);
    }

    @Test
    void theBarIsStrictAndStepsBeforeKDoNotCount() {
        // acc_L 0.5, tolerance 0.5: the bar is exactly 0.25, and 0.25 is not above it;
        // the step-16 checkpoint is the shortest but precedes K = 32
        List<Evaluation> h = List.of(e(16, 0.49, 50), e(32, 0.25, 100), e(64, 0.26, 300));
        assertEquals(64, Selection.choose(h, 32, 0.5, 0.5).evaluation().step());
        // tolerance 0: accuracy must beat the long model itself
        assertEquals(64, Selection.choose(List.of(e(32, 0.8, 100), e(64, 0.81, 300)), 32, 0.8, 0).evaluation().step());
    }

    @Test
    void tiesGoToHigherAccuracyThenTheEarlierStep() {
        List<Evaluation> h = List.of(e(32, 0.70, 200), e(64, 0.75, 200), e(96, 0.75, 200), e(128, 0.9, 201));
        assertEquals(64, Selection.choose(h, 32, 0.8, 0.3).evaluation().step());
    }

    @Test
    void withoutAnEligibleCheckpointTheMostAccurateIsTheFallback() {
        List<Evaluation> h = List.of(e(32, 0.40, 100), e(64, 0.50, 300), e(96, 0.50, 250), e(128, 0.2, 20));
        Selection.Choice c = Selection.choose(h, 32, 0.8, 0.3);
        assertFalse(c.eligible());
        assertEquals(96, c.evaluation().step(), "most accurate, ties to fewer tokens");
        assertNull(Selection.choose(List.of(), 32, 0.8, 0.3));
        assertThrows(IllegalArgumentException.class, () -> Selection.choose(h, 32, 0.8, 1.2));
    }
}
