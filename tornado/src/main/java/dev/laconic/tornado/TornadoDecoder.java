package dev.laconic.tornado;

import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.DeviceDecoder;
import dev.laconic.transformer.KVCache;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Weights;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;

import static dev.laconic.tornado.DecodeKernels.LAYER;
import static dev.laconic.tornado.DecodeKernels.P;
import static dev.laconic.tornado.DecodeKernels.POS;
import static dev.laconic.tornado.DecodeKernels.TOKEN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * One decode token of the whole model on the device, with one execution plan per model shape
 * (and cache capacity S) reused for every token. The plan holds four task graphs:
 * <pre>
 *   kv     upload the host's KV cache rows (only when the decoder switches to another sequence)
 *   input  x ← embedding row of the token (gathered on the host: C floats)
 *   layer  run L times per token, step[LAYER] = l:
 *            a = rmsnorm(x)·attnNorm_l
 *            q, k, v = Wq·a + bq, Wk·a + bk, Wv·a + bv;  rope(q, k) at p;  cache_l[p] ← k, v
 *            att = softmax(q·K_lᵀ/√D)·V_l (grouped-query)
 *            x += Wo·att + bo
 *            m = rmsnorm(x)·mlpNorm_l;  x += Wdown·(silu(Wgate·m) ⊙ Wup·m)
 *   head   logits = lm_head·(rmsnorm(x)·finalNorm); download logits and this token's k, v rows
 * </pre>
 * The weights and norms are uploaded on the first execution only ({@code FIRST_EXECUTION}); x, the
 * scratch vectors and the KV cache stay on the device between graphs (persist/consume) and tokens.
 * All layers' weights of one kind sit in one array, so the layer graph's ~20 kernels are compiled
 * once and serve every layer (one graph per layer would compile L times as many).
 * Per token the host sends the step scalars and one embedding row, and receives V logits and the
 * L·2·KVH·D new cache values, which keep the host's {@link KVCache} exact (see {@link DeviceDecoder}).
 */
final class TornadoDecoder implements DeviceDecoder {
    private static final int KV = 0, INPUT = 1, LAYERS = 2, HEAD = 3;
    private static final int MIN_CAPACITY = 1024;
    private static int decoders;      // TaskGraph names are global to TornadoVM

    private final ModelConfig cfg;
    private final Tensor embed;       // [V, C] on the host
    private final DeviceWeights w;
    private final int c, qd, kvd, f, vocab, layers;
    private Plan plan;
    private KVCache bound;            // the cache whose rows the device holds, up to deviceLength
    private int deviceLength;

    TornadoDecoder(ModelConfig cfg, Weights weights) {
        this.cfg = cfg;
        this.embed = weights.embed();
        this.w = new DeviceWeights(cfg, weights);
        c = cfg.hidden();
        qd = cfg.heads() * cfg.headDim();
        kvd = cfg.kvHeads() * cfg.headDim();
        f = cfg.intermediate();
        vocab = cfg.vocab();
        layers = cfg.layers();
    }

    @Override
    public void step(int token, KVCache cache, float[][] k, float[][] v, float[] logits) {
        int pos = cache.length();
        if (plan == null || pos >= plan.capacity) {
            int want = Math.max(Math.max(cache.capacity(), pos + 1), Math.min(cfg.maxPositions(), MIN_CAPACITY));
            if (plan != null) want = Math.max(want, Math.min(cfg.maxPositions(), 2 * plan.capacity));
            close();
            plan = new Plan(Math.min(want, cfg.maxPositions()));
        }
        if (cache != bound || pos != deviceLength) upload(cache);
        plan.step.set(TOKEN, token);
        plan.step.set(POS, pos);
        Tensor row = embed.row(token);
        for (int i = 0; i < c; i++) plan.xIn.set(i, row.getFloat(i));
        plan.exec.withGraph(INPUT).execute();
        for (int l = 0; l < layers; l++) {
            plan.step.set(LAYER, l);
            plan.exec.withGraph(LAYERS).execute();
        }
        plan.exec.withGraph(HEAD).execute();
        MemorySegment.copy(plan.logits.getSegment(), JAVA_FLOAT, 0, logits, 0, vocab);
        for (int l = 0; l < layers; l++) {
            MemorySegment.copy(plan.kvHost.getSegment(), JAVA_FLOAT, (long) 2 * l * kvd * Float.BYTES, k[l], 0, kvd);
            MemorySegment.copy(plan.kvHost.getSegment(), JAVA_FLOAT, (long) (2 * l + 1) * kvd * Float.BYTES, v[l], 0, kvd);
        }
        bound = cache;
        deviceLength = pos + 1;
    }

