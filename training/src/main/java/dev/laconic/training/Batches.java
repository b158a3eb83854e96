package dev.laconic.training;

import dev.laconic.training.SftData.Example;
import org.apache.commons.math3.random.MersenneTwister;

import java.util.ArrayList;
import java.util.List;

/**
 * The order in which examples are used, and how one optimizer step's examples are split into
 * micro-batches.
 *
 * <p>The stream is epoch after epoch over the examples; epoch e visits them in file order
 * (no shuffle) or in a permutation drawn from a Mersenne Twister seeded with (seed, e). So the
 * whole position, RNG included, is one number: the count of examples consumed (the cursor).
 * A checkpoint stores it, and resuming continues with the same next example.
 *
 * <p>A step takes {@code batch · gradAccum} examples; they run as {@code gradAccum} groups of
 * {@code batch}, and a group whose tokens exceed the token budget is split further into
 * consecutive micro-batches of at most {@code tokenBudget} tokens (one over-long example runs alone).
 * The loss is the mean over all masked positions of the step, whatever the split.
 */
public final class Batches {
    private final List<Example> examples;
    private final boolean shuffle;
    private final long seed;
    private long cursor;
    private long permEpoch = -1;
    private int[] perm;             // order of the epoch permEpoch

    public Batches(List<Example> examples, boolean shuffle, long seed) {
        if (examples.isEmpty()) throw new IllegalArgumentException("no examples");
        this.examples = List.copyOf(examples);
        this.shuffle = shuffle;
        this.seed = seed;
    }

    /** Examples consumed so far (all epochs). */
    public long cursor() { return cursor; }

    public long epoch() { return cursor / examples.size(); }

    public void seek(long cursor) {
        if (cursor < 0) throw new IllegalArgumentException("data cursor " + cursor + " < 0");
        this.cursor = cursor;
    }

    /** The next {@code count} examples of the stream, crossing into the next epoch when needed. */
    public List<Example> next(int count) {
        List<Example> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long e = cursor / examples.size();
            int k = (int) (cursor % examples.size());
            out.add(examples.get(shuffle ? order(e)[k] : k));
            cursor++;
        }
        return out;
    }

    /** Epoch e's permutation: Fisher–Yates driven by MT19937 seeded with (seed, e). */
    int[] order(long e) {
        if (e != permEpoch) {
            MersenneTwister rng = new MersenneTwister(new int[]{(int) (seed >>> 32), (int) seed, (int) (e >>> 32), (int) e});
            int[] p = new int[examples.size()];
            for (int i = 0; i < p.length; i++) p[i] = i;
            for (int i = p.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            perm = p;
            permEpoch = e;
        }
        return perm;
    }

    /** One micro-batch of a step: its sequences and their share of the step's loss. */
    public record MicroBatch(List<int[]> ids, TokenObjective objective) {}

    /**
     * The SFT loss of one step's examples, as the micro-batches of {@link #microBatches}: each one's token
     * cross-entropy over the loss positions of the whole step, so their losses and gradients add up to
     * the step's mean −log p whatever the split.
     */
    public static List<MicroBatch> sft(List<Example> step, int groups, int tokenBudget) {
        double positions = 0;
        for (Example e : step) positions += e.lossPositions();
        List<MicroBatch> out = new ArrayList<>();
        for (List<Example> micro : microBatches(step, groups, tokenBudget))
            out.add(new MicroBatch(micro.stream().map(Example::ids).toList(),
                    TokenObjective.crossEntropy(micro.stream().map(Example::weights).toArray(float[][]::new), positions)));
        return out;
    }

    /**
     * Splits a step's examples into micro-batches: {@code groups} groups of consecutive examples
     * (sizes differ by at most one), each cut further so that no micro-batch holds more than
     * {@code tokenBudget} tokens unless it is a single example.
     */
    public static List<List<Example>> microBatches(List<Example> step, int groups, int tokenBudget) {
        if (groups < 1) throw new IllegalArgumentException("groups must be ≥ 1, got " + groups);
        if (tokenBudget < 1) throw new IllegalArgumentException("tokenBudget must be ≥ 1, got " + tokenBudget);
        List<List<Example>> out = new ArrayList<>();
        int n = step.size();
        for (int g = 0; g < groups; g++) {
            int from = (int) ((long) n * g / groups), to = (int) ((long) n * (g + 1) / groups);
            List<Example> cur = new ArrayList<>();
            long tokens = 0;
            for (Example ex : step.subList(from, to)) {
                if (!cur.isEmpty() && tokens + ex.ids().length > tokenBudget) {
                    out.add(cur);
                    cur = new ArrayList<>();
                    tokens = 0;
                }
                cur.add(ex);
                tokens += ex.ids().length;
            }
            if (!cur.isEmpty()) out.add(cur);
        }
        return out;
    }
}
