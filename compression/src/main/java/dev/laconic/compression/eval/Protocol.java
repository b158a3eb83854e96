package dev.laconic.compression.eval;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The evaluation settings of the two papers (methods.md, "Evaluation protocols"). Both prompt R1-style:
 * <pre>
 *   &lt;｜begin▁of▁sentence｜&gt;&lt;｜User｜&gt;{instruction}{problem}&lt;｜Assistant｜&gt;&lt;think&gt;\n
 * </pre>
 * with the instruction "Please reason step by step, and put your final answer within \boxed{}.";
 * Method B (Arora &amp; Zanette) writes "Question: " before the problem. Instruction and problem are joined
 * with nothing between them, as methods.md writes the template (the gym's prompts, GymFormat, do the same).
 * The user turn is a template with a {@code {problem}} slot; the chat template around it is always R1's
 * ({@link Evaluator}).
 * <pre>
 *              temperature  top-p  max new tokens  samples per problem
 *   tldr       0.7          1.0    8192            GSM8K 1, MATH500 1, AIME 8, AMC 8
 *   arora      0.6          1.0    32768           GSM8K 1, MATH500 3, AIME 10 (AMC: 10, as AIME)
 * </pre>
 * A gym file's "prompt" is already the complete user turn the gym reasoner was trained on (instruction +
 * problem, GymData), so gym data takes the bare {@code {problem}} template under either protocol.
 */
public enum Protocol {
    TLDR(0.7f, 1f, 8192, Instruction.TEXT + "{problem}"),
    ARORA(0.6f, 1f, 32768, Instruction.TEXT + "Question: {problem}");

    /** A holder, because enum constants cannot name the enum's own static fields. */
    private static final class Instruction {
        static final String TEXT = "Please reason step by step, and put your final answer within \\boxed{}.";
    }

    public static final String INSTRUCTION = Instruction.TEXT;
    /** The user turn is the problem text itself. */
    public static final String BARE = "{problem}";

    public final float temperature, topP;
    public final int maxTokens;
    public final String template;

    Protocol(float temperature, float topP, int maxTokens, String template) {
        this.temperature = temperature;
        this.topP = topP;
        this.maxTokens = maxTokens;
        this.template = template;
    }

    public static Protocol parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "tldr", "tl;dr", "a" -> TLDR;
            case "arora", "b" -> ARORA;
            default -> throw new IllegalArgumentException("protocol must be tldr or arora, not " + s);
        };
    }

    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** The user-turn template for a data format. */
    public String template(DataFormat format) {
        return format == DataFormat.GYM ? BARE : template;
    }

    /**
     * Samples per problem. The papers set n per benchmark; AIME and AMC come as math-format files, so their
     * file name tells them apart ("aime", "amc" anywhere in it).
     */
    public int samples(DataFormat format, Path data) {
        String name = data == null || data.getFileName() == null ? "" : data.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.contains("aime")) return this == TLDR ? 8 : 10;
        if (name.contains("amc")) return this == TLDR ? 8 : 10;
        return format == DataFormat.MATH && this == ARORA ? 3 : 1;
    }

    /** The paper's settings for a data file; batch = sequences decoded together. */
    public EvalSettings settings(DataFormat format, Path data, long seed, int batch) {
        return new EvalSettings(template(format), samples(format, data), temperature, topP, maxTokens, seed, batch);
    }
}
