package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.randn;
import static dev.laconic.tensor.testing.TestTensors.randnBf16;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The residual add (VectorOps) against ReferenceOps: bit for bit, since a lane-wise F32 add rounds
 * as the scalar one and the reference's double sum of two floats rounds to the same F32.
 */
class ResidualParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // T, C: odd widths leave a scalar tail; 37×1000 and 4×8960 split across threads
    @ParameterizedTest(name = "T={0} C={1}")
    @CsvSource({"1, 1536", "7, 100", "3, 21", "1, 1", "37, 1000", "4, 8960"})
    void residualMatchesReference(int t, int c) {
        long seed = 31L * t + c;
        for (Tensor y : new Tensor[]{randn(seed + 1, t, c), randnBf16(seed + 1, t, c)}) {
            Tensor xRef = randn(seed, t, c), x = randn(seed, t, c);
            REF.residual(xRef, y);
            FAST.residual(x, y);
            assertClose(xRef, x, 0, 0, "x += y, y " + y.dtype());
        }
    }

    /** Row views (a slice of a larger buffer, as the decode state hands out) and an off-heap x. */
    @Test
    void viewsAndOffHeapTensors() {
        Tensor big = randn(1, 9, 33), y = randn(2, 4, 33);
        Tensor ref = randn(1, 9, 33);
        REF.residual(ref.slice(3, 7), y);
        FAST.residual(big.slice(3, 7), y);
        assertClose(ref, big, 0, 0, "x[3:7] += y, rows outside untouched");

        try (Arena arena = Arena.ofConfined()) {
            Tensor off = Tensor.wrap(arena.allocate(4L * 5 * 17), DType.F32, 5, 17);
            off.copyFrom(randn(3, 5, 17));
            Tensor expect = randn(3, 5, 17), add = randn(4, 5, 17);
            REF.residual(expect, add);
            FAST.residual(off, add);
            assertClose(expect, off, 0, 0, "off-heap x += y");
        }
    }

    @Test
    void mismatchedSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> FAST.residual(randn(1, 3, 4), randn(2, 3, 5)));
        assertThrows(IllegalArgumentException.class, () -> FAST.residual(randnBf16(1, 3, 4), randn(2, 3, 4)));
        assertThrows(IllegalArgumentException.class, () -> REF.residual(randn(1, 3, 4), randn(2, 3, 5)));
        assertThrows(IllegalArgumentException.class, () -> REF.residual(randnBf16(1, 3, 4), randn(2, 3, 4)));
    }
}
