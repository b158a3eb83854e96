package dev.laconic.bench.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.bench.BackendOption;
import dev.laconic.bench.GemmCase;
import dev.laconic.bench.MachineLimits;
import dev.laconic.bench.Timing;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.DeviceLimits;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Parallel;
import dev.laconic.training.LoraConfig;
import dev.laconic.transformer.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code ./laconic bench train}: training throughput side by side with PyTorch, in one run.
 * <ol>
 *   <li>Full fine-tuning in F32 of a small Qwen2-shaped model (default C384 F1024 L6 H6/2 V32000,
 *       34M parameters) at sequence 256: forward + backward + AdamW, against transformers' model of
 *       the same config with torch.optim.AdamW on the same threads.</li>
 *   <li>LoRA (rank 16 on all seven projections) on a random BF16 model shaped as
 *       DeepSeek-R1-Distill-Qwen-1.5B at sequence 1024, against peft with the base in bf16 and in f32.</li>
 * </ol>
 * Each row also measures itself against this machine: the model FLOP rate against the FMA peak
 * ({@link MachineLimits}), and tokens/s against the GEMM bound: the step's executed FLOPs at the
 * rate our own GEMMs reach on the step's products, timed here ({@link StepCost}). The peers run as
 * Python subprocesses; the LoRA ones first of all, while this JVM is small and long before our LoRA
 * model exists, so a 1.5B model on one side never shares the machine's memory with the other's.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Training tokens/s side by side with PyTorch (same threads and shapes, one run):",
                "  full F32 fine-tuning, 34M Qwen2-shaped model, T=256 (vs transformers + torch AdamW);",
                "  LoRA r16 on a random BF16 R1-Distill-Qwen-1.5B-shaped model, T=1024 (vs peft, bf16",
                "  and f32 base). Also model GFLOP/s, the ratio to the GEMM bound measured in the same",
                "  run, and peak RSS. Takes ~10 minutes on 2 cores (--skip-peer, --skip-lora: less)."})
