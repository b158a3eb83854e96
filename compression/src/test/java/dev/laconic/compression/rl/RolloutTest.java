package dev.laconic.compression.rl;

import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Sample;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Grading, per-rollout statistics and the minibatch plan, on hand-built rollouts. */
class RolloutTest {
    static final Tokenizer TOK = TinyPolicy.TOK;
    static final Problem P = new Problem(0, "0", "What is 2 + 3?", "5", "1");

    static Completion completion(String text, boolean eos) {
        int[] body = TOK.encode(text, false);
        int[] ids = eos ? java.util.Arrays.copyOf(body, body.length + 1) : body;
        if (eos) ids[ids.length - 1] = TOK.eosId();
        return new Completion(0, 0, ids, new float[ids.length], text, "", text,
                eos ? Completion.Finish.EOS : Completion.Finish.LENGTH, 0);
    }

    @Test
    void theCheckerGradesLikeTheHarnessAndACutSampleIsWrong() {
        Rollout.Grader g = Rollout.checker(TOK);
        Completion right = completion("3 + 2 = 5\n</think>\n\n\\boxed{5}", true);
        Sample s = g.grade(P, right);
        assertTrue(s.correct());
        assertEquals("5", s.extracted());
        assertEquals(right.ids().length, s.tokens(), "tokens count the EOS");
        assertFalse(g.grade(P, completion("3 + 2 = 5\n</think>\n\n\\boxed{6}", true)).correct());
        Sample cut = g.grade(P, completion("3 + 2 = 5\n</think>\n\n\\boxed{5}", false));
        assertFalse(cut.correct(), "right answer but cut at the cap: wrong");
        assertTrue(cut.truncated());
    }

    static Rollout.Item item(int group, int tokens, boolean correct, boolean cut) {
        Sample s = new Sample(group, "g" + group, 0, null, "", tokens, 0, cut ? Sample.LENGTH : Sample.EOS, null, correct);
        return new Rollout.Item(group, P, new int[]{1, 2, 3}, new int[tokens], s);
    }

    /** Two groups of three: (10 ✓, 20 ✗, 30 cut) and (40 ✗, 50 ✗, 60 ✗). */
    static Rollout rollout() {
        return new Rollout(1, 3, List.of(item(0, 10, true, false), item(0, 20, false, false), item(0, 30, false, true),
                item(1, 40, false, false), item(1, 50, false, false), item(1, 60, false, true)));
    }

    @Test
    void sampleStatistics() {
        Rollout r = rollout();
        RolloutMetrics.SampleStats s = RolloutMetrics.samples(r, new double[]{0.9, 0, 0, 0, 0, 0});
        assertEquals(0.15, s.reward(), 1e-12);
        assertEquals(1.0 / 6, s.accuracy(), 1e-12);
        assertEquals(35, s.meanLength(), 1e-12);                          // (10+…+60)/6
        assertEquals(10, s.meanLengthCorrect(), 1e-12);
        assertEquals(30, s.meanLengthTerminated(), 1e-12);                // 10, 20, 40, 50
        assertEquals(2.0 / 6, s.clippedRatio(), 1e-12);
        assertEquals(1, s.allWrongGroups());
        assertEquals(0, s.allCorrectGroups());
        assertEquals(210, s.tokens());
        assertEquals(List.of(r.items().get(3), r.items().get(4), r.items().get(5)), r.group(1));
        assertEquals(2, r.items().get(0).offset(), "the first completion token is predicted at logp index prompt length − 1");
        assertArrayEquals(new int[]{1, 2, 3, 0, 0}, item(0, 2, true, false).sequence());

        RolloutMetrics.requireSomeTerminated(r, 60);
        Rollout allCut = new Rollout(4, 2, List.of(item(0, 8, false, true), item(0, 8, false, true)));
        var e = assertThrows(RolloutMetrics.AllCut.class, () -> RolloutMetrics.requireSomeTerminated(allCut, 8));
        assertTrue(e.getMessage().startsWith("rollout 4: all 2 samples were cut at maxTokens 8"), e.getMessage());
        assertTrue(e instanceof IllegalStateException, "a user-facing error (one line, exit 1)");
    }

    @Test
    void metricsLineRoundTrips() {
        Rollout allWrong = new Rollout(3, 2, List.of(item(0, 10, false, false), item(0, 12, false, true)));
        RolloutMetrics m = RolloutMetrics.of(3, 6, 1e-5, RolloutMetrics.samples(allWrong, new double[2]), 0.01, 0.5, -0.1, 0.05, 1e-4, 0.7, 1.2);
        assertEquals(m.toString(), RolloutMetrics.fromJson(m.toJson()).toString());   // NaN-safe comparison of every field
        assertTrue(m.toJson().get("mean_length_correct").isNull(), "no correct sample: null, not NaN");
        for (String f : List.of("step", "reward", "accuracy", "mean_length", "mean_length_correct", "mean_length_terminated",
                "clipped_ratio", "kl", "all_wrong_groups"))
            assertTrue(m.toJson().has(f), f);
    }

    @Test
    void planCutsMinibatchesAndMicroBatchesByTokens() {
        List<Rollout.Item> items = new ArrayList<>();
        int[] lens = {10, 20, 5, 40, 8, 8, 30};
        for (int i = 0; i < lens.length; i++) items.add(item(i, lens[i], true, false));
        Rollout r = new Rollout(2, 7, items);
        int[][] seqs = new int[lens.length][];
        for (int i = 0; i < lens.length; i++) seqs[i] = items.get(i).sequence();    // 3 prompt tokens + completion
        RlTrainer.Options o = new RlTrainer.Options(0.2, 1, new Rollout.Sampling("{problem}", 7, 1f, 1f, 50, 0, 8), 1, 0, 0.2, 3, 2,
                PolicyLoss.Aggregation.SEQUENCE_MEAN, 1e-3, 0, new dev.laconic.training.AdamW.Hyper(0.9, 0.95, 1e-8, 0), 1, 30, 0, 0, 0,
                1, null, null);
        assertEquals(6, o.stepsPerRollout(), "⌈7/3⌉ minibatches × 2 epochs");
        for (int e = 0; e < 2; e++) {
            var plan = RlTrainer.plan(r, seqs, o, 2, e);
            assertEquals(3, plan.size());
            Set<Integer> seen = new HashSet<>();
            for (int k = 0; k < plan.size(); k++) {
                int n = 0;
                for (List<Integer> micro : plan.get(k)) {
                    long tokens = 0;
                    for (int i : micro) { tokens += seqs[i].length; n++; assertTrue(seen.add(i)); }
                    assertTrue(tokens <= 30 || micro.size() == 1, "micro-batch of " + tokens + " tokens");
                }
                assertEquals(k < 2 ? 3 : 1, n);
            }
            assertEquals(7, seen.size());
        }
        assertNotEquals(RlTrainer.plan(r, seqs, o, 2, 0), RlTrainer.plan(r, seqs, o, 2, 1), "each epoch its own order");
        assertEquals(RlTrainer.plan(r, seqs, o, 2, 1), RlTrainer.plan(r, seqs, o, 2, 1));
    }
}
