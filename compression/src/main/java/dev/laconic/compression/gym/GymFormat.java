package dev.laconic.compression.gym;

import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How a gym problem becomes a prompt and a response, identical in training and in evaluation.
 *
 * <pre>
 *   user turn   = INSTRUCTION + problem.text()      ("Please reason step by step, … \boxed{}.What is 47 + 85?")
 *   prompt ids  = ChatTemplate(R1, the gym tokenizer's BOS/EOS).encode([user], generation prompt)
 *               = BOS &lt;｜User｜&gt; user turn &lt;｜Assistant｜&gt;&lt;think&gt;\n
 *   training    = prompt ids + tokens(response) + EOS, loss on the response and EOS only
 * </pre>
 * The instruction is concatenated with the problem as the R1 evaluation protocol does
 * ({instruction}{problem}, ../shared/methods.md), with no separator.
 */
public final class GymFormat {
    public static final String INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";

    private GymFormat() {}

    /**
     * The solution styles: SYSTEM2 the long reasoner's (scratchpad + 0–3 verification passes), SYSTEM1 the
     * direct answer, BRIEF the scratchpad alone (no verification pass): short chain-of-thought, the kind of
     * System-1 data TL;DR trains on (short solutions the model can still get right), TERSE the column lines
     * alone (no state lines: each line fetches its digits from the prompt by position, so it is right on easy
     * levels and unreliable on hard ones), SKETCH each column's digit sum without the carry, every carry resolved
     * in the conclusion.
     */
    public enum Style {
        SYSTEM2, SYSTEM1, BRIEF, TERSE, SKETCH;

        public static Style parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace("-", "")) {
                case "system2", "long", "s2" -> SYSTEM2;
                case "system1", "short", "s1" -> SYSTEM1;
                case "brief" -> BRIEF;
                case "terse" -> TERSE;
                case "sketch" -> SKETCH;
                default -> throw new IllegalArgumentException("style must be system2, system1, brief, terse or sketch, not " + s);
            };
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** The complete user message. */
    public static String userMessage(Problem p) {
        return INSTRUCTION + p.text();
    }

    /** A response of the given style; System-2 draws its passes and slip from {@code rng}. */
    public static String response(Problem p, Style style, SplittableRandom rng) {
        return switch (style) {
            case SYSTEM2 -> System2Writer.write(p, rng).response();
            case SYSTEM1 -> System1Writer.write(p);
            case BRIEF -> System2Writer.write(p, 0, null, new int[0]).response();
            case TERSE -> System2Writer.terse(p);
            case SKETCH -> System2Writer.sketch(p);
        };
    }

    /** Prompt ids exactly as the evaluation harness builds them. */
    public static int[] promptIds(Tokenizer tok, Problem p) {
        return promptIds(tok, userMessage(p));
    }

    public static int[] promptIds(Tokenizer tok, String userMessage) {
        return ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(userMessage)), true);
    }

    /**
     * One training row: ids = prompt + response + EOS, weights[t-1] = 1 where ids[t] belongs to the
     * response or is the EOS (the shape {@code TokenObjective} takes: one weight per predicted token).
     */
    public record Row(int[] ids, float[] weights, int promptTokens) {
        public int responseTokens() { return ids.length - promptTokens; }
    }

    public static Row row(Tokenizer tok, String userMessage, String response) {
        int[] prompt = promptIds(tok, userMessage);
        int[] resp = tok.encode(response, false);
        int[] ids = new int[prompt.length + resp.length + 1];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(resp, 0, ids, prompt.length, resp.length);
        ids[ids.length - 1] = tok.eosId();
        float[] w = new float[ids.length - 1];
        for (int t = prompt.length; t < ids.length; t++) w[t - 1] = 1;
        return new Row(ids, w, prompt.length);
    }
}
