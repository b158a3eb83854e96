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

    static float logSoftmaxAt(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double s = 0;
        for (float v : logits) s += Math.exp(v - max);
        return (float) (logits[target] - max - Math.log(s));
    }
}
