package dev.laconic.compression.checker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every MATH500 and GSM8K test reference (../shared/data, MIT; read when present, never copied) is
 * equivalent to itself and to common rewritings of itself, and not to a changed copy.
 */
class RealDataTest {
    static final Path DATA = Path.of(System.getProperty("laconic.data", "../../shared/data"));
    static final ObjectMapper JSON = new ObjectMapper();

    static List<String> field(String file, String name) throws IOException {
        Path p = DATA.resolve(file);
        assumeTrue(Files.isRegularFile(p), "no " + p);
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) if (!line.isBlank()) out.add(JSON.readTree(line).get(name).asText());
        return out;
    }

    /** Ways models write the same MATH answer. */
    static final List<UnaryOperator<String>> REWRITES = List.of(
            a -> "$" + a + "$",
            a -> a.replace("\\frac", "\\dfrac"),
            a -> a.replace(",", ", ").replace("+", " + ").replace("=", " = "),
            // spaces dropped, except where TeX needs one to end a command name ("\cot x")
            a -> a.replaceAll("(?<![a-zA-Z])\\s+|\\s+(?![a-zA-Z])", ""),
            a -> a.contains("[") || a.contains("]") ? a : a.replace("(", "\\left(").replace(")", "\\right)"),
            a -> "\\boxed{" + a + "}",
            a -> a.matches("-?\\d+") ? a + ".0" : a,
            a -> a.matches("\\d+") ? a + "\\text{ units}" : a);

    @Test
    void math500AnswersMatchThemselvesAndRewritings() throws IOException {
        List<String> answers = field("math500.jsonl", "answer");
        assertEquals(500, answers.size());
        List<String> failures = new ArrayList<>();
        for (String a : answers) {
            if (!AnswerChecker.equivalent(a, a)) failures.add("self: " + a);
            for (int k = 0; k < REWRITES.size(); k++) {
                String b = REWRITES.get(k).apply(a);
                if (!AnswerChecker.equivalent(b, a)) failures.add("rewrite " + k + ": " + b + " vs " + a);
            }
            String completion = "<think>\nLet me try \\boxed{0}. Wait, no.\n</think>\n\nSo the answer is $\\boxed{" + a + "}$.";
            AnswerChecker.Result r = AnswerChecker.grade(completion, a);
            if (!r.correct() || !a.equals(r.extracted())) failures.add("grade: " + a + " → " + r);
        }
        assertEquals(List.of(), failures);
    }

    /** Changing the first digit changes the answer: none of these may match. */
    @Test
    void math500AnswersDoNotMatchAChangedDigit() throws IOException {
        List<String> failures = new ArrayList<>();
        int tested = 0;
        for (String a : field("math500.jsonl", "answer")) {
            int k = 0;
            while (k < a.length() && !Character.isDigit(a.charAt(k))) k++;
            if (k == a.length()) continue;
            String b = a.substring(0, k) + (char) ('0' + (a.charAt(k) - '0' + 1) % 10) + a.substring(k + 1);
            tested++;
            if (AnswerChecker.equivalent(b, a)) failures.add(b + " vs " + a);
        }
        assertTrue(tested > 400, "tested " + tested);
        assertEquals(List.of(), failures);
    }

    @Test
    void gsm8kReferences() throws IOException {
        List<String> failures = new ArrayList<>();
        for (String answer : field("gsm8k-test.jsonl", "answer")) {
            String ref = AnswerChecker.gsm8kReference(answer);
            BigDecimal v;
            try {
                v = new BigDecimal(ref);
            } catch (NumberFormatException e) {
                failures.add("not a number: " + ref);
                continue;
            }
            String plain = v.toPlainString();
            List<String> right = new ArrayList<>(List.of(plain, "\\$" + plain, plain + " \\text{ dollars}", plain + ".00"));
            if (v.scale() <= 0) right.add(String.format("%,d", v.toBigIntegerExact()));
            for (String p : right)
                if (!AnswerChecker.grade("</think>\n\n\\boxed{" + p + "}", answer).correct()) failures.add(p + " vs " + ref);
            List<String> wrong = List.of(v.add(BigDecimal.ONE).toPlainString(), v.multiply(BigDecimal.TEN).toPlainString(),
                    v.negate().toPlainString());
            for (String p : wrong)
                if (!p.equals(plain) && AnswerChecker.grade("</think>\n\n\\boxed{" + p + "}", answer).correct())
                    failures.add("wrongly accepted " + p + " vs " + ref);
        }
        assertEquals(List.of(), failures);
    }
}
