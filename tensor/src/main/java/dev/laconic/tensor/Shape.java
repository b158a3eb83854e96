package dev.laconic.tensor;

import java.util.Arrays;

/**
 * Shape helpers. The one shape alphabet used in comments across Laconic:
 * <pre>
 *   B batch   T time (positions)   S cached positions   C model dim   H query heads
 *   KVH kv heads   D head dim   F MLP (intermediate) dim   V vocabulary   N/K generic out/in dims
 * </pre>
 */
public final class Shape {
    private Shape() {}

    /** Product of the dims; throws on a negative dim or on overflow past Long.MAX_VALUE. */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, (long) d);
        }
        return n;
    }

    public static String toString(int... shape) {
        return Arrays.toString(shape);
    }
}
