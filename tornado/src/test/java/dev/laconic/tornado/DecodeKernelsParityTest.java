package dev.laconic.tornado;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.lang.foreign.MemorySegment;

import static dev.laconic.tornado.DecodeKernels.LAYER;
import static dev.laconic.tornado.DecodeKernels.P;
import static dev.laconic.tornado.DecodeKernels.POS;
import static dev.laconic.tornado.Device.array;
import static dev.laconic.tornado.Device.in;
import static dev.laconic.tornado.Device.nan;
import static dev.laconic.tornado.Device.run;
import static dev.laconic.tornado.Device.slice;
import static dev.laconic.tornado.Device.tensor;
import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every kernel of the decode step against ReferenceOps (plain loops, double accumulation), with the
 * tolerances of the CPU kernels' parity tests; outputs are NaN-poisoned first, so an element a kernel
 * forgets fails. Each case runs twice: as plain Java (the {@code @Parallel} loops sequentially: always)
 * and on the TornadoVM device (skipped, with the reason, without a runtime). Shapes are not multiples
 * of the P = 32 partial sums; stacked weights are read at layer 1 of 2, so the layer offsets count.
 */
class DecodeKernelsParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final FloatArray POW2 = DecodeKernels.bf16Scales();

    private static IntArray step(int pos, int layer) {
        IntArray s = new IntArray(DecodeKernels.STEP_INTS);
        s.set(POS, pos);
        s.set(LAYER, layer);
        return s;
    }

    private static void check(boolean device) {
        if (device) Device.assumeRuntime();
    }

    /** Two layers' matrices [2, n, k] stacked, layer 1 = w1 (as BF16 bits or F32 values). */
    private static Object stacked(Tensor w0, Tensor w1) {
        int size = (int) w1.numel();
        if (w1.dtype() == DType.BF16) {
            ShortArray a = new ShortArray(2 * size);
            MemorySegment.copy(w0.segment(), 0, a.getSegment(), 0, 2L * size);
            MemorySegment.copy(w1.segment(), 0, a.getSegment(), 2L * size, 2L * size);
            return a;
        }
        FloatArray a = new FloatArray(2 * size);
        for (int i = 0; i < size; i++) {
            a.set(i, w0.getFloat(i));
            a.set(size + i, w1.getFloat(i));
        }
        return a;
    }

    /** Every finite BF16 bit pattern through {@link DecodeKernels#bf16}, as a kernel. */
    static void widenAll(ShortArray bits, FloatArray pow2, FloatArray out) {
        for (@Parallel int i = 0; i < out.getSize(); i++) out.set(i, DecodeKernels.bf16(bits.get(i), pow2));
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void bf16WideningIsExact(boolean device) {
        check(device);
        ShortArray bits = new ShortArray(1 << 16);
        for (int i = 0; i < 1 << 16; i++) bits.set(i, (short) i);
        FloatArray out = nan(1 << 16);
        run(device, g -> g.task("widen", DecodeKernelsParityTest::widenAll, bits, POW2, out),
                () -> widenAll(bits, POW2, out), in(bits, POW2), out);
        for (int i = 0; i < 1 << 16; i++) {
            float want = DType.bf16ToFloat((short) i);
            if (Float.isFinite(want))
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(out.get(i)),
                        "bits 0x" + Integer.toHexString(i) + ": " + want + " read as " + out.get(i));
        }
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void matvecPlusBias(boolean device) {
        check(device);
        for (int[] nk : new int[][]{{37, 45}, {5, 300}})
            for (DType dt : new DType[]{DType.F32, DType.BF16}) {
                int n = nk[0], k = nk[1];
                long seed = 31L * n + k + dt.ordinal();
                Tensor w0 = randn(seed, n, k).to(dt), w1 = randn(seed + 1, n, k).to(dt), x = randn(seed + 2, 1, k);
                Tensor b = randn(seed + 3, 2 * n);
                Object w = stacked(w0, w1);
                FloatArray xs = array(x), bs = array(b), partial = nan(n * P), y = nan(n);
                IntArray st = step(0, 1);
                int stride = n * k;
                run(device, g -> {
                    if (w instanceof ShortArray s) g.task("mv", DecodeKernels::matvecBf16, s, POW2, xs, partial, st, stride, n, k);
                    else g.task("mv", DecodeKernels::matvecF32, (FloatArray) w, xs, partial, st, stride, n, k);
                    g.task("sum", DecodeKernels::sumRowsBias, partial, bs, st, y, n);
                }, () -> {
                    if (w instanceof ShortArray s) DecodeKernels.matvecBf16(s, POW2, xs, partial, st, stride, n, k);
                    else DecodeKernels.matvecF32((FloatArray) w, xs, partial, st, stride, n, k);
                    DecodeKernels.sumRowsBias(partial, bs, st, y, n);
                }, in(w, POW2, xs, bs, st), y);
                Tensor ref = Tensor.zeros(DType.F32, 1, n);
                REF.matmul(x, w1, b.reshape(2, n).row(1), ref);
                assertClose(ref, tensor(y, 1, n), 1e-4 * Math.sqrt(k), 1e-4, dt + " W·x + b, N=" + n + " K=" + k);
            }
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void residualAddAndLmHead(boolean device) {
        check(device);
        int n = 33, k = 70, v = 100;
        Tensor w0 = randn(1, n, k), w1 = randn(2, n, k), a = randn(3, 1, k), x0 = randn(4, 1, n), bo = randn(5, 2 * n);
        Tensor head = randn(6, v, k).to(DType.BF16);
        Object w = stacked(w0, w1);
        FloatArray as = array(a), bs = array(bo), x = array(x0), partial = nan(n * P), headPartial = nan(v * P), logits = nan(v);
        ShortArray hs = (ShortArray) stacked(head, head);   // the head has one matrix, read with stride 0
        IntArray st = step(0, 1);
        run(device, g -> g.task("mv", DecodeKernels::matvecF32, (FloatArray) w, as, partial, st, n * k, n, k)
                        .task("res", DecodeKernels::sumRowsResidual, partial, bs, st, x, n)
                        .task("head", DecodeKernels::matvecBf16, hs, POW2, as, headPartial, st, 0, v, k)
                        .task("logits", DecodeKernels::sumRows, headPartial, logits, v),
                () -> {
                    DecodeKernels.matvecF32((FloatArray) w, as, partial, st, n * k, n, k);
                    DecodeKernels.sumRowsResidual(partial, bs, st, x, n);
                    DecodeKernels.matvecBf16(hs, POW2, as, headPartial, st, 0, v, k);
                    DecodeKernels.sumRows(headPartial, logits, v);
                }, in(w, as, bs, x, hs, POW2, st), x, logits);
        Tensor proj = Tensor.zeros(DType.F32, 1, n);
        REF.matmul(a, w1, bo.reshape(2, n).row(1), proj);
        float[] want = x0.toFloatArray();
        for (int i = 0; i < n; i++) want[i] += proj.getFloat(i);
        assertClose(Tensor.of(want, 1, n), tensor(x, 1, n), 1e-4 * Math.sqrt(k), 1e-4, "x + Wo·a + bo");
        Tensor ref = Tensor.zeros(DType.F32, 1, v);
        REF.matmul(a, head, null, ref);
        assertClose(ref, tensor(logits, 1, v), 1e-4 * Math.sqrt(k), 1e-4, "LM head");
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void rmsnorm(boolean device) {
        check(device);
        int c = 70;
        float eps = 1e-6f;
        Tensor x = randn(7, 3f, 1, c), weights = randn(8, 2 * c), finalW = randn(9, c);
        FloatArray xs = array(x), ws = array(weights), fs = array(finalW), partial = nan(P), y = nan(c), yFinal = nan(c);
        IntArray st = step(0, 1);
        run(device, g -> g.task("sq", DecodeKernels::sumSquares, xs, partial, c)
                        .task("norm", DecodeKernels::rmsApply, xs, partial, ws, st, c, eps, y, c)
                        .task("final", DecodeKernels::rmsApply, xs, partial, fs, st, 0, eps, yFinal, c),
                () -> {
                    DecodeKernels.sumSquares(xs, partial, c);
                    DecodeKernels.rmsApply(xs, partial, ws, st, c, eps, y, c);
                    DecodeKernels.rmsApply(xs, partial, fs, st, 0, eps, yFinal, c);
                }, in(xs, ws, fs, st), y, yFinal);
        Tensor ref = Tensor.zeros(DType.F32, 1, c), refFinal = Tensor.zeros(DType.F32, 1, c);
        REF.rmsnorm(x, weights.reshape(2, c).row(1), eps, ref, null);
        REF.rmsnorm(x, finalW, eps, refFinal, null);
        assertClose(ref, tensor(y, 1, c), 1e-5, 1e-5, "rmsnorm, layer 1's weight");
        assertClose(refFinal, tensor(yFinal, 1, c), 1e-5, 1e-5, "rmsnorm, the final norm");
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void rope(boolean device) {
        check(device);
        int heads = 4, kvHeads = 2, d = 16, pos = 301, capacity = 320;
        float[] invFreq = new float[d / 2];
        for (int i = 0; i < invFreq.length; i++) invFreq[i] = (float) Math.pow(10000, -2.0 * i / d);
        FloatArray[] tables = TornadoDecoder.ropeTables(invFreq, capacity);
        Tensor q = randn(10, 1, heads, d), k = randn(11, 1, kvHeads, d);
        FloatArray qs = array(q), ks = array(k);
        IntArray st = step(pos, 0);
        run(device, g -> g.task("rope", DecodeKernels::rope, qs, ks, tables[0], tables[1], st, heads, kvHeads, d / 2),
                () -> DecodeKernels.rope(qs, ks, tables[0], tables[1], st, heads, kvHeads, d / 2),
                in(qs, ks, tables[0], tables[1], st), qs, ks);
        REF.rope(q, new int[]{pos}, invFreq);
        REF.rope(k, new int[]{pos}, invFreq);
        assertClose(q, tensor(qs, 1, heads, d), 2e-6, 2e-5, "rope q");
        assertClose(k, tensor(ks, 1, kvHeads, d), 2e-6, 2e-5, "rope k");
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void swigluOfSummedPartials(boolean device) {
        check(device);
        int f = 75;
        Tensor gp = randn(12, 0.5f, f * P), up = randn(13, 0.5f, f * P);
        FloatArray gs = array(gp), us = array(up), h = nan(f);
        run(device, g -> g.task("swiglu", DecodeKernels::sumRowsSwiglu, gs, us, h, f),
                () -> DecodeKernels.sumRowsSwiglu(gs, us, h, f), in(gs, us), h);
        float[] gate = new float[f], u = new float[f];
        for (int r = 0; r < f; r++)
            for (int j = 0; j < P; j++) {
                gate[r] += gp.getFloat(r * P + j);
                u[r] += up.getFloat(r * P + j);
            }
        Tensor ref = Tensor.zeros(DType.F32, 1, f);
        REF.swiglu(Tensor.of(gate, 1, f), Tensor.of(u, 1, f), ref);
        assertClose(ref, tensor(h, 1, f), 1e-5, 1e-5, "silu(Σgate)·Σup");
    }

    @ParameterizedTest(name = "device={0}")
    @ValueSource(booleans = {false, true})
    void decodeAttentionOverTheCache(boolean device) {
        check(device);
        attention(device, 4, 2, 16, 37, 50);   // several positions per partial lane, 2 query heads per kv head
        attention(device, 6, 3, 10, 0, 7);    // a single position: 31 empty lanes
    }

    /** storeKv then scores/stats/softmax/out for the token at pos of layer 1, against REF.attention over rows 0..pos. */
    private static void attention(boolean device, int heads, int kvHeads, int d, int pos, int capacity) {
        int kvd = kvHeads * d, layers = 2;
        long seed = 100L * heads + pos;
        Tensor q = randn(seed, 1, heads, d), kNew = randn(seed + 1, 1, kvHeads, d), vNew = randn(seed + 2, 1, kvHeads, d);
        Tensor cacheK = randn(seed + 3, layers * capacity, kvd), cacheV = randn(seed + 4, layers * capacity, kvd);
        FloatArray qs = array(q), ks = array(kNew), vs = array(vNew), keys = array(cacheK), values = array(cacheV);
        FloatArray kvOut = nan(2 * layers * kvd), att = nan(heads * capacity), stats = nan(2 * heads * P), out = nan(heads * d);
        IntArray st = step(pos, 1);
        float scale = (float) (1 / Math.sqrt(d));
        run(device, g -> g.task("store", DecodeKernels::storeKv, ks, vs, keys, values, kvOut, st, kvd, capacity)
                        .task("scores", DecodeKernels::attnScores, qs, keys, att, st, heads, kvHeads, d, capacity, scale)
                        .task("stats", DecodeKernels::attnStats, att, stats, st, heads, capacity)
                        .task("softmax", DecodeKernels::attnSoftmax, att, stats, st, heads, capacity)
                        .task("out", DecodeKernels::attnOut, att, values, out, st, heads, kvHeads, d, capacity),
                () -> {
                    DecodeKernels.storeKv(ks, vs, keys, values, kvOut, st, kvd, capacity);
                    DecodeKernels.attnScores(qs, keys, att, st, heads, kvHeads, d, capacity, scale);
                    DecodeKernels.attnStats(att, stats, st, heads, capacity);
                    DecodeKernels.attnSoftmax(att, stats, st, heads, capacity);
                    DecodeKernels.attnOut(att, values, out, st, heads, kvHeads, d, capacity);
                }, in(qs, ks, vs, keys, values, kvOut, st), keys, values, kvOut, out);
        // the new row landed at layer 1, position pos (and in kvOut's layer-1 slots); nothing else moved
        int row = capacity + pos;
        assertClose(kNew.reshape(1, kvd), slice(keys, row * kvd, 1, kvd), 0, 0, "key row in the cache");
        assertClose(vNew.reshape(1, kvd), slice(values, row * kvd, 1, kvd), 0, 0, "value row in the cache");
        assertClose(kNew.reshape(1, kvd), slice(kvOut, 2 * kvd, 1, kvd), 0, 0, "key row for the host");
        assertClose(vNew.reshape(1, kvd), slice(kvOut, 3 * kvd, 1, kvd), 0, 0, "value row for the host");
        assertEquals(cacheK.getFloat(0), keys.get(0), "layer 0 untouched");
        // REF over the cache rows 0..pos of layer 1 (the new row included), the query at position pos
        Tensor kRef = slice(keys, capacity * kvd, pos + 1, kvHeads, d), vRef = slice(values, capacity * kvd, pos + 1, kvHeads, d);
        Tensor ref = Tensor.zeros(DType.F32, 1, heads, d);
        REF.attention(q, kRef, vRef, pos, ref, null);
        assertClose(ref, tensor(out, 1, heads, d), 2e-5, 1e-4, "attention H=" + heads + " KVH=" + kvHeads + " p=" + pos);
    }
}
