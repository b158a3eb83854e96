package dev.laconic.tornado;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The device GEMMs of {@link TornadoOps}: the linear layer's three products as TornadoVM task methods
 * and one execution plan per shape, reused call after call.
 * <pre>
 *   forward        y[T,N]  = x[T,K]·w[N,K]ᵀ + b[N]
 *   input grad     dx[T,K] = dy[T,N]·w[N,K]
 *   weight grad    dw[N,K] += dy[T,N]ᵀ·x[T,K]
 * </pre>
 * Two {@code @Parallel} loops make a 2-D grid of output elements, each a plain dot product in f32;
 * BF16 weights stay 16-bit integers widened exactly by {@link DecodeKernels#bf16}. This is the
 * straightforward form, correct on every TornadoVM backend; a tiled, local-memory GEMM is the next
 * step for GPU speed.
 *
 * <p>A plan owns host staging arrays bound to its task graph: each call copies the tensors in,
 * executes (everything is transferred every execution: weights may be trained between calls, so
 * none is assumed resident) and copies the result out. T is rounded up to a power of two (at
 * least {@link #MIN_ROWS}) so that training batches of varying length reuse a few compiled plans
 * instead of compiling one per length; the padded rows of dy and x are zeroed, where they would add to dw.
 * The most recently used {@link #MAX_PLANS} plans are kept.
 */
final class DeviceGemm implements AutoCloseable {
    static final int MIN_ROWS = 16, MAX_PLANS = 24;
    private static int graphs;        // TaskGraph names are global to TornadoVM: keep each one unique

    enum Kind { FORWARD, INPUT_GRAD, WEIGHT_GRAD }

    private record Key(Kind kind, boolean bf16, int rows, int n, int k) {}

    /** A compiled graph and its staging arrays: a[rows·K or rows·N], w[N·K] (weights or dw), b[N], out. */
    private static final class Plan implements AutoCloseable {
        final FloatArray a, b, out, pow2 = DecodeKernels.bf16Scales();
        final ShortArray wBf16;
        final FloatArray wF32;
        final TornadoExecutionPlan exec;

        Plan(Key key) {
            int rows = key.rows(), n = key.n(), k = key.k();
            boolean bf16 = key.bf16() && key.kind() != Kind.WEIGHT_GRAD;
            wBf16 = bf16 ? new ShortArray(n * k) : null;
            wF32 = bf16 ? null : new FloatArray(n * k);
            b = new FloatArray(Math.max(1, n));
            TaskGraph g = new TaskGraph("gemm" + next());
            switch (key.kind()) {
                case FORWARD -> {              // a = x, out = y
                    a = new FloatArray(rows * k);
                    out = new FloatArray(rows * n);
                    g.transferToDevice(DataTransferMode.EVERY_EXECUTION, a, bf16 ? wBf16 : wF32, b);
                    if (bf16) g.transferToDevice(DataTransferMode.FIRST_EXECUTION, pow2).task("y", DeviceGemm::forwardBf16, a, wBf16, pow2, b, out, rows, n, k);
                    else g.task("y", DeviceGemm::forwardF32, a, wF32, b, out, rows, n, k);
                }
                case INPUT_GRAD -> {           // a = dy, out = dx
                    a = new FloatArray(rows * n);
                    out = new FloatArray(rows * k);
                    g.transferToDevice(DataTransferMode.EVERY_EXECUTION, a, bf16 ? wBf16 : wF32);
                    if (bf16) g.transferToDevice(DataTransferMode.FIRST_EXECUTION, pow2).task("dx", DeviceGemm::inputGradBf16, a, wBf16, pow2, out, rows, n, k);
                    else g.task("dx", DeviceGemm::inputGradF32, a, wF32, out, rows, n, k);
                }
                default -> {                   // a = dy, out = x, wF32 = dw (read and written)
                    a = new FloatArray(rows * n);
                    out = new FloatArray(rows * k);
                    g.transferToDevice(DataTransferMode.EVERY_EXECUTION, a, out, wF32);
                    g.task("dw", DeviceGemm::weightGrad, a, out, wF32, rows, n, k);
                }
            }
            g.transferToHost(DataTransferMode.EVERY_EXECUTION, key.kind() == Kind.WEIGHT_GRAD ? wF32 : out);
            exec = new TornadoExecutionPlan(g.snapshot());
        }

        @Override
        public void close() {
            try {
                exec.freeDeviceMemory();
                exec.close();
            } catch (Exception e) {
                // freeing a plan that never ran may fail; nothing is left to free then
            }
        }
    }

    private final Map<Key, Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Plan> eldest) {
            if (size() <= MAX_PLANS) return false;
            eldest.getValue().close();
            return true;
        }
    };

    private static synchronized int next() { return graphs++; }

    /** Rows of the plan that serves t rows: the next power of two, at least MIN_ROWS. */
    static int bucket(int t) {
        return Math.max(MIN_ROWS, Integer.highestOneBit(Math.max(1, t - 1)) << 1);
    }

    /** Whether a product of this size fits the int-indexed device arrays. */
    static boolean fits(int t, int n, int k) {
        long rows = bucket(t);
        return rows * k < Integer.MAX_VALUE - 64 && rows * n < Integer.MAX_VALUE - 64 && (long) n * k < Integer.MAX_VALUE - 64;
    }

    private Plan plan(Kind kind, Tensor w, int t) {
        Key key = new Key(kind, w.dtype() == DType.BF16, bucket(t), w.dim(0), w.dim(1));
        return plans.computeIfAbsent(key, Plan::new);
    }

    /** y[T,N] = x[T,K]·wᵀ (+ b). */
    void forward(Tensor x, Tensor w, Tensor b, Tensor y) {
        int t = x.dim(0);
        Plan p = plan(Kind.FORWARD, w, t);
        in(x, p.a);
        weights(w, p);
        if (b != null) in(b, p.b);
        else p.b.init(0f);
        p.exec.execute();
        out(p.out, y);
    }

    /** dx[T,K] = dy[T,N]·w. */
    void inputGrad(Tensor w, Tensor dy, Tensor dx) {
        Plan p = plan(Kind.INPUT_GRAD, w, dy.dim(0));
        in(dy, p.a);
        weights(w, p);
        p.exec.execute();
        out(p.out, dx);
    }

    /** dw[N,K] += dyᵀ·x. */
    void weightGrad(Tensor x, Tensor dy, Tensor dw) {
        int t = dy.dim(0);
        Plan p = plan(Kind.WEIGHT_GRAD, dw, t);
        in(dy, p.a);
        zeroTail(p.a, dy.numel());
        in(x, p.out);
        zeroTail(p.out, x.numel());            // 0·(a stale Inf) would still be NaN
        in(dw, p.wF32);
        p.exec.execute();
        out(p.wF32, dw);
    }

    // ---- the kernels ------------------------------------------------------------------------------

    static void forwardF32(FloatArray x, FloatArray w, FloatArray b, FloatArray y, int rows, int n, int k) {
        for (@Parallel int t = 0; t < rows; t++)
            for (@Parallel int j = 0; j < n; j++) {
                float s = 0f;
                for (int c = 0; c < k; c++) s += x.get(t * k + c) * w.get(j * k + c);
                y.set(t * n + j, s + b.get(j));
            }
    }

    static void forwardBf16(FloatArray x, ShortArray w, FloatArray pow2, FloatArray b, FloatArray y, int rows, int n, int k) {
        for (@Parallel int t = 0; t < rows; t++)
            for (@Parallel int j = 0; j < n; j++) {
                float s = 0f;
                for (int c = 0; c < k; c++) s += x.get(t * k + c) * DecodeKernels.bf16(w.get(j * k + c), pow2);
                y.set(t * n + j, s + b.get(j));
            }
    }

    static void inputGradF32(FloatArray dy, FloatArray w, FloatArray dx, int rows, int n, int k) {
        for (@Parallel int t = 0; t < rows; t++)
            for (@Parallel int c = 0; c < k; c++) {
                float s = 0f;
                for (int j = 0; j < n; j++) s += dy.get(t * n + j) * w.get(j * k + c);
                dx.set(t * k + c, s);
            }
    }

    static void inputGradBf16(FloatArray dy, ShortArray w, FloatArray pow2, FloatArray dx, int rows, int n, int k) {
        for (@Parallel int t = 0; t < rows; t++)
            for (@Parallel int c = 0; c < k; c++) {
                float s = 0f;
                for (int j = 0; j < n; j++) s += dy.get(t * n + j) * DecodeKernels.bf16(w.get(j * k + c), pow2);
                dx.set(t * k + c, s);
            }
    }

    /** dw += dyᵀ·x: the rows past the caller's T are zero in dy (padding) and add nothing. */
    static void weightGrad(FloatArray dy, FloatArray x, FloatArray dw, int rows, int n, int k) {
        for (@Parallel int j = 0; j < n; j++)
            for (@Parallel int c = 0; c < k; c++) {
                float s = 0f;
                for (int t = 0; t < rows; t++) s += dy.get(t * n + j) * x.get(t * k + c);
                dw.set(j * k + c, dw.get(j * k + c) + s);
            }
    }

    // ---- host side ----------------------------------------------------------------------------------

    private static void weights(Tensor w, Plan p) {
        if (p.wBf16 != null) {
            MemorySegment.copy(w.segment(), 0, p.wBf16.getSegment(), 0, w.byteSize());
        } else if (w.dtype() == DType.F32) {
            in(w, p.wF32);
        } else {
            for (int i = 0; i < w.numel(); i++) p.wF32.set(i, w.getFloat(i));   // F16: widened on the host
        }
    }

    /** Copies an F32 tensor into the start of a staging array. */
    static void in(Tensor src, FloatArray dst) {
        MemorySegment.copy(src.segment(), 0, dst.getSegment(), 0, src.byteSize());
    }

    /** Copies the start of a staging array out into an F32 tensor. */
    static void out(FloatArray src, Tensor dst) {
        MemorySegment.copy(src.getSegment(), 0, dst.segment(), 0, dst.byteSize());
    }

    private static void zeroTail(FloatArray a, long from) {
        long bytes = a.getSegment().byteSize() - from * Float.BYTES;
        if (bytes > 0) a.getSegment().asSlice(from * Float.BYTES, bytes).fill((byte) 0);
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::close);
        plans.clear();
    }
}
