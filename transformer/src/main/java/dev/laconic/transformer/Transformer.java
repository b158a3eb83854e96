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
 *
 * <p>Training ({@link #forwardTrain}, {@link #backward}) runs the same layers without caches and
 * keeps only each layer's input (layer-input checkpointing): the backward recomputes one layer's
 * internals from its input, then walks back through it. Each layer's backward sits directly below its
 * forward. Parameter gradients accumulate (+=), activation gradients are assigned (=), except the
 * residual stream, which each sub-layer's backward adds to. Projections may carry an {@link Adapter}
 * (LoRA); with adapters the frozen weights get no gradient at all.
 */
public final class Transformer {
    private final ModelConfig cfg;
    private final Weights w;
    private final Ops ops;
    private final float[] invFreq;  // [D/2]
    private Adapter.Layer[] adapters;  // per layer, or null: plain projections
    private final DeviceDecoder.Source device; // whole-step decoding on a device (Model.load with such a backend), or null
    private DeviceDecoder decoder;     // created on the first nextLogits when a device is given (see DeviceDecoder)

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
        this.cfg = cfg;
        this.w = weights;
        this.ops = ops;
        this.device = device;
        this.invFreq = cfg.invFreq();
    }

    public ModelConfig config() { return cfg; }
    public Weights weights() { return w; }
    public Ops ops() { return ops; }

    /** Puts adapters on the projections (one {@link Adapter.Layer} per layer), or takes them off (null). */
    public void setAdapters(Adapter.Layer[] perLayer) {
        if (perLayer != null && perLayer.length != cfg.layers())
            throw new IllegalArgumentException(perLayer.length + " adapter layers for a model of " + cfg.layers());
        this.adapters = perLayer == null ? null : perLayer.clone();
    }

    /** The adapters in use, or null. */
    public Adapter.Layer[] adapters() { return adapters == null ? null : adapters.clone(); }

    private Adapter.Layer adapters(int layer) { return adapters == null || adapters[layer] == null ? NONE : adapters[layer]; }

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
            Adapter.Layer ad = adapters(l);
            // attention block
            ops.rmsnorm(x, L.attnNorm(), cfg.rmsNormEps(), a, null);
            linear(a, L.wq(), L.bq(), ad.q(), q);
            linear(a, L.wk(), L.bk(), ad.k(), k);
            linear(a, L.wv(), L.bv(), ad.v(), v);
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
            linear(att, L.wo(), L.bo(), ad.o(), proj);
            addInPlace(x, proj);
            // MLP block
            ops.rmsnorm(x, L.mlpNorm(), cfg.rmsNormEps(), a, null);
            linear(a, L.wGate(), null, ad.gate(), gate);
            linear(a, L.wUp(), null, ad.up(), up);
            ops.swiglu(gate, up, gate);
            linear(gate, L.wDown(), null, ad.down(), proj);
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
     * each sequence's last new token, [B, V]. With a device backend ({@link DeviceDecoder}) and fixed
     * weights, the tokens run there one whole-model step at a time.
     */
    public Tensor nextLogits(int[][] tokens, KVCache[] caches) {
        DeviceDecoder dev = deviceDecoder();
        if (dev != null) return nextLogitsOnDevice(dev, tokens, caches);
        Tensor h = forward(tokens, caches);
        Tensor last = Tensor.zeros(DType.F32, tokens.length, cfg.hidden());
        for (int b = 0, r = 0; b < tokens.length; b++) {
            r += tokens[b].length;
            if (tokens[b].length == 0) throw new IllegalArgumentException("sequence " + b + " has no new token");
            last.row(b).copyFrom(h.row(r - 1));
        }
        return logits(last);
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
        for (int b = 0; b < tokens.length; b++) {     // every check before any work, as forward does
            if (tokens[b].length == 0) throw new IllegalArgumentException("sequence " + b + " has no new token");
            if (caches[b].length() + tokens[b].length > Math.min(caches[b].capacity(), cfg.maxPositions()))
                throw new IllegalArgumentException("sequence " + b + ": " + (caches[b].length() + tokens[b].length)
                        + " positions exceed the context (cache " + caches[b].capacity() + ", model " + cfg.maxPositions() + ")");
            for (int id : tokens[b])
                if (id < 0 || id >= vocab) throw new IndexOutOfBoundsException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
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

    // ---- training: the forward keeps layer inputs, each backward sits below its forward ----------

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

    /** With keepInputs false, two residual buffers take turns and the trace cannot go backward. */
    private Trace forwardTrain(int[][] seqs, boolean keepInputs) {
        checkSequences(seqs);
        int[] starts = new int[seqs.length + 1];
        for (int b = 0; b < seqs.length; b++) starts[b + 1] = starts[b] + seqs[b].length;
        int rows = starts[seqs.length], c = cfg.hidden();
        Tensor x = Tensor.zeros(DType.F32, rows, c), spare = keepInputs ? null : Tensor.zeros(DType.F32, rows, c);
        Tensor[] inputs = keepInputs ? new Tensor[cfg.layers() + 1] : null;
        ops.embedding(w.embed(), concat(seqs), x);
        LayerActivations act = new LayerActivations(cfg, rows);
        for (int l = 0; l < cfg.layers(); l++) {
            if (keepInputs) inputs[l] = x;
            Tensor out = keepInputs ? Tensor.zeros(DType.F32, rows, c) : spare;
            layerForward(l, seqs, starts, x, act, out);
            spare = x;
            x = out;
        }
        if (keepInputs) inputs[cfg.layers()] = x;
        Tensor h = Tensor.zeros(DType.F32, rows, c), rstd = Tensor.zeros(DType.F32, rows);
        ops.rmsnorm(x, w.finalNorm(), cfg.rmsNormEps(), h, rstd);
        return new Trace(seqs, starts, inputs, h, rstd);
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
        LayerActivations act = new LayerActivations(cfg, rows);
        LayerGradients g = new LayerGradients(cfg, rows);
        for (int l = cfg.layers() - 1; l >= 0; l--)
            layerBackward(l, tr, act, g, dx, grads == null ? NO_GRADS : grads.layers()[l]);
        if (grads != null) ops.embeddingBackward(concat(tr.seqs()), dx, grads.embed());
    }

    /**
     * One decoder layer over all rows, keeping its internals in {@code act}:
     * <pre>
     *   a = rmsnorm(x)·attnNorm;   q, k, v = a·Wqᵀ(+bq), a·Wkᵀ(+bk), a·Wvᵀ(+bv);   q, k = rope(q, k)
     *   att = softmax(q·kᵀ/√D + causal)·v  (per sequence; its row log-sum-exp lse kept)
     *   mid = x + att·Woᵀ(+bo)
     *   m = rmsnorm(mid)·mlpNorm;   gate, up = m·Wgateᵀ, m·Wupᵀ;   s = silu(gate)⊙up
     *   out = mid + s·Wdownᵀ        (skipped when out is null: the backward's recompute needs no output)
     * </pre>
     * Every projection adds its adapter's δ when it has one.
     */
    private void layerForward(int l, int[][] seqs, int[] starts, Tensor x, LayerActivations act, Tensor out) {
        Weights.Layer L = w.layers()[l];
        Adapter.Layer ad = adapters(l);
        int h = cfg.heads(), kvh = cfg.kvHeads(), d = cfg.headDim();
        ops.rmsnorm(x, L.attnNorm(), cfg.rmsNormEps(), act.a, act.rstdAttn);
        linear(act.a, L.wq(), L.bq(), ad.q(), act.q);
        linear(act.a, L.wk(), L.bk(), ad.k(), act.k);
        linear(act.a, L.wv(), L.bv(), ad.v(), act.v);
        for (int b = 0; b < seqs.length; b++) {
            int r = starts[b], t = seqs[b].length;
            if (t == 0) continue;
            int[] pos = positions(t);
            Tensor qb = act.q.slice(r, r + t).reshape(t, h, d), kb = act.k.slice(r, r + t).reshape(t, kvh, d);
            ops.rope(qb, pos, invFreq);
            ops.rope(kb, pos, invFreq);
            ops.attention(qb, kb, act.v.slice(r, r + t).reshape(t, kvh, d), 0,
                    act.att.slice(r, r + t).reshape(t, h, d), act.lse.slice(r, r + t));
        }
        linear(act.att, L.wo(), L.bo(), ad.o(), act.mid);
        addInPlace(act.mid, x);
        ops.rmsnorm(act.mid, L.mlpNorm(), cfg.rmsNormEps(), act.m, act.rstdMlp);
        linear(act.m, L.wGate(), null, ad.gate(), act.gate);
        linear(act.m, L.wUp(), null, ad.up(), act.up);
        ops.swiglu(act.gate, act.up, act.s);
        if (out == null) return;
        linear(act.s, L.wDown(), null, ad.down(), out);
        addInPlace(out, act.mid);
    }

    /**
     * Backward of {@link #layerForward}. Recomputes the layer from its saved input, then, with
     * {@code dx} holding dLoss/dout on entry and dLoss/dx on return (the residual stream: each
     * sub-layer's backward adds its branch's gradient to the one passing straight through):
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
    private void layerBackward(int l, Trace tr, LayerActivations act, LayerGradients g, Tensor dx, Weights.Layer gw) {
        Weights.Layer L = w.layers()[l];
        Adapter.Layer ad = adapters(l);
        int h = cfg.heads(), kvh = cfg.kvHeads(), d = cfg.headDim();
        Tensor x = tr.inputs()[l];
        layerForward(l, tr.seqs(), tr.starts(), x, act, null);
        // MLP block
        linearBackward(act.s, L.wDown(), ad.down(), dx, g.ds, gw.wDown(), null);
        ops.swigluBackward(act.gate, act.up, g.ds, g.dgate, g.dup);
        linearBackward(act.m, L.wGate(), ad.gate(), g.dgate, g.dc, gw.wGate(), null);
        linearBackward(act.m, L.wUp(), ad.up(), g.dup, g.tmp, gw.wUp(), null);
        addInPlace(g.dc, g.tmp);
        ops.rmsnormBackward(act.mid, L.mlpNorm(), act.rstdMlp, g.dc, g.tmp, gw.mlpNorm());
        addInPlace(dx, g.tmp);
        // attention block
        linearBackward(act.att, L.wo(), ad.o(), dx, g.datt, gw.wo(), gw.bo());
        g.dk.fill(0);   // attentionBackward accumulates dk, dv (query heads of a group share a kv head)
        g.dv.fill(0);
        for (int b = 0; b < tr.seqs().length; b++) {
            int r = tr.starts()[b], t = tr.seqs()[b].length;
            if (t == 0) continue;
            int[] pos = positions(t);
            Tensor dq = g.dq.slice(r, r + t).reshape(t, h, d), dk = g.dk.slice(r, r + t).reshape(t, kvh, d);
            ops.attentionBackward(act.q.slice(r, r + t).reshape(t, h, d), act.k.slice(r, r + t).reshape(t, kvh, d),
                    act.v.slice(r, r + t).reshape(t, kvh, d), 0, act.att.slice(r, r + t).reshape(t, h, d),
                    act.lse.slice(r, r + t), g.datt.slice(r, r + t).reshape(t, h, d),
                    dq, dk, g.dv.slice(r, r + t).reshape(t, kvh, d));
            ops.ropeBackward(dq, pos, invFreq);
            ops.ropeBackward(dk, pos, invFreq);
        }
        linearBackward(act.a, L.wq(), ad.q(), g.dq, g.dc, gw.wq(), gw.bq());
        linearBackward(act.a, L.wk(), ad.k(), g.dk, g.tmp, gw.wk(), gw.bk());
        addInPlace(g.dc, g.tmp);
        linearBackward(act.a, L.wv(), ad.v(), g.dv, g.tmp, gw.wv(), gw.bv());
        addInPlace(g.dc, g.tmp);
        ops.rmsnormBackward(x, L.attnNorm(), act.rstdAttn, g.dc, g.tmp, gw.attnNorm());
        addInPlace(dx, g.tmp);
    }

    private static final Weights.Layer NO_GRADS = Weights.Layer.of(p -> null);

    /** One layer's internals for all ΣT rows, reused layer after layer (names as in {@link #layerForward}). */
    private static final class LayerActivations {
        final Tensor a, mid, m;                   // [ΣT, C]
        final Tensor rstdAttn, rstdMlp;           // [ΣT]
        final Tensor q, att;                      // [ΣT, H·D]
        final Tensor k, v;                        // [ΣT, KVH·D]
        final Tensor lse;                         // [ΣT, H]
        final Tensor gate, up, s;                 // [ΣT, F]

        LayerActivations(ModelConfig cfg, int rows) {
            int c = cfg.hidden(), qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim(), f = cfg.intermediate();
            a = Tensor.zeros(DType.F32, rows, c);
            mid = Tensor.zeros(DType.F32, rows, c);
            m = Tensor.zeros(DType.F32, rows, c);
            rstdAttn = Tensor.zeros(DType.F32, rows);
            rstdMlp = Tensor.zeros(DType.F32, rows);
            q = Tensor.zeros(DType.F32, rows, qd);
            att = Tensor.zeros(DType.F32, rows, qd);
            k = Tensor.zeros(DType.F32, rows, kvd);
            v = Tensor.zeros(DType.F32, rows, kvd);
            lse = Tensor.zeros(DType.F32, rows, cfg.heads());
            gate = Tensor.zeros(DType.F32, rows, f);
            up = Tensor.zeros(DType.F32, rows, f);
            s = Tensor.zeros(DType.F32, rows, f);
        }
    }

    /** Activation gradients of one layer, reused layer after layer (d of the names in {@link LayerActivations}). */
    private static final class LayerGradients {
        final Tensor dc, tmp;                     // [ΣT, C]: dm or da, and one term of a sum
        final Tensor dq, datt;                    // [ΣT, H·D]
        final Tensor dk, dv;                      // [ΣT, KVH·D]
        final Tensor ds, dgate, dup;              // [ΣT, F]

        LayerGradients(ModelConfig cfg, int rows) {
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

    /**
     * Rejects what training cannot run, before any work: a token id outside [0, V) (named with its
     * sequence and position) or a sequence longer than the model's context.
     */
    public void checkSequences(int[][] seqs) {
        for (int b = 0; b < seqs.length; b++) {
            if (seqs[b].length > cfg.maxPositions())
                throw new IllegalArgumentException("sequence " + b + ": " + seqs[b].length
                        + " tokens exceed the model's context of " + cfg.maxPositions());
            for (int t = 0; t < seqs[b].length; t++)
                if (seqs[b][t] < 0 || seqs[b][t] >= cfg.vocab())
                    throw new IllegalArgumentException("sequence " + b + ": token id " + seqs[b][t] + " at position " + t
                            + " is outside the vocabulary [0, " + cfg.vocab() + ")");
        }
    }

    private static int[] concat(int[][] seqs) {
        int n = 0;
        for (int[] s : seqs) n += s.length;
        int[] ids = new int[n];
        for (int b = 0, r = 0; b < seqs.length; r += seqs[b].length, b++) System.arraycopy(seqs[b], 0, ids, r, seqs[b].length);
        return ids;
    }

    private static int[] targets(int[] ids) { return java.util.Arrays.copyOfRange(ids, 1, ids.length); }

    private static int[] positions(int t) {
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = i;
        return pos;
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
