package dev.laconic.transformer;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;

/**
 * The Qwen2/Llama decoder (one class for both; differences are {@link ModelConfig} fields).
 *
 * <pre>
 *   x = embed[ids]                                              x[T,C]
 *   for each layer:
 *     a = rmsnorm(x)·attnNorm
 *     q, k, v = a·Wqᵀ(+bq), a·Wkᵀ(+bk), a·Wvᵀ(+bv)              q[T,H·D]  k,v[T,KVH·D]
 *     q, k = rope(q, pos), rope(k, pos);  cache ← k, v
 *     x += attention(q, cache.k, cache.v)·Woᵀ(+bo)              causal, grouped-query
 *     m = rmsnorm(x)·mlpNorm
 *     x += (silu(m·Wgateᵀ) ⊙ m·Wupᵀ)·Wdownᵀ                     SwiGLU
 *   h = rmsnorm(x)·finalNorm;  logits = h·lm_headᵀ
 * </pre>
 * A call processes the new tokens of a batch of sequences together: every matrix product runs once
 * over all their rows (prefill is a GEMM; decoding B sequences is one T=B product), only RoPE and
 * attention run per sequence, each against its own {@link KVCache}.
 */
public final class Transformer {
    private final ModelConfig cfg;
    private final Weights w;
    private final Ops ops;
    private final float[] invFreq;  // [D/2]

    public Transformer(ModelConfig cfg, Weights weights, Ops ops) {
        this.cfg = cfg;
        this.w = weights;
        this.ops = ops;
        this.invFreq = cfg.invFreq();
    }

    public ModelConfig config() { return cfg; }
    public Weights weights() { return w; }
    public Ops ops() { return ops; }

    /**
     * Runs the new tokens of each sequence (tokens[b], appended at caches[b].length()) through the
     * decoder, extends the caches, and returns the final-normed hidden states of all new tokens,
     * sequence after sequence: h[ΣT, C].
     */
    public Tensor forward(int[][] tokens, KVCache[] caches) {
        int total = 0, c = cfg.hidden();
        for (int b = 0; b < tokens.length; b++) {
            total += tokens[b].length;
            if (caches[b].length() + tokens[b].length > Math.min(caches[b].capacity(), cfg.maxPositions()))
                throw new IllegalArgumentException("sequence " + b + ": " + (caches[b].length() + tokens[b].length)
                        + " positions exceed the context (cache " + caches[b].capacity() + ", model " + cfg.maxPositions() + ")");
        }
        int[] ids = new int[total];
        for (int b = 0, r = 0; b < tokens.length; r += tokens[b].length, b++) System.arraycopy(tokens[b], 0, ids, r, tokens[b].length);

        int qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim(), f = cfg.intermediate();
        Tensor x = Tensor.zeros(DType.F32, total, c);        // residual stream
        Tensor a = Tensor.zeros(DType.F32, total, c);        // normed input of a sub-layer
        Tensor q = Tensor.zeros(DType.F32, total, qd), k = Tensor.zeros(DType.F32, total, kvd), v = Tensor.zeros(DType.F32, total, kvd);
        Tensor att = Tensor.zeros(DType.F32, total, qd), proj = Tensor.zeros(DType.F32, total, c);
        Tensor gate = Tensor.zeros(DType.F32, total, f), up = Tensor.zeros(DType.F32, total, f);

        ops.embedding(w.embed(), ids, x);
        for (int l = 0; l < cfg.layers(); l++) {
            Weights.Layer L = w.layers()[l];
            // attention block
            ops.rmsnorm(x, L.attnNorm(), cfg.rmsNormEps(), a, null);
            ops.matmul(a, L.wq(), L.bq(), q);
            ops.matmul(a, L.wk(), L.bk(), k);
            ops.matmul(a, L.wv(), L.bv(), v);
            for (int b = 0, r = 0; b < tokens.length; r += tokens[b].length, b++) {
                int t = tokens[b].length, start = caches[b].length();
                if (t == 0) continue;
                int[] pos = new int[t];
                for (int i = 0; i < t; i++) pos[i] = start + i;
                Tensor qb = q.slice(r, r + t).reshape(t, cfg.heads(), cfg.headDim());
                Tensor kb = k.slice(r, r + t).reshape(t, cfg.kvHeads(), cfg.headDim());
                ops.rope(qb, pos, invFreq);
                ops.rope(kb, pos, invFreq);
                caches[b].write(l, start, kb, v.slice(r, r + t).reshape(t, cfg.kvHeads(), cfg.headDim()));
                ops.attention(qb, caches[b].keys(l, start + t), caches[b].values(l, start + t), start,
                        att.slice(r, r + t).reshape(t, cfg.heads(), cfg.headDim()), null);
            }
            ops.matmul(att, L.wo(), L.bo(), proj);
            addInPlace(x, proj);
            // MLP block
            ops.rmsnorm(x, L.mlpNorm(), cfg.rmsNormEps(), a, null);
            ops.matmul(a, L.wGate(), null, gate);
            ops.matmul(a, L.wUp(), null, up);
            ops.swiglu(gate, up, gate);
            ops.matmul(gate, L.wDown(), null, proj);
            addInPlace(x, proj);
        }
        for (int b = 0; b < tokens.length; b++) caches[b].advance(tokens[b].length);
        ops.rmsnorm(x, w.finalNorm(), cfg.rmsNormEps(), a, null);
        return a;
    }

