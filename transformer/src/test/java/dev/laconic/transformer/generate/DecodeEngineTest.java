package dev.laconic.transformer.generate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Continuous batching: requests that join and leave at different steps decode exactly as they do alone. */
class DecodeEngineTest {
    static final Generator GEN = GeneratorTest.gen(new int[]{7, 91, 7, 7});

    static GenerationConfig config(int max, int n, long seed, int budget) {
        return new GenerationConfig(max, new Sampler(1f, 0.95f, 30), n, seed, false, List.of(), budget);
    }

    static Completion alone(int[] prompt, GenerationConfig gc, int sample) {
        return GEN.generate(List.of(prompt), gc, null).get(sample);
    }

    @Test
    void requestsJoiningAtLaterStepsGetTheSameBitsAsAlone() {
        int[][] prompts = {{1, 5, 6, 90}, {1, 40, 41, 42, 43}, {1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 90}, {1, 3}};
        GenerationConfig[] gcs = {config(30, 2, 11, -1), config(45, 3, 12, 4), config(20, 1, 13, 2), config(35, 2, 14, -1)};
        DecodeEngine engine = new DecodeEngine(GEN, 5);
        List<DecodeEngine.Request> reqs = new ArrayList<>();
        List<List<Integer>> streamed = new ArrayList<>();
        for (int p = 0; p < prompts.length; p++) {
            List<Integer> ids = new ArrayList<>();
            streamed.add(ids);
            reqs.add(engine.submit(p, prompts[p], 0, gcs[p], (s, id, lp) -> { if (s == 0) ids.add(id); }));
            for (int k = 0; k < 3 + 2 * p; k++) engine.step();   // the next joins a few steps later
            assertTrue(engine.live() <= 5, "never more than max sequences live: " + engine.live());
        }
        while (engine.step()) { }
        for (int p = 0; p < prompts.length; p++) {
            List<Completion> got = reqs.get(p).result().join();
            assertEquals(gcs[p].samples(), got.size());
            for (int s = 0; s < got.size(); s++) {
                Completion want = alone(prompts[p], gcs[p], s);
                assertArrayEquals(want.ids(), got.get(s).ids(), "prompt " + p + " sample " + s);
                assertArrayEquals(want.logprobs(), got.get(s).logprobs(), 0f, "bit for bit");
                assertEquals(want.finish(), got.get(s).finish());
                assertEquals(p, got.get(s).promptIndex());
            }
            assertArrayEquals(got.get(0).ids(), streamed.get(p).stream().mapToInt(i -> i).toArray(), "the sink saw every token");
        }
    }

    @Test
    void aCancelledRequestLeavesWithItsTokensSoFarAndTheOthersAreUntouched() {
        int[] a = {1, 8, 9}, b = {1, 20, 21, 22};
        GenerationConfig ga = new GenerationConfig(50, new Sampler(1f, 1f, 0), 2, 5, true, List.of(), -1);
        GenerationConfig gb = new GenerationConfig(40, new Sampler(1f, 1f, 0), 1, 6, true, List.of(), -1);
        DecodeEngine engine = new DecodeEngine(GEN, 8);
        DecodeEngine.Request ra = engine.submit(0, a, 0, ga, null), rb = engine.submit(1, b, 0, gb, null);
        for (int k = 0; k < 10; k++) engine.step();
        ra.cancel();
        engine.step();
        assertTrue(ra.result().isDone());
        assertEquals(1, engine.live(), "only b is left");
        while (engine.step()) { }
        for (Completion c : ra.result().join()) {
            assertEquals(Completion.Finish.CANCELLED, c.finish());
            assertTrue(c.tokens() >= 10 && c.tokens() < 50, "cut where it was: " + c.tokens());
            int[] full = alone(a, ga, c.sample()).ids();
            assertArrayEquals(Arrays.copyOf(full, c.tokens()), c.ids(), "a prefix of the uncut sample");
        }
        assertArrayEquals(alone(b, gb, 0).ids(), rb.result().join().get(0).ids());
        assertEquals(Completion.Finish.LENGTH, rb.result().join().get(0).finish());
    }

    @Test
    void aRequestWaitsUntilItsSamplesFitAndAWaitingCancelledOneNeverRuns() {
        DecodeEngine engine = new DecodeEngine(GEN, 3);
        GenerationConfig two = new GenerationConfig(6, Sampler.greedy(), 2, 0, true, List.of(), -1);
        DecodeEngine.Request first = engine.submit(0, new int[]{1, 4}, 0, two, null);
        DecodeEngine.Request second = engine.submit(1, new int[]{1, 5}, 0, two, null);
        DecodeEngine.Request third = engine.submit(2, new int[]{1, 6}, 0, two, null);
        engine.step();
        assertEquals(2, engine.live(), "the second request's 2 samples do not fit beside the first's in 3");
        assertEquals(2, engine.waiting());
        third.cancel();
        while (engine.step()) { }
        assertEquals(6, first.result().join().get(0).tokens());
        assertEquals(6, second.result().join().get(1).tokens());
        for (Completion c : third.result().join()) {
            assertEquals(Completion.Finish.CANCELLED, c.finish());
            assertEquals(0, c.tokens());
        }
    }

    @Test
    void anOverlongPromptIsRefusedAtSubmitNamingTheContext() {
        DecodeEngine engine = new DecodeEngine(GEN, 4);
        var e = assertThrows(DecodeEngine.ContextLengthExceeded.class,
                () -> engine.submit(3, new int[500], 0, GenerationConfig.greedy(100), null));
        assertEquals(500, e.promptTokens);
        assertEquals(512, e.context);
        assertTrue(e.getMessage().startsWith("prompt 3: 500 prompt tokens + 100 new tokens exceed the model's context of 512"), e.getMessage());
        assertTrue(engine.idle());
    }
}
