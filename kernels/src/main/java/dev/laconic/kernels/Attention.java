package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;

import java.util.Arrays;

import static dev.laconic.kernels.AttentionKernels.BK;

/**
 * Causal grouped-query attention, FlashAttention-2 style (Dao 2023), on the kernels of
 * {@link AttentionKernels}.
 *
 * <p>Forward: a work item is a tile of query positions × the H/KVH query heads that share one kv
 * head (so every K/V tile read serves all of them). It walks the key tiles up to its causal limit
 * keeping, per query row, a running max m, a running sum l and an unnormalised output; the T×S
 * score matrix never exists:
 * <pre>
 *   s = q·kᵀ/√D;  m' = max(m, max_j s_j);  p_j = e^(s_j − m');  l' = l·e^(m − m') + Σ_j p_j
 *   acc' = acc·e^(m − m') + Σ_j p_j·v_j;     at the end: out = acc/l, lse = m + log l
 * </pre>
 * When there are fewer items than threads (decode: T = 1), each item's key range is split and the
 * partial (m, l, acc) are merged (flash-decoding): m = max m_i, l = Σ l_i·e^(m_i − m), likewise acc.
 *
 * <p>Backward: a work item is one kv head × a range of keys (balanced by causal work), so it owns
 * dk, dv for those keys and only it writes them: no races although several query heads share a kv
 * head. For each key tile it visits the query tiles that can see it and recomputes
 * <pre>
 *   p = e^(s − lse),  dp = dout·vᵀ,  ds = p·(dp − Δ),  Δ = Σ_d dout·out
 *   dv += pᵀ·dout,  dk += dsᵀ·q/√D,  dq += ds·k/√D
 * </pre>
 * dq rows of a kv group are written by that group's items only; when a group's keys are split over
 * several items, each adds into its own dq buffer and the buffers are summed at the end.
 */
final class Attention {
    /** Query rows (positions × heads of one group) per tile: 32 rows × BK scores = 8 KiB. */
    private static final int ROWS = 32;
    /**
     * Query rows per kv head from which K (and V) are transposed once per call for the blocked score
     * kernel; below it (decode) scores are dot products straight from the cache.
     */
    private static final int TRANSPOSE_MIN_ROWS = 32;

    private static final ThreadLocal<Tile> SCRATCH = new ThreadLocal<>();

    private Attention() {}

