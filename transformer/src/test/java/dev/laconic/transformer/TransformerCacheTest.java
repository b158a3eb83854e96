package dev.laconic.transformer;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** KV-cache decoding must compute exactly what a full forward computes. */
class TransformerCacheTest {
    static final ModelConfig TINY = new ModelConfig(ModelConfig.QWEN2, 48, 80, 2, 6, 2, 8, 97, 1e-6f, 10000,
            null, true, false, false, 256, 1, new int[]{2});

    static int[] randomIds(long seed, int n, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }

    @Test
    void tokenByTokenDecodeGivesTheSameLogProbsAsAFullForward() {
        for (Ops ops : new Ops[]{new ReferenceOps(), new VectorOps()}) {
            Transformer m = new Transformer(TINY, RandomWeights.create(TINY, 7, DType.F32), ops);
            int[] ids = randomIds(3, 23, TINY.vocab());
            float[] full = m.score(ids);

            KVCache cache = new KVCache(TINY, 64);
            float[] incremental = new float[ids.length - 1];
            // prefill 5 tokens, then one token at a time
            Tensor logits = m.nextLogits(new int[][]{java.util.Arrays.copyOf(ids, 5)}, new KVCache[]{cache});
            for (int t = 5; t < ids.length; t++) {
                incremental[t - 1] = logSoftmaxAt(logits.row(0).toFloatArray(), ids[t]);
                logits = m.nextLogits(new int[][]{{ids[t]}}, new KVCache[]{cache});
            }
            for (int t = 4; t < ids.length - 1; t++)
                assertEquals(full[t], incremental[t], 2e-5, ops.getClass().getSimpleName() + " position " + (t + 1));
            assertEquals(ids.length, cache.length());
        }
    }

    @Test
    void batchedDecodeOfSeveralSequencesEqualsDecodingEachAlone() {
        Transformer m = new Transformer(TINY, RandomWeights.create(TINY, 11, DType.BF16), new VectorOps());
        int[][] prompts = {randomIds(1, 9, TINY.vocab()), randomIds(2, 3, TINY.vocab()), randomIds(3, 14, TINY.vocab())};
        KVCache[] together = new KVCache[3];
        for (int b = 0; b < 3; b++) together[b] = new KVCache(TINY, 32);
        Tensor batch = m.nextLogits(prompts, together);
        Tensor step = m.nextLogits(new int[][]{{5}, {6}, {7}}, together);
        for (int b = 0; b < 3; b++) {
            KVCache alone = new KVCache(TINY, 32);
            Tensor a = m.nextLogits(new int[][]{prompts[b]}, new KVCache[]{alone});
            Tensor s = m.nextLogits(new int[][]{{5 + b}}, new KVCache[]{alone});
            assertArrayEquals(a.row(0).toFloatArray(), batch.row(b).toFloatArray(), 1e-4f, "prefill, sequence " + b);
            assertArrayEquals(s.row(0).toFloatArray(), step.row(b).toFloatArray(), 1e-4f, "decode, sequence " + b);
        }
    }

    @Test
    void contextOverflowIsRefusedWithAClearMessage() {
        Transformer m = new Transformer(TINY, RandomWeights.create(TINY, 7, DType.F32), new ReferenceOps());
        KVCache cache = new KVCache(TINY, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(new int[][]{randomIds(1, 5, TINY.vocab())}, new KVCache[]{cache}));
        assertTrue(e.getMessage().contains("exceed the context"), e.getMessage());
        assertEquals(0, cache.length(), "nothing was appended");
    }

