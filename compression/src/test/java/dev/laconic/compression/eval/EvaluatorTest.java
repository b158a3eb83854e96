package dev.laconic.compression.eval;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Mechanics of the harness on the tiny random golden model (its answers are noise, so accuracy is ~0):
 * batching does not change samples, a problem's samples depend on its dataset index only, a killed run
 * resumes to the same result, and a sample cut at the cap is wrong however right its answer.
 */
class EvaluatorTest {
    static final Path MODEL = Path.of("../transformer/src/test/resources/golden/qwen2-f32");
    static Model model;
    static Tokenizer tok;
    @TempDir Path tmp;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(MODEL, DType.F32, new VectorOps());
        tok = model.tokenizer();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Six problems; 0 and 4 share their text, so only their dataset index tells their samples apart. */
    static List<Problem> problems() {
        String[] text = {"What is 2+3?", "Add 17 and 25.", "x = 4", "Once upon a time", "What is 2+3?", "7*6"};
        List<Problem> l = new ArrayList<>();
        for (int i = 0; i < text.length; i++) l.add(new Problem(i, "q" + i, text[i], Integer.toString(i), i % 2 == 0 ? "easy" : "hard"));
        return l;
    }

    static EvalSettings settings(int batch) {
        return new EvalSettings(Protocol.TLDR.template, 2, 1.0f, 0.95f, 10, 1234, batch);
    }

    static List<Sample> run(List<Problem> ps, EvalSettings s, Path dir) throws Exception {
        return Evaluator.evaluate(model.transformer(), tok, ps, s, dir, null).samples();
    }

    @Test
    void promptIsTheR1Format() {
        Problem p = new Problem(0, "0", "What is 2+3?", "5", null);
        String expected = "<｜begin▁of▁sentence｜><｜User｜>Please reason step by step, and put your final answer within \\boxed{}."
                + "What is 2+3?<｜Assistant｜><think>\n";
        assertArrayEquals(tok.encode(expected, false), Evaluator.prompt(tok, settings(1), p));
        String arora = "<｜begin▁of▁sentence｜><｜User｜>Please reason step by step, and put your final answer within \\boxed{}."
                + "Question: What is 2+3?<｜Assistant｜><think>\n";
        assertArrayEquals(tok.encode(arora, false), Evaluator.prompt(tok, Protocol.ARORA.settings(DataFormat.MATH, null, 0, 1), p));
        assertEquals(3, Protocol.ARORA.settings(DataFormat.MATH, Path.of("math500.jsonl"), 0, 1).samples());
        assertEquals(8, Protocol.TLDR.samples(DataFormat.MATH, Path.of("aime24.jsonl")));
        assertEquals(Protocol.BARE, Protocol.ARORA.template(DataFormat.GYM));
    }

    @Test
    void gymPromptsAreTheOnesTheGymTrainsOn() {
        var g = new dev.laconic.compression.gym.Problem(3, new long[]{4821, 3975});
        int[] gym = dev.laconic.compression.gym.GymFormat.promptIds(tok, g);
        // a gym file's "prompt" is the whole user turn: the gym format takes it as it is
        Problem fromFile = new Problem(0, "0", dev.laconic.compression.gym.GymFormat.userMessage(g), "8796", "3");
        assertArrayEquals(gym, Evaluator.prompt(tok, Protocol.TLDR.settings(DataFormat.GYM, null, 0, 1), fromFile));
        // and the TL;DR template around the bare question builds the same user turn
        Problem bare = new Problem(0, "0", g.text(), "8796", "3");
        assertArrayEquals(gym, Evaluator.prompt(tok, settings(1), bare));
    }

