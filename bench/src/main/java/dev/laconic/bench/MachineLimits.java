package dev.laconic.bench;

import dev.laconic.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * This machine's two roofs, measured from Java in the same process (and with the same worker pool)
 * as the kernels they bound:
 * <ul>
 *   <li>read bandwidth: every thread sums its share of a buffer much larger than the last-level
 *       cache with Vector API loads, so the bytes must come from DRAM;</li>
 *   <li>FMA peak: every thread runs {@link #CHAINS} independent {@code FloatVector.fma} chains held in
 *       registers, enough to cover FMA latency × issue width on current x86 cores (Zen 4: 4 cycles × 2
 *       pipes, 512-bit ops issued as two halves), so nothing but the FMA units limits it.</li>
 * </ul>
 * Both report the best of several reps: the roof is what the machine can do, not its average mood.
 */
public final class MachineLimits {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int CHAINS = 12;
    private static final long BLOCK = 1 << 20; // bytes per work item: big enough to amortise the hand-off
    private static volatile float sink;

    private MachineLimits() {}

    /** Read bandwidth in GB/s (10⁹ bytes/s) over an off-heap buffer of {@code bytes}. */
    public static double readBandwidth(long bytes, int reps) {
        bytes = Math.max(BLOCK, bytes / BLOCK * BLOCK);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(bytes, 4096);
            int blocks = (int) (bytes / BLOCK);
            // map every page before timing (in parallel: 1 GiB of page faults is slow on one core);
            // 0x3c3c3c3c is a harmless float
            Parallel.forChunks(blocks, 16, (from, to) -> buf.asSlice(from * BLOCK, (to - from) * BLOCK).fill((byte) 0x3c));
            // compile the inner loop before timing (C2, not the interpreter, is what we measure)
            for (int i = 0; i < 200; i++) sink += sum(buf.asSlice(0, BLOCK));
            double best = 0;
            for (int r = -1; r < reps; r++) { // r = -1: one warm-up pass that also wakes the workers
                long t0 = System.nanoTime();
                Parallel.forChunks(blocks, 1, (from, to) -> {
                    float s = 0;
                    for (int b = from; b < to; b++) s += sum(buf.asSlice(b * BLOCK, BLOCK));
                    sink += s;
                });
                double sec = (System.nanoTime() - t0) * 1e-9;
                if (r >= 0) best = Math.max(best, bytes / sec / 1e9);
            }
            return best;
        }
    }

    /** Sum of a block's floats, four accumulators deep so the adds never wait on each other. */
    private static float sum(MemorySegment block) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int step = S.vectorByteSize(), size = (int) block.byteSize();
        for (int off = 0; off + 4 * step <= size; off += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, block, off, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(S, block, off + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(S, block, off + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(S, block, off + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * FMA peak in GFLOP/s: {@code chunks} work items of {@code iters} iterations, taken dynamically
     * by all threads; flops = 2 · lanes · CHAINS · iters · chunks.
     */
    public static double fmaPeak(int iters, int chunks, int reps) {
        for (int i = 0; i < 50; i++) sink += fmaChains(10_000); // compile first
        double flops = 2.0 * S.length() * CHAINS * iters * chunks, best = 0;
        for (int r = -1; r < reps; r++) {
            long t0 = System.nanoTime();
            Parallel.forChunks(chunks, 1, (from, to) -> {
                float s = 0;
                for (int c = from; c < to; c++) s += fmaChains(iters);
                sink += s;
            });
            double sec = (System.nanoTime() - t0) * 1e-9;
            if (r >= 0) best = Math.max(best, flops / sec / 1e9);
        }
        return best;
    }

    /**
     * CHAINS independent chains a ← a·m + c. With m = 0.9999 and c = 0.0001 every chain converges to
     * 1 from its start value: no overflow, no denormals (which would be slow), no constant folding.
     */
    private static float fmaChains(int iters) {
        FloatVector m = FloatVector.broadcast(S, 0.9999f), c = FloatVector.broadcast(S, 0.0001f);
        FloatVector a0 = FloatVector.broadcast(S, 0.10f), a1 = FloatVector.broadcast(S, 0.11f),
                a2 = FloatVector.broadcast(S, 0.12f), a3 = FloatVector.broadcast(S, 0.13f),
                a4 = FloatVector.broadcast(S, 0.14f), a5 = FloatVector.broadcast(S, 0.15f),
                a6 = FloatVector.broadcast(S, 0.16f), a7 = FloatVector.broadcast(S, 0.17f),
                a8 = FloatVector.broadcast(S, 0.18f), a9 = FloatVector.broadcast(S, 0.19f),
                a10 = FloatVector.broadcast(S, 0.20f), a11 = FloatVector.broadcast(S, 0.21f);
        for (int i = 0; i < iters; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
