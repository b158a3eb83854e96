package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;

/**
 * Tiled online-softmax attention (VectorOps) against the textbook full-softmax ReferenceOps:
 * prefill and decode, offsets into a longer cache (start &gt; 0, S &gt; start+T), GQA and MHA, head
 * dims that are not multiples of the vector width, several key tiles, both score paths (transposed
 * K for many query rows, dot products from the cache for few), and the key splits used when there
 * are fewer work items than threads.
 */
class AttentionParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // T, S, start, H, KVH, D
    @ParameterizedTest(name = "T={0} S={1} start={2} H={3} KVH={4} D={5}")
    @CsvSource({
            "7, 7, 0, 6, 2, 24",       // prefill from 0, GQA, D tail
            "37, 50, 10, 6, 2, 64",    // cache offset, longer cache than used
            "37, 120, 60, 3, 3, 64",   // MHA (H = KVH), two key tiles
            "1, 300, 299, 4, 1, 64",   // decode: keys split over threads and merged
            "1, 97, 40, 6, 2, 24",     // decode into the middle of a cache
            "70, 150, 60, 2, 1, 16",   // several query tiles, D = L, backward keys split over threads
            "5, 140, 130, 8, 2, 40",   // short prefill after a long cache, groups of 4 heads
            "3, 150, 140, 4, 2, 24",   // few rows: scores straight from the cache, three key tiles
            "2, 200, 190, 2, 1, 64",   // few rows, one kv head: backward splits keys, sums dq buffers
            "1, 300, 299, 4, 4, 32",   // decode, H = KVH: one row per kv head, the unpadded 1-row kernels
            "1, 77, 50, 3, 3, 20",     // the same with a D tail and an odd key count
    })
    void forwardAndBackwardMatchReference(int t, int s, int start, int h, int kvh, int d) {
        long seed = 1000L * t + 31L * s + start + 7L * h + kvh + d;
        Tensor q = randn(seed, t, h, d), k = randn(seed + 1, s, kvh, d), v = randn(seed + 2, s, kvh, d);

        Tensor outRef = Tensor.zeros(DType.F32, t, h, d), lseRef = Tensor.zeros(DType.F32, t, h);
        REF.attention(q, k, v, start, outRef, lseRef);
        Tensor out = poisoned(t, h, d), lse = poisoned(t, h);
        FAST.attention(q, k, v, start, out, lse);
        assertClose(outRef, out, 2e-5, 1e-4, "out");
        assertClose(lseRef, lse, 2e-5, 1e-5, "lse");

        // Backward from the reference's own forward, with dk/dv pre-filled (they accumulate).
        Tensor dout = randn(seed + 3, t, h, d);
        Tensor dk0 = randn(seed + 4, s, kvh, d), dv0 = randn(seed + 5, s, kvh, d);
        Tensor dqRef = Tensor.zeros(DType.F32, t, h, d), dkRef = copy(dk0), dvRef = copy(dv0);
        REF.attentionBackward(q, k, v, start, outRef, lseRef, dout, dqRef, dkRef, dvRef);
        Tensor dq = poisoned(t, h, d), dk = copy(dk0), dv = copy(dv0);
        FAST.attentionBackward(q, k, v, start, outRef, lseRef, dout, dq, dk, dv);
        assertClose(dqRef, dq, 1e-4, 1e-4, "dq");
        assertClose(dkRef, dk, 1e-4, 1e-4, "dk");
        assertClose(dvRef, dv, 1e-4, 1e-4, "dv");
    }

    @Test
    void oneRowDecodeIsTheSameBitsAsThatRowInsideAPaddedTile() {
        // H = KVH: a T = 1 call has one row per kv head (unpadded path); in a T = 2 call the same query
        // is the second row of a 2-row tile padded to 4 (4-row kernels). Same keys seen, same bits.
        int s = 150, h = 4, d = 32, pos = 120;
        Tensor k = randn(71, s, h, d), v = randn(72, s, h, d), q2 = randn(73, 2, h, d);
        Tensor q1 = Tensor.zeros(DType.F32, 1, h, d);
        for (int i = 0; i < h * d; i++) q1.setFloat(i, q2.getFloat(h * d + i));
        Tensor out2 = poisoned(2, h, d), out1 = poisoned(1, h, d);
        FAST.attention(q2, k, v, pos - 1, out2, null);
        FAST.attention(q1, k, v, pos, out1, null);
        for (int i = 0; i < h * d; i++)
            assertEquals(Float.floatToIntBits(out2.getFloat(h * d + i)), Float.floatToIntBits(out1.getFloat(i)), "element " + i);
    }

    @Test
    void backwardSkipsNullGradientsAndLeavesThemOut() {
        int t = 9, s = 20, start = 11, h = 4, kvh = 2, d = 24;
        Tensor q = randn(1, t, h, d), k = randn(2, s, kvh, d), v = randn(3, s, kvh, d), dout = randn(4, t, h, d);
        Tensor out = Tensor.zeros(DType.F32, t, h, d), lse = Tensor.zeros(DType.F32, t, h);
        REF.attention(q, k, v, start, out, lse);
        Tensor dkRef = Tensor.zeros(DType.F32, s, kvh, d);
        REF.attentionBackward(q, k, v, start, out, lse, dout, null, dkRef, null);
        Tensor dk = Tensor.zeros(DType.F32, s, kvh, d);
        FAST.attentionBackward(q, k, v, start, out, lse, dout, null, dk, null);
        assertClose(dkRef, dk, 1e-4, 1e-4, "dk alone");
        // Keys no query sees (positions ≥ start+T) get exactly zero gradient.
        for (int i = (start + t) * kvh * d; i < s * kvh * d; i++)
            if (dk.getFloat(i) != 0f) throw new AssertionError("dk of an unseen key at " + i + " = " + dk.getFloat(i));
    }

    @Test
    void offHeapCacheAndNullLse() {
        int t = 3, s = 80, start = 77, h = 6, kvh = 2, d = 64;
        Tensor q = randn(5, t, h, d), k = offHeap(randn(6, s, kvh, d)), v = offHeap(randn(7, s, kvh, d));
        Tensor outRef = Tensor.zeros(DType.F32, t, h, d);
        REF.attention(q, k, v, start, outRef, null);
        Tensor out = poisoned(t, h, d);
        FAST.attention(q, k, v, start, out, null);
        assertClose(outRef, out, 2e-5, 1e-4, "out from an off-heap cache");
    }

    @Test
    void largeScoresStayFinite() {
        // Scores of ±hundreds: the online max shift must keep every exp in range.
        int t = 20, s = 90, start = 70, h = 2, kvh = 1, d = 32;
        Tensor q = randn(8, 12f, t, h, d), k = randn(9, 12f, s, kvh, d), v = randn(10, s, kvh, d);
        Tensor outRef = Tensor.zeros(DType.F32, t, h, d), lseRef = Tensor.zeros(DType.F32, t, h);
        REF.attention(q, k, v, start, outRef, lseRef);
        Tensor out = poisoned(t, h, d), lse = poisoned(t, h);
        FAST.attention(q, k, v, start, out, lse);
        assertClose(outRef, out, 1e-4, 1e-3, "out");
        assertClose(lseRef, lse, 1e-3, 1e-5, "lse");
    }

    private static Tensor copy(Tensor t) {
        Tensor c = Tensor.zeros(t.dtype(), t.shape());
        c.copyFrom(t);
        return c;
    }

    private static Tensor offHeap(Tensor t) {
        MemorySegment seg = Arena.ofAuto().allocate(t.byteSize(), 64);
        seg.copyFrom(t.segment());
        return Tensor.wrap(seg, t.dtype(), t.shape());
    }
}