    /** logits[N, V] = h[N, C]·lm_headᵀ. */
    public Tensor logits(Tensor h) {
        Tensor out = Tensor.zeros(DType.F32, h.dim(0), cfg.vocab());
        ops.matmul(h, w.lmHead(), null, out);
        return out;
    }

    /**
     * One decoding step for a batch: appends tokens[b] to each sequence and returns the logits of
     * each sequence's last new token, [B, V].
     */
    public Tensor nextLogits(int[][] tokens, KVCache[] caches) {
        Tensor h = forward(tokens, caches);
        Tensor last = Tensor.zeros(DType.F32, tokens.length, cfg.hidden());
        for (int b = 0, r = 0; b < tokens.length; b++) {
            r += tokens[b].length;
            if (tokens[b].length == 0) throw new IllegalArgumentException("sequence " + b + " has no new token");
            last.row(b).copyFrom(h.row(r - 1));
        }
        return logits(last);
    }

    /**
     * log p(ids[t] | ids[&lt;t]) for t = 1..n-1 of one sequence: a full forward without a cache beyond
     * this call, the LM head in chunks of positions (the T×V logits never exist at once).
     */
    public float[] score(int[] ids) {
        if (ids.length < 2) return new float[0];
        KVCache cache = new KVCache(cfg, ids.length);
        Tensor h = forward(new int[][]{ids}, new KVCache[]{cache});
        int n = ids.length - 1;
        Tensor logp = Tensor.zeros(DType.F32, n);
        int[] targets = java.util.Arrays.copyOfRange(ids, 1, ids.length);
        ops.lmHeadLogProbs(h.slice(0, n), w.lmHead(), targets, logp, null, null, null);
        return logp.toFloatArray();
    }

    /** x += y, element-wise over F32 tensors of the same size (the residual connection). */
    static void addInPlace(Tensor x, Tensor y) {
        float[] xa = x.floatArray(), ya = y.floatArray();
        if (xa != null && ya != null) {
            int xo = x.floatOffset(), yo = y.floatOffset(), n = (int) x.numel();
            for (int i = 0; i < n; i++) xa[xo + i] += ya[yo + i];       // auto-vectorised by C2
        } else {
            for (long i = 0; i < x.numel(); i++) x.setFloat(i, x.getFloat(i) + y.getFloat(i));
        }
    }
}
