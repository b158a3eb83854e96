package dev.laconic.tensor;

import dev.laconic.tensor.testing.TestTensors;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** Q8_0 round trips: every element within half its block's scale, the scale rule, the layout, the refusals. */
class Q8Test {

    @Test
    void everyElementIsWithinHalfItsBlocksScale() {
        for (DType from : new DType[]{DType.F32, DType.BF16, DType.F16}) {
            // blocks of very different magnitudes, F16-subnormal scales among them
            Tensor w = TestTensors.randn(11, 37, 96);
            for (int r = 0; r < 37; r++)
                for (int c = 0; c < 96; c++) w.setFloat(r * 96L + c, w.getFloat(r * 96L + c) * (float) Math.pow(10, r % 9 - 6));
            w = w.to(from);
            Tensor q = Q8.quantize(w);
            assertEquals(DType.Q8_0, q.dtype());
            assertArrayEquals(w.shape(), q.shape());
            assertEquals(37 * 96 / 32 * 34, q.byteSize());
            for (long i = 0; i < w.numel(); i++) {
                float x = w.getFloat(i), d = Q8.scale(q.segment(), i), back = q.getFloat(i);
                assertTrue(Math.abs(x - back) <= d / 2, from + " element " + i + ": " + x + " -> " + back + ", scale " + d);
                assertTrue(Math.abs(Q8.quant(q.segment(), i)) <= 127);
            }
        }
    }

    @Test
    void theScaleIsAmaxOver127RoundedUpToAnF16() {
        for (float amax : new float[]{1f, 0.1f, 3.3e-3f, 1e-9f, 5000f, 127f}) {
            float d = Float.float16ToFloat(Q8.scaleFor(amax));
            assertTrue(d >= amax / 127, "amax " + amax + ": scale " + d);
            short below = (short) (Q8.scaleFor(amax) - 1);
            assertTrue(Float.float16ToFloat(below) < amax / 127, "amax " + amax + ": scale not the smallest F16 above");
        }
        // the largest element of a block is stored as ±127 or just under, never clipped
        float[] v = new float[32];
        v[5] = -0.37f;
        v[9] = 0.2f;
        Tensor q = Q8.quantize(Tensor.of(v, 1, 32));
        assertTrue(Q8.quant(q.segment(), 5) <= -126, "q of the block's largest magnitude: " + Q8.quant(q.segment(), 5));
        assertEquals(0, Q8.quant(q.segment(), 0));
    }

    @Test
    void theLayoutIsLlamaCppsBlockQ8_0() {
        float[] v = new float[64];
        for (int i = 0; i < 64; i++) v[i] = (i - 20) * 0.5f;   // block 0: -10 .. 5.5, block 1: 6 .. 21.5
        Tensor q = Q8.quantize(Tensor.of(v, 2, 32));
        MemorySegment s = q.segment();
        short d1 = s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 34);   // little-endian on x86 and aarch64
        assertEquals(Q8.scaleFor(21.5f), d1);
        assertEquals(127, s.get(ValueLayout.JAVA_BYTE, 34 + 2 + 31));
        assertEquals(Math.rint(-10 / Float.float16ToFloat(Q8.scaleFor(10f))), s.get(ValueLayout.JAVA_BYTE, 2));
        // a row is its blocks: slicing keeps the elements
        assertEquals(q.getFloat(40), q.row(1).getFloat(8));
        assertEquals(q.getFloat(40), q.slice(1, 2).getFloat(8));
    }

    @Test
    void zeroBlocksAndTheRefusals() {
        Tensor z = Q8.quantize(Tensor.zeros(DType.F32, 2, 32));
        for (long i = 0; i < 64; i++) assertEquals(0f, z.getFloat(i));
        var odd = assertThrows(IllegalArgumentException.class, () -> Q8.quantize(Tensor.zeros(DType.F32, 3, 40)));
        assertTrue(odd.getMessage().contains("multiple of 32"), odd.getMessage());
        float[] v = new float[32];
        v[7] = Float.NaN;
        var nan = assertThrows(IllegalArgumentException.class, () -> Q8.quantize(Tensor.of(v, 32)));
        assertTrue(nan.getMessage().contains("element 7 is NaN"), nan.getMessage());
        v[7] = 1e8f;
        var big = assertThrows(IllegalArgumentException.class, () -> Q8.quantize(Tensor.of(v, 32)));
        assertTrue(big.getMessage().contains("F16 scale"), big.getMessage());
        Tensor q = Q8.quantize(Tensor.zeros(DType.F32, 32));
        assertThrows(UnsupportedOperationException.class, () -> q.setFloat(0, 1f));
        assertThrows(UnsupportedOperationException.class, () -> Tensor.zeros(DType.Q8_0, 32));
    }
}
