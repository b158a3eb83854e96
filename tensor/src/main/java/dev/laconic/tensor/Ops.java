package dev.laconic.tensor;

/**
 * The op contract: every layer of the transformer is built from these forward/backward pairs.
 *
 * <p>Conventions (shape alphabet in {@link Shape}):
 * <ul>
 *   <li>Activations, gradients and biases are F32. Weights {@code w} may be F32, BF16 or F16, heap or
 *       memory-mapped; kernels widen 16-bit weights on the fly and never copy them.</li>
 *   <li>Outputs are assigned ({@code =}); parameter gradients ({@code dw}, {@code db}, {@code dweight},
 *       {@code dtable}) are accumulated ({@code +=}) so micro-batches add up. A null gradient
 *       argument means "not needed" and is skipped.</li>
 *   <li>Tensors of rank &gt; 2 are read as row-major matrices: {@code x[T,K]} may be given as
 *       {@code [B,T,K]}; what matters is numel and the last dimension.</li>
 * </ul>
 * {@code ReferenceOps} is the specification (plain loops, double accumulation); {@code VectorOps}
 * (module kernels) must agree with it within {@code atol + rtol·|ref|}.
 */
public interface Ops {

    // ---- linear layer ---------------------------------------------------------------------------

    /** y[T,N] = x[T,K] · w[N,K]ᵀ (+ b[N]); b may be null. */
    void matmul(Tensor x, Tensor w, Tensor b, Tensor y);