    /**
     * The inference activations are kept between calls and only grow: a model that has just run a
     * larger or a smaller batch must give the bits of a fresh one (nothing stale leaks into a row).
     */
    @Test
    void reusedActivationsGiveTheSameBitsAsAFreshModel() {
        Weights w = RandomWeights.create(TINY, 13, DType.BF16);
        Transformer used = new Transformer(TINY, w, new VectorOps());
        used.nextLogits(new int[][]{randomIds(4, 40, TINY.vocab())}, new KVCache[]{new KVCache(TINY, 64)});
        for (int n : new int[]{7, 60}) {                      // smaller than the state, then larger
            int[] prompt = randomIds(5 + n, n, TINY.vocab());
            Transformer fresh = new Transformer(TINY, w, new VectorOps());
            KVCache a = new KVCache(TINY, 64), b = new KVCache(TINY, 64);
            assertArrayEquals(fresh.nextLogits(new int[][]{prompt}, new KVCache[]{a}).toFloatArray(),
                    used.nextLogits(new int[][]{prompt}, new KVCache[]{b}).toFloatArray(), "prefill of " + n);
            assertArrayEquals(fresh.nextLogits(new int[][]{{3}}, new KVCache[]{a}).toFloatArray(),
                    used.nextLogits(new int[][]{{3}}, new KVCache[]{b}).toFloatArray(), "decode after " + n);
        }
    }

    /**
     * A prefill longer than the inference MLP buffers (820 rows here) runs its MLP in row blocks;
     * each sequence must come out as it does alone (one block), and so must the training forward.
     */
    @Test
    void aLongPrefillRunsItsMlpInBlocksWithTheSameResult() {
        Transformer m = new Transformer(TINY, RandomWeights.create(TINY, 17, DType.BF16), new VectorOps());
        int[][] prompts = {randomIds(31, 200, TINY.vocab()), randomIds(32, 190, TINY.vocab()),
                randomIds(33, 250, TINY.vocab()), randomIds(34, 180, TINY.vocab())};
        KVCache[] together = new KVCache[prompts.length];
        for (int b = 0; b < prompts.length; b++) together[b] = new KVCache(TINY, 256);
        Tensor batch = m.nextLogits(prompts, together);
        float[][] logp = m.logProbs(prompts);
        for (int b = 0; b < prompts.length; b++) {
            Tensor alone = m.nextLogits(new int[][]{prompts[b]}, new KVCache[]{new KVCache(TINY, 256)});
            assertArrayEquals(alone.row(0).toFloatArray(), batch.row(b).toFloatArray(), 1e-5f, "prefill, sequence " + b);
            assertArrayEquals(m.score(prompts[b]), logp[b], 1e-5f, "log-probs, sequence " + b);
        }
    }

    /** score is the training forward's log-probs (no cache needed), bit for bit. */
    @Test
    void scoreIsTheLogProbsOfTheTrainingForward() {
        Transformer m = new Transformer(TINY, RandomWeights.create(TINY, 3, DType.F32), new VectorOps());
        int[] ids = randomIds(8, 45, TINY.vocab());
        assertArrayEquals(m.logProbs(new int[][]{ids})[0], m.score(ids));
        assertEquals(0, m.score(new int[]{5}).length);
    }

    @Test
    void badBatchesAreRefusedBeforeAnyWork() {
        Transformer m = new Transformer(TINY, RandomWeights.create(TINY, 7, DType.F32), new VectorOps());
        KVCache[] caches = {new KVCache(TINY, 16), new KVCache(TINY, 16)};
        m.nextLogits(new int[][]{{1, 2}, {3}}, caches);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.nextLogits(new int[][]{{4}, {}}, caches));
        assertTrue(e.getMessage().contains("sequence 1 has no new token"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.nextLogits(new int[][]{{4}, {5, 97}}, caches));
        assertTrue(e.getMessage().contains("sequence 1: token id 97 at position 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.forward(new int[][]{{4}}, caches));
        assertTrue(e.getMessage().contains("1 sequences but 2 caches"), e.getMessage());
        assertEquals(2, caches[0].length(), "nothing was appended");
        assertEquals(1, caches[1].length(), "nothing was appended");
    }

    static float logSoftmaxAt(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double s = 0;
        for (float v : logits) s += Math.exp(v - max);
        return (float) (logits[target] - max - Math.log(s));
    }
}
