package dev.laconic.transformer;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;

import java.util.Arrays;

/**
 * The Qwen2/Llama decoder (one class for both; differences are {@link ModelConfig} fields).
 *
 * <pre>
 *   x = embed[ids]                                              x[T,C]
 *   for each layer:                                             (pre-norm, as gpt-fast's TransformerBlock)
 *     x = x + attention(rmsnorm(x)·attnNorm)                    causal, grouped-query, RoPE; cache ← k, v
 *     x = x + mlp(rmsnorm(x)·mlpNorm)                           SwiGLU
 *   h = rmsnorm(x)·finalNorm;  logits = h·lm_headᵀ
 * </pre>
 * One layer function ({@link #layer}) serves prefill, batched decoding and training, like nanochat's
 * {@code GPT.forward(idx, targets, kv_cache)}: a call processes the new tokens of a batch of sequences
 * together, every matrix product runs once over all their rows (prefill is a GEMM; decoding B
 * sequences is one T=B product), and only RoPE and attention run per sequence, against its
 * {@link KVCache} when there is one, else against its own keys and values from position 0.
 *
 * <p>Inference ({@link #forward}, {@link #nextLogits}) keeps its activations between calls, sized for
 * the largest batch seen so far (llama3.java's preallocated State): a decode step allocates only its
 * output and a few rows. A Transformer therefore serves one thread at a time.
 *
 * <p>Training ({@link #forwardTrain}, {@link #backward}) keeps only each layer's input (layer-input
 * checkpointing): the backward recomputes one layer's internals from its input, then walks back
 * through it. Each layer's backward sits directly below its forward. Parameter gradients accumulate
 * (+=), activation gradients are assigned (=), except the residual stream, which each sub-layer's
 * backward adds to. Projections may carry an {@link Adapter} (LoRA); with adapters the frozen
 * weights get no gradient at all.
 */
public final class Transformer {
    private final ModelConfig cfg;
    private final Weights w;
    private final Ops ops;
    private final float[] invFreq;  // [D/2]
    private Adapter.Layer[] adapters;  // per layer, or null: plain projections
    private final DeviceDecoder.Source device; // whole-step decoding on a device (Model.load with such a backend), or null
    private DeviceDecoder decoder;     // created on the first nextLogits when a device is given (see DeviceDecoder)
    private Activations state;         // inference activations, grown to the largest batch seen
    private final Runnable sourceCheck; // before every forward: the mapped files under the weights are unchanged (Model.load)

    private static final Adapter.Layer NONE = new Adapter.Layer(null, null, null, null, null, null, null);

    public Transformer(ModelConfig cfg, Weights weights, Ops ops) {
        this(cfg, weights, ops, null);
    }

    /**
     * With a {@code device} (a backend's {@link DeviceDecoder.Source}), {@link #nextLogits} runs whole
     * decode steps there while no adapters are on: only for weights that never change in place
     * ({@link Model#load}); a trainable copy is built without one.
     */
    public Transformer(ModelConfig cfg, Weights weights, Ops ops, DeviceDecoder.Source device) {
        this(cfg, weights, ops, device, () -> {});
    }

    /**
     * With {@code sourceCheck}, run before every forward (decode step, scoring, training step): it throws when the
     * files the weights are mapped from changed on disk ({@code Checkpoint::checkUnchanged}), so a model whose file
     * was overwritten stops with one line naming it instead of reading pages that are gone.
     */
    public Transformer(ModelConfig cfg, Weights weights, Ops ops, DeviceDecoder.Source device, Runnable sourceCheck) {
        this.cfg = cfg;
        this.w = weights;
        this.ops = ops;
        this.device = device;
        this.invFreq = cfg.invFreq();
        this.sourceCheck = sourceCheck;
    }

    public ModelConfig config() { return cfg; }
    public Weights weights() { return w; }
    public Ops ops() { return ops; }
    /** The check of the weights' files (a transformer sharing these weights passes it on). */
    public Runnable sourceCheck() { return sourceCheck; }

