package dev.laconic.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The 8-bit block format {@link DType#Q8_0} (llama.cpp's {@code block_q8_0}, byte for byte): the elements
 * of a tensor, in row-major order, in blocks of {@value #BLOCK}; each block is {@value #BLOCK_BYTES}
 * bytes, an F16 scale {@code d} (little-endian) followed by 32 int8 values {@code q}, and element
 * {@code i} of the block is {@code d·q[i]}. Rows must be whole blocks (last dimension a multiple of 32),
 * so a row of a matrix is a contiguous run of blocks and {@link Tensor#slice} works as for any dtype.
 *
 * <p>Quantisation ({@link #quantize}), per block: {@code d = amax/127} rounded <em>up</em> to the next
 * F16 (so that {@code |w/d| ≤ 127} and no value clips), {@code q = rint(w/d)}; hence
 * {@code |w − d·q| ≤ d/2} for every element, the bound the tests check. A block of zeros has d = 0.
 *
 * <p>Why F16 scales rather than F32: 34 bytes per 32 weights instead of 36, 5.9 % less to stream per
 * decoded token, which is bandwidth-bound; the scale's own rounding (2⁻¹¹ relative, upward) is 1/16 of
 * the quantisation step (1/254 of amax) and cannot clip. The cost is the F16 range: a block whose amax
 * exceeds 127·65504 cannot be stored (refused, naming the element), and scales below 6.1e-5 (amax
 * below 0.0078) are F16 subnormals with a coarser relative step; the bound above still holds.
 *
 * <p>Q8_0 tensors are off-heap (a shared automatic arena: freed when no longer reachable), so a
 * quantised 1.5B model costs no Java heap.
 */
public final class Q8 {
    /** Elements per block. */
    public static final int BLOCK = 32;
    /** Bytes per block: the F16 scale, then the 32 int8 values. */
    public static final int BLOCK_BYTES = 2 + BLOCK;
    /** The largest |q|: symmetric, -128 unused (as llama.cpp). */
    public static final int QMAX = 127;

    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MIN_CHUNK_BLOCKS = 4096;

    private Q8() {}

    /** The scale of a block whose largest magnitude is amax: amax/127 rounded up to an F16 (as F16 bits). */
    public static short scaleFor(float amax) {
        float want = amax / QMAX;
        short h = Float.floatToFloat16(want);
        if (Float.float16ToFloat(h) < want) h++;   // positive F16s order as their bits: +1 is the next one up
        if (Float.isInfinite(Float.float16ToFloat(h)))
            throw new IllegalArgumentException("a block's largest magnitude " + amax + " is beyond the range of Q8_0's F16 scale (127·65504)");
        return h;
    }

    /**
     * {@code w} (any float dtype, any rank; rows a multiple of {@value #BLOCK} long) quantised to Q8_0,
     * off-heap; blocks are independent, so threads share the work without changing a bit.
     * NaN and infinite weights are refused, naming the element.
     */
    public static Tensor quantize(Tensor w) {
        if (w.dtype() == DType.Q8_0) return w;
        if (!w.dtype().isFloat()) throw new IllegalArgumentException("cannot quantise " + w + ": not a float tensor");
        int[] shape = w.shape();
        if (shape.length == 0 || shape[shape.length - 1] % BLOCK != 0)
            throw new IllegalArgumentException("cannot quantise " + w + " to Q8_0: rows must be a multiple of " + BLOCK + " elements long");
        long blocks = w.numel() / BLOCK;
        MemorySegment out = Arena.ofAuto().allocate(blocks * BLOCK_BYTES, 64);
        int chunks = Math.toIntExact((blocks + MIN_CHUNK_BLOCKS - 1) / MIN_CHUNK_BLOCKS);
        Parallel.forChunks(chunks, 1, (c0, c1) -> {
            float[] v = new float[BLOCK];
            for (long b = (long) c0 * MIN_CHUNK_BLOCKS, end = Math.min(blocks, (long) c1 * MIN_CHUNK_BLOCKS); b < end; b++) {
                float amax = 0;
                for (int i = 0; i < BLOCK; i++) {
                    float x = w.getFloat(b * BLOCK + i);
                    if (!Float.isFinite(x))
                        throw new IllegalArgumentException("cannot quantise " + w + ": element " + (b * BLOCK + i) + " is " + x);
                    v[i] = x;
                    amax = Math.max(amax, Math.abs(x));
                }
                short h = amax == 0 ? 0 : scaleFor(amax);
                float d = Float.float16ToFloat(h);
                long at = b * BLOCK_BYTES;
                out.set(I16_LE, at, h);
                for (int i = 0; i < BLOCK; i++)
                    out.set(ValueLayout.JAVA_BYTE, at + 2 + i, d == 0 ? 0 : (byte) Math.clamp((long) Math.rint(v[i] / d), -QMAX, QMAX));
            }
        });
        return Tensor.wrap(out, DType.Q8_0, shape);
    }

    /** The scale of the block holding element i, as a float. */
    public static float scale(MemorySegment blocks, long i) {
        return Float.float16ToFloat(blocks.get(I16_LE, i / BLOCK * BLOCK_BYTES));
    }

    /** The int8 value of element i. */
    public static int quant(MemorySegment blocks, long i) {
        return blocks.get(ValueLayout.JAVA_BYTE, i / BLOCK * BLOCK_BYTES + 2 + i % BLOCK);
    }

    /** Element i dequantised: scale·q (exact in F32: an 11-bit scale times an 8-bit integer). */
    public static float get(MemorySegment blocks, long i) {
        return scale(blocks, i) * quant(blocks, i);
    }
}
