package dev.laconic.kernels;

import dev.laconic.kernels.Pack.AOperand;
import dev.laconic.kernels.Pack.BOperand;
import dev.laconic.kernels.Pack.Src;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;

/**
 * The packed GEMM (forward x·wᵀ, dx = dy·w, dW += dyᵀ·x, db += Σ dy) against ReferenceOps, on shapes
 * that are not multiples of the vector width or of the 8×32 micro-tile, with F32/BF16/F16 weights
 * on the heap and off-heap, poisoned outputs and pre-filled (accumulated) parameter gradients.
 * Shapes past one KC/NC/MC block check the blocking loops; narrow C checks the row split of threads.
 */
class GemmParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    static List<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (int t : new int[]{1, 2, 3, 7, 17, 69})
            for (int n : new int[]{1, 15, 33, 97})
                for (int k : new int[]{1, 15, 31, 257})
                    out.add(Arguments.of(t, n, k));
        out.add(Arguments.of(70, 600, 300));     // N past one NC block, K past one KC block
        out.add(Arguments.of(1030, 20, 40));     // M past one MC block; one column panel: threads split rows
        return out;
    }

    /**
     * The weight storages every shape is checked with. Off-heap: a shared arena (as a mapped
     * checkpoint; the worker threads read it) and a confined one (only the caller may read it).
     */
    enum Storage { F32_HEAP, F32_SHARED, BF16_HEAP, BF16_SHARED, BF16_CONFINED }

    static Tensor weight(long seed, Storage s, Arena confined, int n, int k) {
        Tensor w = switch (s) {
            case F32_HEAP, F32_SHARED -> randn(seed, n, k);
            case BF16_HEAP, BF16_SHARED, BF16_CONFINED -> randn(seed, n, k).to(DType.BF16);
        };
        return switch (s) {
            case F32_SHARED, BF16_SHARED -> offHeap(w, SHARED);
            case BF16_CONFINED -> offHeap(w, confined);
            default -> w;
        };
    }

    /** Lives as long as the test JVM, like a checkpoint mapped for the whole run. */
    static final Arena SHARED = Arena.ofShared();

    static Tensor offHeap(Tensor t, Arena arena) {
        MemorySegment seg = arena.allocate(t.byteSize(), 8);
        seg.copyFrom(t.segment());
        return Tensor.wrap(seg, t.dtype(), t.shape());
    }

    static double atol(int k) {
        return 1e-4 * Math.sqrt(k);
    }

    @ParameterizedTest(name = "T={0} N={1} K={2}")
    @MethodSource("shapes")
    void forwardGemmMatchesReference(int t, int n, int k) {
        try (Arena arena = Arena.ofConfined()) {
            for (Storage s : Storage.values()) {
                long seed = 17L * t + 31L * n + k + s.ordinal();
                Tensor x = randn(seed, t, k), w = weight(seed + 1, s, arena, n, k);
                Tensor ref = Tensor.zeros(DType.F32, t, n);
                REF.matmul(x, w, null, ref);
                // The GEMM path directly, whatever T (VectorOps sends small T to MatVec).
                Tensor y = poisoned(t, n);
                Gemm.gemm(t, n, k, new AOperand(x.floatArray(), 0, k, false), new BOperand(Src.of(w), 0, k, true),
                        y.floatArray(), 0, n, false);
                assertClose(ref, y, atol(k), 1e-4, "gemm x·wᵀ " + s);
                // And the op, with a bias.
                Tensor b = randn(seed + 2, n), refB = Tensor.zeros(DType.F32, t, n), yb = poisoned(t, n);
                REF.matmul(x, w, b, refB);
                FAST.matmul(x, w, b, yb);
                assertClose(refB, yb, atol(k), 1e-4, "matmul x·wᵀ + b " + s);
            }
        }
    }

    @ParameterizedTest(name = "T={0} N={1} K={2}")
    @MethodSource("shapes")
    void backwardMatchesReference(int t, int n, int k) {
        try (Arena arena = Arena.ofConfined()) {
            for (Storage s : Storage.values()) {
                long seed = 7L * t + 13L * n + k + 100L * s.ordinal();
                Tensor x = randn(seed, t, k), w = weight(seed + 1, s, arena, n, k), dy = randn(seed + 2, t, n);
                Tensor dw0 = randn(seed + 3, n, k), db0 = randn(seed + 4, n);
                Tensor dxRef = Tensor.zeros(DType.F32, t, k), dwRef = copy(dw0), dbRef = copy(db0);
                REF.matmulBackward(x, w, dy, dxRef, dwRef, dbRef);
                Tensor dx = poisoned(t, k), dw = copy(dw0), db = copy(db0);
                FAST.matmulBackward(x, w, dy, dx, dw, db);
                assertClose(dxRef, dx, atol(n), 1e-4, "dx = dy·w " + s);
                assertClose(dwRef, dw, atol(t), 1e-4, "dw += dyᵀ·x " + s);
                assertClose(dbRef, db, atol(t), 1e-4, "db += Σ dy " + s);
            }
        }
    }

    @Test
    void nullGradientsAreSkippedAndEachIsComputedAlone() {
        int t = 19, n = 37, k = 45;
        Tensor x = randn(1, t, k), w = randn(2, n, k).to(DType.BF16), dy = randn(3, t, n);
        Tensor dw0 = randn(4, n, k), db0 = randn(5, n);
        Tensor dxRef = Tensor.zeros(DType.F32, t, k), dwRef = copy(dw0), dbRef = copy(db0);
        REF.matmulBackward(x, w, dy, dxRef, dwRef, dbRef);

        Tensor dx = poisoned(t, k);
        FAST.matmulBackward(x, w, dy, dx, null, null);
        assertClose(dxRef, dx, atol(n), 1e-4, "dx alone");
        Tensor dw = copy(dw0);
        FAST.matmulBackward(x, w, dy, null, dw, null);
        assertClose(dwRef, dw, atol(t), 1e-4, "dw alone");
        Tensor db = copy(db0);
        FAST.matmulBackward(x, w, dy, null, null, db);
        assertClose(dbRef, db, atol(t), 1e-4, "db alone");
        FAST.matmulBackward(x, w, dy, null, null, null);   // nothing requested: nothing to do, no failure
    }

    @Test
    void accumulatesTwiceLikeTwoMicroBatches() {
        int t = 40, n = 50, k = 70;
        Tensor x = randn(11, t, k), w = randn(12, n, k), dy = randn(13, t, n);
        Tensor dwRef = randn(14, n, k), dbRef = randn(15, n), dw = copy(dwRef), db = copy(dbRef);
        for (int rep = 0; rep < 2; rep++) {
            REF.matmulBackward(x, w, dy, null, dwRef, dbRef);
            FAST.matmulBackward(x, w, dy, null, dw, db);
        }
        assertClose(dwRef, dw, 2 * atol(t), 1e-4, "dw after two accumulations");
        assertClose(dbRef, db, 2 * atol(t), 1e-4, "db after two accumulations");
    }

    @Test
    void f16WeightsAndOffHeapActivations() {
        int t = 37, n = 41, k = 35;
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = offHeap(randn(21, n, k).to(DType.F16), arena);
            Tensor x = offHeap(randn(22, t, k), arena), dy = offHeap(randn(23, t, n), arena);
            Tensor b = offHeap(randn(24, n), arena);
            Tensor yRef = Tensor.zeros(DType.F32, t, n);
            REF.matmul(x, w, b, yRef);
            Tensor y = offHeap(poisoned(t, n), arena);
            FAST.matmul(x, w, b, y);
            assertClose(yRef, y, atol(k), 1e-4, "F16 weights, off-heap x, b and y");

            Tensor dw0 = randn(25, n, k), db0 = randn(26, n);
            Tensor dxRef = Tensor.zeros(DType.F32, t, k), dwRef = copy(dw0), dbRef = copy(db0);
            REF.matmulBackward(x, w, dy, dxRef, dwRef, dbRef);
            Tensor dx = offHeap(poisoned(t, k), arena), dw = offHeap(dw0, arena), db = offHeap(db0, arena);
            FAST.matmulBackward(x, w, dy, dx, dw, db);
            assertClose(dxRef, dx, atol(n), 1e-4, "off-heap dx");
            assertClose(dwRef, dw, atol(t), 1e-4, "off-heap dw");
            assertClose(dbRef, db, atol(t), 1e-4, "off-heap db");
        }
    }

    @Test
    void viewsAtAnOffsetInsideALargerArray() {
        // Slices share the backing array at an element offset, as in Ops.lmHeadLogProbs' chunks.
        int t = 45, n = 33, k = 29;
        Tensor xAll = randn(31, t + 5, k), x = xAll.slice(3, 3 + t), w = randn(32, n, k).to(DType.BF16);
        Tensor yAll = poisoned(t + 2, n), y = yAll.slice(2, 2 + t);
        Tensor yRef = Tensor.zeros(DType.F32, t, n);
        REF.matmul(x, w, null, yRef);
        FAST.matmul(x, w, null, y);
        assertClose(yRef, y, atol(k), 1e-4, "y slice");
        assertTrue(Float.isNaN(yAll.getFloat(0)) && Float.isNaN(yAll.getFloat(2L * n - 1)), "rows before the slice untouched");

        Tensor dyAll = randn(33, t + 1, n), dy = dyAll.slice(1, 1 + t);
        Tensor dxAll = poisoned(t + 4, k), dx = dxAll.slice(4, 4 + t);
        Tensor dwRef = randn(34, n, k), dw = copy(dwRef);
        Tensor dxRef = Tensor.zeros(DType.F32, t, k);
        REF.matmulBackward(x, w, dy, dxRef, dwRef, null);
        FAST.matmulBackward(x, w, dy, dx, dw, null);
        assertClose(dxRef, dx, atol(n), 1e-4, "dx slice");
        assertClose(dwRef, dw, atol(t), 1e-4, "dw from sliced x and dy");
    }

    private static void assertTrue(boolean ok, String what) {
        org.junit.jupiter.api.Assertions.assertTrue(ok, what);
    }

    static Tensor copy(Tensor t) {
        Tensor c = Tensor.zeros(t.dtype(), t.shape());
        c.copyFrom(t);
        return c;
    }
}
