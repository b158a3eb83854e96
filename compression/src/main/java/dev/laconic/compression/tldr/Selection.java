package dev.laconic.compression.tldr;

import java.util.Comparator;
import java.util.List;

/**
 * The final model of a TL;DR run (methods.md, Method A):
 * <pre>
 *   eligible = { checkpoints with step ≥ K and acc &gt; (1 − tolerance)·acc_L }       tolerance = 0.3
 *   final    = the eligible checkpoint with the fewest dev tokens
 *              (ties: the higher accuracy, then the earlier step)
 * </pre>
 * Step ≥ K leaves out the starting model. When no checkpoint is eligible the run has failed its
 * purpose; the most accurate checkpoint is then chosen (ties: fewer tokens, earlier step) so that
 * RUN_DIR/final still holds something, and the choice says it is not eligible.
 */
public final class Selection {
    private Selection() {}

    /** @param eligible false: the fallback, no checkpoint met the accuracy bar */
    public record Choice(Evaluation evaluation, boolean eligible, double threshold) {}

    public static double threshold(double accLong, double tolerance) {
        return (1 - tolerance) * accLong;
    }

    public static boolean eligible(Evaluation e, int evalEvery, double accLong, double tolerance) {
        return e.step() >= evalEvery && e.accuracy() > threshold(accLong, tolerance);
    }

    /** The choice among {@code evaluations}, or null when there is none at all. */
    public static Choice choose(List<Evaluation> evaluations, int evalEvery, double accLong, double tolerance) {
        if (!(tolerance >= 0 && tolerance <= 1)) throw new IllegalArgumentException("tolerance must be in [0, 1], got " + tolerance);
        double bar = threshold(accLong, tolerance);
        Comparator<Evaluation> shortest = Comparator.comparingDouble(Evaluation::tokens)
                .thenComparing(Comparator.comparingDouble(Evaluation::accuracy).reversed())
                .thenComparingLong(Evaluation::step);
        Evaluation best = evaluations.stream().filter(e -> eligible(e, evalEvery, accLong, tolerance)).min(shortest).orElse(null);
        if (best != null) return new Choice(best, true, bar);
        Comparator<Evaluation> accurate = Comparator.comparingDouble(Evaluation::accuracy).reversed()
                .thenComparingDouble(Evaluation::tokens).thenComparingLong(Evaluation::step);
        Evaluation fallback = evaluations.stream().min(accurate).orElse(null);
        return fallback == null ? null : new Choice(fallback, false, bar);
    }
}
