package dev.laconic.compression.checker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The table of hand-labelled cases in src/test/resources/checker/ (written by
 * tools/make_checker_goldens.py, which also records what Hugging Face math-verify says about each).
 * The labels are ours; where math-verify disagrees, the case says why we keep ours.
 */
class AnswerCheckerCasesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<JsonNode> load(String name) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (InputStream in = AnswerCheckerCasesTest.class.getResourceAsStream("/checker/" + name)) {
            assertNotNull(in, name);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) if (!line.isBlank()) out.add(JSON.readTree(line));
        }
        return out;
    }

    static Stream<Arguments> equivalence() throws IOException {
        return load("equivalence.jsonl").stream().map(n -> Arguments.of(n.get("pred").asText(), n.get("ref").asText(),
                n.get("expected").asBoolean(), n.get("why").asText()));
    }

    @ParameterizedTest(name = "{0} vs {1} → {2}")
    @MethodSource("equivalence")
    void equivalence(String pred, String ref, boolean expected, String why) {
        assertEquals(expected, AnswerChecker.equivalent(pred, ref), why);
        // nothing in the rules depends on which side is the reference
        assertEquals(expected, AnswerChecker.equivalent(ref, pred), "swapped: " + why);
    }

    static Stream<Arguments> extraction() throws IOException {
        return load("extraction.jsonl").stream().map(n -> Arguments.of(n.get("completion").asText(),
                n.get("ref").asText(), n.get("extracted").isNull() ? null : n.get("extracted").asText(),
                n.get("correct").asBoolean(), n.get("why").asText()));
    }

    @ParameterizedTest(name = "{4}")
    @MethodSource("extraction")
    void extraction(String completion, String ref, String extracted, boolean correct, String why) {
        assertEquals(extracted, AnswerChecker.extract(completion), why);
        AnswerChecker.Result r = AnswerChecker.grade(completion, ref);
        assertEquals(new AnswerChecker.Result(extracted, correct), r, why);
    }

    /**
     * The suite's shape: ≥ 500 equivalence and ≥ 90 extraction cases, mostly LaTeX, many negatives,
     * every disagreement explained.
     */
    @Test
    void tableCoversTheSpec() throws IOException {
        List<JsonNode> cases = load("equivalence.jsonl");
        assertTrue(cases.size() >= 500, "cases: " + cases.size());
        long latex = cases.stream().filter(n -> (n.get("pred").asText() + n.get("ref").asText()).contains("\\")).count();
        assertTrue(latex * 2 >= cases.size(), "LaTeX cases: " + latex);
        long negatives = cases.stream().filter(n -> !n.get("expected").asBoolean()).count();
        assertTrue(negatives >= 250, "must-not-match cases: " + negatives);
        List<JsonNode> extraction = load("extraction.jsonl");
        assertTrue(extraction.size() >= 90, "extraction cases: " + extraction.size());
        long agree = 0;
        List<JsonNode> all = new ArrayList<>(cases);
        all.addAll(extraction);
        for (JsonNode n : all) {
            boolean label = n.has("expected") ? n.get("expected").asBoolean() : n.get("correct").asBoolean();
            if (label == n.get("math_verify").asBoolean()) agree++;
            else assertTrue(n.get("why").asText().contains("kept:"), "unexplained disagreement with math-verify: " + n);
        }
        // the independent reference agrees on the large majority
        assertTrue(agree >= 0.85 * all.size(), "agreement with math-verify: " + agree + "/" + all.size());
    }

    @Test
    void nullsAndEmptyNeverMatch() {
        assertFalse(AnswerChecker.equivalent(null, "5"));
        assertFalse(AnswerChecker.equivalent("5", null));
        assertFalse(AnswerChecker.equivalent("", ""));
        assertFalse(AnswerChecker.equivalent("$ $", " "));
        assertEquals(new AnswerChecker.Result(null, false), AnswerChecker.grade("no answer here", "5"));
        assertNull(AnswerChecker.extract(null));
    }

    @Test
    void gsm8kReference() {
        assertEquals("18", AnswerChecker.gsm8kReference("She makes 9 * 2 = $<<9*2=18>>18.\n#### 18"));
        assertEquals("1450000", AnswerChecker.gsm8kReference("...\n#### 1,450,000"));
        assertEquals("-10", AnswerChecker.gsm8kReference("#### -10"));
        assertEquals("2125", AnswerChecker.gsm8kReference("2,125"));
        // not a thousands-separated number: left alone (a MATH list)
        assertEquals("1,-2", AnswerChecker.gsm8kReference("1,-2"));
    }
}
