package dev.laconic.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimingTest {

    @Test
    void runsWarmupPlusRepsAndBestIsNotAboveMedian() {
        AtomicInteger calls = new AtomicInteger();
        Timing t = Timing.measure(() -> {
            calls.incrementAndGet();
            long end = System.nanoTime() + 200_000;
            while (System.nanoTime() < end) Thread.onSpinWait();
        }, new Timing.Budget(3, 7, 0.0));
        assertEquals(7, t.reps());
        assertEquals(10, calls.get());
        assertTrue(t.bestSeconds() >= 2e-4 && t.bestSeconds() <= t.medianSeconds(), t.toString());
    }
}