    /** Puts adapters on the projections (one {@link Adapter.Layer} per layer), or takes them off (null). */
    public void setAdapters(Adapter.Layer[] perLayer) {
        if (perLayer != null && perLayer.length != cfg.layers())
            throw new IllegalArgumentException(perLayer.length + " adapter layers for a model of " + cfg.layers());
        this.adapters = perLayer == null ? null : perLayer.clone();
    }

    /** The adapters in use, or null. */
    public Adapter.Layer[] adapters() { return adapters == null ? null : adapters.clone(); }

    private Adapter.Layer adapters(int layer) { return adapters == null || adapters[layer] == null ? NONE : adapters[layer]; }

    // ---- inference: prefill and batched decoding through KV caches ------------------------------

    /**
     * Runs the new tokens of each sequence (tokens[b], appended at caches[b].length()) through the
     * decoder, extends the caches, and returns the final-normed hidden states of all new tokens,
     * sequence after sequence: h[ΣT, C] (a new tensor).
     */
    public Tensor forward(int[][] tokens, KVCache[] caches) {
        check(tokens, caches, false);
        Tensor x = forwardCached(Batch.of(tokens, caches));
        Tensor h = Tensor.zeros(DType.F32, x.dim(0), cfg.hidden());
        ops.rmsnorm(x, w.finalNorm(), cfg.rmsNormEps(), h, null);
        return h;
    }

    /** logits[N, V] = h[N, C]·lm_headᵀ. */
    public Tensor logits(Tensor h) {
        Tensor out = Tensor.zeros(DType.F32, h.dim(0), cfg.vocab());
        ops.matmul(h, w.lmHead(), null, out);
        return out;
    }

    /**
     * One decoding step for a batch: appends tokens[b] to each sequence and returns the logits of
     * each sequence's last new token, [B, V] (a new tensor). With a device backend ({@link DeviceDecoder})
     * and fixed weights, the tokens run there one whole-model step at a time.
     */
    public Tensor nextLogits(int[][] tokens, KVCache[] caches) {
        check(tokens, caches, true);
        DeviceDecoder dev = deviceDecoder();
        if (dev != null) return nextLogitsOnDevice(dev, tokens, caches);
        Batch bt = Batch.of(tokens, caches);
        Tensor x = forwardCached(bt);
        // only the last row of each sequence goes through the final norm and the LM head
        Tensor last = Tensor.zeros(DType.F32, tokens.length, cfg.hidden()), h = Tensor.zeros(DType.F32, tokens.length, cfg.hidden());
        for (int b = 0; b < tokens.length; b++) last.row(b).copyFrom(x.row(bt.starts()[b + 1] - 1));
        ops.rmsnorm(last, w.finalNorm(), cfg.rmsNormEps(), h, null);
        return logits(h);
    }

    /**
     * Every layer over the batch's rows through their caches, in place on the inference state's
     * residual stream; returns that stream, x[ΣT, C] after the last layer (overwritten by the next call).
     */
    private Tensor forwardCached(Batch bt) {
        Activations s = inferenceState(bt.rows());
        ops.embedding(w.embed(), bt.ids(), s.x);
        for (int l = 0; l < cfg.layers(); l++) layer(l, bt, s.x, s, s.x);
        for (int b = 0; b < bt.seqs().length; b++) bt.caches()[b].advance(bt.seqs()[b].length);
        return s.x;
    }

    /** The inference activations for {@code rows} rows: views of the state, which grows when a larger batch comes. */
    private Activations inferenceState(int rows) {
        if (state == null || state.capacity < rows) {
            state = null;                                   // let the smaller one go before the larger one is allocated
            state = new Activations(cfg, rows, false);
        }
        return state.rows(rows);
    }

    /** The device decoder, when one was given and no adapters are on; else null. */
    private DeviceDecoder deviceDecoder() {
        if (device == null || adapters != null) return null;
        if (decoder == null) decoder = device.decoder(cfg, w);
        return decoder;
    }

