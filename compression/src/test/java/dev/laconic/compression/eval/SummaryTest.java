package dev.laconic.compression.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Summary arithmetic on a hand-made list of graded samples; expected values worked out by hand below. */
class SummaryTest {
    static Sample s(int index, int sample, String difficulty, int tokens, String finish, String extracted, boolean correct) {
        return new Sample(index, "p" + index, sample, difficulty, "…", tokens, 0, finish, extracted, correct);
    }

    /*
     * problem 0 (difficulty 1), n 3:  eos "18" ✓ 100 | eos "18.0" ✓ 200 | length "7" ✗ 1000   c=2, vote {18,18.0}:2 vs — → ✓
     * problem 1 (difficulty 2), n 3:  eos "5" ✗ 50   | eos "5" ✗ 60     | eos "6" ✓ 70        c=1, vote {5}:2 {6}:1 → ✗
     * problem 2 (difficulty 2), n 3:  length "9" ✗ 1000 | length null ✗ 1000 | eos null ✗ 30  c=0, no votes → ✗
     * problem 3 (difficulty 10), n 2: eos "3" ✓ 40   | eos "4" ✗ 80                           c=1, tie → first class {3} → ✓
     *
     * all: 11 samples, 4 correct; accuracy 4/11; pass@1 (2/3 + 1/3 + 0 + 1/2)/4 = 0.375; pass@n 3/4; maj 2/4;
     *      tokens (100+200+1000 + 50+60+70 + 1000+1000+30 + 40+80)/11 = 3630/11; correct tokens (100+200+70+40)/4 = 102.5;
     *      truncated 3/11
     */
    static List<Sample> handMade() {
        List<Sample> l = new ArrayList<>(List.of(
                s(0, 0, "1", 100, "eos", "18", true), s(0, 1, "1", 200, "eos", "18.0", true), s(0, 2, "1", 1000, "length", "7", false),
                s(1, 0, "2", 50, "eos", "5", false), s(1, 1, "2", 60, "eos", "5", false), s(1, 2, "2", 70, "eos", "6", true),
                s(2, 0, "2", 1000, "length", "9", false), s(2, 1, "2", 1000, "length", null, false), s(2, 2, "2", 30, "eos", null, false),
                s(3, 0, "10", 40, "eos", "3", true), s(3, 1, "10", 80, "eos", "4", false)));
        java.util.Collections.reverse(l);        // order on disk must not matter
        return l;
    }

    @Test
    void overallRow() {
        Summary.Metrics a = Summary.of(handMade()).all();
        assertNull(a.difficulty());
        assertEquals(4, a.problems());
        assertEquals(11, a.samples());
        assertEquals(3, a.n());
        assertEquals(4.0 / 11, a.accuracy(), 1e-12);
        assertEquals((2.0 / 3 + 1.0 / 3 + 0 + 0.5) / 4, a.pass1(), 1e-12);
        assertEquals(0.75, a.passN(), 1e-12);
        assertEquals(0.5, a.majN(), 1e-12);
        assertEquals(3630.0 / 11, a.meanTokens(), 1e-9);
        assertEquals(102.5, a.meanTokensCorrect(), 1e-12);
        assertEquals(3.0 / 11, a.truncatedRate(), 1e-12);
    }

    @Test
    void perDifficultyRowsInNumericOrder() {
        List<Summary.Metrics> rows = Summary.of(handMade()).byDifficulty();
        assertEquals(List.of("1", "2", "10"), rows.stream().map(Summary.Metrics::difficulty).toList());
        Summary.Metrics d1 = rows.get(0), d2 = rows.get(1), d10 = rows.get(2);
        assertEquals(2.0 / 3, d1.accuracy(), 1e-12);
        assertEquals(1.0, d1.majN(), 1e-12);
        assertEquals(1.0 / 3, d1.truncatedRate(), 1e-12);
        assertEquals(150.0, d1.meanTokensCorrect(), 1e-12);
        assertEquals(2, d2.problems());
        assertEquals(1.0 / 6, d2.accuracy(), 1e-12);
        assertEquals(0.5, d2.passN(), 1e-12);
        assertEquals(0.0, d2.majN(), 1e-12);
        assertEquals((50 + 60 + 70 + 1000 + 1000 + 30) / 6.0, d2.meanTokens(), 1e-9);
        assertEquals(70.0, d2.meanTokensCorrect(), 1e-12);
        assertEquals(0.5, d10.accuracy(), 1e-12);
        assertEquals(1.0, d10.majN(), 1e-12, "a tie goes to the answer that came first");
    }

    @Test
    void majorityVoteCountsOnlyFinishedSamples() {
        // two truncated samples agree on a wrong answer; the one finished sample is right: it alone votes
        List<Sample> l = List.of(s(0, 0, null, 9, "length", "1", false), s(0, 1, null, 9, "length", "1", false),
                s(0, 2, null, 5, "eos", "2", true));
        Summary sum = Summary.of(l);
        assertEquals(1.0, sum.all().majN());
        assertTrue(sum.byDifficulty().isEmpty());
        assertTrue(Double.isNaN(Summary.of(List.of(s(0, 0, null, 9, "length", "1", false))).all().meanTokensCorrect()));
    }

    @Test
    void jsonAndTable() throws Exception {
        Summary sum = Summary.of(handMade());
        JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(sum.toJson().toString());
        for (String k : List.of("accuracy", "pass@1", "maj@n", "mean_completion_tokens", "mean_tokens_correct", "truncated_rate", "problems", "samples"))
            assertTrue(j.has(k), k);
        assertEquals(4.0 / 11, j.get("accuracy").asDouble(), 1e-12);
        assertEquals(3, j.get("by_difficulty").size());
        assertEquals("10", j.get("by_difficulty").get(2).get("difficulty").asText());
        String t = sum.table();
        assertEquals(5, t.strip().split("\n").length, t);          // header, all, 3 difficulties
        assertTrue(t.contains("0.3636"), t);                          // 4/11
    }
}
