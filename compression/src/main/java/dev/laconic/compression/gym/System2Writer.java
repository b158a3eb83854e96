package dev.laconic.compression.gym;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The long, careful solution ("System 2") in the R1 format: reasoning, {@code </think>}, answer.
 *
 * <p>The work is a column scratchpad in which every step reads only the line just above it
 * (a feasibility run found that copying digits from far back was the small model's main error):
 * <pre>
 *   Let me add the numbers column by column, starting from the right.
 *   A=4821 B=3975 carry=0 digits=          state: what is left of each operand, carry, result so far
 *   1+5+0=6                                the last digit of each operand + carry = column sum
 *   A=482 B=397 carry=0 digits=6           operands lose their last digit, the sum's last digit is
 *   ...                                    prepended to the result, its tens become the carry
 *   A= B= carry=0 digits=8796              (an exhausted operand contributes 0; the loop runs while
 *   So the sum is 8796.                     any operand is left or the carry is not 0)
 * </pre>
 * The popped digit is the one just before the next label ("B=", " carry=") and the new state is a
 * left-to-right copy of the old one, so no step has to count positions or look at the prompt.
 *
 * <p>Then 0–3 verification passes in R1's manner ("Wait, let me double-check…"), each the same
 * scratchpad redone with the operands rotated, ending "That gives N again, the same as before." With
 * probability {@link #SLIP_RATE} a solution that has at least one pass contains a deliberate slip in
 * the first computation (one column sum off by one, everything after it consistent with the wrong
 * sum); the first pass then finds a different result and says so: "That gives N, not M. I made a
 * mistake earlier, so the sum is N." Verification passes themselves are always right. So the passes
 * are mostly overhead, except when they catch a slip: shortening costs accuracy when overdone.
 */
public final class System2Writer {
    /** Verification passes are drawn uniformly from 0..MAX_PASSES. */
    public static final int MAX_PASSES = 3;
    /** Probability of a deliberate slip in the first computation, given at least one verification pass. */
    public static final double SLIP_RATE = 0.15;

    public static final String HEADER = "Let me add the numbers column by column, starting from the right.";
    public static final List<String> PASS_OPENINGS = List.of(
            "Wait, let me double-check by adding them again.",
            "Hmm, let me verify that once more.",
            "Let me check that again to be sure.",
            "Wait, let me redo the columns to be safe.");
    static final String LABELS = "ABCDEFGH";

    private System2Writer() {}

    /**
     * A deliberate mistake: column {@code column} (0 = ones) of the first computation is written with
     * sum + delta (delta = ±1) instead of the true column sum.
     */
    public record Slip(int column, int delta) {}

    /**
     * A written solution and how it was made.
     *
     * @param response  the assistant text after the generation prompt's {@code <think>\n}
     * @param passes    verification passes (0..3)
     * @param slip      the deliberate slip, or null
     * @param openings  index into {@link #PASS_OPENINGS} of each pass's first sentence
     */
    public record Trace(String response, int passes, Slip slip, int[] openings) {}

    /** A random System-2 solution: passes ~ U{0..3}; a slip with probability SLIP_RATE when passes ≥ 1. */
    public static Trace write(Problem p, SplittableRandom rng) {
        int passes = rng.nextInt(MAX_PASSES + 1);
        Slip slip = null;
        if (passes > 0 && rng.nextDouble() < SLIP_RATE) {
            int columns = Problem.level(p.level()).digits();
            int column = rng.nextInt(columns);
            int delta = rng.nextBoolean() ? 1 : -1;
            slip = new Slip(column, delta);
        }
        int[] openings = new int[passes];
        for (int i = 0; i < passes; i++) openings[i] = rng.nextInt(PASS_OPENINGS.size());
        return write(p, passes, slip, openings);
    }

    /** The solution with the given passes, slip (or null) and pass openings. */
    public static Trace write(Problem p, int passes, Slip slip, int[] openings) {
        if (passes < 0 || passes > MAX_PASSES) throw new IllegalArgumentException("passes must be in 0.." + MAX_PASSES + ": " + passes);
        if (openings.length != passes) throw new IllegalArgumentException(openings.length + " openings for " + passes + " passes");
        if (slip != null && passes == 0) throw new IllegalArgumentException("a slip needs a verification pass to catch it");
        StringBuilder out = new StringBuilder();
        out.append(HEADER).append('\n');
        long first = columns(p.operands(), slip, out);
        out.append("So the sum is ").append(first).append(".\n");
        long current = first;
        for (int k = 1; k <= passes; k++) {
            out.append(PASS_OPENINGS.get(openings[k - 1])).append('\n');
            long again = columns(rotate(p.operands(), k), null, out);
            if (again == current) {
                out.append("That gives ").append(again).append(" again, the same as before.\n");
            } else {
                out.append("That gives ").append(again).append(", not ").append(current)
                        .append(". I made a mistake earlier, so the sum is ").append(again).append(".\n");
                current = again;
            }
        }
        if (current != p.answer()) throw new IllegalStateException("trace of " + p + " ends at " + current);
        out.append("</think>\n\nThe answer is \\boxed{").append(current).append("}.");
        return new Trace(out.toString(), passes, slip, openings.clone());
    }

    /**
     * The terse solution (a System-1 style): the header, the column lines alone (no state lines), the
     * conclusion and the answer.
     * <pre>
     *   Let me add the numbers column by column, starting from the right.
     *   1+5+0=6
     *   2+7+0=9
     *   8+9+0=17
     *   4+3+1=8
     *   So the sum is 8796.
     * </pre>
     * Without the state lines every column line has to fetch its digits from the prompt by position
     * (the k-th digit from the right of each operand) and the conclusion has to gather the last digit
     * of every column line in reverse: easy at two digits, unreliable at four digits or three operands.
     */
    public static String terse(Problem p) {
        StringBuilder out = new StringBuilder();
        out.append(HEADER).append('\n');
        long sum = columns(p.operands(), null, out, false);
        out.append("So the sum is ").append(sum).append(".\n");
        return out.append("</think>\n\nThe answer is \\boxed{").append(sum).append("}.").toString();
    }

    /**
     * The sketch solution (a second System-1 candidate): each column's digits summed without the carry, then
     * the result, so every carry is resolved at once in the conclusion.
     * <pre>
     *   Let me add the numbers column by column, starting from the right.
     *   1+5=6
     *   2+7=9
     *   8+9=17
     *   4+3=7
     *   So the sum is 8796.
     * </pre>
     */
    public static String sketch(Problem p) {
        StringBuilder out = new StringBuilder(HEADER).append('\n');
        String[] ops = new String[p.operands().length];
        int longest = 0;
        for (int i = 0; i < ops.length; i++) longest = Math.max(longest, (ops[i] = Long.toString(p.operands()[i])).length());
        for (int k = 0; k < longest; k++) {
            int sum = 0;
            for (int i = 0; i < ops.length; i++) {
                int d = k < ops[i].length() ? ops[i].charAt(ops[i].length() - 1 - k) - '0' : 0;
                sum += d;
                out.append(d).append(i + 1 < ops.length ? "+" : "=");
            }
            out.append(sum).append('\n');
        }
        out.append("So the sum is ").append(p.answer()).append(".\n");
        return out.append("</think>\n\nThe answer is \\boxed{").append(p.answer()).append("}.").toString();
    }

    /**
     * Appends the scratchpad for {@code operands} (state line, column line, ..., final state line) and
     * returns the result it arrives at (wrong when a slip is given).
     */
    static long columns(long[] operands, Slip slip, StringBuilder out) {
        return columns(operands, slip, out, true);
    }

    /** As above; without {@code states} only the column lines are written. */
    private static long columns(long[] operands, Slip slip, StringBuilder out, boolean states) {
        int n = operands.length;
        if (n > LABELS.length()) throw new IllegalArgumentException("at most " + LABELS.length() + " operands");
        String[] left = new String[n];
        for (int i = 0; i < n; i++) left[i] = Long.toString(operands[i]);
        int carry = 0;
        StringBuilder digits = new StringBuilder();
        boolean slipped = false;
        for (int column = 0; ; column++) {
            if (states) state(left, carry, digits, out);
            boolean anyLeft = false;
            for (String s : left) anyLeft |= !s.isEmpty();
            if (!anyLeft && carry == 0) break;
            int sum = carry;
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < n; i++) {
                int d = left[i].isEmpty() ? 0 : left[i].charAt(left[i].length() - 1) - '0';
                sum += d;
                line.append(d).append('+');
                if (!left[i].isEmpty()) left[i] = left[i].substring(0, left[i].length() - 1);
            }
            if (slip != null && slip.column() == column && anyLeft) {
                // never below 0 (a negative sum cannot be written as digit and carry)
                sum = sum + slip.delta() >= 0 ? sum + slip.delta() : sum + 1;
                slipped = true;
            }
            line.append(carry).append('=').append(sum);
            out.append(line).append('\n');
            carry = sum / 10;
            digits.insert(0, (char) ('0' + sum % 10));
        }
        if (slip != null && !slipped) throw new IllegalArgumentException("slip column " + slip.column() + " is not a digit column");
        return Long.parseLong(digits.toString());
    }

    /** "A=482 B=397 carry=1 digits=96". */
    private static void state(String[] left, int carry, CharSequence digits, StringBuilder out) {
        for (int i = 0; i < left.length; i++) {
            if (i > 0) out.append(' ');
            out.append(LABELS.charAt(i)).append('=').append(left[i]);
        }
        out.append(" carry=").append(carry).append(" digits=").append(digits).append('\n');
    }

    /**
     * Pass k adds the operands rotated left by k (two operands: swapped, original, swapped), so a
     * pass cannot simply repeat the first computation's lines: its column lines differ in order.
     */
    static long[] rotate(long[] ops, int k) {
        long[] r = new long[ops.length];
        for (int i = 0; i < ops.length; i++) r[i] = ops[(i + k) % ops.length];
        return r;
    }

    /** Lines of the reasoning (before {@code </think>}), for tools that inspect traces. */
    public static List<String> reasoningLines(String response) {
        int end = response.indexOf("</think>");
        String reasoning = end < 0 ? response : response.substring(0, end);
        List<String> out = new ArrayList<>();
        for (String s : reasoning.split("\n")) if (!s.isEmpty()) out.add(s);
        return out;
    }
}