    /** Geometry of q[T,H,D] against k/v[S,KVH,D], queries at positions start..start+T-1. */
    record Dims(int t, int h, int kvh, int d, int s, int start) {
        static Dims of(Tensor q, Tensor k, Tensor v, int start) {
            if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3)
                throw new IllegalArgumentException("attention wants q[T,H,D], k/v[S,KVH,D]: " + q + ", " + k + ", " + v);
            Dims m = new Dims(q.dim(0), q.dim(1), k.dim(1), q.dim(2), k.dim(0), start);
            if (k.dim(2) != m.d || v.dim(0) != m.s || v.dim(1) != m.kvh || v.dim(2) != m.d || m.kvh == 0
                    || m.h % m.kvh != 0 || start < 0 || start + m.t > m.s)
                throw new IllegalArgumentException("attention shapes: q=" + q + " k=" + k + " v=" + v + " start=" + start);
            return m;
        }
        int group() { return h / kvh; }
        /** Query positions per tile, so that a tile has about ROWS rows. */
        int tileT() { return Math.max(1, ROWS / group()); }
        int tiles() { return (t + tileT() - 1) / tileT(); }
        /** Keys any query sees: 0 .. start+T-1. */
        int keys() { return start + t; }
        /** Row stride of the cache: one position holds KVH heads of D. */
        int kvStride() { return kvh * d; }
        boolean transposed() { return (long) t * group() >= TRANSPOSE_MIN_ROWS; }
    }

    /**
     * K or V of the cache [S,KVH,D], read in place, plus (for prefill/training shapes) a transposed
     * copy [KVH][D][sp] of its first keys() rows so that scores are a blocked product over 16 keys
     * per vector. sp is a multiple of L with an odd number of vectors, so that the D rows of a tile
     * do not all fall into the same L1 sets.
     */
    record Keys(float[] a, int off, float[] t, int sp) {
        static Keys of(FloatView v, Dims m) {
            if (!m.transposed()) return new Keys(v.a(), v.off(), null, 0);
            int vecs = (m.keys() + AttentionKernels.L - 1) / AttentionKernels.L;
            int sp = (vecs | 1) * AttentionKernels.L;
            float[] t = new float[m.kvh * m.d * sp + BK];      // + BK: the last tile may read past the end
            int blocks = (m.keys() + 255) / 256;
            Parallel.forChunks(m.kvh * blocks, Math.max(1, 8192 / (256 * m.d)), (from, to) -> {
                for (int i = from; i < to; i++) {
                    int h = i / blocks, j0 = (i % blocks) * 256;
                    AttentionKernels.transposeHead(v.a(), v.off(), m.kvh, h, m.d, j0, Math.min(m.keys(), j0 + 256), t, sp);
                }
            });
            return new Keys(v.a(), v.off(), t, sp);
        }

        /** s[r·BK + j] = scale · x_r·key_{j0+j} of kv head h for the rows of the tile. */
        void scores(Tile w, Dims m, FloatView x, int h, int j0, int nj, float scale, float[] s) {
            if (t != null) {
                AttentionKernels.scoresTransposed(x.a(), x.off(), w.row, w.rowsPad, m.d, t, h * m.d * sp + j0, sp, scale, s);
            } else {
                AttentionKernels.scoresDirect(x.a(), x.off(), w.row, w.rowsPad, a, off + (j0 * m.kvh + h) * m.d,
                        m.kvStride(), nj, m.d, scale, s);
            }
        }

        /** Offset of key j of head h in the cache array. */
        int at(Dims m, int j, int h) {
            return off + (j * m.kvh + h) * m.d;
        }
    }

    // ---- forward --------------------------------------------------------------------------------

    /** out[T,H,D] = softmax(q·kᵀ/√D + causal mask)·v; lse[T,H] (nullable) = row log-sum-exp. */
    static void forward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse) {
        Dims m = Dims.of(q, k, v, start);
        if (m.t == 0) return;
        FloatView.requireF32(out, q.numel(), "out");
        if (lse != null) FloatView.requireF32(lse, (long) m.t * m.h, "lse");
        FloatView qv = FloatView.read(q), ov = FloatView.write(out);
        FloatView lv = lse == null ? null : FloatView.write(lse);
        FloatView vv = FloatView.read(v);
        Keys keys = Keys.of(FloatView.read(k), m), vals = new Keys(vv.a(), vv.off(), null, 0);   // PV reads v in place
        int tiles = m.tiles(), items = tiles * m.kvh;
        // Split the keys of each item when there are too few items to feed the threads (decode).
        int splits = items >= Parallel.threads() ? 1
                : Math.max(1, Math.min((Parallel.threads() + items - 1) / items, m.keys() / (2 * BK)));
        int splitLen = (m.keys() + splits - 1) / splits;
        int part = Tile.capacity(m) * (m.d + 2);
        float[] partials = splits == 1 ? null : new float[items * splits * part];

        Parallel.forChunks(items * splits, 1, (from, to) -> {
            Tile w = Tile.get(m);
            for (int it = from; it < to; it++) {
                int item = it / splits, sp = it % splits;
                int tile = item / m.kvh, h = item % m.kvh;
                w.setRows(m, tile * m.tileT(), h, !m.transposed());
                w.online(m, qv, keys, vals, h, sp * splitLen, (sp + 1) * splitLen);
                if (splits == 1) w.finish(m, ov, lv);
                else w.savePartial(partials, it * part, m.d);
            }
        });
        if (splits > 1) {
            Parallel.forChunks(items, 1, (from, to) -> {
                Tile w = Tile.get(m);
                for (int item = from; item < to; item++) {
                    w.setRows(m, (item / m.kvh) * m.tileT(), item % m.kvh, !m.transposed());
                    w.merge(partials, item * splits * part, part, splits, m.d);
                    w.finish(m, ov, lv);
                }
            });
        }
        ov.commit();
        if (lv != null) lv.commit();
    }

    // ---- backward -------------------------------------------------------------------------------

    /** dq[T,H,D] (assigned), dk, dv[S,KVH,D] (accumulated) from dout[T,H,D], recomputing p from out[T,H,D] and lse[T,H]. */
    static void backward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse,
                         Tensor dout, Tensor dq, Tensor dk, Tensor dv) {
        Dims m = Dims.of(q, k, v, start);
        if (dq != null) FloatView.requireF32(dq, q.numel(), "dq");
        if (dk != null) FloatView.requireF32(dk, k.numel(), "dk");
        if (dv != null) FloatView.requireF32(dv, v.numel(), "dv");
        if (m.t == 0 || (dq == null && dk == null && dv == null)) return;
        if (out.numel() != q.numel() || dout.numel() != q.numel() || lse.numel() != (long) m.t * m.h)
            throw new IllegalArgumentException("attention backward: out " + out + ", dout " + dout + ", lse " + lse + " vs q " + q);
        FloatView qv = FloatView.read(q), ov = FloatView.read(out), lv = FloatView.read(lse), gv = FloatView.read(dout);
        Keys keys = Keys.of(FloatView.read(k), m), vals = Keys.of(FloatView.read(v), m);
        FloatView dqv = dq == null ? null : FloatView.write(dq);
        FloatView dkv = dk == null ? null : FloatView.update(dk), dvv = dv == null ? null : FloatView.update(dv);
        int d = m.d, g = m.group();

        // Δ[t,h] = Σ_d dout·out: one number per query row.
        float[] delta = new float[m.t * m.h];
        Parallel.forChunks(m.t * m.h, Math.max(1, 16_384 / d), (from, to) -> {
            for (int r = from; r < to; r++)
                delta[r] = (float) AttentionKernels.dot(gv.a(), gv.off() + r * d, ov.a(), ov.off() + r * d, d);
        });

        // Items: kv head × key range; ranges balanced by the number of queries each key is seen by.
        int splits = m.kvh >= Parallel.threads() ? 1
                : Math.max(1, Math.min((Parallel.threads() + m.kvh - 1) / m.kvh, m.keys() / BK));
        int[] bounds = balancedKeyRanges(m, splits);
        int groupRows = m.t * g;
        // When a group's keys are split, each item adds its dq into its own buffer; they are summed below.
        float[] dqParts = dqv == null || splits == 1 ? null : new float[m.kvh * splits * groupRows * d];

        Parallel.forChunks(m.kvh * splits, 1, (from, to) -> {
            Tile w = Tile.get(m);
            for (int it = from; it < to; it++) {
                int h = it / splits, sp = it % splits;
                DqTarget target = null;
                if (dqv != null && splits == 1) {               // dq itself: zero this group's rows, then add
                    for (int t = 0; t < m.t; t++)
                        Arrays.fill(dqv.a(), dqv.off() + (t * m.h + h * g) * d, dqv.off() + (t * m.h + h * g + g) * d, 0f);
                    target = new DqTarget(dqv.a(), dqv.off(), false);
                } else if (dqv != null) {                       // this item's buffer, rows (t, h%g)
                    target = new DqTarget(dqParts, it * groupRows * d, true);
                }
                w.backwardKeys(m, qv, keys, vals, gv, lv, delta, target, dkv, dvv, h, bounds[sp], bounds[sp + 1]);
            }
        });
        if (dqParts != null) {
            // dq[t, h] = Σ_split buffer[h/g, split][t, h%g]
            Parallel.forChunks(m.t, Math.max(1, 16_384 / (m.h * d)), (from, to) -> {
                for (int t = from; t < to; t++)
                    for (int h = 0; h < m.h; h++) {
                        int dst = dqv.off() + (t * m.h + h) * d;
                        int src0 = (h / g) * splits * groupRows * d + (t * g + h % g) * d;
                        System.arraycopy(dqParts, src0, dqv.a(), dst, d);
                        for (int sp = 1; sp < splits; sp++)
                            AttentionKernels.addRow(dqParts, src0 + sp * groupRows * d, dqv.a(), dst, d);
                    }
            });
        }
        if (dqv != null) dqv.commit();
        if (dkv != null) dkv.commit();
        if (dvv != null) dvv.commit();
    }

    /** Where dq rows go: row (t, h) at off + (t·H + h)·D, or at off + (t·g + h%g)·D in a per-item buffer. */
    private record DqTarget(float[] a, int off, boolean grouped) {
        int at(Dims m, int row) {
            return off + (grouped ? (row / m.h) * m.group() + row % m.h % m.group() : row) * m.d;
        }
    }

    /** Key boundaries b[0]=0 ≤ … ≤ b[n]=keys with about equal Σ_j (queries that see key j) per range. */
    private static int[] balancedKeyRanges(Dims m, int n) {
        int keys = m.keys();
        int[] b = new int[n + 1];
        b[n] = keys;
        long total = 0;
        for (int j = 0; j < keys; j++) total += seenBy(m, j);
        long acc = 0;
        int c = 1;
        for (int j = 0; j < keys && c < n; j++) {
            acc += seenBy(m, j);
            while (c < n && acc * n >= total * c) b[c++] = j + 1;
        }
        return b;
    }

    /** Number of queries that see key j: query t sees keys 0..start+t. */
    private static int seenBy(Dims m, int j) {
        return m.t - Math.max(0, j - m.start);
    }

    // ---- one thread's scratch: a tile of query rows -----------------------------------------------

    /**
     * The rows of one work item: row r is query position t0 + r/g with head h·g + r%g. Rows are
     * padded to a multiple of 4 (the register block of the kernels) with rows that see no key.
     */
    private static final class Tile {
        final int cap, dp;     // row capacity (multiple of 4), scratch row stride (D rounded to 2L)
        final int[] row;       // [cap] index t·H + h into [T,H] (padding repeats the last real row)
        final int[] last;      // [cap] last key the row sees (−1 for padding)
        final float[] s, p;    // [cap, BK] scores / probabilities; in the backward p holds dp, then ds
        final float[] acc;     // [cap, dp] unnormalised output (forward), dq of the tile (backward)
        final float[] mx, sum; // [cap] running max and running Σ e^(s − max)
        final float[] alpha;   // [cap] rescale of acc for the current key tile, e^(m − m')
        final float[] dkT, dvT; // [BK, dp] dk, dv of the key tile (backward)
        int rows, rowsPad;

        private Tile(int cap, int dp) {
            this.cap = cap;
            this.dp = dp;
            row = new int[cap];
            last = new int[cap];
            s = new float[cap * BK];
            p = new float[cap * BK];
            acc = new float[cap * dp];
            mx = new float[cap];
            sum = new float[cap];
            alpha = new float[cap];
            dkT = new float[BK * dp];
            dvT = new float[BK * dp];
        }

        static int capacity(Dims m) {
            return round4(m.tileT() * m.group());
        }

        /** This thread's scratch, reallocated only when a call needs more. */
        static Tile get(Dims m) {
            Tile w = SCRATCH.get();
            int cap = capacity(m), dp = AttentionKernels.padD(m.d);
            if (w == null || w.cap < cap || w.dp != dp) SCRATCH.set(w = new Tile(cap, dp));
            return w;
        }

        /**
         * The tile's query rows, padded to a multiple of 4 for the 4-row kernels; a lone row (decode
         * without GQA sharing) stays unpadded where {@code single} allows it: the direct kernels have a
         * 1-row path with the same per-row operations, so results are the same bits, at a quarter of the work.
         */
        void setRows(Dims m, int t0, int h, boolean single) {
            int g = m.group(), nt = Math.min(m.tileT(), m.t - t0);
            rows = nt * g;
            rowsPad = single && rows == 1 ? 1 : round4(rows);
            for (int r = 0; r < rowsPad; r++) {
                int rr = Math.min(r, rows - 1), t = t0 + rr / g;
                row[r] = t * m.h + h * g + rr % g;
                last[r] = r < rows ? m.start + t : -1;
            }
        }

        /** acc, mx, sum over keys [kFrom, kTo) ∩ [0, the tile's causal limit]. */
        void online(Dims m, FloatView qv, Keys keys, Keys vals, int h, int kFrom, int kTo) {
            float scale = (float) (1 / Math.sqrt(m.d));
            Arrays.fill(mx, 0, rowsPad, Float.NEGATIVE_INFINITY);
            Arrays.fill(sum, 0, rowsPad, 0f);
            Arrays.fill(acc, 0, rowsPad * dp, 0f);
            int kEnd = Math.min(kTo, last[rows - 1] + 1);
            for (int j0 = kFrom; j0 < kEnd; j0 += BK) {
                int nj = Math.min(BK, kEnd - j0);
                // s_rj = q_r·k_j / √D
                keys.scores(this, m, qv, h, j0, nj, scale, s);
                for (int r = 0; r < rowsPad; r++) {
                    int seen = Math.min(nj, last[r] - j0 + 1), o = r * BK;
                    if (seen <= 0) {                       // the whole key tile is in this row's future
                        Arrays.fill(p, o, o + BK, 0f);
                        alpha[r] = 1f;
                        continue;
                    }
                    // m' = max(m, max_j s_j);  p_j = e^(s_j − m');  l' = l·e^(m − m') + Σ p_j
                    float mNew = Math.max(mx[r], AttentionKernels.max(s, o, seen));
                    alpha[r] = VectorMath.exp(mx[r] - mNew);
                    sum[r] = sum[r] * alpha[r] + AttentionKernels.expShifted(s, o, seen, mNew, p);
                    mx[r] = mNew;
                }
                // acc' = acc·e^(m − m') + p·v
                AttentionKernels.addWeightedKeys(p, rowsPad, nj, vals.a(), vals.at(m, j0, h), m.kvStride(), m.d, acc, dp, alpha);
            }
        }

        /** out = acc/l, lse = m + log l for the real rows. */
        void finish(Dims m, FloatView ov, FloatView lv) {
            for (int r = 0; r < rows; r++) {
                AttentionKernels.scaledRow(acc, r * dp, 1f / sum[r], ov.a(), ov.off() + row[r] * m.d, m.d);
                if (lv != null) lv.a()[lv.off() + row[r]] = (float) (mx[r] + Math.log(sum[r]));
            }
        }

        /** Partial result layout per row: [m, l, acc_0 … acc_{D−1}]. */
        void savePartial(float[] buf, int base, int d) {
            for (int r = 0; r < rows; r++) {
                int o = base + r * (d + 2);
                buf[o] = mx[r];
                buf[o + 1] = sum[r];
                System.arraycopy(acc, r * dp, buf, o + 2, d);
            }
        }

        /** Merges partials over disjoint key ranges: m = max m_i, l = Σ l_i·e^(m_i − m), acc = Σ acc_i·e^(m_i − m). */
        void merge(float[] buf, int base, int part, int splits, int d) {
            for (int r = 0; r < rows; r++) {
                float m = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < splits; i++) m = Math.max(m, buf[base + i * part + r * (d + 2)]);
                float l = 0;
                Arrays.fill(acc, r * dp, r * dp + d, 0f);
                for (int i = 0; i < splits; i++) {
                    int o = base + i * part + r * (d + 2);
                    if (buf[o] == Float.NEGATIVE_INFINITY) continue;   // this range was all in the row's future
                    float w = VectorMath.exp(buf[o] - m);
                    l += buf[o + 1] * w;
                    for (int e = 0; e < d; e++) acc[r * dp + e] += buf[o + 2 + e] * w;
                }
                mx[r] = m;
                sum[r] = l;
            }
        }

        /**
         * For keys [kFrom, kTo) of kv head h: dk, dv += over all queries that see them (accumulated
         * per key tile in dkT/dvT, then added once), and dq += for those queries.
         */
        void backwardKeys(Dims m, FloatView qv, Keys keys, Keys vals, FloatView gv, FloatView lv, float[] delta,
                          DqTarget dq, FloatView dk, FloatView dv, int h, int kFrom, int kTo) {
            int d = m.d;
            float scale = (float) (1 / Math.sqrt(d));
            for (int j0 = kFrom; j0 < kTo; j0 += BK) {
                int nj = Math.min(BK, kTo - j0), nj4 = round4(nj);
                if (dk != null) Arrays.fill(dkT, 0, nj4 * dp, 0f);
                if (dv != null) Arrays.fill(dvT, 0, nj4 * dp, 0f);
                // Queries before position j0 − start do not see this tile: start at the first that does.
                for (int t0 = Math.max(0, j0 - m.start); t0 < m.t; t0 += m.tileT()) {
                    setRows(m, t0, h, false);
                    // s = q·kᵀ/√D (into s), dp = dout·vᵀ (into p)
                    keys.scores(this, m, qv, h, j0, nj, scale, s);
                    vals.scores(this, m, gv, h, j0, nj, 1f, p);
                    for (int r = 0; r < rowsPad; r++) {
                        int seen = Math.min(nj, last[r] - j0 + 1), o = r * BK;
                        if (seen <= 0) {
                            Arrays.fill(s, o, o + BK, 0f);
                            Arrays.fill(p, o, o + BK, 0f);
                        } else {
                            // p = e^(s − lse) (into s);  ds = p·(dp − Δ)/√D (into p);  0 past the causal limit
                            AttentionKernels.probsAndGrads(s, p, o, seen, lv.a()[lv.off() + row[r]], delta[row[r]], scale);
                        }
                    }
                    // dv_j += Σ_r p_rj·dout_r;  dk_j += Σ_r ds_rj·q_r/√D
                    if (dv != null) AttentionKernels.addWeightedRows(s, rowsPad, nj4, gv.a(), gv.off(), row, d, dvT, dp);
                    if (dk != null) AttentionKernels.addWeightedRows(p, rowsPad, nj4, qv.a(), qv.off(), row, d, dkT, dp);
                    // dq_r += Σ_j ds_rj·k_j/√D
                    if (dq != null) {
                        Arrays.fill(acc, 0, rowsPad * dp, 0f);
                        AttentionKernels.addWeightedKeys(p, rowsPad, nj, keys.a(), keys.at(m, j0, h), m.kvStride(), d, acc, dp, null);
                        for (int r = 0; r < rows; r++) AttentionKernels.addRow(acc, r * dp, dq.a(), dq.at(m, row[r]), d);
                    }
                }
                for (int j = 0; j < nj; j++) {
                    int at = ((j0 + j) * m.kvh + h) * d;
                    if (dk != null) AttentionKernels.addRow(dkT, j * dp, dk.a(), dk.off() + at, d);
                    if (dv != null) AttentionKernels.addRow(dvT, j * dp, dv.a(), dv.off() + at, d);
                }
            }
        }
    }

    private static int round4(int n) {
        return (n + 3) & ~3;
    }
}
