package dev.laconic.compression.gym;

/**
 * The brief, intuitive solution ("System 1"): one line of thought that states the result at once,
 * then the answer.
 * <pre>
 *   4821 + 3975 = 8796.
 *   &lt;/think&gt;
 *
 *   The answer is \boxed{8796}.
 * </pre>
 * The generation prompt already opened {@code <think>\n}, so the thinking block holds the one line:
 * the R1 format stays intact (the same prompt serves both styles) and the answer part is exactly the
 * System-2 one. A direct answer has to produce every carry before writing the first digit, which a
 * small model manages on two-digit sums and not on long ones: the short reference point of TL;DR.
 */
public final class System1Writer {
    private System1Writer() {}

    public static String write(Problem p) {
        return p.expression() + " = " + p.answer() + ".\n</think>\n\nThe answer is \\boxed{" + p.answer() + "}.";
    }
}
