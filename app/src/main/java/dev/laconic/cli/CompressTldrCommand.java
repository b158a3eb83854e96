package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.BackendOption;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Evaluator;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.ProgressListener;
import dev.laconic.compression.eval.Protocol;
import dev.laconic.compression.eval.Summary;
import dev.laconic.compression.generation.Policy;
import dev.laconic.compression.tldr.Evaluation;
import dev.laconic.compression.tldr.References;
import dev.laconic.compression.tldr.Selection;
import dev.laconic.compression.tldr.TldrTrainer;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.training.AdamW;
import dev.laconic.training.OptimizerStep;
import dev.laconic.training.RunDir;
import dev.laconic.training.Schedule;
import dev.laconic.training.SftData;
import dev.laconic.training.SftTrainer;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "tldr", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "TL;DR (arXiv 2506.02678): SFT on a System-1/System-2 mixture whose weights move with the model's dev length and accuracy.",
        "Every --eval-every steps: dev evaluation (n = 1) of the current weights, w ← softmax(log w + eta·[b_short, b_long]), checkpoint. "
                + "At the end the checkpoint with the fewest dev tokens among those above (1 − tolerance)·acc_long goes to RUN_DIR/final.",
                "The dev sampling is the protocol's (part of the method), not the model's generation_config.json. Training lines: as train-sft's --data.",
        "Writes RUN_DIR/{config.json, reference.json, metrics.jsonl, checkpoints/, evals/, summary.json, weights.png, final/}; "
                + "continue a stopped run with the same command and --resume."})
