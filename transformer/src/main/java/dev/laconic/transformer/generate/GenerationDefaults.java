package dev.laconic.transformer.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a model asks to be sampled: the {@code do_sample}, {@code temperature}, {@code top_p}, {@code top_k} and
 * {@code max_new_tokens} of its {@code generation_config.json}, with transformers' {@code GenerationConfig}
 * defaults for what the file leaves out (do_sample false, i.e. greedy; temperature 1; top_p 1; top_k 50; no
 * max_new_tokens). DeepSeek-R1-Distill ships {@code do_sample: true, temperature: 0.6, top_p: 0.95}, so it is
 * sampled at T 0.6, top-p 0.95 and (transformers' default) top-k 50.
 *
 * @param maxNewTokens null when the file has none
 */
public record GenerationDefaults(boolean doSample, float temperature, float topP, int topK, Integer maxNewTokens) {
    /** transformers' defaults, for a model without generation_config.json. */
    public static final GenerationDefaults TRANSFORMERS = new GenerationDefaults(false, 1f, 1f, 50, null);

    public static final String FILE = "generation_config.json";

    /** {@code dir/generation_config.json}, or {@link #TRANSFORMERS} when there is none. */
    public static GenerationDefaults load(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return TRANSFORMERS;
        JsonNode gen;
        try {
            gen = new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(gen);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(f + ": " + e.getMessage(), e);
        }
    }

    /** From a parsed generation_config.json (null: none). */
    public static GenerationDefaults fromJson(JsonNode gen) {
        GenerationDefaults d = TRANSFORMERS;
        if (gen == null || !gen.isObject()) return d;
        boolean doSample = bool(gen, "do_sample", d.doSample);
        float t = (float) number(gen, "temperature", d.temperature), p = (float) number(gen, "top_p", d.topP);
        int k = (int) number(gen, "top_k", d.topK);
        Integer max = gen.hasNonNull("max_new_tokens") ? (int) number(gen, "max_new_tokens", 0) : null;
        if (t < 0) throw new IllegalArgumentException("temperature must be ≥ 0, is " + t);
        if (!(p > 0 && p <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], is " + p);
        if (k < 0) throw new IllegalArgumentException("top_k must be ≥ 0, is " + k);
        if (max != null && max < 1) throw new IllegalArgumentException("max_new_tokens must be ≥ 1, is " + max);
        return new GenerationDefaults(doSample, t, p, k, max);
    }

    /** Whether generation samples: do_sample with a temperature above 0 (transformers refuses temperature 0 when sampling). */
    public boolean samples() {
        return doSample && temperature > 0;
    }

    /** The sampler these settings ask for: greedy unless {@link #samples()}. */
    public Sampler sampler() {
        return samples() ? new Sampler(temperature, topP, topK) : Sampler.greedy();
    }

    private static boolean bool(JsonNode g, String field, boolean otherwise) {
        JsonNode n = g.get(field);
        if (n == null || n.isNull()) return otherwise;
        if (!n.isBoolean()) throw new IllegalArgumentException(field + ": expected true or false, is " + n);
        return n.asBoolean();
    }

    private static double number(JsonNode g, String field, double otherwise) {
        JsonNode n = g.get(field);
        if (n == null || n.isNull()) return otherwise;
        if (!n.isNumber()) throw new IllegalArgumentException(field + ": expected a number, is " + n);
        return n.asDouble();
    }
}
