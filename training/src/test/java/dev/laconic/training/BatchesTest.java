package dev.laconic.training;

import dev.laconic.training.SftData.Example;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class BatchesTest {
    /** Example i has i + 2 tokens and remembers i as its line. */
    static List<Example> examples(int n) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new Example(i, new int[i + 2], new float[i + 1]));
        return out;
    }

    static List<Integer> lines(List<Example> xs) {
        return xs.stream().map(Example::line).toList();
    }

    @Test
    void noShuffleIsFileOrderCycling() {
        Batches b = new Batches(examples(3), false, 7);
        assertEquals(List.of(0), lines(b.next(1)));
        assertEquals(List.of(1, 2, 0, 1), lines(b.next(4)));
        assertEquals(5, b.cursor());
        assertEquals(1, b.epoch());
    }

    @Test
    void shuffleIsAPermutationPerEpochFixedBySeed() {
        int n = 20;
        Batches a = new Batches(examples(n), true, 42), same = new Batches(examples(n), true, 42), other = new Batches(examples(n), true, 43);
        List<Integer> e0 = lines(a.next(n)), e1 = lines(a.next(n));
        assertEquals(Set.copyOf(lines(examples(n))), new HashSet<>(e0));
        assertEquals(Set.copyOf(lines(examples(n))), new HashSet<>(e1));
        assertNotEquals(e0, e1, "each epoch has its own order");
        assertNotEquals(lines(examples(n)), e0, "shuffled");
        assertEquals(e0, lines(same.next(n)));
        assertNotEquals(e0, lines(other.next(n)));
    }

    @Test
    void seekContinuesTheSameStream() {
        Batches straight = new Batches(examples(7), true, 1);
        List<Integer> all = lines(straight.next(30));
        Batches resumed = new Batches(examples(7), true, 1);
        resumed.seek(11);
        assertEquals(all.subList(11, 30), lines(resumed.next(19)));
    }

    @Test
    void microBatchesRespectGroupsAndTokenBudget() {
        List<Example> step = examples(6);                          // 2, 3, 4, 5, 6, 7 tokens
        assertEquals(List.of(List.of(0, 1, 2, 3, 4, 5)), Batches.microBatches(step, 1, 1000).stream().map(BatchesTest::lines).toList());
        assertEquals(List.of(List.of(0, 1, 2), List.of(3, 4, 5)), Batches.microBatches(step, 2, 1000).stream().map(BatchesTest::lines).toList());
        // budget 9: 2+3+4 = 9 fits, then 5 (5+6 > 9), 6, 7
        assertEquals(List.of(List.of(0, 1, 2), List.of(3), List.of(4), List.of(5)), Batches.microBatches(step, 1, 9).stream().map(BatchesTest::lines).toList());
        // an example over the budget runs alone
        assertEquals(List.of(List.of(0), List.of(1), List.of(2), List.of(3), List.of(4), List.of(5)),
                Batches.microBatches(step, 1, 1).stream().map(BatchesTest::lines).toList());
        assertThrows(IllegalArgumentException.class, () -> Batches.microBatches(step, 0, 9));
    }
}
