package dev.laconic.bench;

import java.util.Arrays;

/**
 * Wall-clock timing for the roofline: warm up (JIT, page faults, worker wake-up), then run until
 * both a minimum number of reps and a minimum time have passed, and keep the best and the median.
 * The best is what the roofline reports: on a shared, noisy machine it is the run least disturbed
 * by neighbours, and the OpenBLAS peer is timed the same way, so ratios compare like with like.
 */
public record Timing(double bestSeconds, double medianSeconds, int reps) {

    /** How long to measure: warm-up runs, then at least minReps runs and minSeconds. */
    public record Budget(int warmup, int minReps, double minSeconds) {
        public static final Budget FULL = new Budget(2, 5, 1.0);
        public static final Budget QUICK = new Budget(1, 2, 0.0);
    }

    public static Timing measure(Runnable body, Budget budget) {
        for (int i = 0; i < budget.warmup(); i++) body.run();
        double[] sec = new double[16];
        int reps = 0;
        long start = System.nanoTime();
        while (reps < budget.minReps() || (System.nanoTime() - start) * 1e-9 < budget.minSeconds()) {
            long t0 = System.nanoTime();
            body.run();
            long t1 = System.nanoTime();
            if (reps == sec.length) sec = Arrays.copyOf(sec, reps * 2);
            sec[reps++] = Math.max(1, t1 - t0) * 1e-9;
        }
        double[] sorted = Arrays.copyOf(sec, reps);
        Arrays.sort(sorted);
        double median = reps % 2 == 1 ? sorted[reps / 2] : 0.5 * (sorted[reps / 2 - 1] + sorted[reps / 2]);
        return new Timing(sorted[0], median, reps);
    }
}