    /**
     * {@link #nextLogits} on the device: every new token of every sequence is one whole-model step
     * (prompt tokens too, one at a time), and each step's key/value rows go into the host cache.
     */
    private Tensor nextLogitsOnDevice(DeviceDecoder dev, int[][] tokens, KVCache[] caches) {
        int kvd = cfg.kvHeads() * cfg.headDim(), vocab = cfg.vocab();
        Tensor out = Tensor.zeros(DType.F32, tokens.length, vocab);
        float[][] k = new float[cfg.layers()][kvd], v = new float[cfg.layers()][kvd];
        float[] logits = new float[vocab];
        for (int b = 0; b < tokens.length; b++) {
            for (int id : tokens[b]) {
                int at = caches[b].length();
                dev.step(id, caches[b], k, v, logits);
                for (int l = 0; l < cfg.layers(); l++)
                    caches[b].write(l, at, Tensor.of(k[l], 1, cfg.kvHeads(), cfg.headDim()), Tensor.of(v[l], 1, cfg.kvHeads(), cfg.headDim()));
                caches[b].advance(1);
            }
            System.arraycopy(logits, 0, out.floatArray(), b * vocab, vocab);
        }
        return out;
    }

    /** Frees the device decoder's memory (Model.close). */
    void closeDevice() {
        if (decoder != null) decoder.close();
        decoder = null;
    }

    /**
     * log p(ids[t] | ids[&lt;t]) for t = 1..n-1 of one sequence: the forward of {@link #logProbs(int[][])}
     * (no cache: the sequence's own keys and values are all attention needs), the LM head in chunks of
     * positions (the T×V logits never exist at once).
     */
    public float[] score(int[] ids) {
        return ids.length < 2 ? new float[0] : logProbs(new int[][]{ids})[0];
    }

    // ---- the decoder layer, for every path; its backward below it -------------------------------

    /**
     * One pre-norm decoder layer over all rows of a batch (gpt-fast's {@code TransformerBlock.forward}):
     * <pre>
     *   mid = x + attention(rmsnorm(x)·attnNorm)
     *   out = mid + mlp(rmsnorm(mid)·mlpNorm)
     * </pre>
     * in full, keeping the internals in {@code act}:
     * <pre>
     *   a = rmsnorm(x)·attnNorm;   q, k, v = a·Wqᵀ(+bq), a·Wkᵀ(+bk), a·Wvᵀ(+bv);   q, k = rope(q, k)
     *   per sequence: cache ← k, v (with caches);  att = softmax(q·kᵀ/√D + causal)·v  over its cache, or
     *                 over its own k, v (training); the row log-sum-exp lse is kept
     *   mid = att·Woᵀ(+bo);  mid += x
     *   m = rmsnorm(mid)·mlpNorm;   gate, up = m·Wgateᵀ, m·Wupᵀ;   s = silu(gate)⊙up
     *   out = s·Wdownᵀ;  out += mid
     * </pre>
     * Every projection adds its adapter's δ when it has one. {@code out} may be {@code x} itself (the
     * stream updated in place: x is dead once mid exists) or null (the backward's recompute stops at s).
     */
    private void layer(int l, Batch bt, Tensor x, Activations act, Tensor out) {
        Weights.Layer L = w.layers()[l];
        Adapter.Layer ad = adapters(l);
        int h = cfg.heads(), kvh = cfg.kvHeads();
        // attention block
        ops.rmsnorm(x, L.attnNorm(), cfg.rmsNormEps(), act.a, act.rstdAttn);
        linear(act.a, L.wq(), L.bq(), ad.q(), act.q);
        linear(act.a, L.wk(), L.bk(), ad.k(), act.k);
        linear(act.a, L.wv(), L.bv(), ad.v(), act.v);
        for (int b = 0; b < bt.seqs().length; b++) {
            int r = bt.starts()[b], t = bt.seqs()[b].length, at = bt.at()[b];
            if (t == 0) continue;
            Tensor q = heads(act.q, r, t, h), k = heads(act.k, r, t, kvh), v = heads(act.v, r, t, kvh);
            ops.rope(q, bt.pos()[b], invFreq);
            ops.rope(k, bt.pos()[b], invFreq);
            if (bt.caches() != null) {                    // attend over everything the sequence has seen
                KVCache cache = bt.caches()[b];
                cache.write(l, at, k, v);
                k = cache.keys(l, at + t);
                v = cache.values(l, at + t);
            }
            ops.attention(q, k, v, at, heads(act.att, r, t, h), act.lse.slice(r, r + t));
        }
        linear(act.att, L.wo(), L.bo(), ad.o(), act.mid);
        ops.residual(act.mid, x);
        // MLP block, a block of rows at a time: all rows at once, unless the F-wide buffers are shorter
        // (inference keeps Activations.MLP_ROWS of them, so a long prefill runs its MLP in blocks)
        ops.rmsnorm(act.mid, L.mlpNorm(), cfg.rmsNormEps(), act.m, act.rstdMlp);
        int rows = bt.rows(), size = blockSize(rows, act.gate.dim(0));
        for (int r0 = 0; r0 < rows; r0 += size) {
            int r1 = Math.min(rows, r0 + size), n = r1 - r0;
            Tensor m = act.m.slice(r0, r1), gate = act.gate.slice(0, n), up = act.up.slice(0, n), s = act.s.slice(0, n);
            linear(m, L.wGate(), null, ad.gate(), gate);
            linear(m, L.wUp(), null, ad.up(), up);
            ops.swiglu(gate, up, s);
            if (out != null) {
                linear(s, L.wDown(), null, ad.down(), out.slice(r0, r1));
                ops.residual(out.slice(r0, r1), act.mid.slice(r0, r1));
            }
        }
    }

