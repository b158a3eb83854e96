package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.BackendOption;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Evaluator;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Protocol;
import dev.laconic.compression.generation.Policy;
import dev.laconic.compression.tldr.TldrData;
import dev.laconic.tensor.DType;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Model;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "tldr-data", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Builds a TL;DR training set as {\"prompt\", \"response\"} lines in OUT/data.jsonl.",
        "With --model: samples the model --k times per problem (batched; OUT/samples.jsonl resumes when rerun) and keeps the "
                + "shortest correct completion: System-2 data from the long reasoner, System-1 data from a short model.",
        "With --solutions: the data file's own worked solutions in the R1 format (gsm8k: the answer's steps, \"#### N\" → \\boxed{N}; "
                + "gym/jsonl: the \"response\" field; math: a \"solution\" field).",
        "The sampling is the protocol's (part of the method), not the model's generation_config.json."})
public final class CompressTldrDataCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "problems, JSONL") Path data;
    @Option(names = "--format", required = true, description = "gsm8k, math, gym or jsonl (as ./laconic eval)") String format;
    @Option(names = "--out", required = true, description = "output directory: data.jsonl (and samples.jsonl, summary.json when sampling)") Path out;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--model", description = "model to sample (Hugging Face directory)") Path model;
        @Option(names = "--solutions", description = "use the data file's own worked solutions") boolean solutions;
    }

    @Option(names = "--dtype", defaultValue = "auto", description = "weights in memory with --model: " + Dtypes.AUTO + " (default: ${DEFAULT-VALUE})") String dtype;
    @Option(names = "--k", defaultValue = "8", description = "samples per problem (default: ${DEFAULT-VALUE})") int k;
    @Option(names = "--protocol", defaultValue = "tldr", description = "prompt and sampling settings: tldr or arora (default: ${DEFAULT-VALUE})") String protocol;
    @Option(names = "--temperature", description = "sampling temperature (default: the protocol's)") Float temperature;
    @Option(names = "--top-p", description = "nucleus mass (default: the protocol's)") Float topP;
    @Option(names = "--max-tokens", description = "completion cap (default: the protocol's, lowered to fit the model's context)") Integer maxTokens;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--batch", description = "sequences decoded together (default: what a quarter of the memory holds, at most 32)") Integer batch;
    @Option(names = "--limit", description = "use only the first M problems, after --difficulty (default: all)") Integer limit;
    @Option(names = "--difficulty", split = ",", description = "keep only problems of these difficulties (e.g. 3,4 for the gym's hard levels; default: all)") List<String> difficulty;

    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;   // with --model
    @Mixin ClusterOption cluster;   // with --model

    /** The library's faults name fields; these are the flags that set them. */
    static final Map<String, String> FLAGS = Flags.DATA;

    @Override
    public Integer call() throws Exception {
        return Flags.named(FLAGS, this::run);
    }

    private Integer run() throws Exception {
        DataFormat fmt = DataFormat.parse(format);
        Protocol proto = Protocol.parse(protocol);
        List<Problem> problems = TldrData.withDifficulty(fmt.load(data), difficulty == null ? List.of() : difficulty);
        if (limit != null) {
            if (limit < 1) throw new IllegalArgumentException("--limit must be ≥ 1");
            problems = problems.subList(0, Math.min(limit, problems.size()));
        }
        if (k < 1) throw new IllegalArgumentException("--k must be ≥ 1");
        EvalSettings s = proto.settings(fmt, data, seed, 1).withSamples(k);
        if (temperature != null || topP != null)
            s = s.withSampling(temperature != null ? temperature : s.temperature(), topP != null ? topP : s.topP());
        if (maxTokens != null) s = s.withMaxTokens(maxTokens);
        Path dir = out.toAbsolutePath().normalize();
        Path file = dir.resolve("data.jsonl");
        PrintStream err = System.err;

        if (source.solutions) {
            List<TldrData.Line> lines = TldrData.fromSolutions(data, fmt, problems, s);
            Files.createDirectories(dir);
            TldrData.write(file, lines);
            System.out.printf("wrote %s: %d examples from the worked solutions of %s%n", file, lines.size(), data.getFileName());
            return 0;
        }

        ModelOptions mo = new ModelOptions();
        mo.model = source.model;
        mo.dtype = dtype;
        mo.backend = backend;
        try (Model m = mo.load()) {
            var tok = m.tokenizer();
            int fit = Evaluator.fitMaxTokens(tok, s, problems, m.config().maxPositions());
            JsonNode stored = EvalCommand.storedConfig(dir);
            if (stored != null && stored.path("max_tokens").canConvertToInt() && stored.get("max_tokens").asInt() < fit)
                fit = stored.get("max_tokens").asInt();
            if (fit < s.maxTokens()) {
                err.printf("note: max tokens lowered from %d to %d to fit the model's context of %d%n", s.maxTokens(), fit, m.config().maxPositions());
                s = s.withMaxTokens(fit);
            }
            if (batch != null && batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1");
            s = s.withBatch(batch != null ? batch : EvalCommand.autoBatch(m.config(), s));
            EvalCommand.prepare(dir, config(fmt, proto, s, mo.resolved));
            err.printf(Locale.ROOT, "%s: %d problems × %d samples, T %.2f, top-p %.2f, max %d tokens, seed %d%n",
                    data.getFileName(), problems.size(), s.samples(), s.temperature(), s.topP(), s.maxTokens(), s.seed());
            EvalCommand.Console console = new EvalCommand.Console(err);
            Evaluator.Result r;
            try (ClusterOption.Backend gen = cluster.open(err)) {
                r = Evaluator.evaluate(Policy.of(m), gen.generation(), problems, s, dir, console);
            } finally {
                console.finish();
            }
            List<TldrData.Line> lines = TldrData.shortestCorrect(problems, r.samples(), s);
            TldrData.write(file, lines);
            System.out.print(r.summary().table());
            System.out.printf(Locale.ROOT, "wrote %s: %d of %d problems had a correct sample; kept the shortest, %.1f tokens on average "
                            + "(all samples: %.1f)%n", file, lines.size(), problems.size(), TldrData.meanTokens(lines),
                    r.summary().all().meanTokens());
        }
        return 0;
    }

    /** What decides the samples; a rerun into the same --out must match it. */
    ObjectNode config(DataFormat fmt, Protocol proto, EvalSettings s, DType weights) {
        ObjectNode c = RunDir.JSON.createObjectNode();
        c.put("model", source.model.toAbsolutePath().normalize().toString());
        c.put("dtype", Dtypes.label(weights));
        c.put("data", data.toAbsolutePath().normalize().toString());
        c.put("format", fmt.label());
        c.put("protocol", proto.label());
        c.put("template", s.template());
        c.put("n", s.samples());
        c.put("temperature", EvalCommand.decimal(s.temperature()));
        c.put("top_p", EvalCommand.decimal(s.topP()));
        c.put("max_tokens", s.maxTokens());
        c.put("seed", s.seed());
        if (difficulty != null) c.put("difficulty", String.join(",", difficulty));
        return c;
    }
}
