package dev.laconic.bench;

import dev.laconic.bench.GemmCase.Kind;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Parallel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./laconic bench roofline}: in one process, measure this machine's roofs (read bandwidth,
 * FMA peak), run the kernels at the shapes a 1.5B model trains and decodes with, and report each
 * as achieved / limit; then, when Python has numpy, time OpenBLAS sgemm on the same shapes and
 * report ours / OpenBLAS. Ratios, not lone absolute numbers, because these machines are shared and
 * their limits differ from one to the next.
 *
 * <pre>
 *   row                    achieved   limit
 *   gemm 2048³ (F32)       GFLOP/s    FMA peak
 *   fwd &lt;layer&gt; T=512      GFLOP/s    FMA peak            (F32 and BF16 weights)
 *   dx, dw &lt;layer&gt; T=512   GFLOP/s    that layer's F32 forward
 *   matvec &lt;layer&gt; BF16    GB/s       read bandwidth      (weight bytes / time, weights cycled past L3)
 * </pre>
 * {@code quick} shrinks every shape and rep count so a test runs it in seconds.
 */
public final class Roofline {

    /** python: a Python to use for the peer (null: search); peer=false skips it; ops: the kernels measured (the limits are this CPU's). */
    public record Options(boolean quick, String python, boolean peer, Ops ops) {}

    /** Shapes: G for the square GEMM, T positions, and the layers' dims. */
    private record Dims(int g, int t, int c, int f, long readBytes, long matvecBytes) {}

    private static final Dims FULL = new Dims(2048, 512, GemmCase.C, GemmCase.F, 1L << 30, 256L << 20);
    private static final Dims QUICK = new Dims(256, 32, 192, 448, 32L << 20, 0);

    private Roofline() {}

    public static RooflineReport run(Options opt, PrintStream log) {
        Dims d = opt.quick() ? QUICK : FULL;
        Timing.Budget budget = opt.quick() ? Timing.Budget.QUICK : Timing.Budget.FULL;
        Ops ops = opt.ops();
        int threads = Parallel.threads();
        Map<String, Object> machine = machine(threads, opt.quick());
        log.println("roofline: " + machine.get("cpu") + ", " + threads + " threads, " + machine.get("vector_species"));

        double bw = MachineLimits.readBandwidth(d.readBytes(), opt.quick() ? 2 : 10);
        log.printf(Locale.ROOT, "roofline: read bandwidth %.1f GB/s (%d MiB buffer, %d threads)%n", bw, d.readBytes() >> 20, threads);
        double peak = opt.quick() ? MachineLimits.fmaPeak(20_000, 2 * threads, 2)
                                  : MachineLimits.fmaPeak(500_000, 32 * threads, 5);
        log.printf(Locale.ROOT, "roofline: FMA peak %.1f GFLOP/s (%d chains of %d lanes per thread)%n",
                peak, MachineLimits.CHAINS, MachineLimits.S.length());
        machine.put("read_bandwidth_gbs", bw);
        machine.put("read_buffer_bytes", d.readBytes());
        machine.put("fma_peak_gflops", peak);
        machine.put("load_average_start", loadAverage());

        List<GemmCase.Layer> layers = GemmCase.layers(d.c(), d.f());
        if (!opt.quick()) warnIfSlow(ops, log);

        // ---- our kernels ------------------------------------------------------------------------
        List<RooflineReport.Row> rows = new ArrayList<>();
        List<GemmCase> peerCases = new ArrayList<>();
        GemmCase square = new GemmCase("gemm", Kind.FWD, d.g(), d.g(), d.g(), DType.F32);
        rows.add(new RooflineReport.Row(square.name(), square.shape(), gflops(ops, square, budget, log), "GFLOP/s", peak, "fma_peak"));
        peerCases.add(square);

        Map<String, Double> forward = new LinkedHashMap<>();
        for (GemmCase.Layer l : layers) {
            GemmCase c = new GemmCase("fwd " + l.name(), Kind.FWD, d.t(), l.n(), l.k(), DType.F32);
            double g = gflops(ops, c, budget, log);
            forward.put(l.name(), g);
            rows.add(new RooflineReport.Row(c.name(), c.shape(), g, "GFLOP/s", peak, "fma_peak"));
            peerCases.add(c);
        }
        for (GemmCase.Layer l : layers) {
            GemmCase c = new GemmCase("fwd-bf16w " + l.name(), Kind.FWD, d.t(), l.n(), l.k(), DType.BF16);
            rows.add(new RooflineReport.Row(c.name(), c.shape(), gflops(ops, c, budget, log), "GFLOP/s", peak, "fma_peak"));
        }
        for (Kind kind : List.of(Kind.DX, Kind.DW)) {
            for (GemmCase.Layer l : layers) {
                GemmCase c = new GemmCase(kind.name().toLowerCase() + " " + l.name(), kind, d.t(), l.n(), l.k(), DType.F32);
                rows.add(new RooflineReport.Row(c.name(), c.shape(), gflops(ops, c, budget, log), "GFLOP/s",
                        forward.get(l.name()), "fwd " + l.name()));
                peerCases.add(c);
            }
        }
        for (GemmCase.Layer l : layers.subList(1, 3)) { // decode: the big MLP weights, BF16 as in the checkpoint
            GemmCase c = new GemmCase("matvec " + l.name(), Kind.FWD, 1, l.n(), l.k(), DType.BF16);
            try (GemmCase.Prepared p = c.prepare(ops, d.matvecBytes(), true, 7)) {
                Timing tm = Timing.measure(p::run, budget);
                double gbs = c.weightBytes() * (double) p.calls() / tm.bestSeconds() / 1e9;
                log.printf(Locale.ROOT, "roofline: %-24s %8.1f GB/s  (%d weight copies, best of %d)%n",
                        c.name(), gbs, p.calls(), tm.reps());
                rows.add(new RooflineReport.Row(c.name(), c.shape(), gbs, "GB/s", bw, "read_bandwidth"));
            }
        }

        // ---- the OpenBLAS peer, same shapes, same thread count ---------------------------------
        if (opt.peer()) {
            List<String> tried = new ArrayList<>();
            String python = OpenBlasPeer.findPython(opt.python(), tried);
            if (python == null) {
                String why = "skipped: no Python with numpy (tried " + String.join(", ", tried) + "; pass --python PATH)";
                log.println("roofline: OpenBLAS peer " + why);
                machine.put("openblas_skipped", why);
            } else {
                try {
                    log.println("roofline: timing numpy/OpenBLAS sgemm with " + python + " ...");
                    OpenBlasPeer.Result r = OpenBlasPeer.run(python, peerCases, threads, budget);
                    machine.put("openblas", peerInfo(r));
                    for (int i = 0; i < rows.size(); i++) {
                        Double g = r.gflops().get(rows.get(i).name());
                        if (g != null && g > 0) rows.set(i, rows.get(i).withOpenblas(g));
                    }
                } catch (IOException | RuntimeException e) {
                    String why = "failed: " + e.getMessage();
                    log.println("roofline: OpenBLAS peer " + why);
                    machine.put("openblas_skipped", why);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    machine.put("openblas_skipped", "interrupted");
                }
            }
        } else {
            machine.put("openblas_skipped", "skipped (disabled)");
        }
        machine.put("load_average_end", loadAverage());
        return new RooflineReport(rows, machine);
    }

