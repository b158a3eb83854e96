package dev.laconic.tornado;

import dev.laconic.tensor.DeviceLimits;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The device's own limits ({@link DeviceLimits}), probed with two kernels of its own, so that a bench row
 * that ran on the device is divided by the device's bound, not this CPU's:
 * <pre>
 *   bandwidth  dst[i] = src[i] over a buffer that stays resident: (bytes read + bytes written) / time,
 *              STREAM's copy convention (an H100 SXM reads ~3.0 TB/s this way)
 *   FMA peak   every thread runs {@link #CHAINS} independent chains a = a·m + c for {@code iters} steps:
 *              2·CHAINS·iters flops a thread / time
 * </pre>
 * Each graph ends with a one-element {@code mark} task whose result comes back every execution, so an
 * execution returns only when the device is done; the best of several timed executions after a warm-up
 * (which includes compilation) counts.
 */
final class DeviceProbes implements DeviceLimits {
    static final int CHAINS = 8, REPS = 5;
    private static int graphs;
    private final String device;

    DeviceProbes(String device) { this.device = device; }

    @Override
    public String device() { return device; }

    @Override
    public double readBandwidthGBs(long bytes) {
        int n = (int) Math.min(bytes / Float.BYTES, Integer.MAX_VALUE - 64L);
        FloatArray src = new FloatArray(n), dst = new FloatArray(n), flag = new FloatArray(1);
        src.init(1f);
        TaskGraph g = new TaskGraph("probeCopy" + next())
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, src, dst)
                .task("copy", DecodeKernels::copy, src, dst, n)
                .task("mark", DeviceProbes::mark, dst, flag, n)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, flag);
        double best = time(g);
        return 2.0 * n * Float.BYTES / best / 1e9;
    }

    @Override
    public double fmaPeakGflops() {
        int threads = 1 << 20, iters = 4096;
        FloatArray out = new FloatArray(threads), flag = new FloatArray(1);
        TaskGraph g = new TaskGraph("probeFma" + next())
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, out)
                .task("fma", DeviceProbes::fmaChains, out, threads, iters)
                .task("mark", DeviceProbes::mark, out, flag, threads)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, flag);
        double best = time(g);
        return 2.0 * CHAINS * iters * threads / best / 1e9;
    }

    /** Best wall time of {@link #REPS} executions of g after one warm-up. */
    private static double time(TaskGraph g) {
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.execute();
            double best = Double.MAX_VALUE;
            for (int r = 0; r < REPS; r++) {
                long t0 = System.nanoTime();
                plan.execute();
                best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
            }
            plan.freeDeviceMemory();
            return best;
        } catch (Exception e) {
            throw new IllegalStateException("device probe failed on " + g.getTaskGraphName() + ": " + e.getMessage(), e);
        }
    }

    /** CHAINS independent FMA chains per thread (the compiler cannot merge them; the result is stored). */
    static void fmaChains(FloatArray out, int threads, int iters) {
        for (@Parallel int t = 0; t < threads; t++) {
            float m = 0.999f, c = 1e-3f * (t & 7);
            float a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;
            for (int i = 0; i < iters; i++) {
                a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
                a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
            }
            out.set(t, a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
        }
    }

    /** flag[0] = a[n−1]: one element whose transfer back makes an execution wait for the kernel before it. */
    static void mark(FloatArray a, FloatArray flag, int n) {
        for (@Parallel int i = 0; i < 1; i++) flag.set(0, a.get(n - 1));
    }

    private static synchronized int next() { return graphs++; }
}
