package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;
import static dev.laconic.tensor.testing.TestTensors.randomIds;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Embedding gather and scatter-add (VectorOps) against ReferenceOps: every table dtype, mapped-like tables, repeated ids. */
class EmbeddingsParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // V, C, T, table dtype, table off-heap
    @ParameterizedTest(name = "V={0} C={1} T={2} {3} offHeap={4}")
    @CsvSource({
            "50, 100, 7, F32, false",
            "50, 100, 37, BF16, false",
            "300, 24, 37, BF16, true",     // like a memory-mapped checkpoint tensor
            "40, 72, 9, F16, false",
            "20, 1536, 64, F32, true",     // many repeats of few ids, several column blocks
    })
    void gatherAndScatterAddMatchReference(int vocab, int c, int t, DType dtype, boolean offHeap) {
        long seed = 23L * vocab + c + t;
        Tensor table = randn(seed, vocab, c).to(dtype);
        if (offHeap) table = offHeap(table);
        int[] ids = randomIds(seed + 1, t, vocab);
        ids[t - 1] = ids[0];                                // at least one repeat

        Tensor outRef = Tensor.zeros(DType.F32, t, c);
        REF.embedding(table, ids, outRef);
        Tensor out = poisoned(t, c);
        FAST.embedding(table, ids, out);
        assertClose(outRef, out, 0, 0, "gathered rows (exact)");

        Tensor dout = randn(seed + 2, t, c), d0 = randn(seed + 3, vocab, c);
        Tensor dRef = d0.to(DType.F32);
        REF.embeddingBackward(ids, dout, dRef);
        Tensor d = offHeap ? offHeap(d0) : d0.to(DType.F32);
        FAST.embeddingBackward(ids, dout, d);
        assertClose(dRef, d, 1e-6, 1e-6, "dtable");
    }

    @Test
    void outOfRangeIdsThrow() {
        Tensor table = randn(1, 10, 16);
        assertThrows(IndexOutOfBoundsException.class, () -> FAST.embedding(table, new int[]{3, 10}, poisoned(2, 16)));
        assertThrows(IndexOutOfBoundsException.class, () -> FAST.embedding(table, new int[]{-1}, poisoned(1, 16)));
        assertThrows(IndexOutOfBoundsException.class, () -> FAST.embeddingBackward(new int[]{10}, randn(2, 1, 16), Tensor.zeros(DType.F32, 10, 16)));
    }

    private static Tensor offHeap(Tensor t) {
        MemorySegment seg = Arena.ofAuto().allocate(t.byteSize(), 64);
        seg.copyFrom(t.segment());
        return Tensor.wrap(seg, t.dtype(), t.shape());
    }
}
