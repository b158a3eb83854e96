package dev.laconic.training;

import java.util.Locale;

/**
 * Learning-rate schedules, as Hugging Face transformers' LambdaLR schedules multiply the base lr.
 * {@code s} counts the optimizer steps already taken (0 for the first step), W = warm-up steps,
 * N = total steps:
 *
 * <pre>
 *   constant  lr(s) = lr
 *   warmup    lr(s) = lr · s/W for s &lt; W, else lr           get_constant_schedule_with_warmup
 *   cosine    lr(s) = lr · s/W for s &lt; W, else                get_cosine_schedule_with_warmup
 *                     lr · max(0, ½·(1 + cos(π·(s − W)/(N − W))))      (num_cycles ½)
 * </pre>
 * As in transformers, the first step of a warm-up runs at lr 0 (its gradient still moves m and v).
 * W and N − W enter as max(1, ·), as there.
 */
public record Schedule(Kind kind, double lr, int warmupSteps, int totalSteps) {
    public enum Kind {
        CONSTANT, WARMUP, COSINE;

        public static Kind parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "constant" -> CONSTANT;
                case "warmup", "constant-with-warmup", "constant_with_warmup" -> WARMUP;
                case "cosine" -> COSINE;
                default -> throw new IllegalArgumentException("schedule must be constant, warmup or cosine, not " + s);
            };
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    public Schedule {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be a finite number ≥ 0, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be ≥ 0, got " + warmupSteps);
        if (totalSteps < 1) throw new IllegalArgumentException("totalSteps must be ≥ 1, got " + totalSteps);
    }

    /** The learning rate of the optimizer step that follows {@code s} completed steps. */
    public double lr(long s) {
        return lr * factor(s);
    }

    double factor(long s) {
        if (kind == Kind.CONSTANT) return 1;
        if (s < warmupSteps) return (double) s / Math.max(1, warmupSteps);
        if (kind == Kind.WARMUP) return 1;
        double progress = (double) (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 2 * 0.5 * progress)));
    }
}
