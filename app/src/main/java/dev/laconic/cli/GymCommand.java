package dev.laconic.cli;

import dev.laconic.bench.BackendOption;
import dev.laconic.compression.gym.GymData;
import dev.laconic.compression.gym.GymFormat;
import dev.laconic.compression.gym.GymModel;
import dev.laconic.compression.gym.GymPretrain;
import dev.laconic.compression.gym.Problem;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "gym", mixinStandardHelpOptions = true, description = "The synthetic reasoning gym: generated arithmetic problems, long (System-2) and short (System-1) solutions, a tiny reasoner.",
        subcommands = {GymCommand.Data.class, GymCommand.Pretrain.class})
public final class GymCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "data", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Writes DIR/train.jsonl, dev.jsonl, test.jsonl: {\"prompt\", \"response\", \"answer\", \"difficulty\", \"problem\"} per line.",
            "prompt is the complete user message (R1 instruction + problem); test and dev are balanced over the 4 levels."})
    public static final class Data implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "output directory") Path out;
        @Option(names = "--seed", defaultValue = "0", description = "problems and solutions (default: ${DEFAULT-VALUE})") long seed;
        @Option(names = "--style", defaultValue = "system2", description = "solutions: system2 (long, verified), system1 (direct), brief (the scratchpad without verification) , terse (column lines only, no state lines) or sketch (column digit sums without carries) (default: ${DEFAULT-VALUE})") String style;
        @Option(names = "--train", defaultValue = "20000", description = "training examples (default: ${DEFAULT-VALUE})") int train;
        @Option(names = "--dev-per-level", defaultValue = "50", description = "dev problems per level (default: ${DEFAULT-VALUE})") int dev;
        @Option(names = "--test-per-level", defaultValue = "250", description = "test problems per level (default: ${DEFAULT-VALUE})") int test;
        @Option(names = "--dev-levels", defaultValue = "1,2,3,4", split = ",", description = "levels of dev.jsonl (default: ${DEFAULT-VALUE})") List<Integer> devLevels;

        /** The library's faults name fields; these are the flags that set them. */
        static final Map<String, String> FLAGS = Map.of("style", "--style", "level", "--dev-levels");

        @Override
        public Integer call() throws Exception {
            return Flags.named(FLAGS, this::run);
        }

        private Integer run() throws Exception {
            GymFormat.Style s = GymFormat.Style.parse(style);
            GymData.write(out, seed, s, new GymData.Sizes(train, dev, test), new java.util.LinkedHashSet<>(devLevels));
            System.out.printf(Locale.ROOT, "wrote %s: train %d, dev %d, test %d (%s solutions, %d levels)%n", out, train,
                    dev * new java.util.HashSet<>(devLevels).size(), test * Problem.LEVELS.size(), s.label(), Problem.LEVELS.size());
            return 0;
        }
    }

    @Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Trains a tiny Qwen2 reasoner from scratch on fresh gym problems and writes a Hugging Face directory.",
            "Without --steps it trains for --minutes and prints the step count to pass as --steps for an exact rerun.",
            "The final evaluation samples with --eval-temperatures (its protocol), not with generation_config.json."})
    public static final class Pretrain implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "model directory to write") Path out;
        @Option(names = "--style", defaultValue = "system2", description = "system2 (the long reasoner), system1 (direct answers), brief or terse (as gym data --style) (default: ${DEFAULT-VALUE})") String style;
        @Option(names = "--seed", defaultValue = "0", description = "weight initialisation and sampled evaluation (default: ${DEFAULT-VALUE})") long seed;
        @Option(names = "--data-seed", defaultValue = "0", description = "training stream; the test/dev problems of `gym data --seed` with this value are held out (default: ${DEFAULT-VALUE})") long dataSeed;
        @Option(names = "--steps", defaultValue = "0", description = "optimizer steps, 0 = as many as --minutes allows (default: ${DEFAULT-VALUE})") int steps;
        @Option(names = "--minutes", defaultValue = "12", description = "training time budget when --steps is 0 (default: ${DEFAULT-VALUE})") double minutes;
        @Option(names = "--batch", defaultValue = "16", description = "examples per step, one per row (default: ${DEFAULT-VALUE})") int batch;
        @Option(names = "--lr", defaultValue = "3e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})") double lr;
        @Option(names = "--min-lr", defaultValue = "0.1", description = "final lr as a fraction of --lr (cosine) (default: ${DEFAULT-VALUE})") double minLr;
        @Option(names = "--warmup-steps", defaultValue = "50", description = "linear warm-up (default: ${DEFAULT-VALUE})") int warmup;
        @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW decoupled weight decay (default: ${DEFAULT-VALUE})") double weightDecay;
        @Option(names = "--clip", defaultValue = "1", description = "gradient-norm clipping, 0 = off (default: ${DEFAULT-VALUE})") double clip;
        @Option(names = "--level-weights", defaultValue = "1,1,1,1", split = ",", description = "training mix of the levels (default: ${DEFAULT-VALUE})") List<Double> levelWeights;
        @Option(names = "--hidden", defaultValue = "128", description = "model dim (default: ${DEFAULT-VALUE})") int hidden;
        @Option(names = "--layers", defaultValue = "4", description = "transformer layers (default: ${DEFAULT-VALUE})") int layers;
        @Option(names = "--heads", defaultValue = "4", description = "query heads (default: ${DEFAULT-VALUE})") int heads;
        @Option(names = "--kv-heads", defaultValue = "4", description = "key/value heads (default: ${DEFAULT-VALUE})") int kvHeads;
        @Option(names = "--intermediate", defaultValue = "512", description = "MLP dim (default: ${DEFAULT-VALUE})") int intermediate;
        @Option(names = "--max-positions", defaultValue = "1024", description = "context length (default: ${DEFAULT-VALUE})") int maxPositions;
        @Option(names = "--eval-per-level", defaultValue = "50", description = "dev problems per level evaluated at the end, 0 = none (default: ${DEFAULT-VALUE})") int evalPerLevel;
        @Option(names = "--eval-max-tokens", defaultValue = "900", description = "completion cap of that evaluation (default: ${DEFAULT-VALUE})") int evalMaxTokens;
        @Option(names = "--eval-temperatures", defaultValue = "0,0.7", split = ",", description = "0 = greedy (default: ${DEFAULT-VALUE})") List<Float> evalTemperatures;
        @Option(names = "--eval-every", defaultValue = "0", description = "greedy dev evaluation every N steps, 0 = only at the end (default: ${DEFAULT-VALUE})") int evalEvery;
        @Option(names = "--log-every", defaultValue = "10", description = "a progress line every N steps (default: ${DEFAULT-VALUE})") int logEvery;
        @Option(names = "--init", description = "start from this gym model directory (a second training phase) instead of random weights (default: none, random weights)") Path init;
        @Option(names = "--skip-examples", defaultValue = "0", description = "skip this many examples of the training stream first (a second phase continues the first's stream: steps × batch) (default: ${DEFAULT-VALUE})") long skipExamples;
        @Option(names = "--save-dtype", defaultValue = "f32", description = "model.safetensors dtype: f32 or bf16 (default: ${DEFAULT-VALUE})") String saveDtype;

        @Mixin ThreadsOption threads;
        @Mixin BackendOption backend;

        /** The library's faults name fields; these are the flags that set them. */
        static final Map<String, String> FLAGS = Map.ofEntries(Map.entry("style", "--style"), Map.entry("steps", "--steps"),
                Map.entry("steps = 0 needs minutes > 0", "give --steps or --minutes"), Map.entry("batch", "--batch"), Map.entry("lr", "--lr"),
                Map.entry("warmup", "--warmup-steps"), Map.entry("evalPerLevel", "--eval-per-level"), Map.entry("skipExamples", "--skip-examples"),
                Map.entry("hidden", "--hidden"), Map.entry("heads", "--heads"), Map.entry("kvHeads", "--kv-heads"));

        @Override
        public Integer call() throws Exception {
            Backend chosen = backend.backend();   // the one choice of this run
            return Flags.named(FLAGS, () -> run(chosen));
        }

        private Integer run(Backend chosen) throws Exception {
            if (levelWeights.size() != Problem.LEVELS.size())
                throw new IllegalArgumentException("--level-weights needs " + Problem.LEVELS.size() + " values");
            double[] w = levelWeights.stream().mapToDouble(Double::doubleValue).toArray();
            DType dt = switch (saveDtype.toLowerCase(Locale.ROOT)) {
                case "f32" -> DType.F32;
                case "bf16" -> DType.BF16;
                default -> throw new IllegalArgumentException("--save-dtype must be f32 or bf16, not " + saveDtype);
            };
            GymPretrain.Options o = new GymPretrain.Options(GymFormat.Style.parse(style), seed, dataSeed, steps, minutes,
                    new GymModel.Size(hidden, layers, heads, kvHeads, intermediate, maxPositions), batch, lr, minLr, warmup,
                    weightDecay, clip, w, evalPerLevel, evalMaxTokens, evalTemperatures, evalEvery, Math.max(1, logEvery), dt, init, skipExamples);
            GymPretrain.run(o, chosen.ops(), out, System.out);
            return 0;
        }
    }
}