    /**
     * Backward of {@link #matmul}: dx[T,K] = dy[T,N] · w[N,K] (assigned),
     * dw[N,K] += dy[T,N]ᵀ · x[T,K], db[N] += Σ_t dy[t,:]. Any of dx, dw, db may be null.
     */
    void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db);

    // ---- residual connection (llm.c's residual_forward / residual_backward) ---------------------

    /**
     * x[N] += y[N], element-wise: the residual stream takes a sub-layer's output, x ← x + f(x).
     * x is F32; y any float dtype of the same size.
     *
     * <p>Its backward is a pass-through, so there is no residualBackward: out = x + y gives
     * dx = dout and dy = dout, the same tensor. What does cost an add is the fan-in on the way back:
     * the stream's gradient, once it has passed through the sub-layer, joins the gradient that went
     * straight on, {@code residual(dstream, dbranch)}; the same sum joins the gradients of any tensor
     * that two products read (the normed input of q, k and v).
     */
    void residual(Tensor x, Tensor y);

    // ---- RMSNorm (Zhang & Sennrich 2019; HF Qwen2RMSNorm/LlamaRMSNorm) ----------------------------

    /**
     * y = x · rstd · weight, rstd = 1/sqrt(mean(x²) + eps), per row of x[T,C]; weight[C];
     * rstd[T] is saved for the backward (may be null when not training).
     */
    void rmsnorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd);

    /**
     * dx[T,C] (assigned) and dweight[C] (+=) from dy[T,C], with xhat = x·rstd:
     * dx = rstd · (g - xhat · mean(g · xhat)), g = dy · weight;  dweight += Σ_t dy · xhat.
     */
    void rmsnormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight);

    // ---- rotary position embedding, rotate-half form (HF apply_rotary_pos_emb) -----------------

    /**
     * In place on x[T,H,D] (H may be the query or the kv heads): for token t at position
     * pos[t] and pair i &lt; D/2 with angle a = pos[t]·invFreq[i],
     * (x[i], x[i+D/2]) ← (x[i]·cos a − x[i+D/2]·sin a, x[i+D/2]·cos a + x[i]·sin a).
     * invFreq[D/2] is a table, so llama3 rope scaling is just another table.
     */
    void rope(Tensor x, int[] pos, float[] invFreq);

    /** Backward of {@link #rope} in place on dx[T,H,D]: the rotation by −a (the transpose). */
    void ropeBackward(Tensor dx, int[] pos, float[] invFreq);

    // ---- causal grouped-query attention --------------------------------------------------------

    /**
     * out[T,H,D] = softmax(q·kᵀ/√D + causal mask)·v, tiled with an online softmax (the T×S score
     * matrix never exists). q[T,H,D] holds the queries of positions start..start+T-1; k,v[S,KVH,D]
     * are the cache rows 0..S-1 with S ≥ start+T; query head h reads kv head h/(H/KVH). Query at
     * position p sees keys 0..p. lse[T,H] (may be null) receives each row's log-sum-exp of the
     * scaled scores, which is all the backward needs to recompute the probabilities.
     */
    void attention(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse);

    /**
     * Backward of {@link #attention} recomputing p = exp(s − lse): with Δ_t = Σ_d dout·out,
     * ds = p·(dout·vᵀ − Δ); dq = ds·k/√D (assigned); dk += dsᵀ·q/√D, dv += pᵀ·dout (accumulated:
     * several query heads share one kv head, and the caller may pass a zeroed cache-gradient).
     */
    void attentionBackward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse,
                           Tensor dout, Tensor dq, Tensor dk, Tensor dv);

    // ---- SiLU-gated MLP (SwiGLU, Shazeer 2020) --------------------------------------------------

    /** h[T,F] = silu(gate[T,F]) · up[T,F], silu(g) = g·σ(g). */
    void swiglu(Tensor gate, Tensor up, Tensor h);

    /** dgate = dh·up·σ(g)·(1 + g·(1−σ(g))), dup = dh·silu(g); both assigned. */
    void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup);

    // ---- embedding --------------------------------------------------------------------------------

    /** out[T,C] = table[ids[t], :]; table[V,C] in any float dtype. Out-of-range ids throw. */
    void embedding(Tensor table, int[] ids, Tensor out);

    /** dtable[ids[t], :] += dout[t, :] (scatter-add; repeated ids add up). */
    void embeddingBackward(int[] ids, Tensor dout, Tensor dtable);

    // ---- log-softmax / token log-probabilities --------------------------------------------------

    /**
     * For logits[T,V] and targets[T]: logp[t] = logits[t,target] − lse[t], lse[t] = log Σ_v exp(logits[t,v]),
     * computed max-shifted. lse[T] is saved for the backward (may be null).
     */
    void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse);

    /** dlogits[t,v] = dlogp[t]·(1[v = target] − softmax(logits[t])[v]) (assigned; dlogits may be the same tensor as logits). */
    void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits);

    // ---- composite: chunked LM head + per-token log-probs ---------------------------------------

    /** Positions per chunk in {@link #lmHeadLogProbs}: chunk × V floats is all the logits memory used. */
    int LM_HEAD_CHUNK = 64;

    /**
     * logp[t] = log softmax(h[t]·wOutᵀ)[targets[t]] for h[T,C], wOut[V,C], computed over chunks of
     * {@link #LM_HEAD_CHUNK} positions so that the T×V logits never exist at once.
     * If dlogp is non-null it is the gradient of the objective w.r.t. logp[T], and the backward runs
     * in the same pass: dh[T,C] is assigned, dwOut[V,C] accumulated (either may be null).
     */
    default void lmHeadLogProbs(Tensor h, Tensor wOut, int[] targets, Tensor logp,
                                Tensor dlogp, Tensor dh, Tensor dwOut) {
        int tTotal = h.dim(0), vocab = wOut.dim(0);
        if (targets.length != tTotal)
            throw new IllegalArgumentException("lmHeadLogProbs: " + targets.length + " targets for h " + h);
        for (int t = 0; t < tTotal; t++)   // checked here so the message gives the sequence position, not the chunk's
            if (targets[t] < 0 || targets[t] >= vocab)
                throw new IndexOutOfBoundsException("token id " + targets[t] + " at position " + t
                        + " is outside the vocabulary [0, " + vocab + ")");
        int chunk = Math.min(LM_HEAD_CHUNK, Math.max(1, tTotal));
        Tensor logitsBuf = Tensor.zeros(DType.F32, chunk, vocab);
        Tensor lseBuf = Tensor.zeros(DType.F32, chunk);
        for (int t0 = 0; t0 < tTotal; t0 += chunk) {
            int t1 = Math.min(tTotal, t0 + chunk), n = t1 - t0;
            Tensor logits = logitsBuf.slice(0, n), lse = lseBuf.slice(0, n);
            int[] tg = java.util.Arrays.copyOfRange(targets, t0, t1);
            Tensor hc = h.slice(t0, t1);
            matmul(hc, wOut, null, logits);
            tokenLogProbs(logits, tg, logp.slice(t0, t1), lse);
            if (dlogp != null) {
                tokenLogProbsBackward(logits, tg, lse, dlogp.slice(t0, t1), logits); // in place: logits → dlogits
                matmulBackward(hc, wOut, logits, dh == null ? null : dh.slice(t0, t1), dwOut, null);
            }
        }
    }

    // ---- optimizer: gradient-norm clipping and AdamW on the parameter tensors -------------------
    // (in place; here so that the backend holding the parameters also holds their optimizer state)

    /**
     * Σ x² over every element of every tensor, accumulated in double: the squared global gradient
     * norm that clipping needs. The summation order depends only on the tensors, never on the thread count.
     */
    double sumOfSquares(java.util.List<Tensor> xs);

    /** x ← x·factor in place (F32), each element computed in double and rounded once: the clipping step. */
    void scale(Tensor x, double factor);

    /**
     * One AdamW update (torch.optim.AdamW) of param from grad, in place on param, m and v (all F32,
     * one shape); k = step ≥ 1 counts the updates including this one:
     * <pre>
     *   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²             (rounded to F32, then used as stored)
     *   p ← p·(1 − lr·wd) − (lr / (1 − β1^k)) · m / (sqrt(v) / sqrt(1 − β2^k) + eps)
     * </pre>
     * Each element is computed in double and rounded once: no result depends on how the elements are
     * split between threads.
     */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
               double weightDecay, long step);
}
