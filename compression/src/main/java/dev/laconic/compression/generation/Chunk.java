package dev.laconic.compression.generation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One unit of generation work: some prompts and the random stream of each (sample s of prompt j draws from
 * (seed, streams[j], s)). The caller fixes the chunks, so their boundaries and streams do not depend on who runs them.
 */
public record Chunk(List<int[]> prompts, int[] streams) {
    public Chunk {
        if (prompts.size() != streams.length) throw new IllegalArgumentException(streams.length + " random streams for " + prompts.size() + " prompts");
        if (prompts.isEmpty()) throw new IllegalArgumentException("a chunk needs at least one prompt");
    }

    /** The prompts cut in order into chunks of {@code per} (the last may be shorter). */
    public static List<Chunk> split(List<int[]> prompts, int[] streams, int per) {
        if (per < 1) throw new IllegalArgumentException("prompts per chunk must be ≥ 1, got " + per);
        List<Chunk> out = new ArrayList<>();
        for (int from = 0; from < prompts.size(); from += per) {
            int to = Math.min(prompts.size(), from + per);
            out.add(new Chunk(List.copyOf(prompts.subList(from, to)), Arrays.copyOfRange(streams, from, to)));
        }
        return out;
    }
}
