package dev.laconic.compression.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.checker.AnswerChecker;
import dev.laconic.transformer.generate.Completion;

import java.util.Locale;

/**
 * One graded sample: a line of samples.jsonl.
 * <pre>
 *   {"index": 12, "id": "12", "sample": 0, "difficulty": "3", "prompt": "&lt;｜User｜&gt;...", "completion": "...",
 *    "tokens": 345, "reasoning_tokens": 300, "finish": "eos", "reference": "18", "extracted": "18", "correct": true}
 * </pre>
 *
 * @param index           the problem's index in the data file
 * @param completion      the generated text after the prompt, special tokens kept, the final EOS left out
 * @param tokens          completion tokens, EOS included (methods.md: "completion tokens")
 * @param reasoningTokens tokens before {@code </think>}
 * @param finish          eos, length (cut at the cap) or stop
 * @param extracted       the answer the checker found, or null
 * @param correct         finished with EOS and the checker judged the answer equivalent to the reference
 * @param prompt          the prompt the model continued (chat template and special tokens included), or null
 *                        where not known (files written before it was recorded, RL rollouts)
 * @param reference       the gold answer the checker compared with, or null where not known
 */
public record Sample(int index, String id, int sample, String difficulty, String completion, int tokens,
                     int reasoningTokens, String finish, String extracted, boolean correct, String prompt, String reference) {
    public static final String EOS = "eos", LENGTH = "length", STOP = "stop";

    /** A sample without its prompt and reference. */
    public Sample(int index, String id, int sample, String difficulty, String completion, int tokens,
                  int reasoningTokens, String finish, String extracted, boolean correct) {
        this(index, id, sample, difficulty, completion, tokens, reasoningTokens, finish, extracted, correct, null, null);
    }

    /** Grades a completion: correct = ended with EOS (not cut at the cap) and the checker says equivalent. */
    public static Sample grade(Problem p, int sample, String completion, int tokens, int reasoningTokens, Completion.Finish finish) {
        return grade(p, null, sample, completion, tokens, reasoningTokens, finish);
    }

    /** {@link #grade(Problem, int, String, int, int, Completion.Finish)}, recording the prompt text too. */
    public static Sample grade(Problem p, String prompt, int sample, String completion, int tokens, int reasoningTokens,
                               Completion.Finish finish) {
        AnswerChecker.Result r = AnswerChecker.grade(completion, p.reference());
        String f = finish.name().toLowerCase(Locale.ROOT);
        return new Sample(p.index(), p.id(), sample, p.difficulty(), completion, tokens, reasoningTokens, f, r.extracted(),
                finish == Completion.Finish.EOS && r.correct(), prompt, p.reference());
    }

    public boolean truncated() { return finish.equals(LENGTH); }

    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("index", index);
        o.put("id", id);
        o.put("sample", sample);
        if (difficulty != null) o.put("difficulty", difficulty);
        if (prompt != null) o.put("prompt", prompt);
        o.put("completion", completion);
        o.put("tokens", tokens);
        o.put("reasoning_tokens", reasoningTokens);
        o.put("finish", finish);
        if (reference != null) o.put("reference", reference);
        if (extracted == null) o.putNull("extracted");
        else o.put("extracted", extracted);
        o.put("correct", correct);
        return o;
    }

    /** The inverse of {@link #toJson}; throws IllegalArgumentException naming the first missing or mistyped field. */
    public static Sample fromJson(JsonNode o) {
        return new Sample(integer(o, "index"), text(o, "id"), integer(o, "sample"), optional(o, "difficulty"),
                text(o, "completion"), integer(o, "tokens"), o.has("reasoning_tokens") ? integer(o, "reasoning_tokens") : 0,
                text(o, "finish"), optional(o, "extracted"), bool(o, "correct"), optional(o, "prompt"), optional(o, "reference"));
    }

    /** A field that may be missing or null (files of earlier versions lack prompt and reference). */
    private static String optional(JsonNode o, String f) {
        JsonNode n = o.get(f);
        return n == null || n.isNull() ? null : n.asText();
    }

    private static int integer(JsonNode o, String f) {
        JsonNode n = o.get(f);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) throw new IllegalArgumentException("field \"" + f + "\": expected an integer");
        return n.asInt();
    }

    private static String text(JsonNode o, String f) {
        JsonNode n = o.get(f);
        if (n == null || !n.isTextual()) throw new IllegalArgumentException("field \"" + f + "\": expected a string");
        return n.asText();
    }

    private static boolean bool(JsonNode o, String f) {
        JsonNode n = o.get(f);
        if (n == null || !n.isBoolean()) throw new IllegalArgumentException("field \"" + f + "\": expected true or false");
        return n.asBoolean();
    }
}
