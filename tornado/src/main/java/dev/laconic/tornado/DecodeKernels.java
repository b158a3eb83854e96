package dev.laconic.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The kernels of one decode step (one token, T = 1) as TornadoVM task methods. Shapes use the
 * alphabet of {@code Shape}: C model dim, H/KVH query/kv heads, D head dim, F MLP dim, V vocab,
 * S the device cache's capacity in positions, L layers.
 *
 * <p>Every method is a {@code @Parallel} loop: TornadoVM turns the loop into the kernel's thread
 * index, and called as plain Java it is the same computation run sequentially (which the tests use
 * as a second, independent path). No {@code @Reduce} (its large reductions are wrong on PoCL) and no
 * local memory: a sum over K is split into {@link #P} interleaved partial sums written by P threads
 * and added up by the next kernel in a fixed order. Thread j of a row reads elements j, j+P, j+2P, …,
 * so the P threads of a GPU warp read P consecutive weights (coalesced), with nothing shared.
 *
 * <p>Parameter names become OpenCL C names: none may be an OpenCL type or keyword ({@code half}!).
 *
 * <p>Per-token scalars come from {@code step} (an int array uploaded with every execution):
 * [{@link #TOKEN}, {@link #POS}, {@link #LAYER}]. Weights of all layers are stacked in one array per
 * matrix (layer l at l·N·K), so the same compiled kernels serve every layer: the host runs the layer
 * graph L times per token with step[LAYER] = 0..L-1. BF16 weights stay 16-bit integers
 * ({@code ShortArray}, PoCL has no fp16/bf16) and are widened in the kernel: a bf16 is the high half of
 * an f32; {@link #bf16} rebuilds that f32 exactly from the bits.
 */
final class DecodeKernels {
    /** Partial sums per row of a reduction (a GPU warp). */
    static final int P = 32;
    /** Indices into step[]. */
    static final int TOKEN = 0, POS = 1, LAYER = 2, STEP_INTS = 3;

    private DecodeKernels() {}

    /** dst[i] = src[i], i &lt; n (the embedding row, gathered on the host, into the residual stream). */
    static void copy(FloatArray src, FloatArray dst, int n) {
        for (@Parallel int i = 0; i < n; i++) dst.set(i, src.get(i));
    }

    /**
     * A task that only makes its arguments resident (the graph that uploads a KV cache). It must read
     * both: TornadoVM copies nothing in for an argument its kernel only writes.
     */
    static void touch(FloatArray a, FloatArray b) {
        if (a.getSize() < 0 && a.get(0) != b.get(0)) b.set(0, a.get(0));
    }

    /**
     * The BF16 bits w (a short, read as an int) as a float, exactly: sign·(implicit bit + mantissa)·2^(e−134)
     * with 2^(max(e,1)−134) from pow2[e] ({@link #bf16Scales}). The bit-cast Float.intBitsToFloat(w << 16)
     * would be simpler, but TornadoVM's OpenCL backend cannot compile a reinterpretation; integer ops and
     * one load from a 1 KiB table compile everywhere. (No Inf/NaN: an exponent of 255 reads as a large finite
     * number, which trained weights never hold.)
     */
    static float bf16(int w, FloatArray pow2) {
        int b = w & 0xFFFF, e = (b >> 7) & 0xFF, m = b & 0x7F;
        float mag = (e == 0 ? m : m + 128) * pow2.get(e);
        return b >= 0x8000 ? -mag : mag;
    }

    /** pow2[e] = 2^(max(e, 1) − 134), e &lt; 256: the scale of a BF16 significand read as an integer. */
    static FloatArray bf16Scales() {
        FloatArray a = new FloatArray(256);
        for (int e = 0; e < 256; e++) a.set(e, Math.scalb(1f, Math.max(e, 1) - 134));
        return a;
    }

    // ---- RMSNorm: y = x·rstd·w, rstd = 1/√(Σx²/C + eps) ----------------------------------------

    /** partial[j] = Σ_{i ≡ j (mod P)} x[i]², j &lt; P: the mean of squares in P interleaved parts. */
    static void sumSquares(FloatArray x, FloatArray partial, int n) {
        for (@Parallel int j = 0; j < P; j++) {
            float s = 0f;
            for (int i = j; i < n; i += P) {
                float v = x.get(i);
                s += v * v;
            }
            partial.set(j, s);
        }
    }

    /**
     * y[i] = x[i]·rstd·w[l·stride + i] with rstd = 1/√(Σ_j partial[j]/n + eps); every thread adds the
     * P partials in the same order, so all get the same rstd. stride = C for the stacked per-layer
     * norms (l = step[LAYER]), 0 for the final norm.
     */
    static void rmsApply(FloatArray x, FloatArray partial, FloatArray w, IntArray step, int stride, float eps, FloatArray y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float ss = 0f;
            for (int j = 0; j < P; j++) ss += partial.get(j);
            float rstd = 1f / TornadoMath.sqrt(ss / n + eps);
            y.set(i, x.get(i) * rstd * w.get(step.get(LAYER) * stride + i));
        }
    }

    // ---- y = W·x, in two kernels: P partial dot products per row, then their sum -----------------

    /**
     * partial[r·P + j] = Σ_{c ≡ j (mod P)} w[l·stride + r·k + c]·x[c] for rows r &lt; n of W[n, k]:
     * stride = n·k for stacked layer weights (l = step[LAYER]), 0 for the LM head.
     */
    static void matvecF32(FloatArray w, FloatArray x, FloatArray partial, IntArray step, int stride, int n, int k) {
        for (@Parallel int i = 0; i < n * P; i++) {
            int r = i / P, j = i - r * P;
            int base = step.get(LAYER) * stride + r * k;
            float s = 0f;
            for (int c = j; c < k; c += P) s += w.get(base + c) * x.get(c);
            partial.set(i, s);
        }
    }

    /** {@link #matvecF32} with BF16 weights kept as 16-bit integers, widened as they are read ({@link #bf16}). */
    static void matvecBf16(ShortArray w, FloatArray pow2, FloatArray x, FloatArray partial, IntArray step, int stride, int n, int k) {
        for (@Parallel int i = 0; i < n * P; i++) {
            int r = i / P, j = i - r * P;
            int base = step.get(LAYER) * stride + r * k;
            float s = 0f;
            for (int c = j; c < k; c += P) s += bf16(w.get(base + c), pow2) * x.get(c);
            partial.set(i, s);
        }
    }

    /** y[r] = Σ_j partial[r·P + j] + b[l·n + r] (biases stacked per layer; zeros for a model without them). */
    static void sumRowsBias(FloatArray partial, FloatArray b, IntArray step, FloatArray y, int n) {
        for (@Parallel int r = 0; r < n; r++) {
            float s = 0f;
            for (int j = 0; j < P; j++) s += partial.get(r * P + j);
            y.set(r, s + b.get(step.get(LAYER) * n + r));
        }
    }

    /** x[r] += Σ_j partial[r·P + j] + b[l·n + r]: the residual connection after Wo and Wdown. */
    static void sumRowsResidual(FloatArray partial, FloatArray b, IntArray step, FloatArray x, int n) {
        for (@Parallel int r = 0; r < n; r++) {
            float s = 0f;
            for (int j = 0; j < P; j++) s += partial.get(r * P + j);
            x.set(r, x.get(r) + s + b.get(step.get(LAYER) * n + r));
        }
    }

    /** y[r] = Σ_j partial[r·P + j]: the logits of the LM head. */
    static void sumRows(FloatArray partial, FloatArray y, int n) {
        for (@Parallel int r = 0; r < n; r++) {
            float s = 0f;
            for (int j = 0; j < P; j++) s += partial.get(r * P + j);
            y.set(r, s);
        }
    }

    /**
     * SwiGLU (Shazeer 2020) fused with the sums of the gate and up projections:
     * h[r] = silu(g)·u, g = Σ_j gate[r·P + j], u = Σ_j up[r·P + j], silu(g) = g/(1 + e^(−g)).
     */
    static void sumRowsSwiglu(FloatArray gate, FloatArray up, FloatArray h, int n) {
        for (@Parallel int r = 0; r < n; r++) {
            float g = 0f, u = 0f;
            for (int j = 0; j < P; j++) {
                g += gate.get(r * P + j);
                u += up.get(r * P + j);
            }
            h.set(r, g / (1f + TornadoMath.exp(-g)) * u);
        }
    }

    // ---- RoPE and the KV cache ---------------------------------------------------------------------

    /**
     * Rotary embedding, rotate-half form, of q[H, D] and k[KVH, D] at position p = step[POS]: for pair
     * i &lt; D/2 of a head, (x[i], x[i+D/2]) ← (x[i]·cos − x[i+D/2]·sin, x[i+D/2]·cos + x[i]·sin), with
     * cos/sin[p·D/2 + i] of the angle p·invFreq[i] from host tables (the CPU's values, no device trig).
     */
    static void rope(FloatArray q, FloatArray k, FloatArray cos, FloatArray sin, IntArray step, int heads, int kvHeads, int halfD) {
        for (@Parallel int i = 0; i < (heads + kvHeads) * halfD; i++) {
            int h = i / halfD, p = i - h * halfD;
            int t = step.get(POS) * halfD + p;
            float c = cos.get(t), s = sin.get(t);
            if (h < heads) {
                int o = h * 2 * halfD + p;
                float x1 = q.get(o), x2 = q.get(o + halfD);
                q.set(o, x1 * c - x2 * s);
                q.set(o + halfD, x2 * c + x1 * s);
            } else {
                int o = (h - heads) * 2 * halfD + p;
                float x1 = k.get(o), x2 = k.get(o + halfD);
                k.set(o, x1 * c - x2 * s);
                k.set(o + halfD, x2 * c + x1 * s);
            }
        }
    }

    /**
     * Appends k, v[KVH·D] at position p = step[POS] of layer l = step[LAYER] to the device cache
     * keys/values[L, S, KVH·D], and into kvOut[L, 2, KVH·D] for the host's copy of the cache.
     * Each element is written only where it differs: the read makes these arguments read-write for
     * TornadoVM, which gives a write-only argument a fresh buffer and so would drop the rest of the cache.
     */
    static void storeKv(FloatArray k, FloatArray v, FloatArray keys, FloatArray values, FloatArray kvOut, IntArray step,
                        int kvDim, int capacity) {
        for (@Parallel int i = 0; i < kvDim; i++) {
            int l = step.get(LAYER);
            int at = (l * capacity + step.get(POS)) * kvDim + i, ko = 2 * l * kvDim + i, vo = ko + kvDim;
            float kk = k.get(i), vv = v.get(i);
            if (keys.get(at) != kk) keys.set(at, kk);
            if (values.get(at) != vv) values.set(at, vv);
            if (kvOut.get(ko) != kk) kvOut.set(ko, kk);
            if (kvOut.get(vo) != vv) kvOut.set(vo, vv);
        }
    }

    // ---- decode attention over the cache, grouped-query: softmax(q·Kᵀ/√D)·V -------------------------

    /** att[h·S + t] = scale·q_h·key_t for t ≤ p = step[POS]; query head h reads kv head h/(H/KVH). */
    static void attnScores(FloatArray q, FloatArray keys, FloatArray att, IntArray step, int heads, int kvHeads, int d,
                           int capacity, float scale) {
        for (@Parallel int i = 0; i < heads * capacity; i++) {
            int h = i / capacity, t = i - h * capacity;
            if (t <= step.get(POS)) {
                int base = (step.get(LAYER) * capacity + t) * kvHeads * d + h / (heads / kvHeads) * d;
                float s = 0f;
                for (int e = 0; e < d; e++) s += q.get(h * d + e) * keys.get(base + e);
                att.set(i, s * scale);
            }
        }
    }

    /**
     * Softmax statistics in P interleaved parts: for head h and part j, m = max of the scores
     * t ≡ j (mod P), t ≤ p, and l = Σ e^(s_t − m); stats[2(h·P + j)] = m, stats[2(h·P + j) + 1] = l.
     * An empty part (p &lt; j) has m = −1e30, l = 0 and drops out of the combination below.
     */
    static void attnStats(FloatArray att, FloatArray stats, IntArray step, int heads, int capacity) {
        for (@Parallel int i = 0; i < heads * P; i++) {
            int h = i / P, j = i - h * P, pos = step.get(POS);
            float m = -1e30f;
            for (int t = j; t <= pos; t += P) m = TornadoMath.max(m, att.get(h * capacity + t));
            float l = 0f;
            for (int t = j; t <= pos; t += P) l += TornadoMath.exp(att.get(h * capacity + t) - m);
            stats.set(2 * i, m);
            stats.set(2 * i + 1, l);
        }
    }

    /**
     * att[h·S + t] ← e^(s_t − M)/Λ for t ≤ p, in place, where the parts combine as in online softmax:
     * M = max_j m_j, Λ = Σ_j l_j·e^(m_j − M).
     */
    static void attnSoftmax(FloatArray att, FloatArray stats, IntArray step, int heads, int capacity) {
        for (@Parallel int i = 0; i < heads * capacity; i++) {
            int h = i / capacity, t = i - h * capacity;
            if (t <= step.get(POS)) {
                float mm = -1e30f;
                for (int j = 0; j < P; j++) mm = TornadoMath.max(mm, stats.get(2 * (h * P + j)));
                float ll = 0f;
                for (int j = 0; j < P; j++) ll += stats.get(2 * (h * P + j) + 1) * TornadoMath.exp(stats.get(2 * (h * P + j)) - mm);
                att.set(i, TornadoMath.exp(att.get(i) - mm) / ll);
            }
        }
    }

    /** out[h·D + e] = Σ_{t ≤ p} att[h·S + t]·value_t[e] of kv head h/(H/KVH); threads along e read one value row together. */
    static void attnOut(FloatArray att, FloatArray values, FloatArray out, IntArray step, int heads, int kvHeads, int d, int capacity) {
        for (@Parallel int i = 0; i < heads * d; i++) {
            int h = i / d, e = i - h * d, pos = step.get(POS);
            int base = step.get(LAYER) * capacity * kvHeads * d + h / (heads / kvHeads) * d + e;
            float o = 0f;
            for (int t = 0; t <= pos; t++) o += att.get(h * capacity + t) * values.get(base + t * kvHeads * d);
            out.set(i, o);
        }
    }
}
