package dev.laconic.bench.decode;

import dev.laconic.bench.BackendOption;
import dev.laconic.bench.GemmCase;
import dev.laconic.bench.MachineLimits;
import dev.laconic.bench.Timing;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.DeviceLimits;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Parallel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.ModelConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code ./laconic bench decode}: llama-bench-style prefill (ppP) and decode (tgG) rows for a model
 * directory or for random weights with a real config's shapes, each against a bound measured in the
 * same process: read bandwidth ({@link MachineLimits}) for decode, our F32 GEMM GFLOP/s for prefill
 * (measured at T = P rows times the model's gate/up projection, F×C, its largest). Then the
 * process's peak RSS next to the weight bytes, and with {@code --jlama} the same rows for Jlama on
 * the same weights, in a child JVM ({@link JlamaPeer}).
 *
 * <p>Random weights ({@code RandomWeights.create}) are made and written as a Hugging Face directory
 * by a child JVM ({@link HfDirectory#writeRandom}); this process then maps that directory exactly as
 * it maps a downloaded checkpoint, so both sources measure the path {@code generate} runs, and the
 * weights never sit in this heap. Order matters for the memory figure: the limits are measured
 * before any weight exists, then the peak-RSS mark is reset, so the peak covers weights + KV caches +
 * activations + JVM, not the bandwidth probe's buffer.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = {"Prefill (ppP) and decode (tgG) tokens/s, weight GB/s and the ratio to this machine's bounds",
                "(read bandwidth for decode, our F32 GEMM for prefill), peak RSS; --jlama adds Jlama 0.8.4's rows."})
public final class DecodeBenchCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory") Path model;
        @Option(names = "--random-config", paramLabel = "FILE",
                description = "config.json of a real model: random weights with its shapes (no download needed)") Path randomConfig;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Source source;

    @Option(names = "--dtype", defaultValue = "bf16", split = ",", paramLabel = "DTYPE",
            description = {"matrices held as these dtypes (DType names, e.g. bf16,f32), each measured in turn in this process;",
                    "random weights are written as f32 for f32 and as bf16 for every other dtype (default: ${DEFAULT-VALUE})"})
    List<String> dtypes;

    @Option(names = "--batch", split = ",", paramLabel = "B",
            description = {"also decode B sequences together through the DecodeEngine (rows tgG with batch B): B + B/2",
                    "sequences of G/2 to 3G/2 tokens, at most B live, a finished one leaves and a waiting one joins;",
                    "bound min(B x bandwidth bound, F32 GEMM bound); e.g. 1,8,32,128 (default: none)"})
    List<Integer> batches = new ArrayList<>();

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    @Mixin BackendOption backend;   // the model's kernels; the bounds are the device's when it probes them (DeviceLimits)

    @Option(names = "--prompt-tokens", defaultValue = "512", paramLabel = "P", description = "prefill row ppP (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "128", paramLabel = "G", description = "decode row tgG (default: ${DEFAULT-VALUE})")
    int genTokens;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N",
            description = "also generate up to N positions: prefill N-G tokens, decode G (rows ppN-G, tgG@dN-G; one rep); 0 = off (default: ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--reps", defaultValue = "3", description = "timed repetitions of pp and tg (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the random weights and prompt ids (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "print {\"rows\": [...], ...} instead of the table")
    boolean json;

    @Option(names = "--jlama", description = "also run Jlama 0.8.4 on the same weights (child JVM)")
    boolean jlama;

    @Option(names = "--write-model", paramLabel = "DIR",
            description = {"with --random-config: write the random model to DIR and keep it (e.g. for --model DIR later);",
                    "default: a temporary directory, deleted at the end"})
    Path writeModel;

    @Option(names = "--bandwidth-mib", defaultValue = "1024", hidden = true, description = "buffer of the bandwidth probe")
    int bandwidthMib;

    @Override
    public Integer call() throws Exception {
        PrintStream log = System.err;
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, not " + threads);
            System.setProperty("laconic.threads", Integer.toString(threads));   // read when the pool starts
            if (Parallel.threads() != threads)
                throw new IllegalStateException("the worker pool already runs " + Parallel.threads() + " threads; cannot change to " + threads);
        }
        List<DType> keeps = parseDtypes(dtypes);
        for (int b : batches) if (b < 1) throw new IllegalArgumentException("--batch sizes must be >= 1, not " + b);
        DecodeRuns.Settings s = new DecodeRuns.Settings(promptTokens, genTokens, reps, context, seed);
        ModelConfig cfg = source.model != null ? ModelConfig.load(source.model) : HfDirectory.readConfig(source.randomConfig);
        if (writeModel != null && source.randomConfig == null) throw new IllegalArgumentException("--write-model needs --random-config");
        int positions = Math.max(s.positionsNeeded(), batches.isEmpty() ? 0 : BatchRuns.positionsNeeded(genTokens));
        if (positions > cfg.maxPositions())
            throw new IllegalArgumentException(positions + " positions needed, the model supports " + cfg.maxPositions());

        Backend modelBackend = backend.backend();    // first: a missing backend is reported before any measuring
        // 1. the bounds, before any weight is in memory: the device's own when the backend probes one, else this CPU's
        Ops ops = Backend.named(Backend.DEFAULT).ops();
        int nThreads = Parallel.threads();
        GemmCase gemm = new GemmCase("gemm", GemmCase.Kind.FWD, promptTokens, cfg.intermediate(), cfg.hidden(), DType.F32);
        Optional<DeviceLimits> device = modelBackend.extension(DeviceLimits.class);
        double bandwidth, gemmGflops;
        if (device.isPresent()) {
            bandwidth = device.get().readBandwidthGBs((long) bandwidthMib << 20);
            gemmGflops = device.get().fmaPeakGflops();
            log.printf(Locale.ROOT, "bench decode: %s: copy bandwidth %.1f GB/s (%d MiB), F32 FMA peak %.1f GFLOP/s (the device's bounds)%n",
                    device.get().device(), bandwidth, bandwidthMib, gemmGflops);
        } else {
            bandwidth = MachineLimits.readBandwidth((long) bandwidthMib << 20, 5);
            log.printf(Locale.ROOT, "bench decode: read bandwidth %.1f GB/s (%d MiB, %d threads); RSS %.3f GB%n",
                    bandwidth, bandwidthMib, nThreads, ProcessMemory.rssBytes() / 1e9);
            try (GemmCase.Prepared p = gemm.prepare(ops, 0, false, seed)) {
                gemmGflops = gemm.flops() / Timing.measure(p::run, new Timing.Budget(1, 3, 0.5)).bestSeconds() / 1e9;
            }
            log.printf(Locale.ROOT, "bench decode: F32 GEMM %s: %.1f GFLOP/s; RSS %.3f GB%n", gemm.shape(), gemmGflops, ProcessMemory.rssBytes() / 1e9);
        }

        // 2. per dtype: the directory (random weights are made and written by a child JVM, so they never sit in this
        // heap; one directory per stored dtype), then our rows on it as generate runs it; the peak-RSS mark starts there
        Map<DType, Path> written = new LinkedHashMap<>();
        List<DecodeReport.Row> rows = new ArrayList<>();
        Map<String, Object> model = null, memory = null, memoryByDtype = new LinkedHashMap<>(), jlamaInfo = null;
        try {
            for (DType keep : keeps) {
                Path dir = source.model;
                if (dir == null) {
                    DType stored = keep == DType.F32 ? DType.F32 : DType.BF16;
                    dir = written.get(stored);
                    if (dir == null) {
                        dir = writeModel == null ? Files.createTempDirectory("laconic-bench-model-")
                                : written.isEmpty() ? writeModel : writeModel.resolveSibling(writeModel.getFileName() + "-" + name(stored));
                        written.put(stored, dir);
                        long w0 = System.nanoTime();
                        HfDirectory.writeRandom(dir, source.randomConfig, cfg, seed, stored);
                        log.printf(Locale.ROOT, "bench decode: random model (seed %d, %s) in %s after %.1f s%n", seed, name(stored), dir,
                                (System.nanoTime() - w0) * 1e-9);
                    }
                }
                Measured m = measure(dir, keep, cfg, modelBackend, s, bandwidth, gemmGflops, log);
                rows.addAll(m.rows);
                Map<String, Object> mem = memoryInfo(m.cost, m.peak, m.peakReset, m.rssBefore, m.heapPeakCommitted, m.heapPeakUsed, s);
                memoryByDtype.put(name(keep), mem);
                if (model == null) {
                    model = modelInfo(cfg, m.cost, keep);
                    memory = new LinkedHashMap<>(mem);
                    // 3. Jlama on the first directory, in a child JVM, against our rows of that dtype
                    if (jlama) {
                        System.gc();
                        JlamaPeer.Outcome o = JlamaPeer.run(dir, nThreads, cfg.vocab(), s, log);
                        for (DecodeRuns.Result r : o.results())
                            rows.add(DecodeReport.Row.of(o.engine(), name(keep), r, m.cost, bandwidth, gemmGflops));
                        jlamaInfo = jlamaInfo(o, m.results);
                    }
                }
            }
            if (keeps.size() > 1) memory.put("by_dtype", memoryByDtype);
            DecodeReport report = new DecodeReport(rows, model, machineInfo(nThreads, bandwidth, gemm, gemmGflops, device.map(DeviceLimits::device).orElse(null)),
                    memory, jlamaInfo);
            System.out.println(json ? report.toJson() : report.toTable());
            return 0;
        } finally {
            if (writeModel == null) for (Path dir : written.values()) deleteTree(dir);
        }
    }

    /** One dtype's measurements: rows, the cost they are against, the memory figures. */
    private record Measured(List<DecodeReport.Row> rows, List<DecodeRuns.Result> results, ModelCost cost, long peak, boolean peakReset,
                            long rssBefore, long heapPeakCommitted, long heapPeakUsed) {}

    /** The model at dir held as keep: the single-sequence rows (DecodeRuns), then the batched rows (BatchRuns). */
    private Measured measure(Path dir, DType keep, ModelConfig cfg, Backend modelBackend, DecodeRuns.Settings s, double bandwidth,
                             double gemmGflops, PrintStream log) throws IOException {
        System.gc();
        boolean peakReset = ProcessMemory.resetPeak();
        ProcessMemory.resetHeapPeaks();
        long rssBefore = ProcessMemory.rssBytes();
        List<DecodeReport.Row> rows = new ArrayList<>();
        try (Model m = Model.load(dir, keep, modelBackend)) {
            ModelCost cost = ModelCost.of(cfg, m.transformer().weights());
            log.printf(Locale.ROOT, "bench decode: %s: weights %.2f GB mapped; RSS %.3f GB%n", name(keep), cost.weightBytes() / 1e9, rssBefore / 1e9);
            Engine.Laconic ours = new Engine.Laconic(m.transformer());
            List<DecodeRuns.Result> results = DecodeRuns.run(ours, s, cfg.vocab(), log);
            for (DecodeRuns.Result r : results) rows.add(DecodeReport.Row.of(ours.name(), name(keep), r, cost, bandwidth, gemmGflops));
            for (int b : batches) {
                BatchRuns.Result r = BatchRuns.run(m.transformer(), b, genTokens, seed, cfg.vocab(), log);
                rows.add(DecodeReport.Row.batched(ours.name() + " DecodeEngine", name(keep), genTokens, r, cost, bandwidth, gemmGflops,
                        DecodeRuns.TG_PREFILL + genTokens / 2.0));
            }
            return new Measured(rows, results, cost, ProcessMemory.peakRssBytes(), peakReset, rssBefore,
                    ProcessMemory.heapPeakCommittedBytes(), ProcessMemory.heapPeakUsedBytes());
        }
    }

    /** --dtype's names as DTypes (any case), in order, each once. */
    static List<DType> parseDtypes(List<String> names) {
        List<DType> out = new ArrayList<>();
        for (String n : names) {
            DType d;
            try {
                String u = n.strip().toUpperCase(Locale.ROOT);
                d = DType.valueOf(u.equals("Q8") ? "Q8_0" : u);
            } catch (IllegalArgumentException e) {
                d = null;
            }
            if (d == null || d == DType.I32 || d == DType.F16)
                throw new IllegalArgumentException("--dtype: unknown or unsupported dtype '" + n + "' (known: " + knownDtypes() + ")");
            if (!out.contains(d)) out.add(d);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--dtype needs at least one dtype");
        return out;
    }

    private static String knownDtypes() {
        List<String> k = new ArrayList<>();
        for (DType d : DType.values()) if (d != DType.I32 && d != DType.F16) k.add(name(d));
        return String.join(", ", k);
    }

    static String name(DType d) {
        return d.name().toLowerCase(Locale.ROOT);
    }

    private Map<String, Object> modelInfo(ModelConfig cfg, ModelCost cost, DType keep) {
        Map<String, Object> m = new LinkedHashMap<>();
        String source = this.source.model != null ? this.source.model.toString()
                : "random weights (seed " + seed + ") shaped as " + this.source.randomConfig;
        m.put("source", source);
        m.put("architecture", cfg.architecture());
        m.put("layers", cfg.layers());
        m.put("hidden", cfg.hidden());
        m.put("intermediate", cfg.intermediate());
        m.put("heads", cfg.heads());
        m.put("kv_heads", cfg.kvHeads());
        m.put("vocab", cfg.vocab());
        m.put("parameters", cfg.parameterCount());
        m.put("dtype", keep.name().toLowerCase(Locale.ROOT));
        m.put("weight_bytes", cost.weightBytes());
        m.put("matrix_bytes_per_token", cost.matrixBytesPerToken());
        m.put("prefill_flops_per_token", DecodeReport.round(cost.prefillFlopsPerToken(promptTokens)));
        m.put("summary", String.format(Locale.ROOT, "%s, %s %dL C%d F%d H%d/%d V%d, %.2f B params, %s, weights %.2f GB (%.2f GB read per decoded token)",
                source, cfg.architecture(), cfg.layers(), cfg.hidden(), cfg.intermediate(), cfg.heads(), cfg.kvHeads(), cfg.vocab(),
                cfg.parameterCount() / 1e9, keep.name().toLowerCase(Locale.ROOT), cost.weightBytes() / 1e9, cost.matrixBytesPerToken() / 1e9));
        return m;
    }

    /** device: the backend's device whose probes gave the bounds, or null (this CPU's bounds). */
    private static Map<String, Object> machineInfo(int threads, double bandwidth, GemmCase gemm, double gemmGflops, String device) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        if (device != null) {
            m.put("device", device);
            m.put("device_copy_bandwidth_gb_per_s", DecodeReport.round(bandwidth));
            m.put("device_f32_fma_peak_gflop_per_s", DecodeReport.round(gemmGflops));
            m.put("summary", String.format(Locale.ROOT, "%s; bounds from the device's probes: copy bandwidth %.1f GB/s, F32 FMA peak %.1f GFLOP/s",
                    device, bandwidth, gemmGflops));
            return m;
        }
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("threads", threads);
        m.put("jdk", Runtime.version().toString());
        m.put("read_bandwidth_gb_per_s", DecodeReport.round(bandwidth));
        m.put("f32_gemm_gflop_per_s", DecodeReport.round(gemmGflops));
        m.put("f32_gemm_shape", gemm.shape());
        m.put("summary", String.format(Locale.ROOT, "%s, %d threads; read bandwidth %.1f GB/s; F32 GEMM %s %.1f GFLOP/s",
                m.get("cpu"), threads, bandwidth, gemm.shape(), gemmGflops));
        return m;
    }

    private static Map<String, Object> memoryInfo(ModelCost cost, long peak, boolean reset, long rssBefore, long heapPeakCommitted,
                                                  long heapPeakUsed, DecodeRuns.Settings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        int capacity = s.positionsNeeded();
        m.put("weights_gb", DecodeReport.round(cost.weightBytes() / 1e9));
        m.put("peak_rss_gb", DecodeReport.round(peak / 1e9));
        m.put("peak_rss_bytes", peak);
        m.put("weight_bytes", cost.weightBytes());
        m.put("peak_rss_minus_weight_bytes", peak - cost.weightBytes());
        m.put("largest_kv_cache_bytes", cost.kvCacheBytes(capacity));
        m.put("largest_context", capacity);
        m.put("rss_before_weights_bytes", rssBefore);
        m.put("peak_since_weights_loaded", reset);
        m.put("java_heap_peak_committed_bytes", heapPeakCommitted);
        m.put("java_heap_peak_used_bytes", heapPeakUsed);
        m.put("java_heap_max_bytes", Runtime.getRuntime().maxMemory());
        m.put("summary", String.format(Locale.ROOT, "peak RSS %.3f GB = weights %.3f GB + %.3f GB (F32 KV cache %.3f GB at %d positions; "
                        + "RSS before the weights %.3f GB; Java heap peak: %.3f GB committed, %.3f GB used, max %.3f GB; peak %s)", peak / 1e9,
                cost.weightBytes() / 1e9, (peak - cost.weightBytes()) / 1e9, cost.kvCacheBytes(capacity) / 1e9, capacity, rssBefore / 1e9,
                heapPeakCommitted / 1e9, heapPeakUsed / 1e9, Runtime.getRuntime().maxMemory() / 1e9,
                reset ? "measured from just before the weights were loaded" : "of the whole process (VmHWM could not be reset)"));
        return m;
    }

    /** The Jlama section: its engine, peak RSS, ours / Jlama per test, and whether greedy decoding agreed. */
    private static Map<String, Object> jlamaInfo(JlamaPeer.Outcome o, List<DecodeRuns.Result> oursResults) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("engine", o.engine());
        m.put("peak_rss_bytes", o.peakRssBytes());
        Map<String, Object> speedup = new LinkedHashMap<>();
        Map<String, Object> agree = new LinkedHashMap<>();
        List<String> parts = new ArrayList<>();
        for (DecodeRuns.Result theirs : o.results()) {
            for (DecodeRuns.Result mine : oursResults) {
                if (!mine.test().equals(theirs.test())) continue;
                double x = mine.bestTokensPerSecond() / theirs.bestTokensPerSecond();
                speedup.put(mine.test(), DecodeReport.round(x));
                parts.add(String.format(Locale.ROOT, "%s %.2fx", mine.test(), x));
                if (mine.greedy() != null && theirs.greedy() != null) {
                    int same = 0;
                    while (same < mine.greedy().length && same < theirs.greedy().length && mine.greedy()[same] == theirs.greedy()[same]) same++;
                    agree.put(mine.test(), same + "/" + mine.greedy().length);
                }
            }
        }
        m.put("ours_over_jlama", speedup);
        m.put("greedy_prefix_agreement", agree);
        m.put("summary", String.format(Locale.ROOT, "%s; ours / Jlama: %s; identical greedy prefix: %s; Jlama peak RSS %.3f GB",
                o.engine(), String.join(", ", parts), agree, o.peakRssBytes() / 1e9));
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

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
