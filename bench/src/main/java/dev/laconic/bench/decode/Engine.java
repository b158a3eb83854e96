package dev.laconic.bench.decode;

import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.KVCache;
import dev.laconic.transformer.Transformer;

/**
 * One inference engine as the decode benchmark drives it: a single sequence, greedy, through the
 * engine's own KV cache. Both engines do the same work per call, the way their own generate loops
 * do it: a prefill runs every prompt token through the model and the LM head for the last one; a
 * decode step runs one token and the LM head. The greedy pick is an argmax over V logits (negligible).
 */
interface Engine extends AutoCloseable {
    /** Engine and kernel backend, e.g. "laconic (VectorOps)", "jlama 0.8.4 (Native SIMD Operations)". */
    String name();

    /** Starts a new, empty sequence whose cache holds at least `capacity` positions. */
    void reset(int capacity);

    /** Appends ids to the sequence in one forward and returns the greedy next token. */
    int prefill(int[] ids);

    /** Appends one token and returns the greedy next token. */
    int decode(int id);

    @Override
    default void close() {}

    /** Ours: {@link Transformer#nextLogits} against a {@link KVCache}, as the Generator runs it. */
    final class Laconic implements Engine {
        private final Transformer model;
        private KVCache cache;

        Laconic(Transformer model) {
            this.model = model;
        }

        @Override
        public String name() {
            return "laconic (" + model.ops().getClass().getSimpleName() + ")";
        }

        @Override
        public void reset(int capacity) {
            if (cache == null || cache.capacity() < capacity) {
                cache = null;                                  // let the old one go before the new one is allocated
                cache = new KVCache(model.config(), capacity);
            } else {
                cache.truncate(0);
            }
        }

        @Override
        public int prefill(int[] ids) {
            return argmax(model.nextLogits(new int[][]{ids}, new KVCache[]{cache}));
        }

        @Override
        public int decode(int id) {
            return argmax(model.nextLogits(new int[][]{{id}}, new KVCache[]{cache}));
        }

        /** Index of the largest of logits[1, V]. */
        private static int argmax(Tensor logits) {
            float[] a = logits.floatArray();
            int off = a != null ? logits.floatOffset() : 0, n = logits.dim(1), best = 0;
            if (a == null) a = logits.toFloatArray();
            for (int v = 1; v < n; v++) if (a[off + v] > a[off + best]) best = v;
            return best;
        }
    }
}