    @Test
    void batchedEqualsOneAtATimeAndSamplesFollowTheDatasetIndex() throws Exception {
        List<Problem> ps = problems();
        List<Sample> batched = run(ps, settings(6), null);        // 3 problems × 2 samples per batch
        List<Sample> single = run(ps, settings(1), null);         // one problem per batch
        assertEquals(12, batched.size());
        assertEquals(single, batched);
        for (int i = 0; i < 12; i++) {
            assertEquals(i / 2, batched.get(i).index());
            assertEquals(i % 2, batched.get(i).sample());
            Sample x = batched.get(i);
            assertTrue(x.finish().equals(Sample.LENGTH) ? x.tokens() == 10 : x.tokens() <= 10, x.toString());
        }
        // the same problems in another order and other batches: problem 4 first, problem 1 second
        List<Sample> subset = run(List.of(ps.get(4), ps.get(1)), settings(4), null);
        assertEquals(batched.subList(8, 10), subset.subList(0, 2));
        assertEquals(batched.subList(2, 4), subset.subList(2, 4));
        // problems 0 and 4 have the same prompt but other random streams
        assertNotEquals(batched.get(0).completion(), batched.get(8).completion());
        // and the two samples of one problem differ
        assertNotEquals(batched.get(0).completion(), batched.get(1).completion());
    }

    @Test
    void killedRunResumesToTheSameResult() throws Exception {
        List<Problem> ps = problems();
        EvalSettings s = settings(4);                              // 2 problems per batch: 3 appends
        Path whole = tmp.resolve("whole"), killed = tmp.resolve("killed");
        Evaluator.Result ref = Evaluator.evaluate(model.transformer(), tok, ps, s, whole, null);

        int[] batches = {0};
        RuntimeException kill = new RuntimeException("killed");
        ProgressListener dies = p -> { if (p.batchDone() && ++batches[0] == 2) throw kill; };
        assertSame(kill, assertThrows(RuntimeException.class, () -> Evaluator.evaluate(model.transformer(), tok, ps, s, killed, dies)));
        Path samples = killed.resolve(Evaluator.SAMPLES);
        List<String> lines = Files.readAllLines(samples);
        assertEquals(8, lines.size());
        assertFalse(Files.exists(killed.resolve(Evaluator.SUMMARY)));
        // a kill in the middle of writing the next line: keep 6 whole lines and half of the 7th
        byte[] all = Files.readAllBytes(samples);
        int cut = 0;
        for (int i = 0; i < 6; i++) cut += lines.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
        cut += lines.get(6).getBytes(StandardCharsets.UTF_8).length / 2;
        Files.write(samples, Arrays.copyOf(all, cut));

        Evaluator.Result resumed = Evaluator.evaluate(model.transformer(), tok, ps, s, killed, null);
        assertEquals(3, resumed.resumed(), "problems 0-2 were whole on disk; problem 3 lost a sample and is redone");
        assertEquals(ref.samples(), resumed.samples(), "prompt and reference read back too");
        assertEquals(ref.summary(), resumed.summary());
        for (Sample x : resumed.samples()) {
            Problem p = ps.stream().filter(q -> q.index() == x.index()).findFirst().orElseThrow();
            assertEquals(p.reference(), x.reference(), "the gold answer beside the completion");
            assertEquals(tok.decode(Evaluator.prompt(tok, s, p), false), x.prompt(), "the prompt's text beside the completion");
            assertTrue(x.prompt().contains(p.text()), x.prompt());
        }
        var line0 = RunDir.JSON.readTree(Files.readAllLines(samples).getFirst());
        assertTrue(line0.has("prompt") && line0.has("reference") && line0.has("completion"), line0.toString());
        assertEquals(Files.readString(whole.resolve(Evaluator.SUMMARY)), Files.readString(killed.resolve(Evaluator.SUMMARY)));
        assertEquals(sortedLines(whole.resolve(Evaluator.SAMPLES)), sortedLines(samples));

        // once complete, running again decodes nothing
        Evaluator.Result again = Evaluator.evaluate(model.transformer(), tok, ps, s, killed, null);
        assertEquals(ps.size(), again.resumed());
        assertEquals(ref.summary(), again.summary());
        assertEquals(12, Files.readAllLines(samples).size());
    }

    static List<String> sortedLines(Path p) throws Exception {
        return Files.readAllLines(p).stream().sorted().collect(Collectors.toList());
    }

