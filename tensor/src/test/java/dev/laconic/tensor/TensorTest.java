package dev.laconic.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.*;

class TensorTest {

    @Test
    void slicesRowsAndReshapesShareStorage() {
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) data[i] = i;
        Tensor t = Tensor.of(data, 4, 6);
        Tensor s = t.slice(1, 3);
        assertArrayEquals(new int[]{2, 6}, s.shape());
        assertEquals(6f, s.getFloat(0));
        assertEquals(6, s.floatOffset());
        assertSame(data, s.floatArray());
        s.setFloat(0, -1f);
        assertEquals(-1f, data[6], "a slice is a view");
        Tensor r = t.row(3);
        assertArrayEquals(new int[]{6}, r.shape());
        assertEquals(18f, r.getFloat(0));
        Tensor v = t.reshape(2, 3, 4);
        assertEquals(3, v.rank());
        assertEquals(23f, v.getFloat(23));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> t.slice(3, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> t.row(4));
    }

    @Test
    void bf16AndF16TensorsConvertOnAccess() {
        Tensor b = Tensor.zeros(DType.BF16, 3);
        b.setFloat(0, 1.0f);
        b.setFloat(1, -2.5f);
        b.setFloat(2, 1.00390625f); // 1 + 2^-8: exactly halfway between two bf16 values, rounds to even (1.0)
        assertArrayEquals(new float[]{1.0f, -2.5f, 1.0f}, b.toFloatArray());
        Tensor h = Tensor.of(new float[]{0.1f, 65504f, 1e-8f}, 3).to(DType.F16);
        assertEquals(DType.F16, h.dtype());
        assertEquals(0.0999755859375f, h.getFloat(0)); // nearest binary16 to 0.1
        assertEquals(65504f, h.getFloat(1));
        assertEquals(0f, h.getFloat(2));
        assertNull(b.floatArray(), "no float[] fast path for BF16");
    }

    @Test
    void offHeapSegmentsAreWrappedWithoutCopy() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4 * 10, 64);
            Tensor t = Tensor.wrap(seg, DType.F32, 2, 5);
            t.setFloat(7, 3.5f);
            assertEquals(3.5f, seg.getAtIndex(Tensor.F32_LE, 7));
            assertNull(t.floatArray());
            assertTrue(t.toString().contains("off-heap"));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(seg, DType.F32, 3, 5));
        }
    }

    @Test
    void intTensorsRefuseFloatWrites() {
        Tensor ids = Tensor.ofInts(new int[]{4, 5, 6}, 3);
        assertEquals(5, ids.getInt(1));
        assertThrows(UnsupportedOperationException.class, () -> ids.setFloat(0, 1f));
        assertThrows(UnsupportedOperationException.class, () -> Tensor.zeros(DType.F32, 2).getInt(0));
    }

    @Test
    void negativeOrOverflowingShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 2, -1));
        assertThrows(ArithmeticException.class, () -> Shape.numel(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 1 << 16, 1 << 16));
    }
}
