package dev.laconic.kernels;

import dev.laconic.kernels.Pack.AOperand;
import dev.laconic.kernels.Pack.BOperand;
import dev.laconic.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * C[M,N] (+)= A[M,K] · B[K,N] in F32: one packed, register-blocked GEMM (Goto &amp; van de Geijn
 * 2008, "Anatomy of high-performance matrix multiplication"; the BLIS loop nest) that computes all
 * three products of a linear layer by choosing how A and B are read (see {@link Linear}):
 * forward x·wᵀ, dx = dy·w and dW = dyᵀ·x.
 *
 * <p>Blocking, from the inside out (sizes for AVX-512, L = 16 lanes; a Zen 4 core has a 32 KiB L1d
 * and a 1 MiB L2):
 * <pre>
 *   micro-kernel  MR×NR = 8×32 tile of C in 16 vector registers; per k: 2 vector loads of B,
 *                 8 broadcasts of A, 16 FMAs. 16 accumulators hide the 4-cycle FMA latency at one
 *                 512-bit FMA per cycle, and 10 loads per 16 FMAs keep the load ports below the limit.
 *   jr loop       the NR-wide B panels of the packed block, streamed from L2, while one A panel
 *                 (MR×KC = 8 KiB) stays in L1 for the whole loop;
 *   ir loop       the MR-row A panels of the packed A block;
 *   jc loop       NC = 512 columns: the packed B block KC×NC (512 KiB) fits in L2;
 *   pc loop       KC = 256 deep slices of K: C is loaded and stored once per slice;
 *   ic loop       MC = 1024 rows: the packed A block MC×KC (1 MiB) lives in L2/L3.
 * </pre>
 * Threads share each packed A block (its panels are packed in parallel, into the calling thread's
 * buffer) and split the jc loop: the block's B columns are cut into chunks of at most NC columns,
 * narrow enough for about four chunks per thread; where even one-panel chunks are fewer than that,
 * the A block's rows are split as well. Each task packs its chunk of B into its own buffer and computes its
 * disjoint tile of C, so no thread ever writes another's output. With M ≤ MC and no row split every
 * element of B is packed exactly once, which matters because the forward's B (wᵀ) is a transpose.
 * (Operands in a confined arena can only be read by the calling thread, which then does all the
 * work.) Blocking sizes: {@code -Dlaconic.gemm.kc}, {@code .nc} (a multiple of NR) and {@code .mc}.
 */
final class Gemm {
    static final VectorSpecies<Float> F = Pack.F;
    static final int L = Pack.L;
    static final int MR = 8, NR = 2 * L;
    static final int KC = Integer.getInteger("laconic.gemm.kc", 256), NC = Integer.getInteger("laconic.gemm.nc", 16 * NR), MC = Integer.getInteger("laconic.gemm.mc", 128 * MR);

    /** Per-thread packing buffers, grown on demand and kept: no allocation on the hot path. */
    private static final class Buffers {
        float[] pa = new float[0], pb = new float[0];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private Gemm() {}

