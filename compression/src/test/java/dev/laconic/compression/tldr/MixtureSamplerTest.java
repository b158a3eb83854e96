package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.training.SftData.Example;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The mixture stream: buffer composition (⌊w_d·B⌋ per domain, the remainder to domains 0, 1, …, a seeded shuffle),
 * the buffer names the domain, each domain is read cyclically, the state restores the stream.
 */
class MixtureSamplerTest {
    /** Examples told apart by their line number. */
    static List<Example> domain(int first, int n) {
        List<Example> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(new Example(first + i, new int[]{1, 2}, new float[]{1}));
        return l;
    }

    static List<Integer> lines(List<Example> l) {
        return l.stream().map(Example::line).toList();
    }

    @Test
    void domainsFollowTheBufferAndCycleInFileOrder() {
        MixtureSampler mix = new MixtureSampler(domain(1, 3), domain(101, 2), false, 9, 8);
        int[] buffer = MixtureSampler.build(new double[]{0.5, 0.5}, 8, 9, 0);
        int[] counts = new int[2];
        List<Example> got = new ArrayList<>();
        for (int s = 0; s < 4; s++) got.addAll(mix.next(2, counts));
        assertArrayEquals(new int[]{4, 4}, counts);
        // expected: domain 0 gives 1, 2, 3, 1, …; domain 1 gives 101, 102, 101, …, in buffer order
        int[] next = {0, 0};
        List<Integer> want = new ArrayList<>();
        for (int d : buffer) want.add(d == 0 ? 1 + next[0]++ % 3 : 101 + next[1]++ % 2);
        assertEquals(want, lines(got));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> mix.next(1, new int[2]));
        assertTrue(e.getMessage().contains("buffer"), e.getMessage());

        // after an evaluation: a buffer from the new weights, seeded with the step
        mix.rebuild(new double[]{0.75, 0.25}, 4);
        int[] c2 = new int[2];
        mix.next(8, c2);
        assertArrayEquals(new int[]{6, 2}, c2);
        assertEquals(4 + 6, mix.cursor(0));
        assertEquals(4 + 2, mix.cursor(1));
    }

    @Test
    void stateRestoresTheSameStream() {
        MixtureSampler a = new MixtureSampler(domain(1, 5), domain(101, 7), true, 3, 12);
        a.next(5, new int[2]);
        a.rebuild(new double[]{0.3, 0.7}, 4);
        a.next(7, new int[2]);
        JsonNode state = a.state();
        List<Integer> rest = lines(a.next(5, new int[2]));
        a.rebuild(new double[]{0.9, 0.1}, 8);
        rest = new ArrayList<>(rest);
        rest.addAll(lines(a.next(12, new int[2])));

        MixtureSampler b = new MixtureSampler(domain(1, 5), domain(101, 7), true, 3, 12);
        b.restore(state);
        assertArrayEquals(new double[]{0.3, 0.7}, b.weights());
        List<Integer> again = new ArrayList<>(lines(b.next(5, new int[2])));
        b.rebuild(new double[]{0.9, 0.1}, 8);
        again.addAll(lines(b.next(12, new int[2])));
        assertEquals(rest, again);

        assertThrows(IllegalArgumentException.class, () -> b.restore(state.path("w")));
        assertThrows(IllegalArgumentException.class, () -> new MixtureSampler(List.of(), domain(1, 1), true, 0, 4));
    }

    @Test
    void countsAreFloorsWithTheRemainderToDomainZeroFirst() {
        assertArrayEquals(new int[]{5, 5}, MixtureSampler.counts(new double[]{0.5, 0.5}, 10));
        assertArrayEquals(new int[]{6, 4}, MixtureSampler.counts(new double[]{0.55, 0.45}, 10));   // 5 + 4, remainder 1 → domain 0
        assertArrayEquals(new int[]{5, 5}, MixtureSampler.counts(new double[]{0.45, 0.55}, 10));   // 4 + 5, remainder 1 → domain 0
        assertArrayEquals(new int[]{32, 0}, MixtureSampler.counts(new double[]{0.98, 0.02}, 32));  // 31 + 0 (0.64), remainder → domain 0
        assertArrayEquals(new int[]{1, 31}, MixtureSampler.counts(new double[]{0.02, 0.98}, 32));  // 0 + 31, remainder → domain 0
        assertArrayEquals(new int[]{3, 7}, MixtureSampler.counts(new double[]{0.3, 0.7}, 10));     // 0.3·10 = 3.0000000000000004
        assertArrayEquals(new int[]{1, 0}, MixtureSampler.counts(new double[]{0.5, 0.5}, 1));      // 0 + 0, remainder → domain 0
        // three domains: 1 + 1 + 2 of 5 (⌊1.5⌋, ⌊1.5⌋, ⌊2.0⌋), the one left over goes to domain 0
        assertArrayEquals(new int[]{2, 1, 2}, MixtureSampler.counts(new double[]{0.3, 0.3, 0.4}, 5));
        // 0.1 + 0.2 + 0.7 of 7: 0 + 1 + 4, the two left over go to domains 0 and 1
        assertArrayEquals(new int[]{1, 2, 4}, MixtureSampler.counts(new double[]{0.1, 0.2, 0.7}, 7));
    }

    @Test
    void bufferHoldsTheCountsAndDependsOnSeedPlusStep() {
        double[] w = {0.25, 0.75};
        int[] a = MixtureSampler.build(w, 64, 7, 32);
        int[] counts = new int[2];
        for (int d : a) counts[d]++;
        assertArrayEquals(new int[]{16, 48}, counts);
        assertArrayEquals(a, MixtureSampler.build(w, 64, 7, 32), "same seed and step, same buffer");
        assertArrayEquals(a, MixtureSampler.build(w, 64, 32, 7), "seeded by seed + step");
        assertFalse(Arrays.equals(a, MixtureSampler.build(w, 64, 7, 64)), "the next interval is shuffled differently");
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertFalse(Arrays.equals(a, sorted), "shuffled");
    }

    @Test
    void badWeightsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MixtureSampler.counts(new double[]{0.5, 0.6}, 10));
        assertThrows(IllegalArgumentException.class, () -> MixtureSampler.counts(new double[]{Double.NaN, 1}, 10));
        assertThrows(IllegalArgumentException.class, () -> MixtureSampler.counts(new double[]{0.5, 0.5}, 0));
    }
}
