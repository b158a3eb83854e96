package dev.laconic.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense, row-major tensor: a dtype, a shape and a {@link MemorySegment} holding exactly its bytes.
 *
 * <p>The segment is either on the heap (a {@code float[]}, {@code short[]} or {@code int[]} wrapped
 * by {@link MemorySegment#ofArray}) or off-heap, typically a slice of a memory-mapped safetensors
 * file, so a BF16 checkpoint is used in place without a copy. Views ({@link #slice}, {@link #row},
 * {@link #reshape}) share the segment. Element values are little-endian, as in safetensors.
 *
 * <p>Kernels that want the fastest path for heap F32 tensors use {@link #floatArray()} and
 * {@link #floatOffset()}; everything else goes through the segment.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final int[] shape;
    private final long numel;
    private final MemorySegment segment;

    private Tensor(DType dtype, int[] shape, MemorySegment segment) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = Shape.numel(shape);
        if (dtype == DType.Q8_0 && (shape.length == 0 || shape[shape.length - 1] % Q8.BLOCK != 0))
            throw new IllegalArgumentException("Q8_0 rows must be a multiple of " + Q8.BLOCK + " elements long, not " + Arrays.toString(shape));
        long bytes = dtype.byteSize(numel);
        if (segment.byteSize() != bytes)
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes does not hold "
                    + dtype + Arrays.toString(shape) + " (" + bytes + " bytes)");
        this.segment = segment;
    }

    // ---- construction ---------------------------------------------------------------------------

    /** Wraps existing bytes (heap or mapped) without copying. */
    public static Tensor wrap(MemorySegment segment, DType dtype, int... shape) {
        return new Tensor(dtype, shape, segment);
    }

    /** A zero-filled heap tensor. */
    public static Tensor zeros(DType dtype, int... shape) {
        long n = Shape.numel(shape);
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("heap tensor too large: " + Arrays.toString(shape));
        MemorySegment seg = switch (dtype) {
            case F32 -> MemorySegment.ofArray(new float[(int) n]);
            case BF16, F16 -> MemorySegment.ofArray(new short[(int) n]);
            case I32 -> MemorySegment.ofArray(new int[(int) n]);
            case Q8_0 -> throw new UnsupportedOperationException("a Q8_0 tensor is made by Q8.quantize, not zero-filled");
        };
        return new Tensor(dtype, shape, seg);
    }

    /** An F32 heap tensor over {@code data} (no copy). */
    public static Tensor of(float[] data, int... shape) {
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(data));
    }

    /** An I32 heap tensor over {@code data} (no copy). */
    public static Tensor ofInts(int[] data, int... shape) {
        return new Tensor(DType.I32, shape, MemorySegment.ofArray(data));
    }

    // ---- shape ----------------------------------------------------------------------------------

    public DType dtype() { return dtype; }
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }
    public long numel() { return numel; }
    public long byteSize() { return segment.byteSize(); }
    public MemorySegment segment() { return segment; }

    /** Number of elements per index of dimension 0 (the row length of a matrix). */
    public long rowSize() { return shape.length == 0 ? 1 : (shape[0] == 0 ? 0 : numel / shape[0]); }

    // ---- views (share storage) ------------------------------------------------------------------

    /** Rows [from, to) of dimension 0. */
    public Tensor slice(int from, int to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to)
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + Arrays.toString(shape));
        int[] s = shape.clone();
        s[0] = to - from;
        long rb = dtype.byteSize(rowSize());
        return new Tensor(dtype, s, segment.asSlice(from * rb, (to - from) * rb));
    }

    /** Index i of dimension 0, with that dimension dropped. */
    public Tensor row(int i) {
        if (shape.length == 0 || i < 0 || i >= shape[0])
            throw new IndexOutOfBoundsException("row " + i + " of " + Arrays.toString(shape));
        long rb = dtype.byteSize(rowSize());
        return new Tensor(dtype, Arrays.copyOfRange(shape, 1, shape.length), segment.asSlice(i * rb, rb));
    }

    /** Same elements, another shape of the same size. */
    public Tensor reshape(int... newShape) {
        if (Shape.numel(newShape) != numel)
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        return new Tensor(dtype, newShape, segment);
    }

    // ---- element access (any float dtype reads/writes as float) ---------------------------------

    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> segment.getAtIndex(F32_LE, i);
            case BF16 -> DType.bf16ToFloat(segment.getAtIndex(I16_LE, i));
            case F16 -> DType.f16ToFloat(segment.getAtIndex(I16_LE, i));
            case I32 -> segment.getAtIndex(I32_LE, i);
            case Q8_0 -> Q8.get(segment, i);
        };
    }

    public void setFloat(long i, float v) {
        switch (dtype) {
            case F32 -> segment.setAtIndex(F32_LE, i, v);
            case BF16 -> segment.setAtIndex(I16_LE, i, DType.floatToBf16(v));
            case F16 -> segment.setAtIndex(I16_LE, i, DType.floatToF16(v));
            case I32 -> throw new UnsupportedOperationException("setFloat on I32 tensor");
            case Q8_0 -> throw new UnsupportedOperationException("setFloat on a Q8_0 tensor: its blocks are quantised whole (Q8.quantize)");
        }
    }

    public int getInt(long i) {
        if (dtype != DType.I32) throw new UnsupportedOperationException("getInt on " + dtype + " tensor");
        return segment.getAtIndex(I32_LE, i);
    }

    public void setInt(long i, int v) {
        if (dtype != DType.I32) throw new UnsupportedOperationException("setInt on " + dtype + " tensor");
        segment.setAtIndex(I32_LE, i, v);
    }

    /** Raw 16-bit element (BF16/F16). */
    public short getBits16(long i) {
        return segment.getAtIndex(I16_LE, i);
    }

    // ---- fast paths for heap F32 ----------------------------------------------------------------

    /** The backing float[] of a heap F32 tensor, or null (off-heap or another dtype). */
    public float[] floatArray() {
        if (dtype != DType.F32) return null;
        return segment.heapBase().orElse(null) instanceof float[] a ? a : null;
    }

    /** Element offset of this tensor inside {@link #floatArray()}. */
    public int floatOffset() {
        return (int) (segment.address() / Float.BYTES);
    }

    /** A float[] copy of the elements (converted from BF16/F16). */
    public float[] toFloatArray() {
        if (numel > Integer.MAX_VALUE) throw new IllegalStateException("tensor too large for float[]");
        float[] out = new float[(int) numel];
        if (dtype == DType.F32) {
            MemorySegment.copy(segment, F32_LE, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        }
        return out;
    }

    /** A heap copy converted to {@code to} (F32/BF16/F16), rounding to nearest even; Q8_0: {@link Q8#quantize} (off-heap). */
    public Tensor to(DType to) {
        if (to == DType.Q8_0) return Q8.quantize(this);
        Tensor out = zeros(to, shape);
        if (to == dtype) {
            MemorySegment.copy(segment, 0, out.segment, 0, segment.byteSize());
        } else {
            for (long i = 0; i < numel; i++) out.setFloat(i, getFloat(i));
        }
        return out;
    }

    /** Copies all elements of {@code src} (same shape and dtype) into this tensor. */
    public void copyFrom(Tensor src) {
        if (src.dtype != dtype || src.numel != numel)
            throw new IllegalArgumentException("copy " + src + " into " + this);
        MemorySegment.copy(src.segment, 0, segment, 0, segment.byteSize());
    }

    public void fill(float v) {
        if (dtype == DType.F32 && floatArray() != null) {
            Arrays.fill(floatArray(), floatOffset(), floatOffset() + (int) numel, v);
        } else {
            for (long i = 0; i < numel; i++) setFloat(i, v);
        }
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + Arrays.toString(shape) + (segment.isNative() ? ", off-heap" : "") + ")";
    }
}
