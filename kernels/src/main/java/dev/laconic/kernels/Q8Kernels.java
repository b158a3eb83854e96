package dev.laconic.kernels;

import dev.laconic.tensor.Q8;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0 weights ({@link Q8}: blocks of 32 int8 with an F16 scale) in the linear layer.
 *
 * <p>Few rows (decode): {@link #matvec}, the Q8 twin of {@link MatVec}. Each w row is read once, front
 * to back, 34 bytes per 32 weights (0.53 of BF16's bytes); per block the int8 lanes are widened to F32
 * (sign-extend, convert), multiplied into the F32 activations with FMAs, and the block's sum is scaled
 * once: {@code acc = (Σ_i q_i·x_i)·d + acc}. Rows of x go four at a time ({@link #dot4}: the w block
 * widened once, used by four rows) and then one at a time ({@link #dot1}); both sum a row in exactly
 * the same order, so a row's result is the same bits whatever other rows share the call (batched
 * decoding stays bit-identical to one sequence at a time, as for BF16).
 *
 * <p>Many rows (prefill, training's dx): the packed {@link Gemm}, whose packing reads Q8_0 through
 * {@link Pack.Src} ({@link #dequantize}: L values of one block widened and scaled), then the F32
 * micro-kernel: a packed panel is reused by every row block, so dequantising it costs nothing that matters.
 */
final class Q8Kernels {
    static final VectorSpecies<Float> F = Pack.F;
    static final int L = Pack.L;
    /** L int8 lanes: what widens to one F32 vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** F32 vectors per block (2 with AVX-512, 4 with AVX2). */
    static final int VPB = Q8.BLOCK / L;
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q8Kernels() {}

    /** The tensor's blocks off-heap (where the kernels read them); a heap-wrapped Q8_0 tensor is copied once. */
    static MemorySegment offHeap(Tensor t) {
        MemorySegment s = t.segment();
        if (s.isNative()) return s;
        MemorySegment copy = Arena.ofAuto().allocate(s.byteSize(), 64);
        copy.copyFrom(s);
        return copy;
    }

    /** L int8 values at byte offset {@code at}, as F32. */
    private static FloatVector widen(MemorySegment s, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B, s, at, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
    }

    private static float scaleAt(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(I16_LE, at));
    }

    /**
     * Elements i .. i+L-1 dequantised, for i a multiple of L (then they lie in one block: rows are whole
     * blocks). Small so that it inlines into the packing loops (a FloatVector returned from a call that is
     * not inlined is boxed).
     */
    static FloatVector vec(MemorySegment s, long i) {
        long at = i / Q8.BLOCK * Q8.BLOCK_BYTES;
        return widen(s, at + 2 + i % Q8.BLOCK).mul(scaleAt(s, at));
    }

    /** dst[d .. d+L) = elements i .. i+L-1 dequantised (the packing loops' load); any i. */
    static void dequantize(MemorySegment s, long i, float[] dst, int d) {
        if (i % L == 0) {
            vec(s, i).intoArray(dst, d);
        } else {
            for (int j = 0; j < L; j++) dst[d + j] = Q8.get(s, i + j);
        }
    }

    /** y[t·n + j] (at yo) = Σ_p x[t·k + p] (at xo) · w[j, p] (+ b[j] at bo when b != null), w Q8_0 [n, k]. */
    static void matvec(float[] x, int xo, int t, int k, Pack.Src w, int n, float[] b, int bo, float[] y, int yo) {
        MemorySegment s = w.seg;
        long rowBytes = (long) k / Q8.BLOCK * Q8.BLOCK_BYTES;
        int grain = Math.max(1, Math.min(256, n / (dev.laconic.tensor.Parallel.threads() * 8)));
        Pack.forChunks(w.shared, n, grain, (j0, j1) -> {
            for (int j = j0; j < j1; j++) {
                long row = j * rowBytes;
                float bj = b == null ? 0f : b[bo + j];
                int i = 0;
                for (; i + 4 <= t; i += 4) dot4(x, xo + i * k, k, s, row, y, yo + i * n + j, n, bj);
                for (; i < t; i++) y[yo + i * n + j] = dot1(x, xo + i * k, k, s, row) + bj;
            }
        });
    }

    /** x[xo ..]·(the Q8 row at byte `row`) over k elements: per block Σ q·x by FMAs from zero, then acc = that·d + acc. */
    private static float dot1(float[] x, int xo, int k, MemorySegment s, long row) {
        FloatVector z = FloatVector.zero(F), acc = z;
        for (int p = 0; p < k; p += Q8.BLOCK, row += Q8.BLOCK_BYTES) {
            FloatVector a = z;
            for (int v = 0; v < VPB; v++) a = widen(s, row + 2 + v * L).fma(FloatVector.fromArray(F, x, xo + p + v * L), a);
            acc = a.fma(FloatVector.broadcast(F, scaleAt(s, row)), acc);
        }
        return VectorMath.sum(acc);
    }

    /** Four x rows against one Q8 row, each summed exactly as {@link #dot1} sums it. */
    private static void dot4(float[] x, int xo, int k, MemorySegment s, long row, float[] y, int yo, int ldy, float bias) {
        FloatVector z = FloatVector.zero(F), acc0 = z, acc1 = z, acc2 = z, acc3 = z;
        int x1 = xo + k, x2 = xo + 2 * k, x3 = xo + 3 * k;
        for (int p = 0; p < k; p += Q8.BLOCK, row += Q8.BLOCK_BYTES) {
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
            for (int v = 0; v < VPB; v++) {
                FloatVector q = widen(s, row + 2 + v * L);
                int o = p + v * L;
                a0 = q.fma(FloatVector.fromArray(F, x, xo + o), a0);
                a1 = q.fma(FloatVector.fromArray(F, x, x1 + o), a1);
                a2 = q.fma(FloatVector.fromArray(F, x, x2 + o), a2);
                a3 = q.fma(FloatVector.fromArray(F, x, x3 + o), a3);
            }
            FloatVector d = FloatVector.broadcast(F, scaleAt(s, row));
            acc0 = a0.fma(d, acc0);
            acc1 = a1.fma(d, acc1);
            acc2 = a2.fma(d, acc2);
            acc3 = a3.fma(d, acc3);
        }
        y[yo] = VectorMath.sum(acc0) + bias;
        y[yo + ldy] = VectorMath.sum(acc1) + bias;
        y[yo + 2 * ldy] = VectorMath.sum(acc2) + bias;
        y[yo + 3 * ldy] = VectorMath.sum(acc3) + bias;
    }
}
