package dev.laconic.transformer;

/**
 * Whole decode steps run on an accelerator that keeps the weights and one sequence's KV cache in its
 * own memory (the TornadoVM backend, tornado). An {@link dev.laconic.tensor.Ops} that can do
 * this also implements {@link Source}; {@link Transformer#nextLogits} then sends every token through
 * the device when the weights never change (a model opened by {@link Model#load}) and no adapters
 * are attached. Everything else (score, training, LoRA) keeps going through the Ops, op by op.
 *
 * <p>The host {@link KVCache} stays the truth: each step hands back the new key and value rows, which
 * the transformer stores in it, so caches can be copied, truncated or switched as on the CPU. The
 * device holds a copy of one cache; given another one, or one whose length differs from its own, it
 * first uploads that cache's rows [0, length).
 */
public interface DeviceDecoder extends AutoCloseable {

    /** Implemented by an Ops whose device can run whole decode steps. */
    interface Source {
        /** A decoder for a model of this shape and these weights (uploaded once, on first use). */
        DeviceDecoder decoder(ModelConfig cfg, Weights weights);
    }

    /**
     * Runs token {@code token} at position {@code cache.length()} through every layer and the LM head:
     * writes the key and value rows of each layer l (after RoPE, as the cache stores them) into
     * k[l], v[l] ([KVH·D] each) and the next-token logits into logits[V]. Does not change {@code cache}.
     */
    void step(int token, KVCache cache, float[][] k, float[][] v, float[] logits);

    /** Frees the device memory. */
    @Override
    void close();
}
