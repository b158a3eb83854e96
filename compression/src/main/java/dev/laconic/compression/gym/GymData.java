package dev.laconic.compression.gym;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.compression.gym.GymFormat.Style;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The gym's data splits, all functions of one seed.
 *
 * <pre>
 *   test   perLevel problems of every level (balanced), distinct          stream (seed, 16·3 + level)
 *   dev    perLevel problems of every level, distinct, none in test       stream (seed, 16·2 + level)
 *   train  an endless stream: level uniform, problems of test/dev skipped stream (seed, 1)
 * </pre>
 * Each split and level has its own generator, so the test set does not change when the train or dev
 * sizes do, and a bigger test set extends a smaller one. Training ({@code gym pretrain}) skips the
 * problems of the default-size test and dev sets ({@link Sizes#DEFAULT}). A line of the JSONL files: {"prompt": the complete user message (instruction + problem),
 * "response": the solution in the chosen style, "answer": "8796", "difficulty": 1..4,
 * "problem": "What is 4821 + 3975?"}. "prompt"/"response" are what train-sft reads; an evaluator
 * renders "prompt" as the user turn of the R1 chat template (see {@link GymFormat}).
 */
public final class GymData {
    public static final int TRAIN = 1, DEV = 2, TEST = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private GymData() {}

    /** A problem with its written solution. */
    public record Example(Problem problem, String response) {}

    static SplittableRandom stream(long seed, int split) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + split * 0xD1B54A32D192ED03L);
    }

    /**
     * {@code perLevel} distinct problems of each level, level after level, none in {@code exclude}.
     * Each level has its own generator: the first k problems of a level are the same for any perLevel ≥ k.
     */
    public static List<Problem> evalProblems(long seed, int split, int perLevel, Set<Problem> exclude) {
        return evalProblems(seed, split, perLevel, exclude, allLevels());
    }

    /** As above, for the given levels only (each still from its own generator: the same problems as in the balanced set). */
    public static List<Problem> evalProblems(long seed, int split, int perLevel, Set<Problem> exclude, Set<Integer> levels) {
        List<Problem> out = new ArrayList<>();
        for (Problem.Level l : Problem.LEVELS) {
            if (!levels.contains(l.index())) continue;
            SplittableRandom rng = stream(seed, 16 * split + l.index());
            Set<Problem> seen = new LinkedHashSet<>();
            int tries = 0;
            while (seen.size() < perLevel) {
                if (++tries > 100 * perLevel + 1000) throw new IllegalArgumentException("level " + l.index() + " has too few distinct problems for " + perLevel);
                Problem p = Problem.random(l.index(), rng);
                if (!exclude.contains(p)) seen.add(p);
            }
            out.addAll(seen);
        }
        return out;
    }

    public static List<Problem> test(long seed, int perLevel) {
        return evalProblems(seed, TEST, perLevel, Set.of());
    }

    public static List<Problem> dev(long seed, int perLevel, int testPerLevel) {
        return evalProblems(seed, DEV, perLevel, new HashSet<>(test(seed, testPerLevel)));
    }

    /** The problems training never sees: the default-size test and dev sets. */
    public static Set<Problem> heldOut(long seed) {
        Set<Problem> held = new HashSet<>(test(seed, Sizes.DEFAULT.testPerLevel()));
        held.addAll(dev(seed, Sizes.DEFAULT.devPerLevel(), Sizes.DEFAULT.testPerLevel()));
        return held;
    }

    /** The endless training stream; solutions (passes, slips) draw from the same generator. */
    public static final class TrainStream {
        private final SplittableRandom rng;
        private final Set<Problem> heldOut;
        private final Style style;
        private final double[] levelWeights;

        public TrainStream(long seed, Set<Problem> heldOut, Style style, double[] levelWeights) {
            this.rng = stream(seed, TRAIN);
            this.heldOut = heldOut;
            this.style = style;
            if (levelWeights.length != Problem.LEVELS.size()) throw new IllegalArgumentException("one weight per level");
            this.levelWeights = levelWeights.clone();
        }

        public Example next() {
            while (true) {
                Problem p = Problem.random(level(), rng);
                if (heldOut.contains(p)) continue;
                return new Example(p, GymFormat.response(p, style, rng));
            }
        }

        private int level() {
            double total = 0;
            for (double w : levelWeights) total += w;
            double u = rng.nextDouble() * total;
            for (int i = 0; i < levelWeights.length; i++) if ((u -= levelWeights[i]) < 0) return i + 1;
            return levelWeights.length;
        }
    }

    public static Set<Integer> allLevels() {
        Set<Integer> all = new LinkedHashSet<>();
        for (Problem.Level l : Problem.LEVELS) all.add(l.index());
        return all;
    }

    public static double[] uniformLevels() {
        double[] w = new double[Problem.LEVELS.size()];
        java.util.Arrays.fill(w, 1);
        return w;
    }

    /** Sizes of what {@link #write} writes. */
    public record Sizes(int train, int devPerLevel, int testPerLevel) {
        public Sizes {
            if (train < 0 || devPerLevel < 0 || testPerLevel < 1) throw new IllegalArgumentException("split sizes: train ≥ 0, dev ≥ 0, test ≥ 1 per level");
        }

        public static final Sizes DEFAULT = new Sizes(20_000, 50, 250);
    }

    /**
     * Writes DIR/train.jsonl, dev.jsonl, test.jsonl. Dev and test solutions are written from their
     * own generator (seed, split + 10), so the problem sets do not depend on the style.
     */
    public static void write(Path dir, long seed, Style style, Sizes sizes) throws IOException {
        write(dir, seed, style, sizes, allLevels());
    }

    /** As above, with dev.jsonl holding only {@code devLevels} (TL;DR's dev set is the hard levels). */
    public static void write(Path dir, long seed, Style style, Sizes sizes, Set<Integer> devLevels) throws IOException {
        for (int l : devLevels) Problem.level(l);   // validates
        Files.createDirectories(dir);
        List<Problem> test = test(seed, sizes.testPerLevel());
        List<Problem> dev = evalProblems(seed, DEV, sizes.devPerLevel(), new HashSet<>(test), devLevels);
        Set<Problem> held = heldOut(seed);
        held.addAll(test);
        held.addAll(dev);
        TrainStream train = new TrainStream(seed, held, style, uniformLevels());
        List<Example> trainEx = new ArrayList<>(sizes.train());
        for (int i = 0; i < sizes.train(); i++) trainEx.add(train.next());
        writeSplit(dir.resolve("train.jsonl"), trainEx);
        writeSplit(dir.resolve("dev.jsonl"), solve(dev, style, stream(seed, DEV + 10)));
        writeSplit(dir.resolve("test.jsonl"), solve(test, style, stream(seed, TEST + 10)));
    }

    static List<Example> solve(List<Problem> problems, Style style, SplittableRandom rng) {
        List<Example> out = new ArrayList<>();
        for (Problem p : problems) out.add(new Example(p, GymFormat.response(p, style, rng)));
        return out;
    }

    static void writeSplit(Path file, List<Example> examples) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (Example e : examples) {
                w.write(JSON.writeValueAsString(line(e)));
                w.write('\n');
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static Map<String, Object> line(Example e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", GymFormat.userMessage(e.problem()));
        m.put("response", e.response());
        m.put("answer", Long.toString(e.problem().answer()));
        m.put("difficulty", e.problem().level());
        m.put("problem", e.problem().text());
        return m;
    }
}
