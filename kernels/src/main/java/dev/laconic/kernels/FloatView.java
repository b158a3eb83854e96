package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A float[] window on a tensor, so that the vector loops of this package are written once, on arrays.
 *
 * <p>A heap F32 tensor is used in place: {@code a} is its backing array and {@code off} the index of
 * element 0 (views share the array). Anything else (off-heap F32, BF16/F16) is read into a fresh
 * F32 copy, and {@link #commit} writes results back. That slow path keeps every op correct on every
 * tensor; the hot paths (activations, gradients, KV cache) are heap F32 and never copy.
 */
record FloatView(Tensor t, float[] a, int off, boolean copied) {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** An input: the array itself, or a widened copy. */
    static FloatView read(Tensor t) {
        float[] a = t.floatArray();
        if (a != null) return new FloatView(t, a, t.floatOffset(), false);
        return new FloatView(t, toFloats(t), 0, true);
    }

    /** An output that is fully assigned: the array itself, or an uninitialised buffer for {@link #commit}. */
    static FloatView write(Tensor t) {
        float[] a = t.floatArray();
        if (a != null) return new FloatView(t, a, t.floatOffset(), false);
        return new FloatView(t, new float[checkedSize(t)], 0, true);
    }

    /** An accumulator (+=): read, updated in place, committed. */
    static FloatView update(Tensor t) {
        return read(t);
    }

    /** Stores the copy back into a non-heap tensor; nothing to do for heap F32. */
    void commit() {
        if (!copied) return;
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(a, 0, t.segment(), F32_LE, 0, a.length);
        } else {
            for (int i = 0; i < a.length; i++) t.setFloat(i, a[i]);
        }
    }

    private static float[] toFloats(Tensor t) {
        checkedSize(t);
        return t.toFloatArray();
    }

    private static int checkedSize(Tensor t) {
        if (!t.dtype().isFloat()) throw new IllegalArgumentException("expected a float tensor, got " + t);
        if (t.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large for a float[] copy: " + t);
        return (int) t.numel();
    }

    /** Rows of x read as a matrix with {@code cols} columns (rank > 2 tensors are flattened). */
    static int rows(Tensor x, int cols) {
        if (cols == 0 || x.numel() % cols != 0) throw new IllegalArgumentException(x + " does not have rows of " + cols);
        return (int) (x.numel() / cols);
    }

    /** Outputs and gradients are F32 with a known element count. */
    static void requireF32(Tensor t, long numel, String name) {
        if (t.numel() != numel) throw new IllegalArgumentException(name + " is " + t + ", expected " + numel + " elements");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " must be F32, is " + t.dtype());
    }
}
