package dev.laconic.transformer.generate;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What to generate.
 *
 * @param maxTokens   completion tokens per sample (the cap; a sample cut here finishes with LENGTH)
 * @param sampler     greedy or temperature/top-p/top-k
 * @param samples     n samples per prompt (decoded together, sharing the prompt's prefill)
 * @param seed        same seed ⇒ same samples, whatever the batch composition
 * @param ignoreEos   keep decoding to maxTokens (benchmarks)
 * @param stop        stop strings: a sample ends when its completion text ends with one (finish STOP)
 * @param thinkBudget thinking tokens allowed before "\n&lt;/think&gt;\n\n" is forced; -1 = unlimited
 */
public record GenerationConfig(int maxTokens, Sampler sampler, int samples, long seed, boolean ignoreEos,
                               List<String> stop, int thinkBudget) {
    public GenerationConfig {
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be ≥ 1: " + maxTokens);
        if (samples < 1) throw new IllegalArgumentException("samples per prompt must be ≥ 1: " + samples);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** Completion tokens per sample when neither the caller nor generation_config.json says. */
    public static final int DEFAULT_MAX_TOKENS = 256;

    public static GenerationConfig greedy(int maxTokens) {
        return new GenerationConfig(maxTokens, Sampler.greedy(), 1, 0, false, List.of(), -1);
    }

    /**
     * What a model asks for: its generation_config.json's sampling and max_new_tokens (else
     * {@value #DEFAULT_MAX_TOKENS}), one sample, seed 0 — greedy when the file has no {@code do_sample: true},
     * as transformers' {@code generate()}. Change single settings with the {@code with…} methods.
     */
    public static GenerationConfig of(GenerationDefaults d) {
        return new GenerationConfig(d.maxNewTokens() != null ? d.maxNewTokens() : DEFAULT_MAX_TOKENS, d.sampler(), 1, 0, false, List.of(), -1);
    }

    /** {@link #of(GenerationDefaults)} of {@code modelDir/generation_config.json} (transformers' defaults without one). */
    public static GenerationConfig forModel(Path modelDir) throws IOException {
        return of(GenerationDefaults.load(modelDir));
    }

    public GenerationConfig withMaxTokens(int n) { return new GenerationConfig(n, sampler, samples, seed, ignoreEos, stop, thinkBudget); }
    public GenerationConfig withSampler(Sampler s) { return new GenerationConfig(maxTokens, s, samples, seed, ignoreEos, stop, thinkBudget); }
    public GenerationConfig withSamples(int n) { return new GenerationConfig(maxTokens, sampler, n, seed, ignoreEos, stop, thinkBudget); }
    public GenerationConfig withSeed(long s) { return new GenerationConfig(maxTokens, sampler, samples, s, ignoreEos, stop, thinkBudget); }
}
