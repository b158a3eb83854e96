package dev.laconic.transformer.generate;

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

    public static GenerationConfig greedy(int maxTokens) {
        return new GenerationConfig(maxTokens, Sampler.greedy(), 1, 0, false, List.of(), -1);
    }
}