    /**
     * Rows per MLP block: all of them when the buffers hold that many, else near-equal blocks (each
     * over half the buffer's height), so that every product stays on the kernel path it takes for all
     * rows at once and a row's result does not depend on the blocking.
     */
    private static int blockSize(int rows, int capacity) {
        return rows <= capacity ? Math.max(1, rows) : Math.ceilDiv(rows, Math.ceilDiv(rows, capacity));
    }

    /**
     * Backward of {@link #layer} (training: no caches, every sequence from position 0). Recomputes
     * the layer from its saved input x, then, with {@code dx} holding dLoss/dout on entry and
     * dLoss/dx on return: the residual's backward passes dout straight through, and each sub-layer's
     * input gradient joins it ({@link Ops#residual}):
     * <pre>
     *   MLP:        ds = dout·Wdown;  dgate, dup = swiglu'(ds);  dm = dgate·Wgate + dup·Wup
     *               dmid = dout + rmsnorm'(dm)
     *   attention:  datt = dmid·Wo;  dq, dk, dv = attention'(datt)  (p recomputed from lse)
     *               dq, dk = rope'(dq, dk)  (rotation by −angle);  da = dq·Wq + dk·Wk + dv·Wv
     *               dx = dmid + rmsnorm'(da)
     *   weights:    dW += dyᵀ·(the projection's input), db += Σ_t dy, dnorm += Σ_t dy·xhat
     * </pre>
     * {@code gw} holds the layer's weight gradients; its null entries (all, for a frozen base) are skipped.
     */
    private void layerBackward(int l, Batch bt, Tensor x, Activations act, Gradients g, Tensor dx, Weights.Layer gw) {
        Weights.Layer L = w.layers()[l];
        Adapter.Layer ad = adapters(l);
        int h = cfg.heads(), kvh = cfg.kvHeads();
        layer(l, bt, x, act, null);
        // MLP block
        linearBackward(act.s, L.wDown(), ad.down(), dx, g.ds, gw.wDown(), null);
        ops.swigluBackward(act.gate, act.up, g.ds, g.dgate, g.dup);
        linearBackward(act.m, L.wGate(), ad.gate(), g.dgate, g.dc, gw.wGate(), null);
        linearBackward(act.m, L.wUp(), ad.up(), g.dup, g.tmp, gw.wUp(), null);
        ops.residual(g.dc, g.tmp);                        // m feeds gate and up
        ops.rmsnormBackward(act.mid, L.mlpNorm(), act.rstdMlp, g.dc, g.tmp, gw.mlpNorm());
        ops.residual(dx, g.tmp);                          // dmid = dout + the MLP branch's
        // attention block
        linearBackward(act.att, L.wo(), ad.o(), dx, g.datt, gw.wo(), gw.bo());
        g.dk.fill(0);   // attentionBackward accumulates dk, dv (query heads of a group share a kv head)
        g.dv.fill(0);
        for (int b = 0; b < bt.seqs().length; b++) {
            int r = bt.starts()[b], t = bt.seqs()[b].length;
            if (t == 0) continue;
            Tensor dq = heads(g.dq, r, t, h), dk = heads(g.dk, r, t, kvh);
            ops.attentionBackward(heads(act.q, r, t, h), heads(act.k, r, t, kvh), heads(act.v, r, t, kvh), 0,
                    heads(act.att, r, t, h), act.lse.slice(r, r + t), heads(g.datt, r, t, h), dq, dk, heads(g.dv, r, t, kvh));
            ops.ropeBackward(dq, bt.pos()[b], invFreq);
            ops.ropeBackward(dk, bt.pos()[b], invFreq);
        }
        linearBackward(act.a, L.wq(), ad.q(), g.dq, g.dc, gw.wq(), gw.bq());
        linearBackward(act.a, L.wk(), ad.k(), g.dk, g.tmp, gw.wk(), gw.bk());
        ops.residual(g.dc, g.tmp);                        // a feeds q, k and v
        linearBackward(act.a, L.wv(), ad.v(), g.dv, g.tmp, gw.wv(), gw.bv());
        ops.residual(g.dc, g.tmp);
        ops.rmsnormBackward(x, L.attnNorm(), act.rstdAttn, g.dc, g.tmp, gw.attnNorm());
        ops.residual(dx, g.tmp);                          // dx = dmid + the attention branch's
    }