    /** 1-minute load average: on a shared machine, anything well above 0 means other work ran alongside. */
    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static double gflops(Ops ops, GemmCase c, Timing.Budget budget, PrintStream log) {
        try (GemmCase.Prepared p = c.prepare(ops, 0, c.wtype() != DType.F32, 11)) {
            Timing tm = Timing.measure(p::run, budget);
            double g = c.flops() * p.calls() / tm.bestSeconds() / 1e9;
            log.printf(Locale.ROOT, "roofline: %-24s %8.1f GFLOP/s  (best of %d, median %.1f)%n",
                    c.name(), g, tm.reps(), c.flops() * p.calls() / tm.medianSeconds() / 1e9);
            return g;
        }
    }

    /** The full run does ~140 GFLOP of GEMMs about seven times (warm-up + reps): say so if that will take long. */
    private static void warnIfSlow(Ops ops, PrintStream log) {
        GemmCase probe = new GemmCase("probe", Kind.FWD, 256, 256, 256, DType.F32);
        try (GemmCase.Prepared p = probe.prepare(ops, 0, false, 1)) {
            // enough runs for the JIT to compile the kernel: a cold first call is not its speed
            double g = probe.flops() / Timing.measure(p::run, new Timing.Budget(5, 5, 0.3)).bestSeconds() / 1e9;
            if (g < 5)
                log.printf(Locale.ROOT, "roofline: warning: matmul runs at %.2f GFLOP/s at 256^3; the full run "
                        + "needs ~%.0f minutes at that rate (use --quick)%n", g, 1000 / g / 60);
        }
    }

    private static Map<String, Object> peerInfo(OpenBlasPeer.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("python", r.python());
        m.put("numpy", r.numpy());
        m.putAll(r.blas());
        m.put("coretype_env_removed", r.coretypeRemoved());
        m.put("summary", String.format(Locale.ROOT, "numpy %s, %s %s, kernel %s, %s threads (%s)%s",
                r.numpy(), r.blas().get("internal_api"), r.blas().getOrDefault("version", "(version unknown)"),
                r.blas().get("architecture"), r.blas().get("num_threads"), r.python(),
                r.coretypeRemoved() == null ? "; OPENBLAS_CORETYPE was not set"
                        : "; OPENBLAS_CORETYPE=" + r.coretypeRemoved() + " removed for it"));
        return m;
    }

    /** CPU model, thread count, JDK and vector shape: enough to tell two runs' machines apart. */
    private static Map<String, Object> machine(int threads, boolean quick) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("threads", threads);
        m.put("jdk", Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")");
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("vector_species", MachineLimits.S.toString());
        m.put("quick", quick);
        m.put("timing", quick ? "quick: shapes shrunk, 1 warm-up + best of 2"
                              : "best of >= 5 reps and >= 1 s after 2 warm-ups (System.nanoTime)");
        return m;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
