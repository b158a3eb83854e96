package dev.laconic.compression.generation;

import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;

import java.io.IOException;
import java.util.List;

/**
 * Where rollouts and evaluations are decoded: in this process ({@link #IN_PROCESS}, the default: no ports, no
 * threads of its own) or spread over other machines (the cluster module's backend). Every backend decodes a chunk
 * with {@link Generator#of} and the chunk's own random streams, so the completions are the same bits whoever runs a
 * chunk (with the same kernels and thread count), and hands them back in chunk order.
 */
public interface GenerationBackend {
    /** Receives each chunk's completions (prompt order, then sample order; promptIndex within the chunk). */
    @FunctionalInterface
    interface Done {
        void chunk(int index, List<Completion> completions) throws IOException;
    }

    /**
     * Decodes every chunk with {@code gc} and calls {@code done} once per chunk, in chunk order.
     *
     * @param tokens called for every generated token (progress), or null; a backend that decodes elsewhere calls it
     *               when a chunk's results arrive
     */
    void generate(Policy policy, List<Chunk> chunks, GenerationConfig gc, Generator.Listener tokens, Done done) throws IOException;

    /** Chunk after chunk on this process's transformer. */
    GenerationBackend IN_PROCESS = (policy, chunks, gc, tokens, done) -> {
        Generator gen = Generator.of(policy.model(), policy.tok());
        for (int i = 0; i < chunks.size(); i++) {
            Chunk c = chunks.get(i);
            done.chunk(i, gen.generate(c.prompts(), c.streams(), gc, tokens));
        }
    };
}
