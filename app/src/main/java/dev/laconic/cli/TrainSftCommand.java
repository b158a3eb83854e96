package dev.laconic.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.BackendOption;
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
import java.util.function.Consumer;

@Command(name = "train-sft", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Supervised fine-tuning (full or LoRA) with AdamW; writes RUN_DIR/{config.json, metrics.jsonl, checkpoints/, final/}.",
                "Data lines, TRL's SFTTrainer shapes: {\"text\"} (loss on every token), {\"prompt\", \"completion\"} (text; loss on the "
                        + "completion and EOS), {\"messages\": [{\"role\", \"content\"}, ...]} (chat template applied; loss on the assistant turns), "
                        + "{\"prompt\": [messages], \"completion\": [messages]} (loss on the completion); and Laconic's {\"prompt\", \"response\"} "
                        + "(--template applied, loss on the response and EOS) and {\"ids\": [...], \"loss_mask\": [0|1, ...]}. "
                        + "A trained assistant turn follows the R1 generation prompt <｜Assistant｜><think>\\n with its reasoning kept.",
                "Continue a stopped run with the same command and --resume."})
public final class TrainSftCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--model", required = true, description = "Hugging Face model directory") Path model;
    @Option(names = "--data", required = true, description = "training examples, JSONL (the shapes above; - for standard input)") Path data;
    @Option(names = "--out", required = true, description = "run directory") Path out;

    @Mixin AdapterOptions adapter;
    @Option(names = "--dtype", description = "base weights in memory: " + Dtypes.AUTO + " (default: f32 with --full, whose F32 master weights take the same values either way; auto for LoRA)") String dtype;

    @Option(names = "--lr", required = true, description = "peak learning rate") double lr;
    @Option(names = "--betas", defaultValue = "0.9,0.999", split = ",", description = "AdamW betas (default: ${DEFAULT-VALUE})") List<Double> betas;
    @Option(names = "--eps", defaultValue = "1e-8", description = "AdamW eps (default: ${DEFAULT-VALUE})") double eps;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "decoupled weight decay, on every parameter (default: ${DEFAULT-VALUE})") double weightDecay;
    @Option(names = "--schedule", defaultValue = "constant", description = "constant, warmup or cosine (default: ${DEFAULT-VALUE})") String schedule;
    @Option(names = "--warmup-steps", defaultValue = "0", description = "linear warm-up steps (default: ${DEFAULT-VALUE})") int warmupSteps;
    @Option(names = "--steps", required = true, description = "optimizer steps") int steps;
    @Option(names = "--batch", defaultValue = "1", description = "examples per micro-step group (default: ${DEFAULT-VALUE})") int batch;
    @Option(names = "--grad-accum", defaultValue = "1", description = "groups per optimizer step: a step uses batch × grad-accum examples (default: ${DEFAULT-VALUE})") int gradAccum;
    @Option(names = "--micro-batch-tokens", defaultValue = "4096", description = "most tokens in one forward/backward (default: ${DEFAULT-VALUE})") int microBatchTokens;
    @Option(names = "--max-len", description = "longest example in tokens; longer ones are skipped (default: the model's context)") Integer maxLen;
    @Option(names = "--truncate", description = "cut over-long examples to --max-len instead of skipping them") boolean truncate;
    @Option(names = "--clip", defaultValue = "1.0", description = "global gradient-norm clipping, 0 = off (default: ${DEFAULT-VALUE})") double clip;
    @Option(names = "--no-shuffle", description = "use examples in file order (cycling)") boolean noShuffle;
    @Option(names = "--seed", defaultValue = "0", description = "data order and LoRA initialisation (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--template", defaultValue = "r1", description = "chat template for prompt/response lines: r1 or none (default: ${DEFAULT-VALUE})") String template;
    @Option(names = "--save-every", defaultValue = "100", description = "checkpoint every N steps, 0 = only at the end (default: ${DEFAULT-VALUE})") int saveEvery;
    @Option(names = "--keep-checkpoints", defaultValue = "0", description = "keep only the newest N checkpoints, 0 = all (default: ${DEFAULT-VALUE})") int keep;
    @Option(names = "--save-dtype", defaultValue = "auto", description = "dtype of the final model directory (full fine-tuning): auto (the base model's own), bf16 or f32 (default: ${DEFAULT-VALUE})") String saveDtype;
    @Option(names = "--resume", description = "continue the run in --out from its newest checkpoint") boolean resume;
    @Option(names = "--stop-after", description = "run at most N steps now, checkpoint, and stop (continue with --resume; default: all of --steps)") Long stopAfter;

    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;

    /** Options that a resumed run may change; every other option must match the run's config.json. */
    static final Set<String> RESUMABLE = Set.of("steps", "save_every", "keep_checkpoints");

    /** The library's faults name fields; these are the flags that set them. */
    static final Map<String, String> FLAGS = Flags.SFT;

    @Override
    public Integer call() throws Exception {
        Backend chosen = backend.backend();   // the one choice of this run, passed down
        return Flags.named(FLAGS, () -> run(chosen));
    }

    private Integer run(Backend chosen) throws Exception {
        ObjectNode config = config();
        RunDir run = new RunDir(out);
        RunOptions.check(run, config, resume, RESUMABLE);

        DType weights = parseDtype(config.get("dtype").asText(), "--dtype");   // auto resolved in config()
        try (Model m = Model.load(model, weights, chosen)) {
            int context = m.config().maxPositions();
            int len = maxLen == null ? context : maxLen;
            if (len > context) throw new IllegalArgumentException("--max-len " + len + " exceeds the model's context of " + context);
            Tokenizer tok = Files.isRegularFile(model.resolve("tokenizer.json")) ? m.tokenizer() : null;
            SftData.Loaded d = SftData.load(data, tok, SftData.Template.valueOf(template.toUpperCase(Locale.ROOT)), m.config().vocab(), len, truncate);
            PrintStream err = System.err;
            err.printf("data: %d examples (%d skipped as longer than %d tokens, %d without a loss token, %d truncated)%n",
                    d.examples().size(), d.skippedTooLong(), len, d.skippedNoLoss(), d.truncated());

            TrainableModel tm = adapter.trainable(m, seed);
            long n = tm.parameters().stream().mapToLong(p -> p.value().numel()).sum();
            err.printf("%s: %,d trainable parameters in %d tensors%n", adapter.label(), n, tm.parameters().size());

            SftTrainer.Options o = new SftTrainer.Options(new Schedule(Schedule.Kind.parse(schedule), lr, warmupSteps, steps),
                    new AdamW.Hyper(betas.get(0), betas.get(1), eps, weightDecay), clip, batch, gradAccum, microBatchTokens,
                    !noShuffle, seed, saveEvery, keep, stopAfter == null ? Long.MAX_VALUE : stopAfter, model,
                    parseDtype(config.get("save_dtype").asText(), "--save-dtype"));
            boolean resumes = RunOptions.start(run, config, resume, err);
            Progress progress = new Progress(steps, err);
            SftTrainer.Result r;
            try {
                r = SftTrainer.run(tm, d.examples(), o, run, resumes, progress);
            } finally {
                progress.finish();
            }
            if (r.completed()) System.out.println("done: " + steps + " steps; " + (adapter.full ? "model" : "PEFT adapter") + " in " + run.finalDir());
            else System.out.println("stopped after step " + r.step() + " of " + steps + "; continue with --resume");
        }
        return 0;
    }

    /** The run's options as stored in config.json (key = option name without dashes, '-' → '_'). */
    ObjectNode config() throws java.io.IOException {
        if (betas.size() != 2) throw new IllegalArgumentException("--betas takes two numbers: B1,B2");
        if (!template.equalsIgnoreCase("r1") && !template.equalsIgnoreCase("none"))
            throw new IllegalArgumentException("--template must be r1 or none, not " + template);
        ObjectNode c = RunDir.JSON.createObjectNode();
        c.put("model", model.toAbsolutePath().normalize().toString());
        c.put("data", data.toAbsolutePath().normalize().toString());
        adapter.putConfig(c);
        c.put("dtype", Dtypes.label(Dtypes.weights(dtype != null ? dtype : adapter.full ? "f32" : "auto", model, "--dtype")));
        c.put("lr", lr);
        c.putArray("betas").add(betas.get(0)).add(betas.get(1));
        c.put("eps", eps);
        c.put("weight_decay", weightDecay);
        c.put("schedule", Schedule.Kind.parse(schedule).label());
        c.put("warmup_steps", warmupSteps);
        c.put("steps", steps);
        c.put("batch", batch);
        c.put("grad_accum", gradAccum);
        c.put("micro_batch_tokens", microBatchTokens);
        if (maxLen != null) c.put("max_len", maxLen);
        c.put("truncate", truncate);
        c.put("clip", clip);
        c.put("shuffle", !noShuffle);
        c.put("seed", seed);
        c.put("template", template.toLowerCase(Locale.ROOT));
        c.put("save_every", saveEvery);
        c.put("keep_checkpoints", keep);
        c.put("save_dtype", Dtypes.label(Dtypes.save(saveDtype, model, "--save-dtype")));
        return c;
    }

    static DType parseDtype(String s, String flag) {
        return Dtypes.parse(s, flag);
    }

    /** A progress bar on a terminal (not under CI); otherwise one plain line per step. Both on stderr. */
    static final class Progress implements Consumer<OptimizerStep.Update> {
        private final int steps;
        private final PrintStream err;
        private final boolean bar = System.console() != null && System.getenv("CI") == null;
        private final long t0 = System.nanoTime();
        private long tokens, first = -1;
        private boolean open;

        Progress(int steps, PrintStream err) {
            this.steps = steps;
            this.err = err;
        }

        @Override
        public void accept(OptimizerStep.Update m) {
            if (first < 0) first = m.step() - 1;
            tokens += m.tokens();
            double s = (System.nanoTime() - t0) / 1e9, tps = tokens / Math.max(s, 1e-9);
            if (!bar) {
                err.printf(Locale.ROOT, "step %d/%d  loss %.4f  lr %.3g  grad_norm %.3g  tokens %d  %.1f tok/s%n",
                        m.step(), steps, m.loss(), m.lr(), m.gradNorm(), m.tokens(), tps);
                return;
            }
            int width = 30, filled = (int) (width * m.step() / steps);
            double eta = s / (m.step() - first) * (steps - m.step());
            err.printf(Locale.ROOT, "\r[%s%s] %d/%d  loss %.4f  %.1f tok/s  eta %s   ", "#".repeat(filled), ".".repeat(width - filled),
                    m.step(), steps, m.loss(), tps, duration(eta));
            err.flush();
            open = true;
        }

        /** Ends the bar's line (after the last step, a stop or a failure). */
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
