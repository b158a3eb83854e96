package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Evaluator;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.ProgressListener;
import dev.laconic.compression.eval.Protocol;
import dev.laconic.compression.generation.Policy;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Accuracy and completion tokens of a model on a data set, with the papers' prompts and sampling "
                + "(--protocol tldr: T 0.7, top-p 1, 8192 tokens; arora: T 0.6, top-p 1, 32768 tokens, \"Question: \"); explicit flags override.",
                "The sampling is part of the protocol: the model's generation_config.json is not read (generate follows it).",
                "Writes RUN_DIR/samples.jsonl as it goes and RUN_DIR/summary.json at the end; the same command again resumes."})
public final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--data", required = true, description = "problems, JSONL") Path data;
    @Option(names = "--format", required = true, description = "gsm8k {question, answer with #### N}, math {problem, answer}, "
            + "gym {prompt, answer, difficulty}, jsonl {prompt, answer}") String format;
    @Option(names = "--out", required = true, description = "run directory") Path out;
    @Option(names = "--protocol", defaultValue = "tldr", description = "tldr or arora: sampling settings, samples per problem and prompt (default: ${DEFAULT-VALUE})") String protocol;
    @Option(names = "--n", description = "samples per problem (default: the protocol's for this data set)") Integer n;
    @Option(names = "--temperature", description = "sampling temperature, 0 = greedy (default: the protocol's)") Float temperature;
    @Option(names = "--top-p", description = "nucleus sampling mass (default: the protocol's)") Float topP;
    @Option(names = "--max-tokens", description = "cap on completion tokens (default: the protocol's, lowered to fit the model's context)") Integer maxTokens;
    @Option(names = "--limit", description = "evaluate only the first M problems (default: all)") Integer limit;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--template", description = "user turn with {problem} in it, \\n for a newline (default: the protocol's instruction + problem; gym: the problem alone)") String template;
    @Option(names = "--think-budget", defaultValue = "-1", description = "thinking tokens before \\n</think>\\n\\n is forced, the truncation baseline (default: -1, none)") int thinkBudget;
    @Option(names = "--batch", description = "sequences (problems × n) decoded together (default: what a quarter of the memory holds in KV caches, at most 32)") Integer batch;
    @Mixin ClusterOption cluster;

    /** The library's faults name fields; these are the flags that set them. */
    static final Map<String, String> FLAGS = Flags.DATA;

    @Override
    public Integer call() throws Exception {
        return Flags.named(FLAGS, this::run);
    }

    private Integer run() throws Exception {
        DataFormat fmt = DataFormat.parse(format);
        Protocol proto = Protocol.parse(protocol);
        List<Problem> problems = fmt.load(data);
        if (limit != null) {
            if (limit < 1) throw new IllegalArgumentException("--limit must be ≥ 1");
            problems = problems.subList(0, Math.min(limit, problems.size()));
        }
        EvalSettings s = proto.settings(fmt, data, seed, 1);
        if (n != null) s = s.withSamples(n);
        if (temperature != null || topP != null)
            s = s.withSampling(temperature != null ? temperature : s.temperature(), topP != null ? topP : s.topP());
        if (maxTokens != null) s = s.withMaxTokens(maxTokens);
        if (template != null) s = s.withTemplate(template.replace("\\n", "\n"));
        if (thinkBudget != -1) s = s.withThinkBudget(thinkBudget);
        PrintStream err = System.err;

        try (Model m = modelOptions.load()) {
            var tok = m.tokenizer();
            ModelConfig cfg = m.config();
            // the cap must leave room for every prompt; a run that lowered it before keeps its cap when resumed
            // (with a larger --limit too, as long as the new prompts fit under it)
            Path runDir = out.toAbsolutePath().normalize();
            int fit = Evaluator.fitMaxTokens(tok, s, problems, cfg.maxPositions());
            JsonNode stored = storedConfig(runDir);
            if (stored != null && stored.path("max_tokens").canConvertToInt() && stored.get("max_tokens").asInt() < fit)
                fit = stored.get("max_tokens").asInt();
            if (fit < s.maxTokens()) {
                err.printf("note: max tokens lowered from %d to %d to fit the model's context of %d%n", s.maxTokens(), fit, cfg.maxPositions());
                s = s.withMaxTokens(fit);
            }
            s = s.withBatch(batch != null ? batch : autoBatch(cfg, s));
            prepare(runDir, config(fmt, proto, s));

            err.printf(Locale.ROOT, "%s: %d problems × %d samples, T %.2f, top-p %.2f, max %d tokens, seed %d, %d problems per batch%n",
                    data.getFileName(), problems.size(), s.samples(), s.temperature(), s.topP(), s.maxTokens(), s.seed(), s.problemsPerBatch());
            Console progress = new Console(err);
            Evaluator.Result r;
            try (ClusterOption.Backend gen = cluster.open(err)) {
                r = Evaluator.evaluate(Policy.of(m), gen.generation(), problems, s, runDir, progress);
            } finally {
                progress.finish();
            }
            if (r.resumed() > 0) err.printf("%d problems were already done in %s%n", r.resumed(), runDir.resolve(Evaluator.SAMPLES));
            System.out.print(r.summary().table());
            System.out.println("samples: " + runDir.resolve(Evaluator.SAMPLES) + "\nsummary: " + runDir.resolve(Evaluator.SUMMARY));
        }
        return 0;
    }

    /** What decides the samples; a rerun into the same --out must match it (--limit, --batch, --threads may change). */
    ObjectNode config(DataFormat fmt, Protocol proto, EvalSettings s) {
        ObjectNode c = RunDir.JSON.createObjectNode();
        c.put("model", modelOptions.model.toAbsolutePath().normalize().toString());
        c.put("dtype", Dtypes.label(modelOptions.resolved));   // auto resolved: a rerun compares what was loaded
        c.put("data", data.toAbsolutePath().normalize().toString());
        c.put("format", fmt.label());
        c.put("protocol", proto.label());
        c.put("template", s.template());
        c.put("n", s.samples());
        c.put("temperature", decimal(s.temperature()));
        c.put("top_p", decimal(s.topP()));
        c.put("max_tokens", s.maxTokens());
        c.put("seed", s.seed());
        if (s.thinkBudget() >= 0) c.put("think_budget", s.thinkBudget());
        return c;
    }

    /** 0.7f as the double 0.7 (not 0.699999988…), so that a stored setting reads back equal to the flag. */
    static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    static JsonNode storedConfig(Path runDir) throws java.io.IOException {
        Path file = runDir.resolve("config.json");
        return Files.isRegularFile(file) ? RunDir.JSON.readTree(file.toFile()) : null;
    }

    /** A fresh directory gets config.json; an existing run must have been started with the same settings. */
    static void prepare(Path runDir, ObjectNode config) throws Exception {
        Path file = runDir.resolve("config.json");
        JsonNode stored = storedConfig(runDir);
        if (stored != null) {
            List<String> diffs = new ArrayList<>();
            Set<String> keys = new LinkedHashSet<>();
            stored.fieldNames().forEachRemaining(keys::add);
            config.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                JsonNode a = stored.get(k), b = config.get(k);
                if (a != null && b != null && (a.equals(b) || (a.isNumber() && b.isNumber() && a.asDouble() == b.asDouble()))) continue;
                diffs.add(k + " " + (a == null ? "(not set)" : a) + " in the run, " + (b == null ? "(not set)" : b) + " now");
            }
            if (!diffs.isEmpty())
                throw new IllegalArgumentException(runDir + " holds an evaluation with other settings: " + String.join("; ", diffs)
                        + " (only --limit, --batch, --threads and --cluster may change when resuming; or use another --out)");
            return;
        }
        if (Files.isDirectory(runDir)) {
            try (Stream<Path> files = Files.list(runDir)) {
                if (files.findAny().isPresent()) throw new IllegalArgumentException(runDir + ": not empty and not an evaluation run (no config.json)");
            }
        }
        Files.createDirectories(runDir);
        RunDir.writeAtomically(file, RunDir.JSON.writeValueAsBytes(config));
    }

    /**
     * Sequences whose KV caches (F32 k and v per layer, prompt + cap positions) fit in a quarter of physical
     * memory, at most 32 and at least one problem's n. Decode reads every weight once per step for the whole
     * batch, so wider batches are nearly free until the caches crowd memory.
     */
    static int autoBatch(ModelConfig cfg, EvalSettings s) {
        long perSeq = 2L * cfg.layers() * cfg.kvHeads() * cfg.headDim() * Float.BYTES * Math.min(cfg.maxPositions(), s.maxTokens() + 1024L);
        long memory = Runtime.getRuntime().maxMemory();
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
            memory = os.getTotalMemorySize();
        long fits = memory / 4 / Math.max(perSeq, 1);
        return (int) Math.max(s.samples(), Math.min(32, fits));
    }

    /** A progress bar on a terminal (not under CI); otherwise one plain line per finished batch. Both on stderr. */
    static final class Console implements ProgressListener {
        private final PrintStream err;
        private final boolean bar = System.console() != null && System.getenv("CI") == null;
        private boolean open;

        Console(PrintStream err) {
            this.err = err;
        }

        @Override
        public void progress(Progress p) {
            String acc = Double.isNaN(p.accuracy()) ? "-" : String.format(Locale.ROOT, "%.4f", p.accuracy());
            String eta = Double.isNaN(p.etaSeconds()) ? "?" : duration(p.etaSeconds());
            if (!bar) {
                if (p.batchDone())
                    err.printf(Locale.ROOT, "problems %d/%d  accuracy %s  tokens %d  %.1f tok/s  elapsed %s  eta %s%n", p.problemsDone(),
                            p.problemsTotal(), acc, p.tokens(), p.tokensPerSecond(), duration(p.seconds()), eta);
                return;
            }
            int width = 30, filled = (int) ((long) width * p.problemsDone() / Math.max(p.problemsTotal(), 1));
            err.printf(Locale.ROOT, "\r[%s%s] %d/%d  acc %s  %.1f tok/s  eta %s   ", "#".repeat(filled), ".".repeat(width - filled),
                    p.problemsDone(), p.problemsTotal(), acc, p.tokensPerSecond(), eta);
            err.flush();
            open = true;
        }

        void finish() {
            if (open) err.println();
            open = false;
        }

        static String duration(double s) {
            long t = Math.round(s);
            return t >= 3600 ? String.format("%dh%02dm", t / 3600, t / 60 % 60) : String.format("%dm%02ds", t / 60, t % 60);
        }
    }
}
