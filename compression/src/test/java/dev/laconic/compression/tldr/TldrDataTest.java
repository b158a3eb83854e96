package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.compression.checker.AnswerChecker;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Protocol;
import dev.laconic.compression.eval.Sample;
import dev.laconic.training.Jsonl;
import dev.laconic.training.RunDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The TL;DR data builders: shortest correct of k samples, and worked solutions in the R1 format. */
class TldrDataTest {
    static final Path GSM8K_TRAIN = Path.of("/work/shared/data/gsm8k-train.jsonl");
    static final EvalSettings TLDR = Protocol.TLDR.settings(DataFormat.GSM8K, null, 0, 1);

    @Test
    void gsm8kWorkedAnswerBecomesAnR1Response() {
        String worked = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72";
        assertEquals("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\n</think>\n\n"
                + "The answer is \\boxed{72}.", TldrData.gsm8kResponse(worked));
        assertThrows(IllegalArgumentException.class, () -> TldrData.gsm8kResponse("no marker"));
        assertThrows(IllegalArgumentException.class, () -> TldrData.gsm8kResponse("steps\n#### "));
    }

    static Sample s(int problem, int sample, int tokens, boolean correct) {
        return new Sample(problem, "p" + problem, sample, "3", "completion " + problem + "/" + sample, tokens, 0, Sample.EOS,
                correct ? "5" : "4", correct);
    }

    @Test
    void keepsTheShortestCorrectSampleTiesToTheLowerIndex() {
        List<Problem> problems = List.of(new Problem(0, "p0", "What is 2+3?", "5", "3"), new Problem(1, "p1", "What is 1+3?", "4", "4"),
                new Problem(2, "p2", "What is 0+5?", "5", null));
        List<Sample> samples = List.of(s(0, 0, 50, true), s(0, 1, 30, false), s(0, 2, 40, true), s(0, 3, 40, true),
                s(1, 0, 10, false), s(1, 1, 12, false), s(2, 1, 70, true), s(2, 0, 70, true));
        List<TldrData.Line> lines = TldrData.shortestCorrect(problems, samples, TLDR);
        assertEquals(2, lines.size(), "problem 1 has no correct sample");
        TldrData.Line a = lines.get(0);
        assertEquals("completion 0/2", a.response());
        assertEquals(40, a.tokens());
        assertEquals(3, a.correctOf());
        assertEquals(Protocol.INSTRUCTION + "What is 2+3?", a.prompt(), "the prompt is the user turn the model saw");
        assertEquals("3", a.difficulty());
        assertEquals("completion 2/0", lines.get(1).response(), "equal lengths: the lower sample index");
        assertEquals(55.0, TldrData.meanTokens(lines));
        JsonNode j = a.json();
        assertEquals("5", j.get("answer").asText());
        assertEquals(3, j.get("correct_of").asInt());
    }

    @Test
    void solutionsFromGymAndGsm8kFiles(@TempDir Path dir) throws Exception {
        Path gym = TinyGym.system2(dir.resolve("gym.jsonl"), 3);
        List<Problem> gp = DataFormat.GYM.load(gym);
        EvalSettings gs = Protocol.TLDR.settings(DataFormat.GYM, gym, 0, 1);
        List<TldrData.Line> g = TldrData.fromSolutions(gym, DataFormat.GYM, gp, gs);
        List<Jsonl.Line> raw = Jsonl.read(gym);
        for (int i = 0; i < 3; i++) {
            assertEquals(raw.get(i).text("response"), g.get(i).response());
            assertEquals(raw.get(i).text("prompt"), g.get(i).prompt());
        }
        Path gsm = dir.resolve("gsm.jsonl");
        Files.writeString(gsm, """
                {"question": "What is 6 times 7?", "answer": "6*7 = <<6*7=42>>42\\n#### 42"}

                {"question": "Two plus two?", "answer": "2+2=4\\n#### 4"}
                """);
        List<TldrData.Line> q = TldrData.fromSolutions(gsm, DataFormat.GSM8K, DataFormat.GSM8K.load(gsm), TLDR);
        assertEquals("6*7 = 42\n</think>\n\nThe answer is \\boxed{42}.", q.get(0).response());
        assertEquals(Protocol.INSTRUCTION + "Two plus two?", q.get(1).prompt());
        Path out = dir.resolve("out.jsonl");
        TldrData.write(out, q);
        assertEquals(2, Files.readAllLines(out).size());
        assertEquals("4", RunDir.JSON.readTree(Files.readAllLines(out).get(1)).get("answer").asText());

        Path math = dir.resolve("math.jsonl");
        Files.writeString(math, "{\"problem\": \"1+1\", \"answer\": \"2\"}\n");
        Jsonl.BadInput e = assertThrows(Jsonl.BadInput.class, () -> TldrData.fromSolutions(math, DataFormat.MATH, DataFormat.MATH.load(math), TLDR));
        assertTrue(e.getMessage().startsWith(math + ":1: field \"solution\""), e.getMessage());
    }

    @Test
    void difficultyFilter() {
        List<Problem> p = List.of(new Problem(0, "a", "x", "1", "1"), new Problem(1, "b", "y", "2", "3"), new Problem(2, "c", "z", "3", null));
        assertEquals(List.of(p.get(1)), TldrData.withDifficulty(p, List.of("3", "4")));
        assertEquals(p, TldrData.withDifficulty(p, List.of()));
        assertThrows(IllegalArgumentException.class, () -> TldrData.withDifficulty(p, List.of("9")));
    }

    /** Every GSM8K training solution, rewritten, is graded correct against its own reference by the answer checker. */
    @Test
    void everyRewrittenGsm8kSolutionGradesCorrect() {
        assumeTrue(Files.isRegularFile(GSM8K_TRAIN), "needs " + GSM8K_TRAIN);
        List<Problem> problems = DataFormat.GSM8K.load(GSM8K_TRAIN);
        List<TldrData.Line> lines = TldrData.fromSolutions(GSM8K_TRAIN, DataFormat.GSM8K, problems, TLDR);
        assertEquals(problems.size(), lines.size());
        int wrong = 0;
        for (int i = 0; i < lines.size(); i++) {
            TldrData.Line l = lines.get(i);
            assertFalse(l.response().contains("<<"), "calculator annotation left in line " + (i + 1));
            assertTrue(l.response().indexOf("</think>") > 0);
            if (!AnswerChecker.grade(l.response(), problems.get(i).reference()).correct()) wrong++;
        }
        assertEquals(0, wrong, "rewritten solutions whose answer the checker rejects");
    }
}