    @Test
    void otherDataInTheRunDirectoryIsRefused() throws Exception {
        List<Problem> ps = problems().subList(0, 2);
        Path dir = tmp.resolve("run");
        run(ps, settings(4), dir);
        List<Problem> other = List.of(new Problem(0, "different", "x", "1", null), ps.get(1));
        var e = assertThrows(dev.laconic.training.Jsonl.BadInput.class, () -> run(other, settings(4), dir));
        assertTrue(e.getMessage().contains("samples.jsonl:1:"), e.getMessage());
    }

    @Test
    void aSampleCutAtTheCapIsWrong() {
        Problem p = new Problem(0, "0", "What is 6*7?", "42", null);
        int[] body = tok.encode("so 6*7=42</think>\n\nThe answer is \\boxed{42}", false);
        int eos = tok.eosId();
        int[] withEos = Arrays.copyOf(body, body.length + 1);
        withEos[body.length] = eos;

        Sample finished = Evaluator.grade(tok, p, "the prompt", completion(withEos, Completion.Finish.EOS));
        assertTrue(finished.correct());
        assertEquals("42", finished.extracted());
        assertEquals("42", finished.reference());
        assertEquals("the prompt", finished.prompt());
        assertEquals(body.length + 1, finished.tokens(), "completion tokens count the EOS");
        assertEquals(tok.decode(body, false), finished.completion(), "the text leaves the EOS out");

        Sample cut = Evaluator.grade(tok, p, "the prompt", completion(body, Completion.Finish.LENGTH));
        assertFalse(cut.correct(), "cut at the cap: wrong even with the right answer");
        assertEquals("42", cut.extracted());
        assertEquals(Sample.LENGTH, cut.finish());
        assertTrue(cut.truncated());

        Sample wrong = Evaluator.grade(tok, new Problem(0, "0", "q", "41", null), null, completion(withEos, Completion.Finish.EOS));
        assertFalse(wrong.correct());
    }

    static Completion completion(int[] ids, Completion.Finish f) {
        return new Completion(0, 0, ids, new float[ids.length], "", "", "", f, 0);
    }

    @Test
    void promptsThatDoNotFitAreRefusedAndTheCapCanBeFitted() throws Exception {
        int context = model.config().maxPositions();
        EvalSettings big = settings(1).withMaxTokens(context);
        var e = assertThrows(IllegalArgumentException.class, () -> run(problems(), big, null));
        assertTrue(e.getMessage().contains("context"), e.getMessage());
        int longest = problems().stream().mapToInt(p -> Evaluator.prompt(tok, big, p).length).max().orElseThrow();
        assertEquals(context - longest, Evaluator.fitMaxTokens(tok, big, problems(), context));
        assertEquals(10, Evaluator.fitMaxTokens(tok, settings(1), problems(), context));
    }

    @Test
    void perDifficultyRowsComeFromTheData() throws Exception {
        Summary sum = Evaluator.evaluate(model.transformer(), tok, problems(), settings(12), null, null).summary();
        assertEquals(List.of("easy", "hard"), sum.byDifficulty().stream().map(Summary.Metrics::difficulty).toList());
        assertEquals(Map.of("easy", 3, "hard", 3), sum.byDifficulty().stream().collect(Collectors.toMap(Summary.Metrics::difficulty, Summary.Metrics::problems)));
        assertEquals(12, sum.all().samples());
    }

    @Test
    void aThinkingBudgetCutsTheReasoningAndLetsTheModelAnswer(@TempDir Path dir) throws Exception {
        EvalSettings s = settings(4).withMaxTokens(24).withThinkBudget(3);
        List<Sample> budgeted = run(problems(), s, dir.resolve("b"));
        List<Sample> free = run(problems(), settings(4).withMaxTokens(24), dir.resolve("f"));
        int forced = 0;
        for (Sample x : budgeted) {
            assertTrue(x.reasoningTokens() <= 3, "reasoning tokens " + x.reasoningTokens() + " over the budget");
            if (x.tokens() > 3 && x.completion().contains("</think>")) forced++;
        }
        assertTrue(forced > 0, "some samples ran into the budget and got </think>");
        assertTrue(free.stream().anyMatch(x -> x.reasoningTokens() > 3), "without a budget the random model thinks longer");
    }
}
