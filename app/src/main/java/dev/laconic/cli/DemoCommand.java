package dev.laconic.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.BackendOption;
import dev.laconic.compression.demo.DemoReport;
import dev.laconic.compression.gym.ShippedModels;
import dev.laconic.training.RunDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The main job: a reasoning model learns to think in fewer tokens, by both methods, on the gym.
 *
 * <pre>
 *   1 data      gym data (train/test, System-2 solutions; dev = the hard levels 3–4 only) and brief solutions
 *   2 models    the shipped long reasoner and short model (or fresh pretraining with --pretrain)
 *   3 baseline  eval long-reasoner, short-model on the test set; both on dev: TL;DR's reference points
 *   4 TL;DR     tldr-data: System-2 = shortest correct of k samples of the long reasoner on hard problems,
 *               System-1 = brief solutions of easy problems; compress tldr --static, then dynamic, each with
 *               tldrSeeds training seeds from the same start (a row per seed and their mean)
 *   5 RL        compress rl with α = each of --alphas (16 prompts × 8 samples per rollout, 2 epochs at FULL)
 *   6 budget    the long reasoner with a thinking budget = each method's mean reasoning length
 *   7 report    every model on the same test set, same sampling: table (overall and per level), summary.json, pareto.png
 * </pre>
 * Every stage is one of the CLI commands a user would type; the demo prints each command before running it,
 * and skips a stage whose result is already in DIR (a rerun after an interruption continues).
 */
