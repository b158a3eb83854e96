package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.training.Batches;
import dev.laconic.training.RunDir;
import dev.laconic.training.SftData.Example;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The training stream of a TL;DR run: a mixture of System-1 (domain 0) and System-2 (domain 1) examples
 * (methods.md, Method A).
 * <pre>
 *   at step 0 and after each evaluation (step s), the domain buffer:
 *     n_d    = ⌊w_d · B⌋ for each domain d                 (B = examples consumed per K steps)
 *     r      = B − Σ_d n_d ;  one more to domains 0, 1, … until r is used up    (the remainder rule)
 *     buffer = shuffle([0]·n_0 + [1]·n_1 + …)              Fisher–Yates, SplittableRandom(seed + s)
 *   each example:  d ← buffer[position++];  example ← the next one of domain d
 * </pre>
 * The buffer of an interval is a function of (w, B, seed, s): a resumed run rebuilds it instead of storing it.
 * Each domain is read cyclically, epoch after epoch, in file order or in a seeded permutation per epoch
 * ({@link Batches}: its whole position is one cursor). The complete state is therefore
 * (w, the step the buffer was built at, the position in it, the two cursors): {@link #state} saves it
 * with a checkpoint and {@link #restore} rebuilds the same stream from it.
 */
public final class MixtureSampler {
    public static final int DOMAINS = 2;

    private final List<Batches> domains = new ArrayList<>(DOMAINS);
    private final long seed;
    private final int bufferSize;
    private double[] w;
    private long bufferStep;
    private int[] buffer;
    private int position;

    /**
     * @param system1, system2 the two domains' examples
     * @param bufferSize       B: examples consumed between two evaluations (K · examples per step)
     */
    public MixtureSampler(List<Example> system1, List<Example> system2, boolean shuffle, long seed, int bufferSize) {
        if (system1.isEmpty()) throw new IllegalArgumentException("no System-1 examples");
        if (system2.isEmpty()) throw new IllegalArgumentException("no System-2 examples");
        // each domain its own permutation stream (seed, domain), so the two orders are unrelated
        domains.add(new Batches(system1, shuffle, seed * 2));
        domains.add(new Batches(system2, shuffle, seed * 2 + 1));
        this.seed = seed;
        this.bufferSize = bufferSize;
        rebuild(WeightUpdate.initial(), 0);
    }

    /** A new buffer from weights {@code w}, built at optimizer step {@code step}. */
    public void rebuild(double[] w, long step) {
        this.w = w.clone();
        this.bufferStep = step;
        this.buffer = build(w, bufferSize, seed, step);
        this.position = 0;
    }

    /** One step's examples; {@code perDomain} receives how many came from each domain. */
    public List<Example> next(int count, int[] perDomain) {
        if (position + count > buffer.length)
            throw new IllegalStateException("the domain buffer of step " + bufferStep + " has " + (buffer.length - position)
                    + " entries left, " + count + " needed (evaluations must come every K steps)");
        List<Example> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int d = buffer[position++];
            perDomain[d]++;
            out.add(domains.get(d).next(1).getFirst());
        }
        return out;
    }

    public double[] weights() { return w.clone(); }

    /** Examples taken from each domain so far (all epochs). */
    public long cursor(int domain) { return domains.get(domain).cursor(); }

    public ObjectNode state() {
        ObjectNode o = RunDir.JSON.createObjectNode();
        o.putArray("w").add(w[0]).add(w[1]);
        o.put("buffer_step", bufferStep);
        o.put("buffer_position", position);
        o.putArray("domain_cursors").add(cursor(0)).add(cursor(1));
        return o;
    }

    /** Continues from a saved {@link #state}: same weights, same buffer and position, same next example of each domain. */
    public void restore(JsonNode s) {
        JsonNode wn = s.path("w"), c = s.path("domain_cursors");
        if (wn.size() != DOMAINS || c.size() != DOMAINS || !s.path("buffer_step").canConvertToLong() || !s.path("buffer_position").canConvertToInt())
            throw new IllegalArgumentException("checkpoint state lacks the mixture state (w, buffer_step, buffer_position, domain_cursors): " + s);
        rebuild(new double[]{wn.get(0).asDouble(), wn.get(1).asDouble()}, s.get("buffer_step").asLong());
        position = s.get("buffer_position").asInt();
        if (position < 0 || position > buffer.length) throw new IllegalArgumentException("buffer position " + position + " outside [0, " + buffer.length + "]");
        for (int d = 0; d < DOMAINS; d++) domains.get(d).seek(c.get(d).asLong());
    }

    // ---- the domain buffer -------------------------------------------------------------------------

    /** How many of the B slots each domain gets. */
    public static int[] counts(double[] w, int size) {
        if (size < 1) throw new IllegalArgumentException("buffer size must be ≥ 1, got " + size);
        double sum = 0;
        for (double x : w) {
            if (!(x >= 0) || Double.isInfinite(x)) throw new IllegalArgumentException("domain weights must be finite and ≥ 0, got " + x);
            sum += x;
        }
        if (Math.abs(sum - 1) > 1e-9) throw new IllegalArgumentException("domain weights must sum to 1, got " + sum);
        int[] n = new int[w.length];
        int used = 0;
        for (int d = 0; d < w.length; d++) used += n[d] = (int) Math.floor(w[d] * size);
        // Σ⌊w_d·B⌋ ≤ B; a rounding of w_d·B just above an integer could overshoot by one: take it back from the last domains
        for (int d = w.length - 1; used > size; d = (d + w.length - 1) % w.length)
            if (n[d] > 0) { n[d]--; used--; }
        for (int d = 0; used < size; d = (d + 1) % w.length) { n[d]++; used++; }
        return n;
    }

    /** The shuffled buffer of domain ids, [size]. */
    public static int[] build(double[] w, int size, long seed, long step) {
        int[] n = counts(w, size);
        int[] buf = new int[size];
        int k = 0;
        for (int d = 0; d < n.length; d++) for (int i = 0; i < n[d]; i++) buf[k++] = d;
        SplittableRandom rng = new SplittableRandom(seed + step);
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        return buf;
    }
}
