package dev.laconic.kernels;

import dev.laconic.kernels.Pack.AOperand;
import dev.laconic.kernels.Pack.BOperand;
import dev.laconic.kernels.Pack.Src;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

/**
 * The linear layer of {@link VectorOps}: y = x·wᵀ (+ b) and its backward, routed to {@link MatVec}
 * (few rows: stream w) or {@link Gemm} (packed GEMM). The three GEMMs differ only in how A and B
 * are read:
 * <pre>
 *   forward  y[T,N]  = x[T,K]  · w[N,K]ᵀ    A = x (rows),   B = w read transposed
 *   dx       dx[T,K] = dy[T,N] · w[N,K]     A = dy (rows),  B = w (rows)
 *   dW       dw[N,K] += dy[T,N]ᵀ · x[T,K]   A = dy read transposed, B = x (rows); accumulated
 * </pre>
 * Heap F32 activations are used in place; segment-backed ones are copied to the heap first (correct,
 * not the fast path). Weights of any float dtype are read in place from heap or mapped storage;
 * Q8_0 weights go to {@link Q8Kernels} for few rows and through the same packed GEMM for many.
 */
final class Linear {
    /**
     * Forward products with fewer rows than this stream w (MatVec); from here on packing w pays.
     * Below it each w element gets ≤ 2·GEMM_MIN_ROWS flops, too few to amortise its transposed copy.
     */
    static final int GEMM_MIN_ROWS = 32;

    private Linear() {}

    static void matmul(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = w.dim(0), k = w.dim(1), t = rows(x, k, "x");
        w = Src.readable(w);
        checkF32(y, (long) t * n, "y");
        if (b != null && b.numel() != n) throw new IllegalArgumentException("b is " + b + ", expected " + n + " elements");
        float[] xa = heap(x);
        int xo = x.floatArray() != null ? x.floatOffset() : 0;
        float[] ya = y.floatArray() != null ? y.floatArray() : new float[t * n];
        int yo = y.floatArray() != null ? y.floatOffset() : 0;
        float[] ba = b == null ? null : heap(b);
        int bo = b != null && b.floatArray() != null ? b.floatOffset() : 0;
        if (t < GEMM_MIN_ROWS && w.dtype() == DType.Q8_0) {
            Q8Kernels.matvec(xa, xo, t, k, Src.of(w), n, ba, bo, ya, yo);
        } else if (t < GEMM_MIN_ROWS) {
            MatVec.forward(xa, xo, t, k, Src.of(w), n, ba, bo, ya, yo);
        } else {
            if (ba != null) for (int i = 0; i < t; i++) System.arraycopy(ba, bo, ya, yo + i * n, n);
            Gemm.gemm(t, n, k, new AOperand(xa, xo, k, false), new BOperand(Src.of(w), 0, k, true),
                    ya, yo, n, ba != null);
        }
        if (y.floatArray() == null) y.copyFrom(Tensor.of(ya, y.shape()));
    }

    static void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int n = w.dim(0), k = w.dim(1), t = rows(x, k, "x");
        w = Src.readable(w);
        checkF32(dy, (long) t * n, "dy");
        float[] g = heap(dy);
        int go = dy.floatArray() != null ? dy.floatOffset() : 0;
        if (dx != null) {
            checkF32(dx, (long) t * k, "dx");
            float[] out = dx.floatArray() != null ? dx.floatArray() : new float[t * k];
            int oo = dx.floatArray() != null ? dx.floatOffset() : 0;
            Gemm.gemm(t, k, n, new AOperand(g, go, n, false), new BOperand(Src.of(w), 0, k, false),
                    out, oo, k, false);
            if (dx.floatArray() == null) dx.copyFrom(Tensor.of(out, dx.shape()));
        }
        if (dw != null) {
            checkF32(dw, (long) n * k, "dw");
            float[] acc = dw.floatArray() != null ? dw.floatArray() : dw.toFloatArray();
            int ao = dw.floatArray() != null ? dw.floatOffset() : 0;
            Gemm.gemm(n, k, t, new AOperand(g, go, n, true), new BOperand(Src.of(x), 0, k, false),
                    acc, ao, k, true);
            if (dw.floatArray() == null) dw.copyFrom(Tensor.of(acc, dw.shape()));
        }
        if (db != null) {
            checkF32(db, n, "db");
            float[] acc = db.floatArray() != null ? db.floatArray() : db.toFloatArray();
            int ao = db.floatArray() != null ? db.floatOffset() : 0;
            columnSums(g, go, t, n, acc, ao);
            if (db.floatArray() == null) db.copyFrom(Tensor.of(acc, db.shape()));
        }
    }

    /** acc[j] += Σ_i g[i·n + j]: threads take column ranges, each vector of columns runs down all rows. */
    private static void columnSums(float[] g, int go, int t, int n, float[] acc, int ao) {
        int l = Pack.L, blocks = (n + l - 1) / l;
        Parallel.forChunks(blocks, Math.max(1, blocks / (Parallel.threads() * 4)), (b0, b1) -> {
            int j0 = b0 * l, j1 = Math.min(n, b1 * l), j = j0;
            for (; j + l <= j1; j += l) {
                FloatVector s = FloatVector.fromArray(Pack.F, acc, ao + j);
                for (int i = 0; i < t; i++) s = s.add(FloatVector.fromArray(Pack.F, g, go + i * n + j));
                s.intoArray(acc, ao + j);
            }
            for (; j < j1; j++) {
                float s = acc[ao + j];
                for (int i = 0; i < t; i++) s += g[go + i * n + j];
                acc[ao + j] = s;
            }
        });
    }

    /** The backing array of a heap F32 tensor, else a converted copy (then at offset 0). */
    private static float[] heap(Tensor t) {
        float[] a = t.floatArray();
        return a != null ? a : t.toFloatArray();
    }

    private static int rows(Tensor x, int cols, String name) {
        if (cols == 0 || x.numel() % cols != 0) throw new IllegalArgumentException(name + " " + x + " does not have rows of " + cols);
        return Math.toIntExact(x.numel() / cols);
    }

    private static void checkF32(Tensor t, long numel, String name) {
        if (t.numel() != numel) throw new IllegalArgumentException(name + " is " + t + ", expected " + numel + " elements");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " must be F32, is " + t.dtype());
    }
}