@Command(name = "demo", sortOptions = false, mixinStandardHelpOptions = true, description = {
        "Shows what Laconic is for on the synthetic reasoning gym: a long chain-of-thought reasoner is compressed by",
        "TL;DR re-weighting and by RL with a length-penalised reward; every model is evaluated on the same test set."})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "laconic-demo", description = "run directory (default: ${DEFAULT-VALUE})") Path out;
    @Option(names = "--quick", description = "a smoke run of every stage in a few minutes (tiny test set, few steps)") boolean quick;
    @Option(names = "--seed", defaultValue = "0", description = "data, sampling and training seed (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--alphas", defaultValue = "0.1,0.2,0.4", split = ",", description = "RL length-penalty strengths (default: ${DEFAULT-VALUE})") List<String> alphas;
    @Option(names = "--pretrain", description = "pretrain the gym models here instead of using the shipped ones (slow: see README)") boolean pretrain;
    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;

    /** Sizes of one demo run. */
    /**
     * Sizes of one demo run. The dev set is the hard levels ({@link #HARD}) only, devPerLevel each: at FULL 160
     * problems, so one evaluation's standard error is ≤ √(0.25/160) = 0.040. RL: rlPrompts × rlSamples per
     * rollout, rlEpochs passes in minibatches of rlMinibatch; FULL's budget is 1,024 samples per α (8 × 16 × 8).
     */
    record Plan(int testPerLevel, int devPerLevel, int train, int s2Problems, int k, int tldrSteps, int tldrEvalEvery, int tldrSeeds,
                int rlRollouts, int rlPrompts, int rlSamples, int rlEpochs, int rlMinibatch, int maxTokens) {
        static final Plan FULL = new Plan(50, 80, 4000, 64, 4, 128, 32, 2, 8, 16, 8, 2, 32, 800);
        static final Plan QUICK = new Plan(3, 2, 400, 8, 2, 4, 2, 2, 1, 2, 2, 1, 2, 800);
    }

    /** TL;DR's dev set and System-2 data: the hard levels; its System-1 data: the easy ones. */
    static final String HARD = "3,4", EASY = "1,2";

    static final float TEMPERATURE = 0.7f;   // the TL;DR protocol's sampling, for every evaluation row

    private PrintStream log;
    private Path dir;
    private Plan plan;
    private String backendName;   // passed to every stage that computes, as a user would type it

    @Override
    public Integer call() throws Exception {
        log = System.out;
        backendName = backend.backend().name();   // chosen once here (a missing backend fails before any stage)
        dir = out.toAbsolutePath().normalize();
        plan = quick ? Plan.QUICK : Plan.FULL;
        long t0 = System.nanoTime();
        Files.createDirectories(dir);

        // 1 data
        Path data = dir.resolve("data"), s1data = dir.resolve("data-brief");
        stage("data", data.resolve("test.jsonl"), new GymCommand(), "data", "--out", data, "--seed", seed, "--train", plan.train(),
                "--dev-per-level", plan.devPerLevel(), "--dev-levels", HARD, "--test-per-level", plan.testPerLevel());
        // System-1 data for TL;DR: short chain-of-thought the model can still get right (the scratchpad without
        // verification), as the paper's short solutions of easy problems; the direct answers of the short model are
        // not learnable by a small model (it reaches ~2 %), and training on them collapses accuracy
        stage("brief (System-1) solutions", s1data.resolve("train.jsonl"), new GymCommand(), "data", "--out", s1data, "--seed", seed, "--style", "brief",
                "--train", plan.train(), "--dev-per-level", plan.devPerLevel(), "--test-per-level", plan.testPerLevel());
        Path test = data.resolve("test.jsonl"), dev = data.resolve("dev.jsonl"), train = data.resolve("train.jsonl");

        // 2 models
        Path longModel = dir.resolve("models").resolve(ShippedModels.LONG), shortModel = dir.resolve("models").resolve(ShippedModels.SHORT);
        models(longModel, shortModel);

        // 3 baseline
        List<DemoReport.Row> rows = new ArrayList<>();
        rows.add(eval(DemoReport.LONG, longModel, test, -1));
        rows.add(eval("short-model", shortModel, test, -1));
        DemoReport.Row longDev = eval("dev-long-reasoner", longModel, dev, -1), shortDev = eval("dev-short-model", shortModel, dev, -1);
        String refLong = ref(longDev), refShort = ref(shortDev);

        // 4 TL;DR
        Path s2 = dir.resolve("tldr-data-system2"), s1 = dir.resolve("tldr-data-system1");
        stage("TL;DR System-2 data", s2.resolve("data.jsonl"), new CompressTldrDataCommand(), "--model", longModel, "--data", train,
                "--format", "gym", "--out", s2, "--k", plan.k(), "--difficulty", HARD, "--limit", plan.s2Problems(),
                "--temperature", TEMPERATURE, "--max-tokens", plan.maxTokens(), "--seed", seed, "--dtype", "f32", "--backend", backendName);
        stage("TL;DR System-1 data", s1.resolve("data.jsonl"), new CompressTldrDataCommand(), "--solutions", "--data", s1data.resolve("train.jsonl"),
                "--format", "gym", "--out", s1, "--difficulty", EASY, "--limit", plan.s2Problems());
        List<DemoReport.Row> methods = new ArrayList<>();   // one (mean) row per method: the budget rows follow them
        for (boolean isStatic : new boolean[]{true, false}) {
            String method = isStatic ? "tldr-static" : "tldr-dynamic";
            List<DemoReport.Row> seeds = new ArrayList<>();
            for (int i = 0; i < plan.tldrSeeds(); i++) seeds.add(tldr(method, isStatic, seed + i, longModel, s1, s2, dev, refShort, refLong, test));
            rows.addAll(seeds);
            DemoReport.Row mean = DemoReport.mean(method, seeds);
            rows.add(mean);
            methods.add(mean);
        }

        // 5 RL
        for (String alpha : alphas) {
            String name = "rl-alpha-" + alpha;
            Path run = dir.resolve(name);
            stage(name, run.resolve("final").resolve("model.safetensors"), new CompressRlCommand(), "--model", longModel, "--data", train,
                    "--format", "gym", "--alpha", alpha, "--out", run, "--prompts-per-rollout", plan.rlPrompts(), "--samples", plan.rlSamples(),
                    "--rollouts", plan.rlRollouts(), "--max-tokens", plan.maxTokens(), "--full", "--dtype", "f32", "--lr", "5e-5",
                    "--minibatch", plan.rlMinibatch(), "--epochs", plan.rlEpochs(), "--warmup-steps", 0,
                    "--seed", seed, "--save-dtype", "f32", "--backend", backendName);
            DemoReport.Row r = eval(name, run.resolve("final"), test, -1);
            rows.add(r);
            methods.add(r);
        }

        // 6 the naive baseline: the long reasoner with its thinking cut at each method's mean reasoning length
        for (DemoReport.Row m : methods) {
            double mean = 0;
            List<String> runs = m.runDirs();
            for (String r : runs) mean += meanReasoningTokens(Path.of(r)) / runs.size();
            rows.add(eval("budget-" + m.name(), longModel, test, (int) Math.round(mean)));
        }

        // 7 report
        ObjectNode extra = RunDir.JSON.createObjectNode();
        extra.put("test_problems", 4 * plan.testPerLevel());
        extra.put("temperature", TEMPERATURE);
        extra.put("max_tokens", plan.maxTokens());
        extra.put("seed", seed);
        extra.put("quick", quick);
        extra.put("seconds", (System.nanoTime() - t0) / 1e9);
        DemoReport.write(dir, rows, extra);
        log.println();
        log.print(DemoReport.table(rows));
        log.printf(Locale.ROOT, "%nsummary: %s%npareto:  %s%nTL;DR weights: %s%nRL curves: %s%n(%.0f s)%n", dir.resolve("summary.json"),
                dir.resolve("pareto.png"), dir.resolve("tldr-dynamic-seed" + seed + "/weights.png"), dir.resolve("rl-alpha-" + alphas.getLast() + "/curves.png"),
                (System.nanoTime() - t0) / 1e9);
        log.print(DemoReport.sideBySide(rows, 24));
        return 0;
    }

    /** One TL;DR run (static or dynamic) with one training seed, from the long reasoner, and its test evaluation. */
    private DemoReport.Row tldr(String method, boolean isStatic, long runSeed, Path longModel, Path s1, Path s2, Path dev, String refShort,
                                String refLong, Path test) throws Exception {
        String name = method + "-seed" + runSeed;
        Path run = dir.resolve(name);
        List<Object> a = new ArrayList<>(List.of("--model", longModel, "--system1", s1.resolve("data.jsonl"), "--system2", s2.resolve("data.jsonl"),
                "--dev", dev, "--format", "gym", "--out", run, "--ref-short", refShort, "--ref-long", refLong,
                "--eval-every", plan.tldrEvalEvery(), "--steps", plan.tldrSteps(), "--full", "--dtype", "f32", "--lr", "5e-5",
                "--schedule", "constant", "--batch", 4, "--temperature", TEMPERATURE, "--max-tokens", plan.maxTokens(),
                "--seed", runSeed, "--save-dtype", "f32", "--backend", backendName));
        if (isStatic) a.add("--static");
        stage(name, run.resolve("final").resolve("model.safetensors"), new CompressTldrCommand(), a.toArray());
        return eval(name, run.resolve("final"), test, -1);
    }

    private void models(Path longModel, Path shortModel) throws Exception {
        if (!pretrain) {
            log.println("== models: the shipped gym checkpoints (see README: the seeded commands that made them)");
            ShippedModels.extract(ShippedModels.LONG, longModel);
            ShippedModels.extract(ShippedModels.SHORT, shortModel);
            return;
        }
        stage("pretrain long reasoner", longModel.resolve("gym_pretrain.json"), new GymCommand(), "pretrain", "--out", longModel,
                "--style", "system2", "--seed", seed, "--minutes", quick ? 0.5 : 12, "--backend", backendName);
        stage("pretrain short model", shortModel.resolve("gym_pretrain.json"), new GymCommand(), "pretrain", "--out", shortModel,
                "--style", "system1", "--seed", seed, "--minutes", quick ? 0.2 : 3, "--backend", backendName);
    }

    /** Evaluates a model on a problem set (resumable: the eval command continues its samples.jsonl). */
    private DemoReport.Row eval(String name, Path model, Path data, int thinkBudget) throws Exception {
        Path run = dir.resolve("eval").resolve(name);
        List<Object> a = new ArrayList<>(List.of("--model", model, "--data", data, "--format", "gym", "--out", run, "--n", 1,
                "--temperature", TEMPERATURE, "--top-p", 1, "--max-tokens", plan.maxTokens(), "--seed", seed, "--dtype", "f32",
                "--backend", backendName));
        if (thinkBudget >= 0) { a.add("--think-budget"); a.add(thinkBudget); }
        stage("eval " + name, run.resolve("summary.json"), new EvalCommand(), a.toArray());
        return DemoReport.Row.read(name, run);
    }

    /** "TOK,ACC" for --ref-short / --ref-long. */
    static String ref(DemoReport.Row r) {
        return String.format(Locale.ROOT, "%.4f,%.4f", r.meanTokens(), r.accuracy());
    }

    /** Mean reasoning tokens (before </think>) over the samples of an evaluation run. */
    static double meanReasoningTokens(Path run) throws IOException {
        double sum = 0;
        int n = 0;
        for (String line : Files.readAllLines(run.resolve("samples.jsonl"))) {
            if (line.isBlank()) continue;
            sum += RunDir.JSON.readTree(line).path("reasoning_tokens").asDouble();
            n++;
        }
        if (n == 0) throw new IllegalStateException(run + ": no samples");
        return sum / n;
    }

    /** Runs one CLI command (printing it as a user would type it) unless {@code done} already exists. */
    private void stage(String title, Path done, Object command, Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) a[i] = String.valueOf(args[i]);
        CommandLine cl = new CommandLine(command);
        String name = cl.getCommandName();
        if (Files.exists(done)) {
            log.println("== " + title + ": done earlier (" + done + ")");
            return;
        }
        log.println("== " + title);
        log.println("$ ./laconic " + (command instanceof CompressTldrCommand || command instanceof CompressTldrDataCommand
                || command instanceof CompressRlCommand ? "compress " : "") + name + " " + String.join(" ", a));
        int rc = cl.setExecutionExceptionHandler((e, c, parsed) -> {
            throw new IllegalStateException("demo stage '" + title + "' failed: " + e.getMessage(), e);
        }).execute(a);
        if (rc != 0) throw new IllegalStateException("demo stage '" + title + "' failed (exit " + rc + "); its output is above");
    }
}
