package dev.laconic.compression.gym;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One gym problem: the sum of a few whole numbers, e.g. "What is 4821 + 3975?".
 *
 * <p>Levels (difficulty 1 = easiest). Each operand has exactly {@link Level#digits} digits (no
 * leading zero), so a level fixes the number of columns and therefore the length of the System-2
 * trace; a direct answer must produce every carry at once, which is what fails on the long ones.
 * <pre>
 *   level 1: 2 operands × 2 digits     (e.g. 47 + 85)
 *   level 2: 2 operands × 3 digits     (e.g. 265 + 482)
 *   level 3: 2 operands × 4 digits     (e.g. 4821 + 3975)
 *   level 4: 3 operands × 3 digits     (e.g. 482 + 397 + 615)
 * </pre>
 *
 * @param level    1-based difficulty
 * @param operands the addends, in the order the problem states them
 */
public record Problem(int level, long[] operands) {

    /** A difficulty level: how many operands, how many digits each. */
    public record Level(int index, int operands, int digits) {}

    public static final List<Level> LEVELS = List.of(
            new Level(1, 2, 2), new Level(2, 2, 3), new Level(3, 2, 4), new Level(4, 3, 3));

    public Problem {
        if (level < 1 || level > LEVELS.size()) throw new IllegalArgumentException("level " + level + " is not in 1.." + LEVELS.size());
        if (operands.length < 2) throw new IllegalArgumentException("a sum needs at least 2 operands");
        for (long x : operands) if (x < 0) throw new IllegalArgumentException("operands must be ≥ 0: " + x);
        operands = operands.clone();
    }

    public static Level level(int index) {
        if (index < 1 || index > LEVELS.size()) throw new IllegalArgumentException("level " + index + " is not in 1.." + LEVELS.size());
        return LEVELS.get(index - 1);
    }

    /** A uniformly random problem of the level: each operand uniform over the d-digit numbers. */
    public static Problem random(int level, SplittableRandom rng) {
        Level l = level(level);
        long lo = pow10(l.digits() - 1), hi = pow10(l.digits());
        long[] ops = new long[l.operands()];
        for (int i = 0; i < ops.length; i++) ops[i] = rng.nextLong(lo, hi);
        return new Problem(level, ops);
    }

    public long answer() {
        long s = 0;
        for (long x : operands) s = Math.addExact(s, x);
        return s;
    }

    /** The question as the user turn states it (after the R1 instruction). */
    public String text() {
        return "What is " + expression() + "?";
    }

    /** "4821 + 3975". */
    public String expression() {
        List<String> parts = new ArrayList<>();
        for (long x : operands) parts.add(Long.toString(x));
        return String.join(" + ", parts);
    }

    /** Identity of the problem (level and operands in order): used to keep dev/test problems out of training. */
    public String key() {
        return level + ":" + Arrays.toString(operands);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Problem p && p.level == level && Arrays.equals(p.operands, operands);
    }

    @Override
    public int hashCode() {
        return 31 * level + Arrays.hashCode(operands);
    }

    @Override
    public String toString() {
        return "Problem[level " + level + ": " + expression() + "]";
    }

    static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) p *= 10;
        return p;
    }
}