public final class TrainBenchCommand implements Callable<Integer> {
    static final String FULL_CONFIG = "qwen2-34m.json", LORA_CONFIG = "deepseek-r1-distill-qwen-1.5b.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--json", description = "print {\"rows\": [...], \"machine\": {...}, \"notes\": [...]} instead of the table")
    boolean json;

    @Option(names = "--json-out", paramLabel = "FILE", description = "also write the JSON to FILE (with the table on stdout; default: none)")
    Path jsonOut;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads, ours and PyTorch's (default: all cores)")
    Integer threads;

    @Option(names = "--python", paramLabel = "PATH",
            description = "Python with torch, transformers (and peft) for the peers (default: tools/.venv/bin/python, then python3)")
    String python;

    @Option(names = "--skip-peer", description = "do not run the PyTorch peers (ours only)")
    boolean skipPeer;

    @Option(names = "--skip-full", description = "skip the full fine-tuning row")
    boolean skipFull;

    @Option(names = "--skip-lora", description = "skip the LoRA rows")
    boolean skipLora;

    @Option(names = "--full-config", paramLabel = "FILE",
            description = "config.json of the full fine-tuning model (default: built in, Qwen2 C384 F1024 L6 H6/2 V32000)")
    Path fullConfig;

    @Option(names = "--full-seq", defaultValue = "256", paramLabel = "T", description = "full fine-tuning sequence length (default: ${DEFAULT-VALUE})")
    int fullSeq;

    @Option(names = "--full-batch", defaultValue = "1", paramLabel = "B", description = "full fine-tuning sequences per step (default: ${DEFAULT-VALUE})")
    int fullBatch;

    @Option(names = "--full-steps", defaultValue = "5", paramLabel = "K", description = "full fine-tuning timed steps, after 2 warm-up steps (default: ${DEFAULT-VALUE})")
    int fullSteps;

    @Option(names = "--random-config", paramLabel = "FILE",
            description = "config.json whose shapes the LoRA model gets, random BF16 weights (default: built-in DeepSeek-R1-Distill-Qwen-1.5B)")
    Path randomConfig;

    @Option(names = "--seq", defaultValue = "1024", paramLabel = "T", description = "LoRA sequence length (default: ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--steps", defaultValue = "1", paramLabel = "K",
            description = "LoRA timed steps, ours and each peer's, after one warm-up step (default: ${DEFAULT-VALUE}; a 1.5B step takes ~1 min on 2 cores)")
    int steps;

    @Option(names = "--warmup-seq", defaultValue = "128", paramLabel = "T",
            description = "LoRA warm-up step length (JIT; default: ${DEFAULT-VALUE}, at most --seq)")
    int warmupSeq;

    @Option(names = "--rank", defaultValue = "16", paramLabel = "R", description = "LoRA rank (default: ${DEFAULT-VALUE}); alpha = 2·rank")
    int rank;

    @Option(names = "--peer-checkpointing", defaultValue = "lora", paramLabel = "WHICH",
            description = {"gradient checkpointing in the peers: lora (default: the LoRA peers checkpoint every layer",
                    "as ours does; the full-row peer does not, its fastest), all, or none"})
    String peerCheckpointing;

    @Option(names = "--quick", hidden = true, description = "tests: the shortest probes (FMA peak, GEMM timings); no numbers to keep")
    boolean quick;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the random weights and token ids (default: ${DEFAULT-VALUE})")
    long seed;

    @Mixin BackendOption backend;   // our training's kernels, and the GEMM bound's (the FMA peak is the device's when it probes one: DeviceLimits)

    @Override
    public Integer call() throws Exception {
        PrintStream log = System.err;
        Backend chosen = backend.backend();   // first: a missing backend is reported before any measuring
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, not " + threads);
            System.setProperty("laconic.threads", Integer.toString(threads));   // read when the pool starts
            if (Parallel.threads() != threads)
                throw new IllegalStateException("the worker pool already runs " + Parallel.threads() + " threads; cannot change to " + threads);
        }
        if (!List.of("lora", "all", "none").contains(peerCheckpointing))
            throw new IllegalArgumentException("--peer-checkpointing must be lora, all or none, not " + peerCheckpointing);
        if (skipFull && skipLora) throw new IllegalArgumentException("--skip-full and --skip-lora leave nothing to run");
        JsonNode fullJson = skipFull ? null : configJson(fullConfig, FULL_CONFIG);
        JsonNode loraJson = skipLora ? null : configJson(randomConfig, LORA_CONFIG);
        ModelConfig fullCfg = fullJson == null ? null : modelConfig(fullJson, fullConfig, FULL_CONFIG);
        ModelConfig loraCfg = loraJson == null ? null : modelConfig(loraJson, randomConfig, LORA_CONFIG);
        LoraConfig lora = new LoraConfig(rank, 2f * rank, new LinkedHashSet<>(LoraConfig.TARGETS));
        int nThreads = Parallel.threads();
        Map<String, Object> machine = machine(nThreads);
        log.println("bench train: " + machine.get("cpu") + ", " + nThreads + " threads, load average " + machine.get("load_average_start"));

        // the peers' Python, found once
        String peerSkipped = null;
        TorchPeer.Python py = null;
        if (skipPeer) {
            peerSkipped = "skipped (--skip-peer)";
        } else {
            List<String> tried = new ArrayList<>();
            py = TorchPeer.find(python, tried);
            if (py == null) peerSkipped = "skipped: no Python with torch and transformers (tried " + String.join(", ", tried) + "; pass --python PATH)";
        }
        if (peerSkipped != null) log.println("bench train: PyTorch peers " + peerSkipped);

        Ops ops = chosen.ops();   // after --threads: the ops may start the worker pool
        // the FMA peak of where the GEMMs run: the device's own probe when the backend has one, else this CPU's
        Optional<DeviceLimits> device = chosen.extension(DeviceLimits.class);
        device.ifPresent(d -> machine.put("device", d.device()));
        double fma = device.isPresent() ? device.get().fmaPeakGflops()
                : quick ? MachineLimits.fmaPeak(20_000, 2 * nThreads, 2) : MachineLimits.fmaPeak(200_000, 16 * nThreads, 5);
        log.printf(Locale.ROOT, "bench train: %sFMA peak %.1f GFLOP/s%n", device.map(d -> d.device() + ": F32 ").orElse(""), fma);
        machine.put("fma_peak_gflops", TrainReport.round(fma));
        List<TrainReport.Row> rows = new ArrayList<>();

        // the LoRA peers first, while this JVM is small: neither our full fine-tuning nor our GEMM probes
        // have grown its heap yet, and our 1.5B model never shares the machine's memory with theirs
        Map<String, TorchPeer.Result> peers = new LinkedHashMap<>();
        Map<String, String> peerNames = new LinkedHashMap<>();
        if (loraCfg != null && py != null && !py.peft()) {
            peerSkipped = "skipped: " + py.path() + " has no peft";
            log.println("bench train: LoRA peers " + peerSkipped);
        } else if (loraCfg != null && py != null) {
            for (String dt : List.of("bf16", "f32")) {
                Map<String, Object> req = request("lora", dt, loraJson, seq, 1, 1, Math.min(warmupSeq, seq), steps, nThreads);
                try {
                    TorchPeer.Result r = TorchPeer.run(py.path(), req, nThreads, log);
                    peers.put(dt, r);
                    peerNames.put(dt, "peft " + r.info().get("peft") + " " + dt + " base");
                } catch (IOException e) {
                    peerNames.put(dt, "peft " + dt + " base failed: " + e.getMessage());
                    log.println("bench train: " + peerNames.get(dt));
                }
            }
        }

        if (fullCfg != null) {
            StepCost cost = StepCost.of(fullCfg, fullSeq, fullBatch, null, DType.F32);
            double gemm = gemmRate(ops, cost, quick, log);
            OurTraining.Result ours = OurTraining.full(fullCfg,
                    new OurTraining.Settings(fullSeq, fullBatch, 2, fullSeq, fullSteps, seed, 1e-5), ops, log);
            String config = String.format(Locale.ROOT, "%s, F32, T=%d x%d, AdamW, full fine-tuning", describe(fullCfg), fullSeq, fullBatch);
            TorchPeer.Result theirs = null;
            String peer = peerSkipped;
            if (py != null) {
                Map<String, Object> req = request("full", "f32", fullJson, fullSeq, fullBatch, 2, fullSeq, fullSteps, nThreads);
                try {
                    theirs = TorchPeer.run(py.path(), req, nThreads, log);
                    peer = "torch " + theirs.info().get("torch") + " F32";
                } catch (IOException e) {
                    peer = "failed: " + e.getMessage();
                    log.println("bench train: torch peer " + peer);
                }
            }
            rows.add(new TrainReport.Row("full F32", config, ours, cost, gemm, fma, peer, theirs));
        }

        if (loraCfg != null) {
            int warm = Math.min(warmupSeq, seq);
            StepCost cost = StepCost.of(loraCfg, seq, 1, lora, DType.BF16);
            double gemm = gemmRate(ops, cost, quick, log);
            String config = String.format(Locale.ROOT, "%s, BF16 base, LoRA r%d alpha %.0f on %s, T=%d, layer checkpointing",
                    describe(loraCfg), lora.rank(), lora.alpha(), String.join(",", LoraConfig.TARGETS), seq);
            OurTraining.Result ours = OurTraining.lora(loraCfg, lora, DType.BF16,
                    new OurTraining.Settings(seq, 1, 1, warm, steps, seed, 1e-5), ops, log);
            String name = "LoRA r" + lora.rank() + " BF16";
            if (peerNames.isEmpty()) rows.add(new TrainReport.Row(name, config, ours, cost, gemm, fma, peerSkipped, null));
            for (var e : peerNames.entrySet())
                rows.add(new TrainReport.Row(name, config, ours, cost, gemm, fma, e.getValue(), peers.get(e.getKey())));
        }

        machine.put("load_average_end", loadAverage());
        machine.put("summary", String.format(Locale.ROOT, "%s, %d threads, %sFMA peak %.1f GFLOP/s, load average %s at start, %s at end",
                machine.get("cpu"), nThreads, device.map(d -> d.device() + " (the GEMMs' device), its F32 ").orElse(""), fma, machine.get("load_average_start"), machine.get("load_average_end")));
        TrainReport report = new TrainReport(rows, machine, notes());
        if (jsonOut != null) Files.writeString(jsonOut, report.toJson() + "\n");
        System.out.println(json ? report.toJson() : report.toTable());
        return 0;
    }

    /**
     * Our GEMM rate on the step's own products: each distinct (kind, shape) timed with the step's
     * weight dtype, weighted by how often a step runs it: Σ count·flops / Σ count·best time.
     * First each kind runs a small shape a few hundred times, so the JIT has compiled the kernels
     * (a first 384² product otherwise spends a second in the interpreter and a hundred calls before
     * C2's code runs); then each product gets 2 warm-up calls and at least 3 timed ones and 0.3 s.
     */
    static double gemmRate(Ops ops, StepCost cost, boolean quick, PrintStream log) {
        Set<String> warmed = new HashSet<>();
        for (StepCost.Gemm g : cost.gemms()) {
            GemmCase c = g.gemm();
            if (!warmed.add(c.kind() + " " + c.wtype())) continue;
            GemmCase small = new GemmCase("jit", c.kind(), 128, 256, 256, c.wtype());
            try (GemmCase.Prepared p = small.prepare(ops, 0, false, 3)) {
                long t0 = System.nanoTime();
                for (int i = 0; i < (quick ? 20 : 300) && System.nanoTime() - t0 < 5_000_000_000L; i++) p.run();
            }
        }
        Timing.Budget budget = quick ? Timing.Budget.QUICK : new Timing.Budget(2, 3, 0.3);
        double flops = 0, seconds = 0;
        for (StepCost.Gemm g : cost.gemms()) {
            GemmCase c = g.gemm();
            try (GemmCase.Prepared p = c.prepare(ops, 0, false, 11)) {
                Timing tm = Timing.measure(p::run, budget);
                flops += g.count() * c.flops();
                seconds += g.count() * tm.bestSeconds();
                log.printf(Locale.ROOT, "bench train: gemm %-26s T=%-5d x%-4d %7.1f GFLOP/s%n", c.name(), c.t(), g.count(),
                        c.flops() / tm.bestSeconds() / 1e9);
            }
        }
        double rate = flops / seconds / 1e9;
        log.printf(Locale.ROOT, "bench train: the step's GEMM mix: %.1f GFLOP/s (%.3g GFLOP of GEMMs per step)%n", rate, flops / 1e9);
        return rate;
    }

    /** The peer script's request (fields documented at the top of torch_train.py). */
    Map<String, Object> request(String mode, String dtype, JsonNode config, int seqLen, int batch, int warmupSteps,
                                        int warmSeq, int timedSteps, int nThreads) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", mode);
        r.put("dtype", dtype);
        r.put("config", config);
        r.put("threads", nThreads);
        r.put("seed", seed);
        r.put("seq", seqLen);
        r.put("batch", batch);
        r.put("steps", timedSteps);
        r.put("warmup_steps", warmupSteps);
        r.put("warmup_seq", warmSeq);
        r.put("lr", 1e-5);
        r.put("rank", rank);
        r.put("alpha", 2.0 * rank);
        r.put("targets", LoraConfig.TARGETS.stream().map(t -> t + "_proj").toList());
        r.put("checkpointing", peerCheckpointing.equals("all") || (peerCheckpointing.equals("lora") && mode.equals("lora")));
        return r;
    }

    /** A config file if given, else the built-in resource. */
    private static JsonNode configJson(Path file, String resource) throws IOException {
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new IOException(file + ": not found");
            try {
                return JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        try (InputStream in = TrainBenchCommand.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("resource " + resource + " missing from the jar");
            return JSON.readTree(in);
        }
    }

    private static ModelConfig modelConfig(JsonNode json, Path file, String resource) {
        try {
            return ModelConfig.fromJson(json, null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException((file != null ? file.toString() : resource) + ": " + e.getMessage(), e);
        }
    }

    private static String describe(ModelConfig c) {
        return String.format(Locale.ROOT, "%s C%d F%d L%d H%d/%d D%d V%d%s, %.1fM params", c.architecture().replace("ForCausalLM", ""),
                c.hidden(), c.intermediate(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.vocab(),
                c.tieWordEmbeddings() ? " tied" : " untied", c.parameterCount() / 1e6);
    }

    private List<String> notes() {
        return List.of(
                "tokens/s = tokens of the timed steps / their time; a step = zero grads, forward, backward, gradient norm (no clipping), "
                        + "AdamW (torch: the same without the norm, loss = model(ids, labels=ids)); ids random, drawn outside the clock",
                "gflops = model FLOPs (6*params*tokens for full, 4*params*tokens for a frozen LoRA base, + attention) per second; "
                        + "peak = gflops / FMA peak",
                "bound = tokens/s / (our GEMM rate on the step's products / executed FLOPs per token); executed FLOPs add our "
                        + "layer-checkpointing recompute (each layer's forward again in the backward), the LM head's recomputed "
                        + "logits and flash attention's recomputed QK^T",
                "peers' gradient checkpointing: " + switch (peerCheckpointing) {
                    case "lora" -> "on for the LoRA peers (as ours), off for the full-row peer (its fastest)";
                    case "all" -> "on for every peer";
                    default -> "off (their fastest, more memory)";
                }
                        + "; adapters F32 on both sides; OPENBLAS_CORETYPE removed from the peers' environment",
                "peak RSS: ours = VmHWM from just before the weights were created (Java heap committed so far included); "
                        + "peers' = VmHWM of their whole process (imports and model construction included)");
    }

    private static Map<String, Object> machine(int threads) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("threads", threads);
        m.put("jdk", Runtime.version().toString());
        m.put("java_heap_max_gb", TrainReport.round(Runtime.getRuntime().maxMemory() / 1e9));
        m.put("load_average_start", loadAverage());
        return m;
    }

    /** /proc/loadavg's 1, 5 and 15 minute figures: the bench shares its cores with whatever else runs. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
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
