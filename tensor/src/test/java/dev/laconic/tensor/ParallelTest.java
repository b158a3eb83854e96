package dev.laconic.tensor;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class ParallelTest {

    @RepeatedTest(20)
    void everyIndexRunsExactlyOnce() {
        for (int n : new int[]{1, 2, 3, 17, 1000, 100_003}) {
            for (int grain : new int[]{1, 7, 64, 5000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forChunks(n, grain, (from, to) -> {
                    assertTrue(from < to && to <= n, "bad range " + from + ".." + to);
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n=" + n + " grain=" + grain + " index " + i);
            }
        }
    }

    @Test
    void exceptionInAWorkerReachesTheCallerAndThePoolStaysUsable() {
        RuntimeException e = assertThrows(IllegalStateException.class, () ->
                Parallel.forChunks(1000, 1, (from, to) -> {
                    if (from == 777) throw new IllegalStateException("boom at " + from);
                }));
        assertTrue(e.getMessage().contains("777"));
        AtomicInteger total = new AtomicInteger();
        Parallel.forChunks(1000, 10, (from, to) -> total.addAndGet(to - from));
        assertEquals(1000, total.get());
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        AtomicInteger total = new AtomicInteger();
        Parallel.forChunks(8, 1, (from, to) ->
                Parallel.forChunks(100, 10, (a, b) -> total.addAndGet(b - a)));
        assertEquals(800, total.get());
    }

    @Test
    void concurrentCallersFromSeveralThreadsAllComplete() throws Exception {
        int callers = 4;
        AtomicInteger total = new AtomicInteger();
        Thread[] ts = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            ts[c] = new Thread(() -> {
                for (int r = 0; r < 200; r++) Parallel.forChunks(64, 4, (a, b) -> total.addAndGet(b - a));
            });
            ts[c].start();
        }
        for (Thread t : ts) t.join(30_000);
        assertEquals(callers * 200 * 64, total.get());
    }
}
