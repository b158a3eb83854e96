package dev.laconic.bench.decode;

import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Weights;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * What one token costs a model, for the bounds the rows are measured against.
 *
 * <pre>
 *   decode (one token, memory-bound): every matrix is read once
 *     matrixBytesPerToken = Σ_layers |Wq Wk Wv Wo Wgate Wup Wdown| + |lm_head|       (bytes as stored)
 *   prefill of T tokens in one forward (compute-bound), FLOPs per token:
 *     2·Σ_layers params(Wq … Wdown)          the projections and the MLP
 *     + 2·V·C / T                            the LM head, run for the last position only
 *     + L · 4·H·D · (T+1)/2                  causal attention: QKᵀ and P·V, 2·H·D each per (query, key)
 *                                            pair, and query i sees i+1 keys: (T+1)/2 on average
 * </pre>
 * The embedding lookup (one row per token), norms, biases, RoPE and SwiGLU are left out: together
 * they are well under 1% of either figure at real shapes.
 *
 * @param matrixBytesPerToken bytes of weight matrices a decode step reads (the lm_head once when tied)
 * @param weightBytes         every parameter tensor as held in memory, each distinct tensor once
 * @param layerMatrixParams   Σ_layers params of the seven projection matrices
 */
record ModelCost(ModelConfig cfg, long matrixBytesPerToken, long weightBytes, long layerMatrixParams) {

    static ModelCost of(ModelConfig cfg, Weights w) {
        long bytes = w.lmHead().byteSize(), params = 0;
        Set<Tensor> all = Collections.newSetFromMap(new IdentityHashMap<>());
        all.add(w.embed());
        all.add(w.lmHead());
        all.add(w.finalNorm());
        for (Weights.Layer l : w.layers())
            for (Weights.Part p : Weights.Part.values()) {
                Tensor t = p.of(l);
                if (t == null) continue;
                all.add(t);
                if (p.isMatrix()) {
                    bytes += t.byteSize();
                    params += t.numel();
                }
            }
        long total = 0;
        for (Tensor t : all) total += t.byteSize();
        return new ModelCost(cfg, bytes, total, params);
    }

    /** FLOPs per token of a prefill of T tokens from an empty cache, in one forward. */
    double prefillFlopsPerToken(int t) {
        double attention = cfg.layers() * 4.0 * cfg.heads() * cfg.headDim() * (t + 1) / 2.0;
        return 2.0 * layerMatrixParams + 2.0 * cfg.vocab() * cfg.hidden() / t + attention;
    }

    /**
     * FLOPs of one decoded token with `positions` cached positions: every matrix once (2 per parameter), the
     * LM head, and attention over the cache. Batched decoding is bound by this at our GEMM rate once B tokens'
     * worth of arithmetic takes longer than one pass over the weights.
     */
    double decodeFlopsPerToken(double positions) {
        return 2.0 * layerMatrixParams + 2.0 * cfg.vocab() * cfg.hidden() + cfg.layers() * 4.0 * cfg.heads() * cfg.headDim() * positions;
    }

    /** Bytes of K and V (F32) a decode step at `position` cached positions reads. */
    long kvBytesRead(long positions) {
        return positions * cfg.layers() * 2L * cfg.kvHeads() * cfg.headDim() * Float.BYTES;
    }

    /** Bytes of an F32 KV cache with room for `capacity` positions. */
    long kvCacheBytes(int capacity) {
        return kvBytesRead(capacity);
    }
}
