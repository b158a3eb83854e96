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
 * Element access to matrix storage of any float dtype, and the panel packing of {@link Gemm}.
 *
 * <p>{@link Src} reads F32 or BF16 elements from a tensor's segment, heap or memory-mapped,
 * widening to F32 as it goes: BF16 is the top half of an F32, so L bf16 values become L floats by a
 * sign-extending 16→32 bit convert and a left shift by 16 (two instructions per vector, no rounding).
 * F16 has no cheap vector widening in the Vector API; F16 weights are converted to an F32 copy
 * first (correct, not fast; the checkpoints we load are BF16).
 *
 * <p>Packing copies a KC-deep slice of an operand into the order the micro-kernel reads it:
 * <pre>
 *   A panel (MR rows):    pa[k·MR + r]  = A[i0 + r][k0 + k]      (MR values per k, broadcast)
 *   B panel (NR columns): pb[k·NR + j]  = B[k0 + k][j0 + j]      (NR values per k, two vectors)
 * </pre>
 * so the micro-kernel walks both panels with unit stride, and rows/columns past the edge of the
 * matrix are zero, so the micro-kernel never needs an edge case (only the store of C does).
 */
final class Pack {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Perfect-shuffle indices for the L×L in-register transpose: lo = (x0,y0,x1,y1,..), hi = the upper halves.
    private static final FloatVector SHUF_LO, SHUF_HI;

    static {
        float[] lo = new float[L], hi = new float[L];
        for (int i = 0; i < L / 2; i++) {
            lo[2 * i] = i;
            lo[2 * i + 1] = i + L;
            hi[2 * i] = i + L / 2;
            hi[2 * i + 1] = i + L / 2 + L;
        }
        SHUF_LO = FloatVector.fromArray(F, lo, 0);
        SHUF_HI = FloatVector.fromArray(F, hi, 0);
    }

    /** A thread that owns nothing: a segment it may access is accessible by every thread. */
    private static final Thread STRANGER = Thread.ofVirtual().unstarted(() -> {});

    private Pack() {}

    /** Runs body over [0, n) on the worker pool, or all on the calling thread when !parallel. */
    static void forChunks(boolean parallel, int n, int grain, Parallel.Range body) {
        if (parallel) Parallel.forChunks(n, grain, body);
        else if (n > 0) body.run(0, n);
    }