    /** y[T,N] = x[T,K]·wᵀ (+ b) (+ δ(x) of the adapter, when there is one). */
    private void linear(Tensor x, Tensor w, Tensor b, Adapter adapter, Tensor y) {
        ops.matmul(x, w, b, y);
        if (adapter != null) adapter.forward(ops, x, y);
    }

    /**
     * Backward of {@link #linear}: dx = dy·w (+ the adapter's part) is assigned, dw and db (either may
     * be null: frozen) accumulate, and the adapter accumulates its own gradients.
     */
    private void linearBackward(Tensor x, Tensor w, Adapter adapter, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        ops.matmulBackward(x, w, dy, dx, dw, db);
        if (adapter != null) adapter.backward(ops, x, dy, dx);
    }

    // ---- training: the forward keeps layer inputs, the backward recomputes each layer ----------

    /**
     * What the training forward keeps for the backward: the sequences, the first row of each
     * (starts[b], starts[B] = ΣT), every layer's input (inputs[l] = x before layer l, inputs[L] = the
     * last layer's output; each [ΣT, C]; null without gradient), and the final-normed h[ΣT, C] with its rstd[ΣT].
     * Nothing inside a layer is kept: the backward recomputes it (layer-input checkpointing).
     */
    public record Trace(int[][] seqs, int[] starts, Tensor[] inputs, Tensor h, Tensor finalRstd) {
        public int rows() { return h.dim(0); }
    }

    /**
     * The training forward over whole sequences (positions 0..n-1 each, no cache). The rows of all
     * sequences go through every matrix product together; only RoPE and attention run per sequence.
     * <pre>
     *   x₀ = embed[ids];  x_{l+1} = layer_l(x_l);  h = rmsnorm(x_L)·finalNorm
     * </pre>
     */
    public Trace forwardTrain(int[][] seqs) {
        return forwardTrain(seqs, true);
    }

    /**
     * log p(ids[t] | ids[&lt;t]), t = 1..n-1, of each sequence, without gradient: the training forward
     * (bit for bit the log-probs {@link #backward} differentiates) keeping no layer inputs.
     */
    public float[][] logProbs(int[][] seqs) {
        Trace tr = forwardTrain(seqs, false);
        float[][] out = new float[seqs.length][];
        for (int b = 0; b < seqs.length; b++) out[b] = logProbs(tr, b);
        return out;
    }

