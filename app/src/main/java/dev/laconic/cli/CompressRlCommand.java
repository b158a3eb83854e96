package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.BackendOption;
import dev.laconic.compression.eval.DataFormat;
import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Evaluator;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Protocol;
import dev.laconic.compression.eval.Summary;
import dev.laconic.compression.rl.PolicyLoss;
import dev.laconic.compression.rl.RlTrainer;
import dev.laconic.compression.rl.Rollout;
import dev.laconic.compression.rl.RolloutMetrics;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.training.AdamW;
import dev.laconic.training.RunDir;
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

@Command(name = "rl", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Method B (Arora & Zanette): RL with the length-penalised correctness reward 1 − α·σ(z(len)) for correct samples, "
                + "0 otherwise; RLOO advantages, k1 KL to the starting model, whitening, PPO clipping.",
                "Writes RUN_DIR/{config.json, metrics.jsonl (one line per rollout), eval.jsonl, curves.png, checkpoints/, final/}. "
                        + "Continue a stopped run with the same command and --resume.",
                "Rollout and dev sampling are the method's settings below, not the model's generation_config.json."})
public final class CompressRlCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--model", required = true, description = "Hugging Face model directory (the starting policy and the KL reference)") Path model;
    @Option(names = "--data", required = true, description = "training problems, JSONL") Path data;
    @Option(names = "--format", required = true, description = "gsm8k, math, gym or jsonl (as `eval`)") String format;
    @Option(names = "--alpha", required = true, description = "length penalty α in [0, 1); 0 = plain correctness RL") double alpha;
    @Option(names = "--out", required = true, description = "run directory") Path out;

    @Option(names = "--prompts-per-rollout", defaultValue = "32", description = "P (default: ${DEFAULT-VALUE})") int prompts;
    @Option(names = "--samples", defaultValue = "8", description = "n samples per prompt, ≥ 2 (default: ${DEFAULT-VALUE})") int samples;
    @Option(names = "--rollouts", defaultValue = "100", description = "rollouts in the run (default: ${DEFAULT-VALUE})") int rollouts;
    @Option(names = "--max-tokens", description = "generation cap; a sample cut there is wrong (default: 32000, lowered to fit the model's context)") Integer maxTokens;
    @Option(names = "--temperature", defaultValue = "1.0", description = "rollout sampling temperature (default: ${DEFAULT-VALUE})") float temperature;
    @Option(names = "--top-p", defaultValue = "1.0", description = "rollout nucleus mass (default: ${DEFAULT-VALUE})") float topP;
    @Option(names = "--kl", defaultValue = "0.001", description = "β of the per-token KL penalty (default: ${DEFAULT-VALUE})") double kl;
    @Option(names = "--clip-eps", defaultValue = "0.2", description = "PPO ε (default: ${DEFAULT-VALUE})") double clipEps;
    @Option(names = "--minibatch", defaultValue = "128", description = "sequences per optimizer step (default: ${DEFAULT-VALUE})") int minibatch;
    @Option(names = "--epochs", defaultValue = "1", description = "passes over each rollout (default: ${DEFAULT-VALUE})") int epochs;
    @Option(names = "--loss-agg", defaultValue = "seq-mean", description = "seq-mean (per-sequence mean, then mean; the authors') or token-mean (default: ${DEFAULT-VALUE})") String lossAgg;
    @Option(names = "--template", description = "user turn with {problem} in it, \\n for a newline (default: Method B's instruction + \"Question: \" + problem; gym: the problem alone)") String template;

    @Option(names = "--eval", description = "dev problems (same --format), evaluated on the current weights (on the cluster with --cluster) (default: none, no evaluation)") Path evalData;
    @Option(names = "--eval-every", defaultValue = "0", description = "evaluate every K rollouts; always before the first and after the last (default: ${DEFAULT-VALUE})") int evalEvery;
    @Option(names = "--eval-limit", description = "evaluate only the first M dev problems (default: all)") Integer evalLimit;
    @Option(names = "--eval-n", defaultValue = "1", description = "samples per dev problem (default: ${DEFAULT-VALUE})") int evalN;
    @Option(names = "--eval-temperature", defaultValue = "0.6", description = "dev sampling temperature, Method B's protocol (default: ${DEFAULT-VALUE})") float evalTemperature;
    @Option(names = "--eval-max-tokens", description = "dev generation cap (default: --max-tokens)") Integer evalMaxTokens;

    @Mixin AdapterOptions adapter;
    @Option(names = "--dtype", description = "base weights in memory: " + Dtypes.AUTO + " (default: f32 with --full, whose F32 master weights take the same values either way; auto for LoRA)") String dtype;
    @Option(names = "--lr", required = true, description = "learning rate after the warm-up (the authors: 5e-6 for 1.5B, 2e-6 for 7B, full fine-tuning)") double lr;
    @Option(names = "--warmup-steps", defaultValue = "6", description = "linear warm-up in optimizer steps, then constant (default: ${DEFAULT-VALUE})") int warmupSteps;
    @Option(names = "--betas", defaultValue = "0.9,0.95", split = ",", description = "Adam betas (default: ${DEFAULT-VALUE})") List<Double> betas;
    @Option(names = "--eps", defaultValue = "1e-8", description = "Adam eps (default: ${DEFAULT-VALUE})") double eps;
    @Option(names = "--weight-decay", defaultValue = "0", description = "decoupled weight decay (default: ${DEFAULT-VALUE})") double weightDecay;
    @Option(names = "--clip", defaultValue = "1.0", description = "gradient-norm clipping, 0 = off (default: ${DEFAULT-VALUE})") double clip;
    @Option(names = "--micro-batch-tokens", defaultValue = "16384", description = "most tokens in one forward/backward (default: ${DEFAULT-VALUE})") int microBatchTokens;
    @Option(names = "--gen-batch", defaultValue = "64", description = "sequences decoded together, whole prompts (default: ${DEFAULT-VALUE})") int genBatch;
    @Option(names = "--seed", defaultValue = "0", description = "prompt order, sampling, minibatch order, LoRA initialisation (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--save-every", defaultValue = "10", description = "checkpoint every N rollouts, 0 = only at the end (default: ${DEFAULT-VALUE})") int saveEvery;
    @Option(names = "--keep-checkpoints", defaultValue = "0", description = "keep only the newest N checkpoints, 0 = all (default: ${DEFAULT-VALUE})") int keep;
    @Option(names = "--save-dtype", description = "dtype of the final model directory: auto (the base model's own), bf16 or f32 (default: auto)") String saveDtype;
    @Option(names = "--resume", description = "continue the run in --out from its newest checkpoint") boolean resume;
    @Option(names = "--stop-after", description = "run at most N rollouts now, checkpoint, and stop (continue with --resume; default: all of --rollouts)") Long stopAfter;

    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;
    @Mixin ClusterOption cluster;

    /** Options that a resumed run may change; every other option must match the run's config.json. */
    static final Set<String> RESUMABLE = Set.of("rollouts", "save_every", "keep_checkpoints");

    /** The library's faults name fields; these are the flags that set them. */
    static final Map<String, String> FLAGS = Flags.with(Flags.DATA, Map.ofEntries(Map.entry("alpha", "--alpha"),
            Map.entry("promptsPerRollout", "--prompts-per-rollout"), Map.entry("rollouts", "--rollouts"), Map.entry("beta", "--kl"),
            Map.entry("clipEps", "--clip-eps"), Map.entry("minibatch", "--minibatch"), Map.entry("epochs", "--epochs"),
            Map.entry("microBatchTokens", "--micro-batch-tokens"), Map.entry("clip", "--clip"),
            Map.entry("saveEvery and keep", "--save-every and --keep-checkpoints"), Map.entry("stopAfter", "--stop-after"),
            Map.entry("samples", "--samples"), Map.entry("maxTokens", "--max-tokens"), Map.entry("batch", "--gen-batch"),
            Map.entry("aggregation", "--loss-agg"), Map.entry("betas", "--betas"), Map.entry("eps", "--eps"),
            Map.entry("weightDecay", "--weight-decay"), Map.entry("lr", "--lr"), Map.entry("warmupSteps", "--warmup-steps"),
            Map.entry("eval every", "--eval-every"), Map.entry("eval problems", "--eval")));

    @Override
    public Integer call() throws Exception {
        Backend chosen = backend.backend();   // the one choice of this run, passed down
        return Flags.named(FLAGS, () -> run(chosen));
    }

    private Integer run(Backend chosen) throws Exception {
        DataFormat fmt = DataFormat.parse(format);
        List<Problem> train = fmt.load(data);
        List<Problem> dev = null;
        if (evalData != null) {
            dev = fmt.load(evalData);
            if (evalLimit != null) {
                if (evalLimit < 1) throw new IllegalArgumentException("--eval-limit must be ≥ 1");
                dev = dev.subList(0, Math.min(evalLimit, dev.size()));
            }
        } else if (spec != null && spec.commandLine() != null && spec.commandLine().getParseResult() != null) {
            for (String o : List.of("--eval-every", "--eval-limit", "--eval-n", "--eval-temperature", "--eval-max-tokens"))
                if (spec.commandLine().getParseResult().hasMatchedOption(o)) throw new IllegalArgumentException(o + " needs --eval DEV.jsonl");
        }
        String userTurn = template != null ? template.replace("\\n", "\n") : Protocol.ARORA.template(fmt);
        PrintStream err = System.err;
        RunDir run = new RunDir(out);
        DType weights = Dtypes.weights(dtype != null ? dtype : adapter.full ? "f32" : "auto", model, "--dtype");

        try (Model m = Model.load(model, weights, chosen)) {
            Tokenizer tok = m.tokenizer();
            int context = m.config().maxPositions();
            int longest = 0;
            for (Problem p : train) longest = Math.max(longest, Rollout.promptIds(tok, userTurn, p).length);
            int room = context - longest;
            if (room < 1) throw new IllegalArgumentException("the longest training prompt has " + longest + " tokens: no room in the model's context of " + context);
            int cap = maxTokens != null ? maxTokens : Math.min(32000, room);
            if (cap > room) throw new IllegalArgumentException("--max-tokens " + cap + " + the longest prompt (" + longest + " tokens) exceed the model's context of " + context);
            Rollout.Sampling sampling = new Rollout.Sampling(userTurn, samples, temperature, topP, cap, seed, genBatch);
            RlTrainer.Eval eval = null;
            if (dev != null) {
                EvalSettings es = new EvalSettings(userTurn, evalN, evalTemperature, 1f, evalMaxTokens != null ? evalMaxTokens : cap, seed, genBatch);
                int fit = Evaluator.fitMaxTokens(tok, es, dev, context);
                if (fit < es.maxTokens()) throw new IllegalArgumentException("--eval-max-tokens " + es.maxTokens() + " does not fit the model's context of "
                        + context + " with the longest dev prompt (at most " + fit + ")");
                eval = new RlTrainer.Eval(dev, es, evalEvery);
            }
            DType save = Dtypes.save(saveDtype, model, "--save-dtype");
            if (betas.size() != 2) throw new IllegalArgumentException("--betas takes two numbers: B1,B2");
            RlTrainer.Options o = new RlTrainer.Options(alpha, prompts, sampling, rollouts, kl, clipEps, minibatch, epochs,
                    PolicyLoss.Aggregation.parse(lossAgg), lr, warmupSteps, new AdamW.Hyper(betas.get(0), betas.get(1), eps, weightDecay),
                    clip, microBatchTokens, seed, saveEvery, keep, stopAfter == null ? Long.MAX_VALUE : stopAfter, model, save);

            ObjectNode config = config(o, fmt, eval, weights);
            RunOptions.check(run, config, resume, RESUMABLE);

            TrainableModel tm = adapter.trainable(m, seed);
            long n = tm.parameters().stream().mapToLong(p -> p.value().numel()).sum();
            err.printf(Locale.ROOT, "%s: %,d trainable parameters; %d training problems; %d prompts × %d samples per rollout, cap %d tokens, "
                            + "%d optimizer steps per rollout%n", adapter.label(), n, train.size(), prompts, samples, cap,
                    o.stepsPerRollout());
            boolean resumes = RunOptions.start(run, config, resume, err);
            RlTrainer.Result r;
            try (ClusterOption.Backend gen = cluster.open(err)) {
                r = RlTrainer.run(tm, adapter.full ? m.transformer() : null, tok, train, o, eval, run, resumes, Rollout.checker(tok),
                        new Progress(rollouts, err), gen.generation());
            }
            if (r.completed()) System.out.println("done: " + rollouts + " rollouts; " + (adapter.full ? "model in " + run.finalDir()
                    : "PEFT adapter in " + run.finalDir() + ", merged model in " + run.dir().resolve(RlTrainer.MERGED)));
            else System.out.println("stopped after rollout " + r.step() + " of " + rollouts + "; continue with --resume");
        }
        return 0;
    }

    /** The run's options as stored in config.json (key = option name without dashes, '-' → '_'). */
    ObjectNode config(RlTrainer.Options o, DataFormat fmt, RlTrainer.Eval eval, DType weights) {
        ObjectNode c = RunDir.JSON.createObjectNode();
        c.put("method", "rl-length-penalty");
        c.put("model", model.toAbsolutePath().normalize().toString());
        c.put("data", data.toAbsolutePath().normalize().toString());
        c.put("format", fmt.label());
        c.put("alpha", o.alpha());
        c.put("template", o.sampling().template());
        c.put("prompts_per_rollout", o.promptsPerRollout());
        c.put("samples", o.sampling().samples());
        c.put("rollouts", o.rollouts());
        c.put("max_tokens", o.sampling().maxTokens());
        c.put("temperature", EvalCommand.decimal(o.sampling().temperature()));
        c.put("top_p", EvalCommand.decimal(o.sampling().topP()));
        c.put("kl", o.beta());
        c.put("clip_eps", o.clipEps());
        c.put("minibatch", o.minibatch());
        c.put("epochs", o.epochs());
        c.put("loss_agg", o.aggregation().label());
        adapter.putConfig(c);
        c.put("dtype", weights == DType.BF16 ? "bf16" : "f32");
        c.put("lr", o.lr());
        c.put("warmup_steps", o.warmupSteps());
        c.putArray("betas").add(o.hyper().beta1()).add(o.hyper().beta2());
        c.put("eps", o.hyper().eps());
        c.put("weight_decay", o.hyper().weightDecay());
        c.put("clip", o.clip());
        c.put("micro_batch_tokens", o.microBatchTokens());
        c.put("seed", o.seed());
        c.put("save_every", o.saveEvery());
        c.put("keep_checkpoints", o.keep());
        c.put("save_dtype", o.saveDtype() == DType.BF16 ? "bf16" : "f32");
        if (eval != null) {
            c.put("eval", evalData.toAbsolutePath().normalize().toString());
            c.put("eval_every", eval.every());
            c.put("eval_problems", eval.problems().size());
            c.put("eval_n", eval.settings().samples());
            c.put("eval_temperature", EvalCommand.decimal(eval.settings().temperature()));
            c.put("eval_max_tokens", eval.settings().maxTokens());
        }
        return c;
    }

    /** One line per rollout and per evaluation, on stderr. */
    static final class Progress implements RlTrainer.Listener {
        private final int rollouts;
        private final PrintStream err;

        Progress(int rollouts, PrintStream err) {
            this.rollouts = rollouts;
            this.err = err;
        }

        @Override
        public void rollout(RolloutMetrics m, RlTrainer.Timing t) {
            err.printf(Locale.ROOT, "rollout %d/%d  reward %.3f  acc %.3f  len %.1f (correct %.1f)  cut %.3f  all-wrong %d  kl %.2e  "
                            + "clip %.3f  |g| %.3g  lr %.2g  gen %.1fs (%.0f tok/s)  score %.1fs  train %.1fs%n",
                    m.step(), rollouts, m.reward(), m.accuracy(), m.meanLength(), m.meanLengthCorrect(), m.clippedRatio(),
                    m.allWrongGroups(), m.kl(), m.clipFraction(), m.gradNorm(), m.lr(), t.generate(), m.tokens() / Math.max(t.generate(), 1e-9),
                    t.score(), t.train());
        }

        @Override
        public void evaluated(long step, Summary.Metrics m) {
            err.printf(Locale.ROOT, "eval after rollout %d: accuracy %.4f  mean tokens %.1f  truncated %.3f  (%d problems × %d)%n",
                    step, m.accuracy(), m.meanTokens(), m.truncatedRate(), m.problems(), m.n());
        }
    }
}