public final class CompressTldrCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--model", required = true, description = "the long reasoner to compress (Hugging Face directory)") Path model;
    @Option(names = "--system1", required = true, description = "System-1 (short) examples, JSONL as train-sft's --data ({\"prompt\", \"response\"}, TRL's shapes, ...)") Path system1;
    @Option(names = "--system2", required = true, description = "System-2 (long) examples, JSONL as train-sft's --data") Path system2;
    @Option(names = "--dev", required = true, description = "dev problems for the evaluations") Path dev;
    @Option(names = "--format", required = true, description = "dev file format: gsm8k, math, gym or jsonl (as ./laconic eval)") String format;
    @Option(names = "--out", required = true, description = "run directory") Path out;

    @Option(names = "--ref-short", description = "System-1 reference point TOKENS,ACCURACY (default: measured on --short-model; one of the two is needed)") String refShort;
    @Option(names = "--short-model", description = "short-answer model whose dev tokens and accuracy are the System-1 reference (default: none, give --ref-short)") Path shortModel;
    @Option(names = "--ref-long", description = "System-2 reference point TOKENS,ACCURACY (default: measured on the starting model)") String refLong;
    @Option(names = "--eta", defaultValue = "4", description = "step size of the weight update (default: ${DEFAULT-VALUE})") double eta;
    @Option(names = "--smoothing", defaultValue = "1e-4", description = "c in w ← (1 − c)·w + c/2 (default: ${DEFAULT-VALUE})") double smoothing;
    @Option(names = "--eval-every", defaultValue = "32", description = "K: optimizer steps between evaluations and weight updates (default: ${DEFAULT-VALUE})") int evalEvery;
    @Option(names = "--steps", defaultValue = "2000", description = "optimizer steps (default: ${DEFAULT-VALUE})") int steps;
    @Option(names = "--static", description = "keep w = [0.5, 0.5] (the paper's ablation); evaluations and selection as usual") boolean staticMix;
    @Option(names = "--tolerance", defaultValue = "0.3", description = "final selection: accuracy must exceed (1 − tolerance)·acc_long (default: ${DEFAULT-VALUE})") double tolerance;

    @Option(names = "--protocol", defaultValue = "tldr", description = "dev sampling settings and prompt: tldr or arora (default: ${DEFAULT-VALUE})") String protocol;
    @Option(names = "--temperature", description = "dev sampling temperature (default: the protocol's, 0.7)") Float temperature;
    @Option(names = "--top-p", description = "dev nucleus mass (default: the protocol's, 1.0)") Float topP;
    @Option(names = "--max-tokens", description = "dev completion cap (default: the protocol's, lowered to fit the model's context)") Integer maxTokens;
    @Option(names = "--dev-limit", description = "use only the first M dev problems (default: all)") Integer devLimit;
    @Option(names = "--eval-batch", description = "dev sequences decoded together (default: what a quarter of the memory holds, at most 32)") Integer evalBatch;

    @Mixin AdapterOptions adapter;
    @Option(names = "--dtype", description = "base weights in memory: " + Dtypes.AUTO + " (default: f32 with --full, whose F32 master weights take the same values either way; auto for LoRA)") String dtype;
    @Option(names = "--lr", defaultValue = "1e-5", description = "learning rate (default: ${DEFAULT-VALUE}, the paper's)") double lr;
    @Option(names = "--betas", defaultValue = "0.9,0.999", split = ",", description = "AdamW betas (default: ${DEFAULT-VALUE})") List<Double> betas;
    @Option(names = "--eps", defaultValue = "1e-8", description = "AdamW eps (default: ${DEFAULT-VALUE})") double eps;
    @Option(names = "--weight-decay", defaultValue = "0", description = "decoupled weight decay (default: ${DEFAULT-VALUE}, the paper's)") double weightDecay;
    @Option(names = "--schedule", defaultValue = "warmup", description = "constant, warmup or cosine (default: ${DEFAULT-VALUE}: linear warm-up, then constant)") String schedule;
    @Option(names = "--warmup-steps", description = "linear warm-up steps (default: 1 %% of --steps, the paper's)") Integer warmupSteps;
    @Option(names = "--batch", defaultValue = "1", description = "examples per micro-step group (default: ${DEFAULT-VALUE})") int batch;
    @Option(names = "--grad-accum", defaultValue = "1", description = "groups per optimizer step (default: ${DEFAULT-VALUE})") int gradAccum;
    @Option(names = "--micro-batch-tokens", defaultValue = "4096", description = "most tokens in one forward/backward (default: ${DEFAULT-VALUE})") int microBatchTokens;
    @Option(names = "--max-len", description = "longest example in tokens; longer ones are skipped (default: the model's context)") Integer maxLen;
    @Option(names = "--truncate", description = "cut over-long examples to --max-len instead of skipping them") boolean truncate;
    @Option(names = "--clip", defaultValue = "1.0", description = "global gradient-norm clipping, 0 = off (default: ${DEFAULT-VALUE})") double clip;
    @Option(names = "--no-shuffle", description = "read each domain in file order (cycling)") boolean noShuffle;
    @Option(names = "--seed", defaultValue = "0", description = "data order, domain buffers, LoRA initialisation and dev sampling (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--template", defaultValue = "r1", description = "chat template of the training lines: r1 or none (default: ${DEFAULT-VALUE})") String template;
    @Option(names = "--keep-checkpoints", defaultValue = "1", description = "keep the newest N checkpoints besides the selected one, 0 = all (default: ${DEFAULT-VALUE})") int keep;
    @Option(names = "--save-dtype", defaultValue = "auto", description = "dtype of RUN_DIR/final: auto (the base model's own), bf16 or f32 (default: ${DEFAULT-VALUE})") String saveDtype;
    @Option(names = "--resume", description = "continue the run in --out from its newest checkpoint") boolean resume;
    @Option(names = "--stop-after", description = "run at most N steps now, checkpoint, and stop (continue with --resume; default: all of --steps)") Long stopAfter;

    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;
    @Mixin ClusterOption cluster;

    /** Options a resumed run may change; every other one must match config.json. */
    static final Set<String> RESUMABLE = Set.of("keep_checkpoints", "eval_batch");

    /** The library's faults name fields; these are the flags that set them. */
    static final Map<String, String> FLAGS = Flags.with(Flags.SFT, Map.of("evalEvery", "--eval-every", "eta", "--eta",
            "smoothing", "--smoothing", "tolerance", "--tolerance", "evalEvery × batch × gradAccum", "--eval-every × --batch × --grad-accum"));

    @Override
    public Integer call() throws Exception {
        Backend chosen = backend.backend();   // the one choice of this run, passed down
        return Flags.named(FLAGS, () -> run(chosen));
    }

    private Integer run(Backend chosen) throws Exception {
        if (refShort == null && shortModel == null) throw new IllegalArgumentException("give --ref-short TOKENS,ACCURACY or --short-model DIR");
        if (refShort != null && shortModel != null) throw new IllegalArgumentException("give --ref-short or --short-model, not both");
        References.Point givenShort = refShort == null ? null : References.Point.parse(refShort, "--ref-short");
        References.Point givenLong = refLong == null ? null : References.Point.parse(refLong, "--ref-long");
        DataFormat fmt = DataFormat.parse(format);
        Protocol proto = Protocol.parse(protocol);
        List<Problem> problems = fmt.load(dev);
        if (devLimit != null) {
            if (devLimit < 1) throw new IllegalArgumentException("--dev-limit must be ≥ 1");
            problems = problems.subList(0, Math.min(devLimit, problems.size()));
        }
        RunDir run = new RunDir(out);
        RunOptions.refuseWithoutResume(run, resume);   // before the model is loaded
        PrintStream err = System.err;

        DType weights = Dtypes.weights(dtype != null ? dtype : adapter.full ? "f32" : "auto", model, "--dtype");
        DType save = Dtypes.save(saveDtype, model, "--save-dtype");
        try (Model m = Model.load(model, weights, chosen)) {
            Tokenizer tok = m.tokenizer();
            int context = m.config().maxPositions();
            int len = maxLen == null ? context : maxLen;
            if (len > context) throw new IllegalArgumentException("--max-len " + len + " exceeds the model's context of " + context);
            SftData.Template tpl = parseTemplate();
            SftData.Loaded d1 = SftData.load(system1, tok, tpl, m.config().vocab(), len, truncate);
            SftData.Loaded d2 = SftData.load(system2, tok, tpl, m.config().vocab(), len, truncate);
            for (var e : List.of(java.util.Map.entry("System-1", d1), java.util.Map.entry("System-2", d2)))
                err.printf("%s: %d examples (%d skipped as longer than %d tokens, %d without a loss token, %d truncated)%n", e.getKey(),
                        e.getValue().examples().size(), e.getValue().skippedTooLong(), len, e.getValue().skippedNoLoss(), e.getValue().truncated());

            EvalSettings s = evalSettings(fmt, proto, tok, problems, m.config(), run);
            ObjectNode config = config(fmt, proto, s, weights, save);
            RunOptions.check(run, config, resume, RESUMABLE);
            boolean resumes = RunOptions.start(run, config, resume, err);

            TrainableModel tm = adapter.trainable(m, seed);
            long n = tm.parameters().stream().mapToLong(p -> p.value().numel()).sum();
            err.printf("%s: %,d trainable parameters in %d tensors%n", adapter.label(), n, tm.parameters().size());
            err.printf(Locale.ROOT, "dev: %d problems, n 1, T %.2f, top-p %.2f, max %d tokens, seed %d, %d per batch%n",
                    problems.size(), s.temperature(), s.topP(), s.maxTokens(), s.seed(), s.problemsPerBatch());

            TrainSftCommand.Progress progress = new TrainSftCommand.Progress(steps, err);
            EvalCommand.Console console = new EvalCommand.Console(err);
            TldrTrainer.Listener listener = new TldrTrainer.Listener() {
                @Override
                public void step(OptimizerStep.Update sm, int s1, int s2) {
                    progress.accept(sm);
                }

                @Override
                public void evaluating(long step) {
                    progress.finish();
                    err.println("evaluating the dev set at step " + step);
                }

                @Override
                public ProgressListener evalProgress() {
                    return console;
                }

                @Override
                public void evaluated(Evaluation e, Summary sum) {
                    console.finish();
                    err.printf(Locale.ROOT, "step %d: dev accuracy %.4f, %.1f tokens (%.0f s); b_short %.3f, b_long %.3f → w = [%.4f, %.4f]%n",
                            e.step(), e.accuracy(), e.tokens(), e.seconds(), e.bShort(), e.bLong(), e.wShort(), e.wLong());
                }
            };

            boolean cached = Files.isRegularFile(run.dir().resolve(References.FILE));
            if (!cached && (givenShort == null || givenLong == null)) err.println("measuring the reference points on the dev set");
            References refs;
            ClusterOption.Backend gen = cluster.open(err);
            try {
                refs = TldrTrainer.references(run, givenShort, shortModel, weights, givenLong, Policy.trained(tm, tok, model, 0), problems, s,
                        listener, gen.generation());
            } catch (RuntimeException | java.io.IOException e) {
                gen.close();
                throw e;
            } finally {
                console.finish();
            }
            err.printf(Locale.ROOT, "reference points%s: short %.1f tokens / %.4f accuracy, long %.1f tokens / %.4f accuracy "
                            + "(reuse with --ref-short %s --ref-long %s)%n", cached ? " (cached in " + References.FILE + ")" : "",
                    refs.shortRef().tokens(), refs.shortRef().accuracy(), refs.longRef().tokens(), refs.longRef().accuracy(),
                    refs.shortRef().flagValue(), refs.longRef().flagValue());

            TldrTrainer.Options o = new TldrTrainer.Options(trainingOptions(save), evalEvery, eta, smoothing, !staticMix, tolerance, s);
            TldrTrainer.Result r;
            try (gen) {
                r = TldrTrainer.run(tm, tok, d1.examples(), d2.examples(), problems, refs, o, run, resumes, listener, gen.generation());
            } finally {
                progress.finish();
                console.finish();
            }
            if (!r.completed()) {
                System.out.println("stopped after step " + r.step() + " of " + steps + "; continue with --resume");
                return 0;
            }
            Selection.Choice c = r.choice();
            Evaluation e = c.evaluation();
            if (!c.eligible())
                err.printf(Locale.ROOT, "warning: no checkpoint reached the accuracy bar %.4f; RUN_DIR/final holds the most accurate one%n", c.threshold());
            System.out.printf(Locale.ROOT, "selected step %d: dev accuracy %.4f (long %.4f), %.1f tokens (long %.1f, %.1f %% fewer)%s%n",
                    e.step(), e.accuracy(), refs.longRef().accuracy(), e.tokens(), refs.longRef().tokens(),
                    100 * (1 - e.tokens() / refs.longRef().tokens()), c.eligible() ? "" : " [not eligible]");
            System.out.println("model: " + run.finalDir() + "\nsummary: " + run.dir().resolve("summary.json")
                    + "\nplot: " + run.dir().resolve("weights.png"));
        }
        return 0;
    }

    /** The dev settings: the protocol's for the format, n = 1, flags override, the cap fitted to the context. */
    EvalSettings evalSettings(DataFormat fmt, Protocol proto, Tokenizer tok, List<Problem> problems, ModelConfig cfg, RunDir run) throws Exception {
        int context = cfg.maxPositions();
        EvalSettings s = proto.settings(fmt, dev, seed, 1).withSamples(1);
        if (temperature != null || topP != null)
            s = s.withSampling(temperature != null ? temperature : s.temperature(), topP != null ? topP : s.topP());
        if (maxTokens != null) s = s.withMaxTokens(maxTokens);
        int fit = Evaluator.fitMaxTokens(tok, s, problems, context);
        if (resume && Files.isRegularFile(run.config())) {
            JsonNode stored = run.readConfig().path("max_tokens");
            if (stored.canConvertToInt() && stored.asInt() < fit) fit = stored.asInt();
        }
        if (fit < s.maxTokens()) {
            System.err.printf("note: dev max tokens lowered from %d to %d to fit the model's context of %d%n", s.maxTokens(), fit, context);
            s = s.withMaxTokens(fit);
        }
        if (evalBatch != null && evalBatch < 1) throw new IllegalArgumentException("--eval-batch must be ≥ 1");
        return s.withBatch(evalBatch != null ? evalBatch : EvalCommand.autoBatch(cfg, s));
    }

    SftTrainer.Options trainingOptions(DType save) {
        int warmup = warmupSteps != null ? warmupSteps : (int) Math.round(0.01 * steps);
        return new SftTrainer.Options(new Schedule(Schedule.Kind.parse(schedule), lr, warmup, steps),
                new AdamW.Hyper(betas.get(0), betas.get(1), eps, weightDecay), clip, batch, gradAccum, microBatchTokens,
                !noShuffle, seed, 0, keep, stopAfter == null ? Long.MAX_VALUE : stopAfter, model,
                save);
    }

    SftData.Template parseTemplate() {
        return switch (template.toLowerCase(Locale.ROOT)) {
            case "r1" -> SftData.Template.R1;
            case "none" -> SftData.Template.NONE;
            default -> throw new IllegalArgumentException("--template must be r1 or none, not " + template);
        };
    }

    /** The run's options as config.json stores them (key = option name without dashes, '-' → '_'). */
    ObjectNode config(DataFormat fmt, Protocol proto, EvalSettings s, DType weights, DType save) {
        if (betas.size() != 2) throw new IllegalArgumentException("--betas takes two numbers: B1,B2");
        ObjectNode c = RunDir.JSON.createObjectNode();
        c.put("method", "tldr");
        c.put("model", model.toAbsolutePath().normalize().toString());
        c.put("system1", system1.toAbsolutePath().normalize().toString());
        c.put("system2", system2.toAbsolutePath().normalize().toString());
        c.put("dev", dev.toAbsolutePath().normalize().toString());
        c.put("format", fmt.label());
        if (devLimit != null) c.put("dev_limit", devLimit);
        if (refShort != null) c.put("ref_short", refShort);
        if (shortModel != null) c.put("short_model", shortModel.toAbsolutePath().normalize().toString());
        if (refLong != null) c.put("ref_long", refLong);
        c.put("eta", eta);
        c.put("smoothing", smoothing);
        c.put("eval_every", evalEvery);
        c.put("steps", steps);
        c.put("static", staticMix);
        c.put("tolerance", tolerance);
        c.put("protocol", proto.label());
        c.put("eval_template", s.template());
        c.put("temperature", EvalCommand.decimal(s.temperature()));
        c.put("top_p", EvalCommand.decimal(s.topP()));
        c.put("max_tokens", s.maxTokens());
        c.put("eval_batch", s.batch());
        adapter.putConfig(c);
        c.put("dtype", Dtypes.label(weights));
        c.put("lr", lr);
        c.putArray("betas").add(betas.get(0)).add(betas.get(1));
        c.put("eps", eps);
        c.put("weight_decay", weightDecay);
        c.put("schedule", Schedule.Kind.parse(schedule).label());
        c.put("warmup_steps", warmupSteps != null ? warmupSteps : (int) Math.round(0.01 * steps));
        c.put("batch", batch);
        c.put("grad_accum", gradAccum);
        c.put("micro_batch_tokens", microBatchTokens);
        if (maxLen != null) c.put("max_len", maxLen);
        c.put("truncate", truncate);
        c.put("clip", clip);
        c.put("shuffle", !noShuffle);
        c.put("seed", seed);
        c.put("template", template.toLowerCase(Locale.ROOT));
        c.put("keep_checkpoints", keep);
        c.put("save_dtype", Dtypes.label(save));
        return c;
    }
}
