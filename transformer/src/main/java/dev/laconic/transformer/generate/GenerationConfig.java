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
 * @param stop        stop strings: a sample ends at the token whose text completes one (finish STOP; the stop string and the
 *                    rest of that token stay in the completion, the server cuts them off)
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

    /**
     * A builder, starting from: {@value Builder#MAX_TOKENS} max tokens, greedy, 1 sample, seed 0, EOS ends a sample,
     * no stop strings, no thinking budget.
     * <pre>{@code GenerationConfig.builder().maxTokens(512).temperature(0.6).topP(0.95).build()}</pre>
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxTokens = maxTokens;
        b.temperature = sampler.temperature();
        b.topP = sampler.topP();
        b.topK = sampler.topK();
        b.samples = samples;
        b.seed = seed;
        b.ignoreEos = ignoreEos;
        b.stop = stop;
        b.thinkBudget = thinkBudget;
        return b;
    }

    /** Builds a {@link GenerationConfig}; {@link #build} checks the values (the record's and {@link Sampler}'s rules). */
    public static final class Builder {
        /** The max tokens a builder starts with. */
        public static final int MAX_TOKENS = 1024;

        private int maxTokens = MAX_TOKENS, topK, samples = 1, thinkBudget = -1;
        private float temperature, topP = 1;
        private long seed;
        private boolean ignoreEos;
        private List<String> stop = List.of();

        private Builder() {}

        /** Completion tokens per sample (the cap). */
        public Builder maxTokens(int n) { maxTokens = n; return this; }
        /** 0: greedy (the default); the R1 models' cards suggest 0.6. */
        public Builder temperature(double t) { temperature = (float) t; return this; }
        /** Nucleus sampling: the smallest set of tokens whose probability reaches p (1: off, the default). */
        public Builder topP(double p) { topP = (float) p; return this; }
        /** Only the k most likely tokens (0: off, the default). */
        public Builder topK(int k) { topK = k; return this; }
        /** Temperature, top-p and top-k at once. */
        public Builder sampler(Sampler s) { temperature = s.temperature(); topP = s.topP(); topK = s.topK(); return this; }
        /** Samples per prompt. */
        public Builder samples(int n) { samples = n; return this; }
        /** Same seed, same samples. */
        public Builder seed(long s) { seed = s; return this; }
        /** Keep decoding past EOS up to max tokens (benchmarks). */
        public Builder ignoreEos(boolean b) { ignoreEos = b; return this; }
        /** Stop strings: a sample ends at the token whose text completes one. */
        public Builder stop(String... s) { stop = List.of(s); return this; }
        /** Thinking tokens allowed before "\n&lt;/think&gt;\n\n" is forced (-1: unlimited, the default). */
        public Builder thinkBudget(int n) { thinkBudget = n; return this; }

        public GenerationConfig build() {
            return new GenerationConfig(maxTokens, new Sampler(temperature, topP, topK), samples, seed, ignoreEos, stop, thinkBudget);
        }
    }
}
