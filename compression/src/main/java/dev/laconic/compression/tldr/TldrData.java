package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Sample;
import dev.laconic.training.Jsonl;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The two training sets of TL;DR, as {"prompt", "response"} lines that train-sft and compress tldr read
 * (prompt = the user turn, response = the text after the generation prompt's "&lt;think&gt;\n", R1 format):
 * <pre>
 *   System-2 (long)   sample the long reasoner k times per (hard) problem; keep the SHORTEST correct
 *                     completion (fewest tokens; ties: the lowest sample index); problems with no correct
 *                     sample are left out                                       (the authors' recipe)
 *   System-1 (short)  the same from a short model's samples, or the data file's own worked solutions
 *                     rewritten into the R1 format:
 *                       gsm8k  "…steps… #### N" → "…steps…\n&lt;/think&gt;\n\nThe answer is \boxed{N}."
 *                              (calculator annotations &lt;&lt;48/2=24&gt;&gt; removed)
 *                       math   a "solution" field → "solution\n&lt;/think&gt;\n\nThe answer is \boxed{answer}."
 *                       gym, jsonl  a "response" field, used as it is
 * </pre>
 * A line also carries "answer", "id", "difficulty" (when known) and, for sampled data, "tokens" (of the
 * kept completion, EOS included) and "correct_of" (correct samples of the k).
 */
public final class TldrData {
    private static final Pattern CALCULATOR = Pattern.compile("<<[^<>]*>>");

    private TldrData() {}

    /** One training example. {@code tokens}, {@code correctOf}: −1 for solutions taken from the data file. */
    public record Line(String prompt, String response, String answer, String id, String difficulty, int tokens, int correctOf) {
        public ObjectNode json() {
            ObjectNode o = RunDir.JSON.createObjectNode();
            o.put("prompt", prompt);
            o.put("response", response);
            o.put("answer", answer);
            o.put("id", id);
            if (difficulty != null) o.put("difficulty", difficulty);
            if (tokens >= 0) o.put("tokens", tokens);
            if (correctOf >= 0) o.put("correct_of", correctOf);
            return o;
        }
    }

    /** Problems whose difficulty is one of {@code levels} (all of them when {@code levels} is empty). */
    public static List<Problem> withDifficulty(List<Problem> problems, Collection<String> levels) {
        if (levels.isEmpty()) return problems;
        Set<String> want = Set.copyOf(levels);
        List<Problem> out = new ArrayList<>();
        for (Problem p : problems) if (p.difficulty() != null && want.contains(p.difficulty())) out.add(p);
        if (out.isEmpty()) throw new IllegalArgumentException("no problem has a difficulty in " + levels);
        return out;
    }

    /**
     * For each problem (in order), its correct sample with the fewest tokens; ties go to the lowest sample
     * index. Problems without a correct sample are left out.
     */
    public static List<Line> shortestCorrect(List<Problem> problems, List<Sample> samples, EvalSettings s) {
        Map<Integer, List<Sample>> byProblem = new LinkedHashMap<>();
        for (Sample x : samples) byProblem.computeIfAbsent(x.index(), k -> new ArrayList<>()).add(x);
        List<Line> out = new ArrayList<>();
        for (Problem p : problems) {
            Sample best = null;
            int correct = 0;
            for (Sample x : byProblem.getOrDefault(p.index(), List.of())) {
                if (!x.correct()) continue;
                correct++;
                if (best == null || x.tokens() < best.tokens() || (x.tokens() == best.tokens() && x.sample() < best.sample())) best = x;
            }
            if (best != null) out.add(new Line(s.userTurn(p), best.completion(), p.reference(), p.id(), p.difficulty(), best.tokens(), correct));
        }
        return out;
    }

    /** A GSM8K worked answer ("…\n#### N") in the R1 format, the thinking being the worked steps. */
    public static String gsm8kResponse(String worked) {
        int k = worked.lastIndexOf("####");
        if (k < 0) throw new IllegalArgumentException("no \"####\" in the worked answer");
        String steps = CALCULATOR.matcher(worked.substring(0, k)).replaceAll("").strip();
        String answer = worked.substring(k + 4).strip();
        if (answer.isEmpty()) throw new IllegalArgumentException("nothing after \"####\"");
        return r1(steps, answer);
    }

    /** "{thinking}\n&lt;/think&gt;\n\nThe answer is \boxed{answer}." — what follows the prompt's "&lt;think&gt;\n". */
    public static String r1(String thinking, String answer) {
        return thinking + "\n</think>\n\nThe answer is \\boxed{" + answer + "}.";
    }

    /** System-1 lines from the data file's own solutions (see the class comment for each format). */
    public static List<Line> fromSolutions(Path file, DataFormat format, List<Problem> problems, EvalSettings s) {
        List<Jsonl.Line> raw = Jsonl.read(file);
        List<Line> out = new ArrayList<>();
        for (Problem p : problems) {
            Jsonl.Line line = raw.get(p.index());
            String response = switch (format) {
                case GSM8K -> {
                    try {
                        yield gsm8kResponse(line.text("answer"));
                    } catch (IllegalArgumentException e) {
                        throw line.error("answer", e.getMessage());
                    }
                }
                case MATH -> {
                    if (!line.has("solution")) throw line.error("solution", "missing (data from solutions needs worked solutions; MATH500 files have none)");
                    yield r1(line.text("solution").strip(), p.reference());
                }
                case GYM, JSONL -> {
                    if (!line.has("response")) throw line.error("response", "missing (data from solutions takes a gym/jsonl file's \"response\")");
                    yield line.text("response");
                }
            };
            out.add(new Line(s.userTurn(p), response, p.reference(), p.id(), p.difficulty(), -1, -1));
        }
        return out;
    }

    /** Writes the lines (atomically). */
    public static void write(Path file, List<Line> lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) sb.append(Jsonl.line(l.json())).append('\n');
        RunDir.writeAtomically(file.toAbsolutePath(), sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Mean of "tokens" over lines that have it, NaN if none. */
    public static double meanTokens(List<Line> lines) {
        double sum = 0;
        int n = 0;
        for (Line l : lines) if (l.tokens() >= 0) { sum += l.tokens(); n++; }
        return n == 0 ? Double.NaN : sum / n;
    }
}
