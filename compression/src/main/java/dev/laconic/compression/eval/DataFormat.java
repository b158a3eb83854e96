package dev.laconic.compression.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.compression.checker.AnswerChecker;

import dev.laconic.training.Jsonl;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The data files the harness reads, one JSON object per line. A fault names the file, line and field
 * ({@code test.jsonl:12: field "answer": missing}); nothing is evaluated until every line has parsed.
 * <pre>
 *   gsm8k   {"question": text, "answer": worked solution ending in "#### N"}      (openai/grade-school-math)
 *   math    {"problem": text, "answer": LaTeX answer, ["unique_id"], ["level"]}   (MATH500)
 *   gym     {"prompt": user-turn text, "answer": text|number, "difficulty": text|number, ["id"]}
 *   jsonl   {"prompt": text, "answer": text|number, ["difficulty"], ["id"]}
 * </pre>
 * Every format also takes an optional {@code difficulty} (and {@code id}); summaries then get a row per difficulty.
 */
public enum DataFormat {
    GSM8K("question"), MATH("problem"), GYM("prompt"), JSONL("prompt");

    private final String textField;

    DataFormat(String textField) {
        this.textField = textField;
    }

    public static DataFormat parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "gsm8k" -> GSM8K;
            case "math", "math500" -> MATH;
            case "gym" -> GYM;
            case "jsonl" -> JSONL;
            default -> throw new IllegalArgumentException("format must be gsm8k, math, gym or jsonl, not " + s);
        };
    }

    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** Every problem of the file, in file order. */
    public List<Problem> load(Path file) {
        List<Jsonl.Line> lines = Jsonl.read(file);
        List<Problem> out = new ArrayList<>(lines.size());
        for (Jsonl.Line line : lines) out.add(parse(line, out.size()));
        if (out.isEmpty()) throw new Jsonl.BadInput(file + ": no problems");
        return out;
    }

    Problem parse(Jsonl.Line line, int index) {
        String text = line.text(textField);
        String reference = switch (this) {
            case GSM8K -> {
                String a = line.text("answer");
                if (!a.contains("####")) throw line.error("answer", "a GSM8K answer ends with \"#### N\"; none found");
                String ref = AnswerChecker.gsm8kReference(a);
                if (ref == null || ref.isBlank()) throw line.error("answer", "nothing after \"####\"");
                yield ref;
            }
            case MATH -> line.text("answer");
            case GYM, JSONL -> scalar(line, "answer", true);
        };
        if (reference.isBlank()) throw line.error("answer", "empty");
        String id = line.has("id") ? scalar(line, "id", true)
                : this == MATH && line.has("unique_id") ? scalar(line, "unique_id", true) : Integer.toString(index);
        String difficulty = line.has("difficulty") ? scalar(line, "difficulty", false)
                : this == MATH && line.has("level") ? scalar(line, "level", false) : null;
        if (this == GYM && difficulty == null) throw line.error("difficulty", "missing (gym data carries a difficulty per problem)");
        return new Problem(index, id, text, reference, difficulty);
    }

    /** A string or a number, as text (gym answers and difficulties may be JSON numbers). */
    private static String scalar(Jsonl.Line line, String field, boolean required) {
        JsonNode n = line.json().get(field);
        if (n == null || n.isNull()) {
            if (required) throw line.error(field, "missing");
            return null;
        }
        if (n.isTextual()) return n.asText();
        if (n.isIntegralNumber()) return n.bigIntegerValue().toString();
        if (n.isNumber()) return n.decimalValue().toPlainString();
        throw line.error(field, "expected a string or a number");
    }
}
