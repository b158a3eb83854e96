package dev.laconic.transformer;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * Random weights with a real model's shapes: for benchmarks (no download needed) and tests.
 * Matrices ~ N(0, 0.02²)·(a per-matrix scale keeping activations O(1)); norms ~ 1 + N(0, 0.1²);
 * biases ~ N(0, 0.02²). Filled in parallel: 1.5B parameters take seconds, not minutes.
 */
public final class RandomWeights {
    private RandomWeights() {}

    /** @param dtype storage of the matrices (F32 or BF16); norms and biases are always F32 */
    public static Weights create(ModelConfig cfg, long seed, DType dtype) {
        int c = cfg.hidden(), f = cfg.intermediate();
        long[] stream = {seed};
        Tensor embed = matrix(dtype, ++stream[0], cfg.vocab(), c, 1.0f);
        float sc = (float) (1 / Math.sqrt(c)) / 0.02f * 0.5f, sf = (float) (1 / Math.sqrt(f)) / 0.02f * 0.5f;
        Weights.Layer[] layers = new Weights.Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = Weights.Layer.of(cfg, p -> {
                int[] shape = p.shape(cfg);
                if (p.isMatrix()) return matrix(dtype, ++stream[0], shape[0], shape[1], p == Weights.Part.W_DOWN ? sf : sc);
                return p == Weights.Part.ATTN_NORM || p == Weights.Part.MLP_NORM ? norm(++stream[0], shape[0])
                        : vector(++stream[0], shape[0], 0.02f);
            });
        }
        Tensor lmHead = cfg.tieWordEmbeddings() ? embed : matrix(dtype, ++stream[0], cfg.vocab(), c, (float) (1 / Math.sqrt(c)) / 0.02f);
        return new Weights(embed, layers, norm(++stream[0], c), lmHead);
    }

    private static Tensor matrix(DType dtype, long seed, int rows, int cols, float scale) {
        Tensor t = Tensor.zeros(dtype, rows, cols);
        float std = 0.02f * scale;
        Parallel.forChunks(rows, 64, (r0, r1) -> {
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + r0);
            for (long i = (long) r0 * cols; i < (long) r1 * cols; i++) t.setFloat(i, (float) (gaussian(rng) * std));
        });
        return t;
    }

    private static Tensor norm(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(DType.F32, n);
        for (int i = 0; i < n; i++) t.setFloat(i, (float) (1 + 0.1 * gaussian(rng)));
        return t;
    }

    private static Tensor vector(long seed, int n, float std) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(DType.F32, n);
        for (int i = 0; i < n; i++) t.setFloat(i, (float) (std * gaussian(rng)));
        return t;
    }

    /** Box-Muller from a SplittableRandom (java.util.Random#nextGaussian is synchronized-slow). */
    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble(), v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
