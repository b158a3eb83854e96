package dev.laconic.transformer.generate;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.RandomWeights;
import dev.laconic.transformer.Transformer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GeneratorTest {
    // tiny model; ids 0..96; "eos" = 2, think = 90, /think = 91
    static final ModelConfig TINY = new ModelConfig(ModelConfig.QWEN2, 48, 80, 2, 6, 2, 8, 97, 1e-6f, 10000,
            null, true, false, false, 512, 1, new int[]{2});
    static final Transformer MODEL = new Transformer(TINY, RandomWeights.create(TINY, 5, DType.F32), new VectorOps());

    static Generator gen(int[] force) {
        return new Generator(MODEL, ids -> Arrays.toString(ids), 90, 91, force);
    }

    static GenerationConfig sampled(int max, int n, long seed) {
        return new GenerationConfig(max, new Sampler(1f, 1f, 0), n, seed, true, List.of(), -1);
    }

    @Test
    void greedyIsTheArgmaxOfAFullForwardAtEveryStep() {
        int[] prompt = {1, 17, 33, 4};
        Completion c = gen(new int[0]).generate(List.of(prompt), new GenerationConfig(12, Sampler.greedy(), 1, 0, true, List.of(), -1), null).get(0);
        assertEquals(12, c.tokens());
        assertEquals(Completion.Finish.LENGTH, c.finish());
        int[] seq = prompt.clone();
        for (int t = 0; t < 12; t++) {
            float[] logits = MODEL.logits(lastRow(MODEL, seq)).toFloatArray();
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            assertEquals(best, c.ids()[t], "step " + t);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = best;
        }
    }

    private static dev.laconic.tensor.Tensor lastRow(Transformer m, int[] seq) {
        var h = m.forward(new int[][]{seq}, new dev.laconic.transformer.KVCache[]{new dev.laconic.transformer.KVCache(m.config(), seq.length)});
        return h.slice(seq.length - 1, seq.length);
    }

    @Test
    void sameSeedGivesTheSameSamplesWhetherPromptsAreBatchedOrNot() {
        int[] a = {1, 5, 6}, b = {1, 40, 41, 42, 43};
        List<Completion> together = gen(new int[0]).generate(List.of(a, b), sampled(10, 3, 99), null);
        List<Completion> aloneB = gen(new int[0]).generate(List.of(new int[]{1}, b), sampled(10, 3, 99), null);
        assertEquals(6, together.size());
        for (int s = 0; s < 3; s++) {
            assertArrayEquals(together.get(3 + s).ids(), aloneB.get(3 + s).ids(), "prompt b sample " + s);
            assertArrayEquals(together.get(3 + s).logprobs(), aloneB.get(3 + s).logprobs(), 0f, "bit for bit");
        }
        assertFalse(Arrays.equals(together.get(0).ids(), together.get(1).ids()), "different samples of one prompt differ");
        List<Completion> otherSeed = gen(new int[0]).generate(List.of(a, b), sampled(10, 3, 100), null);
        assertFalse(Arrays.equals(together.get(0).ids(), otherSeed.get(0).ids()));
    }

    @Test
    void sampledLogProbsAreTheModelsLogSoftmaxAtTemperatureOne() {
        int[] prompt = {1, 8, 9};
        Completion c = gen(new int[0]).generate(List.of(prompt), sampled(40, 1, 3), null).get(0);   // past the first 16 (the array grows)
        assertEquals(40, c.logprobs().length);
        float[] scored = MODEL.score(concat(prompt, c.ids()));
        for (int t = 0; t < c.tokens(); t++) assertEquals(scored[prompt.length - 1 + t], c.logprobs()[t], 1e-4, "token " + t);
    }

    @Test
    void eosEndsASampleUnlessIgnored() {
        // find a seed whose first samples hit EOS (id 2) early by making the sampler flat-ish: T = 50
        GenerationConfig gc = new GenerationConfig(300, new Sampler(50f, 1f, 0), 4, 1, false, List.of(), -1);
        for (Completion c : gen(new int[0]).generate(List.of(new int[]{1, 3}), gc, null)) {
            if (c.finish() == Completion.Finish.EOS) assertEquals(2, c.ids()[c.tokens() - 1]);
            else assertEquals(300, c.tokens());
            for (int i = 0; i < c.tokens() - 1; i++) assertNotEquals(2, c.ids()[i], "no EOS before the end");
        }
    }

    @Test
    void thinkingBudgetForcesTheEndOfThinkingAndSplitsReasoningFromAnswer() {
        int[] force = {7, 91, 7, 7};                  // "\n</think>\n\n" stand-in
        GenerationConfig gc = new GenerationConfig(20, new Sampler(1f, 1f, 0), 1, 4, true, List.of(), 5);
        // avoid the model emitting 91 by itself: check with a prompt that opens thinking
        Completion c = gen(force).generate(List.of(new int[]{1, 12, 90}), gc, null).get(0);
        assertEquals(5 + force.length + (20 - 5 - force.length), c.tokens());
        int first = -1, last = -1;
        for (int i = 0; i < c.tokens(); i++) if (c.ids()[i] == 91) { last = i; if (first < 0) first = i; }
        assertTrue(first >= 0 && first <= 6, "</think> forced right after the budget: " + Arrays.toString(c.ids()));
        if (first == 6) assertEquals(7, c.ids()[5], "the forced text starts right after 5 thinking tokens");
        assertEquals(first == 6 ? 5 : first, c.reasoningTokens(), "thinking tokens stop at the budget");
        int cut = last;                                // reasoning = everything before the last </think>
        assertEquals(Arrays.toString(Arrays.copyOf(c.ids(), cut)), c.reasoning());
        assertEquals(Arrays.toString(Arrays.copyOfRange(c.ids(), cut + 1, c.tokens())), c.answer());
    }

    @Test
    void badPromptsAreRefusedBeforeAnyWork() {
        Generator g = gen(new int[0]);
        assertThrows(IllegalArgumentException.class, () -> g.generate(List.of(new int[]{1, 97}), GenerationConfig.greedy(3), null));
        assertThrows(IllegalArgumentException.class, () -> g.generate(List.of(new int[0]), GenerationConfig.greedy(3), null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.generate(List.of(new int[500]), GenerationConfig.greedy(100), null));
        assertTrue(e.getMessage().contains("context"), e.getMessage());
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
