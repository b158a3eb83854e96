package dev.laconic.compression.rl;

import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.generation.Chunk;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.compression.eval.Sample;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.Sampler;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One rollout: P prompts × n samples from the current policy, graded.
 * <pre>
 *   prompt_g   = R1 chat template(user turn = template with {problem} := problem_g.text), ending "&lt;think&gt;\n"
 *   decode n samples of every prompt together (batched KV caches, {@link Generator}), ⌊batch / n⌋ prompts per chunk of
 *   the generation backend; sample s of group g draws from random stream (seed, streams[g], s), so the rollout does
 *   not depend on how it is batched or where a chunk runs
 *   correct = finished with EOS (a sample cut at the cap is wrong) and the grader accepts the answer
 * </pre>
 * Items are in group order, then sample order: item i belongs to group i / n.
 *
 * @param samples n, samples per prompt
 */
public record Rollout(int number, int samples, List<Item> items) {

    /**
     * One sample.
     *
     * @param group      its prompt's position in the rollout
     * @param prompt     prompt token ids (BOS … &lt;think&gt;\n)
     * @param completion sampled ids, EOS included when it ended there
     */
    public record Item(int group, Problem problem, int[] prompt, int[] completion, Sample sample) {
        /** prompt ++ completion: what the training forward reads. */
        public int[] sequence() {
            int[] s = Arrays.copyOf(prompt, prompt.length + completion.length);
            System.arraycopy(completion, 0, s, prompt.length, completion.length);
            return s;
        }

        /** logp index of the first completion token: log p(seq[t] | seq[&lt;t]) sits at t − 1. */
        public int offset() { return prompt.length - 1; }

        public int tokens() { return completion.length; }
        public boolean correct() { return sample.correct(); }
        public boolean cut() { return sample.truncated(); }
    }

    /** Decides a completion's correctness: the answer checker by default, any rule in tests. */
    @FunctionalInterface
    public interface Grader {
        Sample grade(Problem p, Completion c);
    }

    /** The evaluation harness's rule: the text without the final EOS goes to the answer checker; tokens count the EOS. */
    public static Grader checker(Tokenizer tok) {
        return (p, c) -> {
            int[] ids = c.ids();
            int[] body = c.finish() == Completion.Finish.EOS ? Arrays.copyOf(ids, ids.length - 1) : ids;
            return Sample.grade(p, c.sample(), tok.decode(body, false), ids.length, c.reasoningTokens(), c.finish());
        };
    }

    /** Called after every generated token (progress). */
    @FunctionalInterface
    public interface Listener {
        void token();
    }

    /** How rollouts sample. {@code batch}: sequences decoded together (whole prompts, at least one). */
    public record Sampling(String template, int samples, float temperature, float topP, int maxTokens, long seed, int batch) {
        public Sampling {
            if (!template.contains("{problem}")) throw new IllegalArgumentException("prompt template has no {problem}: " + template);
            if (samples < 2) throw new IllegalArgumentException("samples must be ≥ 2 (the leave-one-out baseline), got " + samples);
            if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be ≥ 1, got " + maxTokens);
            if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1, got " + batch);
            new Sampler(temperature, topP, 0);                        // validates temperature and top-p
        }

        GenerationConfig generation() {
            return new GenerationConfig(maxTokens, new Sampler(temperature, topP, 0), samples, seed, false, List.of(), -1);
        }
    }

    public static int[] promptIds(Tokenizer tok, String template, Problem p) {
        return ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(template.replace("{problem}", p.text()))), true);
    }

    /**
     * Samples and grades a rollout.
     *
     * @param streams one random stream per problem (the problem's position in the run's prompt stream)
     */
    public static Rollout generate(int number, Transformer policy, Tokenizer tok, List<Problem> problems, int[] streams,
                                   Sampling s, Grader grader, Listener listener) {
        try {
            return generate(number, Policy.of(policy, tok), GenerationBackend.IN_PROCESS, problems, streams, s, grader, listener);
        } catch (IOException e) {
            throw new UncheckedIOException(e);                  // the in-process backend writes nothing
        }
    }

    /** {@link #generate(int, Transformer, Tokenizer, List, int[], Sampling, Grader, Listener)} decoded by {@code backend}. */
    public static Rollout generate(int number, Policy policy, GenerationBackend backend, List<Problem> problems, int[] streams,
                                   Sampling s, Grader grader, Listener listener) throws IOException {
        Tokenizer tok = policy.tok();
        if (streams.length != problems.size()) throw new IllegalArgumentException(streams.length + " streams for " + problems.size() + " problems");
        int context = policy.model().config().maxPositions();
        List<int[]> prompts = new ArrayList<>(problems.size());
        for (Problem p : problems) {
            int[] ids = promptIds(tok, s.template(), p);
            if (ids.length + s.maxTokens() > context)
                throw new IllegalArgumentException("problem " + p.id() + ": " + ids.length + " prompt tokens + " + s.maxTokens()
                        + " max new tokens exceed the model's context of " + context + " (lower maxTokens)");
            prompts.add(ids);
        }
        int per = Math.max(1, s.batch() / s.samples());
        Item[] items = new Item[problems.size() * s.samples()];
        backend.generate(policy, Chunk.split(prompts, streams, per), s.generation(),
                listener == null ? null : (p, smp, id) -> listener.token(), (chunk, cs) -> {
                    for (Completion c : cs) {
                        int g = chunk * per + c.promptIndex();
                        Problem p = problems.get(g);
                        items[g * s.samples() + c.sample()] = new Item(g, p, prompts.get(g), c.ids(), grader.grade(p, c));
                    }
                });
        return new Rollout(number, s.samples(), List.of(items));
    }

    public int groups() { return items.size() / samples; }

    /** The n items of group g. */
    public List<Item> group(int g) { return items.subList(g * samples, (g + 1) * samples); }
}
