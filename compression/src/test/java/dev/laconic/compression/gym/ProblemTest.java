package dev.laconic.compression.gym;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class ProblemTest {
    private static final Pattern QUESTION = Pattern.compile("What is ([0-9]+(?: \\+ [0-9]+)+)\\?");

    /** The operands as the question text states them, parsed independently of Problem's fields. */
    static List<BigInteger> operandsOf(String text) {
        Matcher m = QUESTION.matcher(text);
        assertTrue(m.matches(), text);
        List<BigInteger> out = new ArrayList<>();
        for (String s : m.group(1).split(" \\+ ")) out.add(new BigInteger(s));
        return out;
    }

    @Test
    void sameSeedSameProblemsDifferentSeedDifferent() {
        for (int level = 1; level <= Problem.LEVELS.size(); level++) {
            SplittableRandom a = new SplittableRandom(7), b = new SplittableRandom(7), c = new SplittableRandom(8);
            List<Problem> pa = new ArrayList<>(), pb = new ArrayList<>(), pc = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                pa.add(Problem.random(level, a));
                pb.add(Problem.random(level, b));
                pc.add(Problem.random(level, c));
            }
            assertEquals(pa, pb);
            assertNotEquals(pa, pc);
        }
    }

    @Test
    void everyLevelHasItsShapeAndCorrectAnswers() {
        int[][] shape = {{2, 2}, {2, 3}, {2, 4}, {3, 3}};   // operands, digits of each (the spec of the levels)
        SplittableRandom rng = new SplittableRandom(1);
        for (int level = 1; level <= 4; level++) {
            Set<Integer> leadingDigits = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                Problem p = Problem.random(level, rng);
                List<BigInteger> ops = operandsOf(p.text());
                assertEquals(shape[level - 1][0], ops.size(), p.text());
                BigInteger sum = BigInteger.ZERO;
                for (BigInteger x : ops) {
                    assertEquals(shape[level - 1][1], x.toString().length(), p.text());
                    leadingDigits.add(x.toString().charAt(0) - '0');
                    sum = sum.add(x);
                }
                assertEquals(sum, BigInteger.valueOf(p.answer()), p.text());
                assertEquals(level, p.level());
            }
            assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9), leadingDigits, "level " + level + ": leading digits 1-9, never 0");
        }
    }

    @Test
    void refusesBadInput() {
        assertThrows(IllegalArgumentException.class, () -> new Problem(0, new long[]{1, 2}));
        assertThrows(IllegalArgumentException.class, () -> new Problem(5, new long[]{1, 2}));
        assertThrows(IllegalArgumentException.class, () -> new Problem(1, new long[]{1}));
        assertThrows(IllegalArgumentException.class, () -> new Problem(1, new long[]{1, -2}));
    }

    @Test
    void equalityIsByValue() {
        assertEquals(new Problem(2, new long[]{123, 456}), new Problem(2, new long[]{123, 456}));
        assertNotEquals(new Problem(2, new long[]{123, 456}), new Problem(2, new long[]{456, 123}));
        assertEquals(new Problem(2, new long[]{123, 456}).hashCode(), new Problem(2, new long[]{123, 456}).hashCode());
    }
}