    /** Makes the device cache hold rows [0, length) of {@code cache} (nothing to send for an empty one). */
    private void upload(KVCache cache) {
        int n = cache.length();
        if (n > 0) {
            long layerBytes = (long) plan.capacity * kvd * Float.BYTES, bytes = (long) n * kvd * Float.BYTES;
            for (int l = 0; l < layers; l++) {
                MemorySegment.copy(cache.keys(l, n).segment(), 0, plan.keys.getSegment(), l * layerBytes, bytes);
                MemorySegment.copy(cache.values(l, n).segment(), 0, plan.values.getSegment(), l * layerBytes, bytes);
            }
        }
        if (n > 0 || !plan.kvLoaded) plan.exec.withGraph(KV).execute();   // the layer graph consumes its buffers
        plan.kvLoaded = true;
        bound = cache;
        deviceLength = n;
    }

    @Override
    public void close() {
        if (plan != null) plan.close();
        plan = null;
        bound = null;
    }

    private static synchronized int nextId() { return decoders++; }

    /**
     * cos, sin[S·D/2] of the RoPE angles p·invFreq[i], p &lt; S, computed as the CPU kernel does (the
     * angle rounded to f32, cos/sin in double), so the device rotates by the CPU's very values.
     */
    static FloatArray[] ropeTables(float[] invFreq, int capacity) {
        int half = invFreq.length;
        FloatArray cos = new FloatArray(capacity * half), sin = new FloatArray(capacity * half);
        for (int p = 0; p < capacity; p++)
            for (int i = 0; i < half; i++) {
                double angle = (float) p * invFreq[i];
                cos.set(p * half + i, (float) Math.cos(angle));
                sin.set(p * half + i, (float) Math.sin(angle));
            }
        return new FloatArray[]{cos, sin};
    }

    /** The task graphs and device-side arrays for caches of S = capacity positions. */
    private final class Plan implements AutoCloseable {
        final int capacity;
        final IntArray step = new IntArray(DecodeKernels.STEP_INTS);
        final FloatArray xIn = new FloatArray(c), x = new FloatArray(c), a = new FloatArray(c), normPartial = new FloatArray(P);
        final FloatArray q = new FloatArray(qd), k = new FloatArray(kvd), v = new FloatArray(kvd), attOut = new FloatArray(qd);
        final FloatArray h = new FloatArray(f), partA, partB, att, stats = new FloatArray(2 * cfg.heads() * P);
        final FloatArray keys, values, kvOut = new FloatArray(2 * layers * kvd), kvHost = new FloatArray(2 * layers * kvd), cos, sin;
        final FloatArray headPartial = new FloatArray(vocab * P), headNormPartial = new FloatArray(P), headA = new FloatArray(c);
        final FloatArray logits = new FloatArray(vocab), pow2 = DecodeKernels.bf16Scales();
        final TornadoExecutionPlan exec;
        boolean kvLoaded;

