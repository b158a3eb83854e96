package dev.laconic.transformer;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;

/**
 * The key/value cache of one sequence: per layer k, v[S_max, KVH, D] in F32, filled up to
 * {@link #length()}. Keys are stored after RoPE, so a cached key never needs rotating again.
 */
public final class KVCache {
    private final Tensor[] k, v;   // per layer: [S_max, KVH, D]
    private final int capacity;
    private int length;

    public KVCache(ModelConfig cfg, int capacity) {
        this.capacity = capacity;
        k = new Tensor[cfg.layers()];
        v = new Tensor[cfg.layers()];
        for (int l = 0; l < cfg.layers(); l++) {
            k[l] = Tensor.zeros(DType.F32, capacity, cfg.kvHeads(), cfg.headDim());
            v[l] = Tensor.zeros(DType.F32, capacity, cfg.kvHeads(), cfg.headDim());
        }
    }

    public int length() { return length; }
    public int capacity() { return capacity; }

    /** Keys of layer l, rows [0, upTo): [upTo, KVH, D]. */
    public Tensor keys(int layer, int upTo) { return k[layer].slice(0, upTo); }

    /** Values of layer l, rows [0, upTo): [upTo, KVH, D]. */
    public Tensor values(int layer, int upTo) { return v[layer].slice(0, upTo); }

    /** Writes new rows k,v[T, KVH·D] of layer l at positions [at, at+T). */
    void write(int layer, int at, Tensor kNew, Tensor vNew) {
        int t = kNew.dim(0);
        if (at + t > capacity)
            throw new IllegalStateException("KV cache full: " + (at + t) + " positions needed, capacity " + capacity);
        k[layer].slice(at, at + t).reshape(kNew.shape()).copyFrom(kNew);
        v[layer].slice(at, at + t).reshape(vNew.shape()).copyFrom(vNew);
    }

    /** Marks n more positions as filled (after every layer has written them). */
    void advance(int n) { length += n; }

    /** Forgets everything after position n (e.g. to re-use a prompt's cache for several samples). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("truncate to " + n + " of " + length);
        length = n;
    }

    /** Copies the first n positions of another cache into this one (n samples share one prefill). */
    public void copyPrefix(KVCache src, int n) {
        for (int l = 0; l < k.length; l++) {
            k[l].slice(0, n).copyFrom(src.k[l].slice(0, n));
            v[l].slice(0, n).copyFrom(src.v[l].slice(0, n));
        }
        length = n;
    }
}
