package dev.laconic.compression.tldr;

import dev.laconic.compression.gym.GymData;
import dev.laconic.compression.gym.GymModel;
import dev.laconic.compression.gym.GymTokenizer;
import dev.laconic.compression.gym.Problem;
import dev.laconic.compression.gym.System1Writer;
import dev.laconic.compression.gym.System2Writer;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.training.Jsonl;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A tiny random gym reasoner (hidden 32, one layer, context 256) and small gym data files for the TL;DR
 * tests: System-1 lines (direct answers), System-2 lines (the column scratchpad, no verification pass)
 * and a dev file of level-1 problems. Its answers are noise; the tests check the mechanics.
 */
public final class TinyGym {
    public static final GymModel.Size SIZE = new GymModel.Size(32, 1, 2, 1, 48, 256);

    private TinyGym() {}

    /** Writes an HF model directory with random weights drawn from {@code seed}. */
    public static Path model(Path dir, long seed) throws IOException {
        GymTokenizer.write(dir, SIZE.maxPositions());
        Tokenizer tok = Tokenizer.load(dir);
        ModelConfig cfg = GymModel.config(SIZE, tok);
        TrainableModel m = TrainableModel.full(new Transformer(cfg, GymModel.init(cfg, seed), new VectorOps()));
        GymModel.writeHf(dir, cfg, m.exportWeights(true), DType.F32);
        return dir;
    }

    static List<Problem> problems(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Problem> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(Problem.random(1, rng));
        return out;
    }

    /** {@code n} System-1 training lines. */
    public static Path system1(Path file, int n) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Problem p : problems(1, n)) lines.add(Jsonl.line(GymData.line(new GymData.Example(p, System1Writer.write(p)))));
        Files.write(file, lines);
        return file;
    }

    /** {@code n} System-2 training lines (the scratchpad without verification passes, to fit the tiny context). */
    public static Path system2(Path file, int n) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Problem p : problems(2, n))
            lines.add(Jsonl.line(GymData.line(new GymData.Example(p, System2Writer.write(p, 0, null, new int[0]).response()))));
        Files.write(file, lines);
        return file;
    }

    /** {@code n} dev problems in the gym format. */
    public static Path dev(Path file, int n) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Problem p : problems(3, n)) lines.add(Jsonl.line(GymData.line(new GymData.Example(p, System1Writer.write(p)))));
        Files.write(file, lines);
        return file;
    }
}
