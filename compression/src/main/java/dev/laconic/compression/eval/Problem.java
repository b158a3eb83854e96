package dev.laconic.compression.eval;

import java.util.Objects;

/**
 * One evaluation problem.
 *
 * @param index      position among the data file's records (0-based, blank lines not counted); it keys the
 *                   problem's random streams and its lines in samples.jsonl, so it never depends on --limit
 *                   or on batching
 * @param id         the record's own id ({@code id}, or MATH's {@code unique_id}), else the index as text
 * @param text       the problem statement: what the prompt template puts in place of {@code {problem}}
 * @param reference  the reference answer as the answer checker takes it (GSM8K: the number after "####")
 * @param difficulty the record's difficulty (gym) or level, or null
 */
public record Problem(int index, String id, String text, String reference, String difficulty) {
    public Problem {
        if (index < 0) throw new IllegalArgumentException("problem index must be ≥ 0: " + index);
        Objects.requireNonNull(id);
        Objects.requireNonNull(text);
        Objects.requireNonNull(reference);
    }
}