    /** With keepInputs false, the layers update one residual stream in place and the trace cannot go backward. */
    private Trace forwardTrain(int[][] seqs, boolean keepInputs) {
        checkSequences(seqs);
        Batch bt = Batch.of(seqs, null);
        int rows = bt.rows(), c = cfg.hidden();
        Activations act = new Activations(cfg, rows, keepInputs);
        Tensor x = keepInputs ? Tensor.zeros(DType.F32, rows, c) : act.x;
        Tensor[] inputs = keepInputs ? new Tensor[cfg.layers() + 1] : null;
        ops.embedding(w.embed(), bt.ids(), x);
        for (int l = 0; l < cfg.layers(); l++) {
            if (keepInputs) inputs[l] = x;
            Tensor out = keepInputs ? Tensor.zeros(DType.F32, rows, c) : x;
            layer(l, bt, x, act, out);
            x = out;
        }
        if (keepInputs) inputs[cfg.layers()] = x;
        Tensor h = Tensor.zeros(DType.F32, rows, c), rstd = Tensor.zeros(DType.F32, rows);
        ops.rmsnorm(x, w.finalNorm(), cfg.rmsNormEps(), h, rstd);
        return new Trace(seqs, bt.starts(), inputs, h, rstd);
    }

    /**
     * logp[t-1] = log p(ids[t] | ids[&lt;t]) = log_softmax(h[t-1]·lm_headᵀ)[ids[t]], t = 1..n-1, of sequence
     * b of a trace; the LM head runs in chunks of positions, so the T×V logits never exist.
     */
    public float[] logProbs(Trace tr, int b) {
        int n = tr.seqs()[b].length, r = tr.starts()[b];
        if (n < 2) return new float[0];
        Tensor logp = Tensor.zeros(DType.F32, n - 1);
        ops.lmHeadLogProbs(tr.h().slice(r, r + n - 1), w.lmHead(), targets(tr.seqs()[b]), logp, null, null, null);
        return logp.toFloatArray();
    }

    /**
     * Backward of the whole model from dLoss/dlogp of each sequence (dlogp[b] has n_b − 1 entries, as
     * {@link #logProbs(Trace, int)}). {@code grads} has the shape of the weights and receives += of every
     * gradient; it is null when all weights are frozen (only adapters learn, and they keep their own
     * gradients). With tied embeddings grads.embed() and grads.lmHead() are one tensor, which then
     * receives both the LM-head and the embedding gradient.
     * <pre>
     *   dh = dlogp·∂logp/∂h  (LM head + log-softmax, chunked; the last position of a sequence predicts nothing: 0)
     *   dx_L = rmsnorm'(dh);  dx_l = layer_l'(dx_{l+1}) for l = L-1..0;  dembed[ids[t]] += dx₀[t]
     * </pre>
     */
    public void backward(Trace tr, float[][] dlogp, Weights grads) {
        if (tr.inputs() == null) throw new IllegalStateException("this trace was computed without gradient (logProbs)");
        int rows = tr.rows(), c = cfg.hidden();
        if (dlogp.length != tr.seqs().length)
            throw new IllegalArgumentException(dlogp.length + " dlogp arrays for " + tr.seqs().length + " sequences");
        Tensor dh = Tensor.zeros(DType.F32, rows, c);
        for (int b = 0; b < tr.seqs().length; b++) {
            int n = tr.seqs()[b].length, r = tr.starts()[b];
            if (dlogp[b].length != Math.max(0, n - 1))
                throw new IllegalArgumentException("sequence " + b + ": " + dlogp[b].length + " dlogp entries for " + n + " tokens");
            if (n < 2) continue;
            // the logits of each chunk are recomputed, their log-softmax backward taken at once
            ops.lmHeadLogProbs(tr.h().slice(r, r + n - 1), w.lmHead(), targets(tr.seqs()[b]), Tensor.zeros(DType.F32, n - 1),
                    Tensor.of(dlogp[b], n - 1), dh.slice(r, r + n - 1), grads == null ? null : grads.lmHead());
        }
        Tensor dx = Tensor.zeros(DType.F32, rows, c);             // the residual stream's gradient
        ops.rmsnormBackward(tr.inputs()[cfg.layers()], w.finalNorm(), tr.finalRstd(), dh, dx,
                grads == null ? null : grads.finalNorm());
        Batch bt = Batch.of(tr.seqs(), null);
        Activations act = new Activations(cfg, rows, true);
        Gradients g = new Gradients(cfg, rows);
        for (int l = cfg.layers() - 1; l >= 0; l--)
            layerBackward(l, bt, tr.inputs()[l], act, g, dx, grads == null ? NO_GRADS : grads.layers()[l]);
        if (grads != null) ops.embeddingBackward(bt.ids(), dx, grads.embed());
    }

