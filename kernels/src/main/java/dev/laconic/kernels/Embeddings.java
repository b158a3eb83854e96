package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Token embedding gather and its scatter-add backward.
 *
 * <p>The table[V,C] is typically a memory-mapped BF16 checkpoint tensor (151,936 × 1536 for Qwen2),
 * read in place: a row's 16-bit values are copied out of the segment and widened on FloatVector
 * lanes (bf16 → f32 is {@code bits << 16}). The backward adds into dtable[V,C] (F32) column block
 * by column block, so repeated ids in one batch never race.
 */
final class Embeddings {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    private static final VectorSpecies<Short> SP16 = VectorSpecies.of(short.class, VectorShape.forBitSize(L * Short.SIZE));
    private static final VectorSpecies<Integer> SP32 = VectorSpecies.of(int.class, SP.vectorShape());
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MIN_CHUNK_ELEMS = 16_384;

    private Embeddings() {}

    /** out[T,C] = table[ids[t], :] for a table[V,C] in F32, BF16, F16 or Q8_0 (dequantised). */
    static void gather(Tensor table, int[] ids, Tensor out) {
        int vocab = table.dim(0), c = table.dim(1), t = ids.length;
        FloatView.requireF32(out, (long) t * c, "out");
        for (int i = 0; i < t; i++) checkId(ids, i, vocab);
        FloatView ov = FloatView.write(out);
        float[] oa = ov.a();
        int oo = ov.off();
        MemorySegment seg = table.segment();
        DType dt = table.dtype();
        Parallel.forChunks(t, Math.max(1, MIN_CHUNK_ELEMS / c), (from, to) -> {
            short[] bits = dt == DType.F32 ? null : new short[c];
            for (int i = from; i < to; i++) {
                long row = (long) ids[i] * c;
                int dst = oo + i * c;
                switch (dt) {
                    case F32 -> MemorySegment.copy(seg, F32_LE, row * Float.BYTES, oa, dst, c);
                    case BF16 -> {
                        MemorySegment.copy(seg, I16_LE, row * Short.BYTES, bits, 0, c);
                        widenBf16(bits, c, oa, dst);
                    }
                    case F16 -> {
                        MemorySegment.copy(seg, I16_LE, row * Short.BYTES, bits, 0, c);
                        for (int j = 0; j < c; j++) oa[dst + j] = Float.float16ToFloat(bits[j]);
                    }
                    case Q8_0 -> { for (int j = 0; j < c; j++) oa[dst + j] = dev.laconic.tensor.Q8.get(seg, row + j); }
                    case I32 -> throw new IllegalArgumentException("embedding table must be a float tensor: " + table);
                }
            }
        });
        ov.commit();
    }

    /** dtable[V,C][ids[t], :] += dout[T,C][t, :] (repeated ids add up). */
    static void scatterAdd(int[] ids, Tensor dout, Tensor dtable) {
        int vocab = dtable.dim(0), c = dtable.dim(1), t = ids.length;
        if (dout.numel() != (long) t * c) throw new IllegalArgumentException("dout is " + dout + ", expected " + t + "×" + c);
        if (dtable.dtype() != DType.F32) throw new IllegalArgumentException("dtable must be F32, is " + dtable.dtype());
        for (int i = 0; i < t; i++) checkId(ids, i, vocab);
        FloatView gv = FloatView.read(dout);
        float[] ga = gv.a();
        int go = gv.off();
        float[] ta = dtable.floatArray();
        int to0 = ta == null ? 0 : dtable.floatOffset();
        MemorySegment seg = dtable.segment();
        // Column blocks of whole vectors: a thread owns columns [j0, j1) of every row it touches.
        int blocks = (c + L - 1) / L;
        int grain = Math.max(1, MIN_CHUNK_ELEMS / Math.max(1, t * L));
        Parallel.forChunks(blocks, grain, (bFrom, bTo) -> {
            int j0 = bFrom * L, j1 = Math.min(c, bTo * L);
            for (int i = 0; i < t; i++) {
                int src = go + i * c;
                long row = (long) ids[i] * c;
                if (ta != null) {
                    int dst = to0 + (int) row;
                    int j = j0;
                    for (int bound = j0 + SP.loopBound(j1 - j0); j < bound; j += L) {
                        FloatVector.fromArray(SP, ta, dst + j).add(FloatVector.fromArray(SP, ga, src + j)).intoArray(ta, dst + j);
                    }
                    for (; j < j1; j++) ta[dst + j] += ga[src + j];
                } else {
                    for (int j = j0; j < j1; j++) {
                        long at = (row + j) * Float.BYTES;
                        seg.set(F32_LE, at, seg.get(F32_LE, at) + ga[src + j]);
                    }
                }
            }
        });
    }

    /** dst[o, o+n) = f32 of bf16 bits[0, n): the 16 bits become the high half of the f32. */
    static void widenBf16(short[] bits, int n, float[] dst, int o) {
        int j = 0;
        for (int bound = SP16.loopBound(n); j < bound; j += L) {
            ShortVector s = ShortVector.fromArray(SP16, bits, j);
            // S2I sign-extends; the shift pushes those extension bits out again.
            IntVector w = (IntVector) s.convertShape(VectorOperators.S2I, SP32, 0);
            w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, o + j);
        }
        for (; j < n; j++) dst[o + j] = Float.intBitsToFloat(bits[j] << 16);
    }

    private static void checkId(int[] ids, int t, int vocab) {
        if (ids[t] < 0 || ids[t] >= vocab)
            throw new IndexOutOfBoundsException("token id " + ids[t] + " at position " + t + " is outside the vocabulary [0, " + vocab + ")");
    }
}
