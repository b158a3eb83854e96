package dev.laconic.cluster;

import dev.laconic.tensor.DType;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Sampler;

import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What travels between the trainer and the workers (Java serialization: both run the same build). */
final class Wire {
    private Wire() {}

    enum Kind { BASE, LORA, FULL }

    /**
     * Which model decodes: the base directory (and its content hash) in the trainer's dtype, plus, for a trained
     * policy, where this version's weights are: LoRA in the adapter map under {@code session/version/name}, full
     * fine-tuning in a safetensors file on shared storage.
     */
    record PolicySpec(String build, String base, String baseHash, boolean bf16, Kind kind, String session, long version,
                      int loraRank, float loraAlpha, Set<String> loraTargets, List<String> tensors, String weightsFile,
                      int threads) implements Serializable {
        @Serial private static final long serialVersionUID = 1;

        DType dtype() { return bf16 ? DType.BF16 : DType.F32; }

        /** The trained weights' identity (what a worker fetches once). */
        String versionKey() { return kind == Kind.BASE ? "" : session + "/" + version; }

        static String adapterKey(String session, long version, String tensor) { return session + "/" + version + "/" + tensor; }
    }

    /** The sampling settings of {@link GenerationConfig}. */
    record Sampling(int maxTokens, float temperature, float topP, int topK, int samples, long seed, boolean ignoreEos,
                    List<String> stop, int thinkBudget) implements Serializable {
        @Serial private static final long serialVersionUID = 1;

        static Sampling of(GenerationConfig gc) {
            Sampler s = gc.sampler();
            return new Sampling(gc.maxTokens(), s.temperature(), s.topP(), s.topK(), gc.samples(), gc.seed(), gc.ignoreEos(),
                    new ArrayList<>(gc.stop()), gc.thinkBudget());
        }

        GenerationConfig config() {
            return new GenerationConfig(maxTokens, new Sampler(temperature, topP, topK), samples, seed, ignoreEos, List.copyOf(stop), thinkBudget);
        }
    }

    /** One completion as it travels back. */
    record Done(int promptIndex, int sample, int[] ids, float[] logprobs, String text, String reasoning, String answer, int finish,
                int reasoningTokens) implements Serializable {
        @Serial private static final long serialVersionUID = 1;

        static Done of(Completion c) {
            return new Done(c.promptIndex(), c.sample(), c.ids(), c.logprobs(), c.text(), c.reasoning(), c.answer(), c.finish().ordinal(),
                    c.reasoningTokens());
        }

        Completion completion() {
            return new Completion(promptIndex, sample, ids, logprobs, text, reasoning, answer, Completion.Finish.values()[finish], reasoningTokens);
        }
    }

    /** A chunk's answer: its completions, or why this worker will not run the trainer's model. */
    record Result(List<Done> completions, String refused, double seconds) implements Serializable {
        @Serial private static final long serialVersionUID = 1;
    }
}