    private static final Weights.Layer NO_GRADS = Weights.Layer.of(p -> null);

    // ---- the buffers of one layer, reused layer after layer --------------------------------------

    /**
     * One layer's internals for {@code capacity} rows (names as in {@link #layer}). For the backward
     * every one has its own buffer. Otherwise (inference, and training forwards without gradient) the
     * stream x is updated in place, buffers that are dead before the next is written share memory
     * (m uses a's: a is read only by q, k and v; s is gate: swiglu in place), and the F-wide ones hold
     * at most {@link #MLP_ROWS} rows: the MLP of a long prefill runs in blocks (at 4k positions of a
     * 1.5B model, 0.28 GB of gate and up become 37 MB).
     */
    private static final class Activations {
        final int capacity;
        final Tensor x;                           // [rows, C] the residual stream; null for the backward (the trace keeps it)
        final Tensor a, mid, m;                   // [rows, C]
        final Tensor rstdAttn, rstdMlp;           // [rows]
        final Tensor q, att;                      // [rows, H·D]
        final Tensor k, v;                        // [rows, KVH·D]
        final Tensor lse;                         // [rows, H]
        final Tensor gate, up, s;                 // [rows, F], or [MLP_ROWS, F] (see above)

        /** Rows of the F-wide buffers outside the backward. */
        static final int MLP_ROWS = 512;

        Activations(ModelConfig cfg, int rows, boolean forBackward) {
            int c = cfg.hidden(), qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim(), f = cfg.intermediate();
            capacity = rows;
            x = forBackward ? null : Tensor.zeros(DType.F32, rows, c);
            a = Tensor.zeros(DType.F32, rows, c);
            mid = Tensor.zeros(DType.F32, rows, c);
            m = forBackward ? Tensor.zeros(DType.F32, rows, c) : a;
            rstdAttn = Tensor.zeros(DType.F32, rows);
            rstdMlp = Tensor.zeros(DType.F32, rows);
            q = Tensor.zeros(DType.F32, rows, qd);
            att = Tensor.zeros(DType.F32, rows, qd);
            k = Tensor.zeros(DType.F32, rows, kvd);
            v = Tensor.zeros(DType.F32, rows, kvd);
            lse = Tensor.zeros(DType.F32, rows, cfg.heads());
            int mlpRows = forBackward ? rows : Math.min(rows, MLP_ROWS);
            gate = Tensor.zeros(DType.F32, mlpRows, f);
            up = Tensor.zeros(DType.F32, mlpRows, f);
            s = forBackward ? Tensor.zeros(DType.F32, rows, f) : gate;
        }

        private Activations(int capacity, Tensor[] t) {
            this.capacity = capacity;
            x = t[0]; a = t[1]; mid = t[2]; m = t[3]; rstdAttn = t[4]; rstdMlp = t[5]; q = t[6]; att = t[7];
            k = t[8]; v = t[9]; lse = t[10]; gate = t[11]; up = t[12]; s = t[13];
        }

        /** The first {@code rows} rows of every buffer (views: no copy) of an inference state. */
        Activations rows(int rows) {
            Tensor[] t = {x, a, mid, m, rstdAttn, rstdMlp, q, att, k, v, lse, gate, up, s};
            for (int i = 0; i < t.length; i++) t[i] = t[i].slice(0, Math.min(rows, t[i].dim(0)));
            return new Activations(rows, t);
        }
    }

    /** Activation gradients of one layer, reused layer after layer (d of the names in {@link Activations}). */
    private static final class Gradients {
        final Tensor dc, tmp;                     // [ΣT, C]: dm or da, and one term of a sum
        final Tensor dq, datt;                    // [ΣT, H·D]
        final Tensor dk, dv;                      // [ΣT, KVH·D]
        final Tensor ds, dgate, dup;              // [ΣT, F]