    /** BF16 bits → F32 for L lanes: widen 16→32 (sign extension, the low half is shifted out) and shift into the high half. */
    static FloatVector widenBf16(ShortVector bits) {
        return ((IntVector) bits.convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * The elements of a weight (or activation) tensor as F32: F32 as is, BF16 widened. Heap tensors
     * are read through their float[]/short[] and off-heap ones through the segment, each by its own
     * branch: one load site that saw both heap and native segments would compile to a slow generic
     * access (measured: several times slower after a test touched both), and a native-only site
     * stays fast. The methods are small on purpose: they must inline into the hot loops, where a
     * FloatVector returned from a call that is not inlined would be boxed.
     */
    static final class Src {
        static final int F32_ARRAY = 0, BF16_ARRAY = 1, F32_SEG = 2, BF16_SEG = 3, Q8_SEG = 4;

        final int kind;
        final float[] f32;        // F32_ARRAY
        final short[] bits;       // BF16_ARRAY
        final int base;           // element offset into f32 / bits
        final MemorySegment seg;  // *_SEG
        /** False for a segment of a confined arena: only its owner thread may read it, so no worker can help. */
        final boolean shared;

        private Src(int kind, float[] f32, short[] bits, int base, MemorySegment seg) {
            this.kind = kind;
            this.f32 = f32;
            this.bits = bits;
            this.base = base;
            this.seg = seg;
            this.shared = seg == null || seg.isAccessibleBy(STRANGER);
        }

        /** F32 or BF16 tensors; F16 has no cheap vector widening here, callers convert it first ({@link #readable}). */
        static Src of(Tensor t) {
            MemorySegment s = t.segment();
            Object heap = s.heapBase().orElse(null);
            return switch (t.dtype()) {
                case F32 -> heap instanceof float[] a ? new Src(F32_ARRAY, a, null, t.floatOffset(), null)
                        : new Src(F32_SEG, null, null, 0, s);
                case BF16 -> heap instanceof short[] a ? new Src(BF16_ARRAY, null, a, (int) (s.address() / 2), null)
                        : new Src(BF16_SEG, null, null, 0, s);
                case Q8_0 -> new Src(Q8_SEG, null, null, 0, Q8Kernels.offHeap(t));
                default -> throw new IllegalArgumentException("expected an F32, BF16 or Q8_0 tensor, got " + t);
            };
        }

        /** t itself when {@link #of} can read it, else an F32 copy (F16 weights: correct, not fast). */
        static Tensor readable(Tensor t) {
            return t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.Q8_0 ? t : t.to(DType.F32);
        }

        float get(long i) {
            return switch (kind) {
                case F32_ARRAY -> f32[base + (int) i];
                case BF16_ARRAY -> Float.intBitsToFloat(bits[base + (int) i] << 16);
                case F32_SEG -> seg.getAtIndex(F32_LE, i);
                case Q8_SEG -> dev.laconic.tensor.Q8.get(seg, i);
                default -> Float.intBitsToFloat(seg.getAtIndex(I16_LE, i) << 16);
            };
        }

        /**
         * dst[d .. d+L) = elements i .. i+L-1 (widened). The packing loops use this rather than
         * {@link #vec}: no vector crosses a method boundary, so it is fast whether or not C2
         * inlines it into a given caller.
         */
        void load(long i, float[] dst, int d) {
            switch (kind) {
                case F32_ARRAY -> FloatVector.fromArray(F, f32, base + (int) i).intoArray(dst, d);
                case BF16_ARRAY -> widenBf16(ShortVector.fromArray(H, bits, base + (int) i)).intoArray(dst, d);
                case F32_SEG -> FloatVector.fromMemorySegment(F, seg, i * 4, ByteOrder.LITTLE_ENDIAN).intoArray(dst, d);
                case Q8_SEG -> Q8Kernels.dequantize(seg, i, dst, d);
                default -> widenBf16(ShortVector.fromMemorySegment(H, seg, i * 2, ByteOrder.LITTLE_ENDIAN)).intoArray(dst, d);
            }
        }

        /** Elements i .. i+L-1 as one F32 vector (for loops that must inline it; see {@link #load}). */
        FloatVector vec(long i) {
            return switch (kind) {
                case F32_ARRAY -> FloatVector.fromArray(F, f32, base + (int) i);
                case BF16_ARRAY -> widenBf16(ShortVector.fromArray(H, bits, base + (int) i));
                case F32_SEG -> FloatVector.fromMemorySegment(F, seg, i * 4, ByteOrder.LITTLE_ENDIAN);
                case Q8_SEG -> Q8Kernels.vec(seg, i);
                default -> widenBf16(ShortVector.fromMemorySegment(H, seg, i * 2, ByteOrder.LITTLE_ENDIAN));
            };
        }
    }

    /** A (the broadcast operand): element (i, p) is a[off + i·ld + p], or a[off + p·ld + i] when transposed. */
    record AOperand(float[] a, int off, int ld, boolean transposed) {}

    /** B (the vector operand): element (p, j) is src[off + p·ld + j], or src[off + j·ld + p] when transposed. */
    record BOperand(Src src, long off, long ld, boolean transposed) {}

    // ---- A panels: MR rows, broadcast by the micro-kernel ---------------------------------------

    /** Packs A[i0 .. i0+mc, k0 .. k0+kc] into ceil(mc/mr) panels of kc·mr floats from pa[at] (zero rows past mc). */
    static void packA(AOperand a, int i0, int mc, int k0, int kc, int mr, float[] pa, int at) {
        float[] x = a.a();
        int ld = a.ld(), panels = (mc + mr - 1) / mr;
        for (int p = 0; p < panels; p++) {
            int rows = Math.min(mr, mc - p * mr), dst = at + p * kc * mr, i = i0 + p * mr;
            if (a.transposed()) {
                // A[i][k] = x[(k0+k)·ld + i]: the mr values of one k are contiguous.
                for (int k = 0; k < kc; k++) {
                    int s = a.off() + (k0 + k) * ld + i, d = dst + k * mr;
                    if (rows == 8 && mr == 8) {
                        FloatVector.fromArray(F8, x, s).intoArray(pa, d);
                    } else {
                        for (int r = 0; r < rows; r++) pa[d + r] = x[s + r];
                        for (int r = rows; r < mr; r++) pa[d + r] = 0f;
                    }
                }
            } else {
                // A[i][k] = x[(i+r)·ld + k0 + k]: mr row streams merged into one k-major stream.
                int s = a.off() + i * ld + k0, k = 0;
                if (rows == 8 && mr == 8 && L == 16)
                    for (; k + 16 <= kc; k += 16) interleave8x16(x, s + k, ld, pa, dst + k * 8);
                for (int r = 0; r < mr; r++)
                    for (int kk = k; kk < kc; kk++) pa[dst + r + kk * mr] = r < rows ? x[s + r * ld + kk] : 0f;
            }
        }
    }

    /**
     * 8 rows × 16 k's → pa[d + k·8 + r]: three rounds of the perfect shuffle over the row pairs
     * (r, r+4) turn the 8 row vectors into the k-major order (2 k's per vector), 24 permutes per
     * 128 elements instead of 128 scalar stores at stride 8.
     */
    private static void interleave8x16(float[] x, int s, int ld, float[] pa, int d) {
        FloatVector r0 = FloatVector.fromArray(F, x, s), r1 = FloatVector.fromArray(F, x, s + ld);
        FloatVector r2 = FloatVector.fromArray(F, x, s + 2 * ld), r3 = FloatVector.fromArray(F, x, s + 3 * ld);
        FloatVector r4 = FloatVector.fromArray(F, x, s + 4 * ld), r5 = FloatVector.fromArray(F, x, s + 5 * ld);
        FloatVector r6 = FloatVector.fromArray(F, x, s + 6 * ld), r7 = FloatVector.fromArray(F, x, s + 7 * ld);
        for (int round = 0; round < 3; round++) {
            FloatVector n0 = SHUF_LO.selectFrom(r0, r4), n1 = SHUF_HI.selectFrom(r0, r4);
            FloatVector n2 = SHUF_LO.selectFrom(r1, r5), n3 = SHUF_HI.selectFrom(r1, r5);
            FloatVector n4 = SHUF_LO.selectFrom(r2, r6), n5 = SHUF_HI.selectFrom(r2, r6);
            FloatVector n6 = SHUF_LO.selectFrom(r3, r7), n7 = SHUF_HI.selectFrom(r3, r7);
            r0 = n0; r1 = n1; r2 = n2; r3 = n3; r4 = n4; r5 = n5; r6 = n6; r7 = n7;
        }
        r0.intoArray(pa, d); r1.intoArray(pa, d + 16); r2.intoArray(pa, d + 32); r3.intoArray(pa, d + 48);
        r4.intoArray(pa, d + 64); r5.intoArray(pa, d + 80); r6.intoArray(pa, d + 96); r7.intoArray(pa, d + 112);
    }

    // ---- B panels: NR = 2L columns, loaded as two vectors by the micro-kernel -------------------

    /** Packs B[k0 .. k0+kc, j0 .. j0+nc] into ceil(nc/NR) panels of kc·NR floats (zero columns past nc). */
    static void packB(BOperand b, int k0, int kc, int j0, int nc, int nr, float[] pb) {
        if (!b.transposed()) {
            packBRows(b, k0, kc, j0, nc, nr, pb);
            return;
        }
        int panels = (nc + nr - 1) / nr;
        for (int p = 0; p < panels; p++)
            packBTransposed(b, k0, kc, j0 + p * nr, Math.min(nr, nc - p * nr), nr, pb, p * kc * nr);
    }

    /**
     * B[k][j] = src[off + k·ld + j]: row k0+k of the source fills row k of every panel. Walking the
     * source row by row reads it as long sequential runs (nc elements), which the hardware
     * prefetcher streams; panel by panel it would read nr-element scraps of kc different rows.
     */
    private static void packBRows(BOperand b, int k0, int kc, int j0, int nc, int nr, float[] pb) {
        Src s = b.src();
        int full = nc / nr;
        for (int k = 0; k < kc; k++) {
            long row = b.off() + (long) (k0 + k) * b.ld() + j0;
            int d = k * nr;
            for (int p = 0; p < full; p++, d += kc * nr)
                for (int j = 0; j < nr; j += L) s.load(row + p * nr + j, pb, d + j);
            if (full * nr < nc) {
                int j = 0, c0 = full * nr;
                for (; j < nc - c0; j++) pb[d + j] = s.get(row + c0 + j);
                for (; j < nr; j++) pb[d + j] = 0f;
            }
        }
    }

    /**
     * B[k][j] = src[off + j·ld + k] (the forward's wᵀ: w rows are contiguous in k). Blocks of L rows
     * × L k's are copied (widened) into a scratch block, transposed in registers and stored as L
     * k-vectors; edges (fewer than L rows or k's left) go element by element.
     */
    private static void packBTransposed(BOperand b, int k0, int kc, int j0, int cols, int nr, float[] pb, int dst) {
        Src s = b.src();
        float[] scratch = SCRATCH.get();
        for (int h = 0; h < nr; h += L) {
            int rows = Math.max(0, Math.min(L, cols - h));   // real w rows in this half (0 in a padded half)
            int k = 0;
            if (rows == L && L == 16) {
                long src = b.off() + (long) (j0 + h) * b.ld() + k0;
                for (; k + L <= kc; k += L) {
                    for (int r = 0; r < L; r++) s.load(src + k + r * b.ld(), scratch, r * L);
                    transpose16(scratch, pb, dst + k * nr + h, nr);
                }
            }
            for (; k < kc; k++) {
                int d = dst + k * nr + h;
                long src = b.off() + (long) (j0 + h) * b.ld() + k0 + k;
                int r = 0;
                for (; r < rows; r++) pb[d + r] = s.get(src + r * b.ld());
                for (; r < L; r++) pb[d + r] = 0f;
            }
        }
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[L * L]);

    /**
     * Column c of the 16×16 block m (row-major) goes to dst[d + c·stride]: four rounds of the
     * perfect shuffle (x0,y0,x1,y1,…) over the row pairs (r, r+8) transpose the block, 64
     * two-source permutes (vpermi2ps) per 256 elements. Written out so that the 16 vectors stay in
     * registers.
     */
    private static void transpose16(float[] m, float[] dst, int d, int stride) {
        FloatVector r0 = FloatVector.fromArray(F, m, 0), r1 = FloatVector.fromArray(F, m, 16);
        FloatVector r2 = FloatVector.fromArray(F, m, 32), r3 = FloatVector.fromArray(F, m, 48);
        FloatVector r4 = FloatVector.fromArray(F, m, 64), r5 = FloatVector.fromArray(F, m, 80);
        FloatVector r6 = FloatVector.fromArray(F, m, 96), r7 = FloatVector.fromArray(F, m, 112);
        FloatVector r8 = FloatVector.fromArray(F, m, 128), r9 = FloatVector.fromArray(F, m, 144);
        FloatVector ra = FloatVector.fromArray(F, m, 160), rb = FloatVector.fromArray(F, m, 176);
        FloatVector rc = FloatVector.fromArray(F, m, 192), rd = FloatVector.fromArray(F, m, 208);
        FloatVector re = FloatVector.fromArray(F, m, 224), rf = FloatVector.fromArray(F, m, 240);
        for (int round = 0; round < 4; round++) {
            FloatVector n0 = SHUF_LO.selectFrom(r0, r8), n1 = SHUF_HI.selectFrom(r0, r8);
            FloatVector n2 = SHUF_LO.selectFrom(r1, r9), n3 = SHUF_HI.selectFrom(r1, r9);
            FloatVector n4 = SHUF_LO.selectFrom(r2, ra), n5 = SHUF_HI.selectFrom(r2, ra);
            FloatVector n6 = SHUF_LO.selectFrom(r3, rb), n7 = SHUF_HI.selectFrom(r3, rb);
            FloatVector n8 = SHUF_LO.selectFrom(r4, rc), n9 = SHUF_HI.selectFrom(r4, rc);
            FloatVector na = SHUF_LO.selectFrom(r5, rd), nb = SHUF_HI.selectFrom(r5, rd);
            FloatVector nc = SHUF_LO.selectFrom(r6, re), nd = SHUF_HI.selectFrom(r6, re);
            FloatVector ne = SHUF_LO.selectFrom(r7, rf), nf = SHUF_HI.selectFrom(r7, rf);
            r0 = n0; r1 = n1; r2 = n2; r3 = n3; r4 = n4; r5 = n5; r6 = n6; r7 = n7;
            r8 = n8; r9 = n9; ra = na; rb = nb; rc = nc; rd = nd; re = ne; rf = nf;
        }
        r0.intoArray(dst, d); r1.intoArray(dst, d + stride); r2.intoArray(dst, d + 2 * stride); r3.intoArray(dst, d + 3 * stride);
        r4.intoArray(dst, d + 4 * stride); r5.intoArray(dst, d + 5 * stride); r6.intoArray(dst, d + 6 * stride); r7.intoArray(dst, d + 7 * stride);
        r8.intoArray(dst, d + 8 * stride); r9.intoArray(dst, d + 9 * stride); ra.intoArray(dst, d + 10 * stride); rb.intoArray(dst, d + 11 * stride);
        rc.intoArray(dst, d + 12 * stride); rd.intoArray(dst, d + 13 * stride); re.intoArray(dst, d + 14 * stride); rf.intoArray(dst, d + 15 * stride);
    }
}