    /**
     * C[i][j] (i &lt; m, j &lt; n) at c[cOff + i·ldc + j]; assigned, or added to when accumulate.
     * A is m×k, B is k×n, read through their operand layouts.
     */
    static void gemm(int m, int n, int k, AOperand a, BOperand b, float[] c, int cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) for (int i = 0; i < m; i++) Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            return;
        }
        boolean par = b.src().shared && Parallel.threads() > 1;
        int threads = par ? Parallel.threads() : 1;
        Buffers own = BUFFERS.get();
        int maxKc = Math.min(KC, k);
        int paSize = (Math.min(MC, m) + MR - 1) / MR * MR * maxKc;
        if (own.pa.length < paSize) own.pa = new float[paSize];
        float[] pa = own.pa;
        int nPanels = (n + NR - 1) / NR;
        int chunkPanels = par ? Math.max(1, Math.min(NC / NR, (nPanels + 4 * threads - 1) / (4 * threads))) : NC / NR;
        int nChunks = (nPanels + chunkPanels - 1) / chunkPanels;
        int pbSize = chunkPanels * NR * maxKc;
        for (int ic = 0; ic < m; ic += MC) {
            int mc = Math.min(MC, m - ic), mPanels = (mc + MR - 1) / MR, i0 = ic;
            int mSplits = par ? Math.min(mPanels, Math.max(1, 4 * threads / nChunks)) : 1;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), k0 = pc;
                boolean add = accumulate || pc > 0;
                Pack.forChunks(par, mPanels, Math.max(1, mPanels / (2 * threads)), (p0, p1) ->
                        Pack.packA(a, i0 + p0 * MR, Math.min(mc, p1 * MR) - p0 * MR, k0, kc, MR, pa, p0 * kc * MR));
                Pack.forChunks(par, nChunks * mSplits, 1, (t0, t1) -> {
                    Buffers buf = BUFFERS.get();
                    if (buf.pb.length < pbSize) buf.pb = new float[pbSize];
                    for (int t = t0; t < t1; t++) {
                        int jc = (t / mSplits) * chunkPanels * NR, nc = Math.min(chunkPanels * NR, n - jc), ms = t % mSplits;
                        int r0 = split(mPanels, mSplits, ms) * MR, r1 = Math.min(mc, split(mPanels, mSplits, ms + 1) * MR);
                        Pack.packB(b, k0, kc, jc, nc, NR, buf.pb);
                        macro(r0, r1, nc, kc, pa, buf.pb, c, cOff + i0 * ldc + jc, ldc, add, buf.tile);
                    }
                });
            }
        }
    }

    /** Rows [r0, r1) of the packed A block (panel-aligned r0) against the packed B block; edge tiles go through a scratch tile. */
    private static void macro(int r0, int r1, int nc, int kc, float[] pa, float[] pb, float[] c, int cOff, int ldc,
                              boolean add, float[] tile) {
        for (int ir = r0; ir < r1; ir += MR) {
            int rows = Math.min(MR, r1 - ir);
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = Math.min(NR, nc - jr), co = cOff + ir * ldc + jr;
                if (rows == MR && cols == NR) {
                    kernel(kc, pa, ir * kc, pb, jr * kc, c, co, ldc, add);
                } else {
                    kernel(kc, pa, ir * kc, pb, jr * kc, tile, 0, NR, false);
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < cols; j++)
                            c[co + r * ldc + j] = add ? c[co + r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
                }
            }
        }
    }

    /** First panel of part p when `panels` panels are split into `parts` near-equal runs. */
    private static int split(int panels, int parts, int p) {
        return (int) ((long) panels * p / parts);
    }

    /**
     * The 8×2L register tile: C[r][j] (+)= Σ_k pa[ao + k·8 + r] · pb[bo + k·2L + j]. Written out by
     * hand (no arrays of vectors) so that C2 keeps all 16 accumulators in registers.
     */
    static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int k = 0; k < kc; k++) {
            int ib = bo + k * NR, ia = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, pb, ib), b1 = FloatVector.fromArray(F, pb, ib + L);
            FloatVector a;
            a = FloatVector.broadcast(F, pa[ia]);     c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(F, pa[ia + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(F, pa[ia + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(F, pa[ia + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(F, pa[ia + 4]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(F, pa[ia + 5]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(F, pa[ia + 6]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(F, pa[ia + 7]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
        }
        // Epilogue written with helpers under 35 bytecodes: C2 inlines those even at a cold call
        // site; a vector passed to a call that is not inlined would be boxed, and that can spoil
        // the register allocation of the whole loop above (measured: 4× slower).
        if (add) {
            add(c00, c, co); add(c01, c, co + L); co += ldc;
            add(c10, c, co); add(c11, c, co + L); co += ldc;
            add(c20, c, co); add(c21, c, co + L); co += ldc;
            add(c30, c, co); add(c31, c, co + L); co += ldc;
            add(c40, c, co); add(c41, c, co + L); co += ldc;
            add(c50, c, co); add(c51, c, co + L); co += ldc;
            add(c60, c, co); add(c61, c, co + L); co += ldc;
            add(c70, c, co); add(c71, c, co + L);
        } else {
            c00.intoArray(c, co); c01.intoArray(c, co + L); co += ldc;
            c10.intoArray(c, co); c11.intoArray(c, co + L); co += ldc;
            c20.intoArray(c, co); c21.intoArray(c, co + L); co += ldc;
            c30.intoArray(c, co); c31.intoArray(c, co + L); co += ldc;
            c40.intoArray(c, co); c41.intoArray(c, co + L); co += ldc;
            c50.intoArray(c, co); c51.intoArray(c, co + L); co += ldc;
            c60.intoArray(c, co); c61.intoArray(c, co + L); co += ldc;
            c70.intoArray(c, co); c71.intoArray(c, co + L);
        }
    }

    private static void add(FloatVector v, float[] c, int co) {
        v.add(FloatVector.fromArray(F, c, co)).intoArray(c, co);
    }
}