        Gradients(ModelConfig cfg, int rows) {
            int c = cfg.hidden(), qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim(), f = cfg.intermediate();
            dc = Tensor.zeros(DType.F32, rows, c);
            tmp = Tensor.zeros(DType.F32, rows, c);
            dq = Tensor.zeros(DType.F32, rows, qd);
            datt = Tensor.zeros(DType.F32, rows, qd);
            dk = Tensor.zeros(DType.F32, rows, kvd);
            dv = Tensor.zeros(DType.F32, rows, kvd);
            ds = Tensor.zeros(DType.F32, rows, f);
            dgate = Tensor.zeros(DType.F32, rows, f);
            dup = Tensor.zeros(DType.F32, rows, f);
        }
    }

    // ---- the rows of a call, and what may go into one --------------------------------------------

    /**
     * The rows of one call: sequence b's new tokens are rows [starts[b], starts[b+1]) of every
     * activation, at positions pos[b] = at[b], at[b]+1, … where at[b] is its cache's length (0 without
     * caches: training and scoring start every sequence at position 0).
     */
    private record Batch(int[][] seqs, int[] starts, int[] at, int[][] pos, KVCache[] caches) {
        static Batch of(int[][] seqs, KVCache[] caches) {
            int n = seqs.length;
            int[] starts = new int[n + 1], at = new int[n];
            int[][] pos = new int[n][];
            for (int b = 0; b < n; b++) {
                starts[b + 1] = starts[b] + seqs[b].length;
                at[b] = caches == null ? 0 : caches[b].length();
                pos[b] = new int[seqs[b].length];
                for (int i = 0; i < pos[b].length; i++) pos[b][i] = at[b] + i;
            }
            return new Batch(seqs, starts, at, pos, caches);
        }

        int rows() { return starts[seqs.length]; }

        /** Every sequence's tokens, one after the other. */
        int[] ids() {
            int[] ids = new int[rows()];
            for (int b = 0; b < seqs.length; b++) System.arraycopy(seqs[b], 0, ids, starts[b], seqs[b].length);
            return ids;
        }
    }

    /** {@link #check} of whole sequences for training or scoring: from position 0, without caches. */
    public void checkSequences(int[][] seqs) {
        check(seqs, null, false);
    }

    /**
     * Rejects, before any work, what the decoder cannot run: a token id outside [0, V) (named with its
     * sequence and position), a sequence that would run past the context (the model's, and with caches
     * also its cache's capacity) and, when {@code needsToken} (the logits of each sequence's last new
     * token are asked for), a sequence with no new token.
     */
    private void check(int[][] tokens, KVCache[] caches, boolean needsToken) {
        sourceCheck.run();
        if (caches != null && caches.length != tokens.length)
            throw new IllegalArgumentException(tokens.length + " sequences but " + caches.length + " caches");
        for (int b = 0; b < tokens.length; b++) {
            int start = caches == null ? 0 : caches[b].length(), end = start + tokens[b].length;
            int context = caches == null ? cfg.maxPositions() : Math.min(caches[b].capacity(), cfg.maxPositions());
            if (needsToken && tokens[b].length == 0) throw new IllegalArgumentException("sequence " + b + " has no new token");
            if (end > context)
                throw new IllegalArgumentException("sequence " + b + ": " + end + " positions exceed the context of " + context
                        + (caches == null ? " (the model's)" : " (cache " + caches[b].capacity() + ", model " + cfg.maxPositions() + ")"));
            for (int t = 0; t < tokens[b].length; t++)
                if (tokens[b][t] < 0 || tokens[b][t] >= cfg.vocab())
                    throw new IllegalArgumentException("sequence " + b + ": token id " + tokens[b][t] + " at position " + (start + t)
                            + " is outside the vocabulary [0, " + cfg.vocab() + ")");
        }
    }

    /** Rows [r, r+t) of a [ΣT, heads·D] activation as [t, heads, D]. */
    private Tensor heads(Tensor rows, int r, int t, int heads) {
        return rows.slice(r, r + t).reshape(t, heads, cfg.headDim());
    }

    private static int[] targets(int[] ids) { return Arrays.copyOfRange(ids, 1, ids.length); }
}