        Plan(int capacity) {
            this.capacity = capacity;
            long cacheSize = (long) layers * capacity * kvd;
            if (cacheSize > Integer.MAX_VALUE - 64 || (long) vocab * P > Integer.MAX_VALUE - 64)
                throw new IllegalArgumentException("the tornado backend indexes device arrays with int: a KV cache of "
                        + layers + "×" + capacity + "×" + kvd + " is too large; use a shorter context");
            int widest = Math.max(Math.max(qd, kvd), Math.max(c, f));
            partA = new FloatArray(widest * P);
            partB = new FloatArray(f * P);
            att = new FloatArray(cfg.heads() * capacity);
            keys = new FloatArray((int) cacheSize);
            values = new FloatArray((int) cacheSize);
            FloatArray[] tables = ropeTables(cfg.invFreq(), capacity);
            cos = tables[0];
            sin = tables[1];
            // TornadoVM hands a consumed buffer over from the graph executed just before, whichever it is
            // (kv or head before input, input or layer before layer, layer before head), so every graph
            // carries the device-resident arrays the graphs after it need, even those its own tasks ignore
            int id = nextId();
            TaskGraph kvGraph = new TaskGraph("kv" + id)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, keys, values)
                    .task("touch", DecodeKernels::touch, keys, values)
                    .persistOnDevice(keys, values);
            TaskGraph input = new TaskGraph("input" + id)
                    .consumeFromDevice(keys, values)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, xIn)
                    .task("x", DecodeKernels::copy, xIn, x, c)
                    .persistOnDevice(x, keys, values);
            exec = new TornadoExecutionPlan(kvGraph.snapshot(), input.snapshot(), layerGraph("layer" + id).snapshot(),
                    headGraph("head" + id).snapshot());
        }

        private TaskGraph layerGraph(String name) {
            float eps = cfg.rmsNormEps(), scale = (float) (1 / Math.sqrt(cfg.headDim()));
            int heads = cfg.heads(), kvHeads = cfg.kvHeads(), d = cfg.headDim();
            TaskGraph g = new TaskGraph(name)
                    .consumeFromDevice(x, keys, values)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, step)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, w.wq, w.wk, w.wv, w.wo, w.wGate, w.wUp, w.wDown,
                            w.bq, w.bk, w.bv, w.bo, w.zeroC, w.attnNorm, w.mlpNorm, cos, sin,
                            pow2, a, normPartial, q, k, v, attOut, h, partA, partB, att, stats, kvOut);
            // attention block
            g.task("attnSq", DecodeKernels::sumSquares, x, normPartial, c)
                    .task("attnNorm", DecodeKernels::rmsApply, x, normPartial, w.attnNorm, step, c, eps, a, c);
            matvec(g, "q", w.wq, a, partA, qd, c);
            g.task("qSum", DecodeKernels::sumRowsBias, partA, w.bq, step, q, qd);
            matvec(g, "k", w.wk, a, partA, kvd, c);
            g.task("kSum", DecodeKernels::sumRowsBias, partA, w.bk, step, k, kvd);
            matvec(g, "v", w.wv, a, partA, kvd, c);
            g.task("vSum", DecodeKernels::sumRowsBias, partA, w.bv, step, v, kvd)
                    .task("rope", DecodeKernels::rope, q, k, cos, sin, step, heads, kvHeads, d / 2)
                    .task("store", DecodeKernels::storeKv, k, v, keys, values, kvOut, step, kvd, capacity)
                    .task("scores", DecodeKernels::attnScores, q, keys, att, step, heads, kvHeads, d, capacity, scale)
                    .task("stats", DecodeKernels::attnStats, att, stats, step, heads, capacity)
                    .task("softmax", DecodeKernels::attnSoftmax, att, stats, step, heads, capacity)
                    .task("attn", DecodeKernels::attnOut, att, values, attOut, step, heads, kvHeads, d, capacity);
            matvec(g, "o", w.wo, attOut, partA, c, qd);
            g.task("oSum", DecodeKernels::sumRowsResidual, partA, w.bo, step, x, c);
            // MLP block
            g.task("mlpSq", DecodeKernels::sumSquares, x, normPartial, c)
                    .task("mlpNorm", DecodeKernels::rmsApply, x, normPartial, w.mlpNorm, step, c, eps, a, c);
            matvec(g, "gate", w.wGate, a, partA, f, c);
            matvec(g, "up", w.wUp, a, partB, f, c);
            g.task("swiglu", DecodeKernels::sumRowsSwiglu, partA, partB, h, f);
            matvec(g, "down", w.wDown, h, partA, c, f);
            g.task("downSum", DecodeKernels::sumRowsResidual, partA, w.zeroC, step, x, c);
            return g.persistOnDevice(x, keys, values, kvOut);
        }

        private TaskGraph headGraph(String name) {
            TaskGraph g = new TaskGraph(name)
                    .consumeFromDevice(x, keys, values, kvOut)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, step)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, w.finalNorm, w.lmHead, pow2, headNormPartial, headA, headPartial)
                    .task("sq", DecodeKernels::sumSquares, x, headNormPartial, c)
                    .task("norm", DecodeKernels::rmsApply, x, headNormPartial, w.finalNorm, step, 0, cfg.rmsNormEps(), headA, c);
            matvecAt(g, "lmHead", w.lmHead, headA, headPartial, 0, vocab, c);
            // kvOut is copied into an array of this graph: TornadoVM downloads only what a graph's own tasks write
            return g.task("logits", DecodeKernels::sumRows, headPartial, logits, vocab)
                    .task("kvRows", DecodeKernels::copy, kvOut, kvHost, 2 * layers * kvd)
                    .transferToHost(DataTransferMode.EVERY_EXECUTION, logits, kvHost)
                    .persistOnDevice(keys, values);
        }

        /** partial = W_l·x in P parts, for stacked layer weights W[L, n, k]. */
        private void matvec(TaskGraph g, String id, TornadoNativeArray wArr, FloatArray in, FloatArray partial, int n, int kk) {
            matvecAt(g, id, wArr, in, partial, n * kk, n, kk);
        }

        private void matvecAt(TaskGraph g, String id, TornadoNativeArray wArr, FloatArray in, FloatArray partial, int stride, int n, int kk) {
            if (wArr instanceof ShortArray s) g.task(id, DecodeKernels::matvecBf16, s, pow2, in, partial, step, stride, n, kk);
            else g.task(id, DecodeKernels::matvecF32, (FloatArray) wArr, in, partial, step, stride, n, kk);
        }

        @Override
        public void close() {
            try {
                exec.freeDeviceMemory();
                exec.close();
            } catch (Exception e) {
                // nothing left to free
            }
        }
    }
}
