package dev.laconic.compression.eval;

import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Sampler;

import java.util.List;

/**
 * How to evaluate: everything but {@code batch} decides the samples; batch only how many decode together.
 *
 * @param template    the user turn, with {@code {problem}} where the problem text goes (see {@link Protocol})
 * @param samples     n: samples per problem
 * @param temperature 0 = greedy
 * @param topP        nucleus; 1 disables
 * @param maxTokens   the cap on completion tokens (EOS included); a sample cut there counts as wrong
 * @param seed        sample s of the problem with dataset index i draws from the random stream (seed, i, s)
 * @param batch       sequences (problems × n) decoded together; at least one whole problem per batch
 * @param thinkBudget thinking tokens before "\n&lt;/think&gt;\n\n" is forced (the truncation baseline); -1 = none
 */
public record EvalSettings(String template, int samples, float temperature, float topP, int maxTokens, long seed, int batch,
                           int thinkBudget) {
    public EvalSettings(String template, int samples, float temperature, float topP, int maxTokens, long seed, int batch) {
        this(template, samples, temperature, topP, maxTokens, seed, batch, -1);
    }

    public EvalSettings {
        if (thinkBudget < -1) throw new IllegalArgumentException("thinking budget must be ≥ 0 (or -1 for none): " + thinkBudget);
        if (!template.contains("{problem}")) throw new IllegalArgumentException("prompt template has no {problem}: " + template);
        if (samples < 1) throw new IllegalArgumentException("samples per problem must be ≥ 1: " + samples);
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be ≥ 1: " + maxTokens);
        if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1: " + batch);
        new Sampler(temperature, topP, 0);   // validates temperature and top-p
    }

    public String userTurn(Problem p) {
        return template.replace("{problem}", p.text());
    }

    /** Whole problems per batch: ⌊batch / n⌋, at least 1. */
    public int problemsPerBatch() {
        return Math.max(1, batch / samples);
    }

    public GenerationConfig generation() {
        return new GenerationConfig(maxTokens, new Sampler(temperature, topP, 0), samples, seed, false, List.of(), thinkBudget);
    }

    public EvalSettings withMaxTokens(int m) { return new EvalSettings(template, samples, temperature, topP, m, seed, batch, thinkBudget); }
    public EvalSettings withSamples(int n) { return new EvalSettings(template, n, temperature, topP, maxTokens, seed, batch, thinkBudget); }
    public EvalSettings withBatch(int b) { return new EvalSettings(template, samples, temperature, topP, maxTokens, seed, b, thinkBudget); }
    public EvalSettings withSeed(long s) { return new EvalSettings(template, samples, temperature, topP, maxTokens, s, batch, thinkBudget); }
    public EvalSettings withSampling(float t, float p) { return new EvalSettings(template, samples, t, p, maxTokens, seed, batch, thinkBudget); }
    public EvalSettings withThinkBudget(int n) { return new EvalSettings(template, samples, temperature, topP, maxTokens, seed, batch, n); }
    public EvalSettings withTemplate(String t) { return new EvalSettings(t, samples, temperature, topP, maxTokens, seed, batch, thinkBudget); }
}
