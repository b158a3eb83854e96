package dev.laconic.compression.gym;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The solution writers against an independent checker that re-reads a trace line by line and redoes
 * every step with BigInteger arithmetic: the popped digits, each column sum, the carry, the shortened
 * operands, the growing result, each conclusion and the boxed answer.
 */
class WritersTest {
    private static final Pattern STATE = Pattern.compile("((?:[A-H]=[0-9]* )+)carry=([0-9]+) digits=([0-9]*)");
    private static final Pattern COLUMN = Pattern.compile("((?:[0-9]\\+)+)([0-9]+)=([0-9]+)");
    private static final Pattern SO = Pattern.compile("So the sum is ([0-9]+)\\.");
    private static final Pattern AGAIN = Pattern.compile("That gives ([0-9]+) again, the same as before\\.");
    private static final Pattern FIXED = Pattern.compile("That gives ([0-9]+), not ([0-9]+)\\. I made a mistake earlier, so the sum is ([0-9]+)\\.");

    /** What the checker found. */
    record Checked(int passes, int slips, BigInteger boxed) {}

    /** A computation block: returns its result and the number of wrong column sums; advances pos[0]. */
    private static BigInteger block(List<String> lines, int[] pos, List<String> expectOperands, int rotation, int[] slips) {
        Matcher s = STATE.matcher(lines.get(pos[0]));
        assertTrue(s.matches(), "state line expected: " + lines.get(pos[0]));
        List<String> ops = new ArrayList<>();
        for (String part : s.group(1).trim().split(" ")) ops.add(part.substring(2));
        List<String> rotated = new ArrayList<>();
        for (int i = 0; i < expectOperands.size(); i++) rotated.add(expectOperands.get((i + rotation) % expectOperands.size()));
        assertEquals(rotated, ops, "operands of the first state line: the problem's, rotated left by the pass number");
        assertEquals("0", s.group(2));
        assertEquals("", s.group(3));
        int carry = 0;
        String digits = "";
        while (true) {
            pos[0]++;
            Matcher c = COLUMN.matcher(lines.get(pos[0]));
            if (!c.matches()) {
                boolean done = ops.stream().allMatch(String::isEmpty) && carry == 0;
                assertTrue(done, "block ended early at: " + lines.get(pos[0]));
                return new BigInteger(digits);
            }
            String[] addends = c.group(1).split("\\+");
            assertEquals(ops.size(), addends.length, lines.get(pos[0]));
            int expected = carry;
            for (int i = 0; i < ops.size(); i++) {
                String o = ops.get(i);
                int popped = o.isEmpty() ? 0 : o.charAt(o.length() - 1) - '0';
                assertEquals(popped, Integer.parseInt(addends[i]), "popped digit of operand " + i + ": " + lines.get(pos[0]));
                expected += popped;
                ops.set(i, o.isEmpty() ? o : o.substring(0, o.length() - 1));
            }
            assertEquals(carry, Integer.parseInt(c.group(2)), "carry in " + lines.get(pos[0]));
            int written = Integer.parseInt(c.group(3));
            if (written != expected) {
                slips[0]++;
                assertEquals(1, Math.abs(written - expected), "a slip is off by one: " + lines.get(pos[0]));
            }
            carry = written / 10;
            digits = (written % 10) + digits;
            pos[0]++;
            Matcher n = STATE.matcher(lines.get(pos[0]));
            assertTrue(n.matches(), "state line expected: " + lines.get(pos[0]));
            List<String> got = new ArrayList<>();
            for (String part : n.group(1).trim().split(" ")) got.add(part.substring(2));
            assertEquals(ops, got, "operands after a column");
            assertEquals(carry, Integer.parseInt(n.group(2)), "carry after a column");
            assertEquals(digits, n.group(3), "digits after a column");
        }
    }

    /** Re-reads a System-2 response and checks every step; returns passes, slips, boxed answer. */
    static Checked check(Problem p, String response) {
        int end = response.indexOf("\n</think>\n\n");
        assertTrue(end > 0, "no </think>");
        String answer = response.substring(end + "\n</think>\n\n".length());
        Matcher boxed = Pattern.compile("The answer is \\\\boxed\\{([0-9]+)\\}\\.").matcher(answer);
        assertTrue(boxed.matches(), answer);
        List<String> lines = Arrays.asList(response.substring(0, end).split("\n", -1));
        assertEquals(System2Writer.HEADER, lines.getFirst());
        List<String> operands = new ArrayList<>();
        for (BigInteger x : ProblemTest.operandsOf(p.text())) operands.add(x.toString());
        int[] pos = {1}, firstSlips = {0};
        BigInteger current = block(lines, pos, operands, 0, firstSlips);
        Matcher so = SO.matcher(lines.get(pos[0]));
        assertTrue(so.matches(), lines.get(pos[0]));
        assertEquals(current, new BigInteger(so.group(1)));
        assertTrue(firstSlips[0] <= 1, "at most one slip");
        int passes = 0;
        pos[0]++;
        while (pos[0] < lines.size()) {
            assertTrue(System2Writer.PASS_OPENINGS.contains(lines.get(pos[0])), "pass opening: " + lines.get(pos[0]));
            pos[0]++;
            int[] slips = {0};
            BigInteger again = block(lines, pos, operands, passes + 1, slips);
            assertEquals(0, slips[0], "verification passes never slip");
            String concl = lines.get(pos[0]);
            Matcher a = AGAIN.matcher(concl), f = FIXED.matcher(concl);
            if (a.matches()) {
                assertEquals(current, again);
                assertEquals(again, new BigInteger(a.group(1)));
            } else {
                assertTrue(f.matches(), concl);
                assertNotEquals(current, again);
                assertEquals(again, new BigInteger(f.group(1)));
                assertEquals(current, new BigInteger(f.group(2)));
                assertEquals(again, new BigInteger(f.group(3)));
                current = again;
            }
            passes++;
            pos[0]++;
        }
        BigInteger truth = BigInteger.ZERO;
        for (String o : operands) truth = truth.add(new BigInteger(o));
        assertEquals(truth, current, "the last conclusion is the true sum");
        assertEquals(truth, new BigInteger(boxed.group(1)), "boxed answer");
        return new Checked(passes, firstSlips[0], new BigInteger(boxed.group(1)));
    }

    @Test
    void everySystem2TraceChecksOutStepByStep() {
        SplittableRandom rng = new SplittableRandom(11);
        int[] passCount = new int[System2Writer.MAX_PASSES + 1];
        int withPasses = 0, slipped = 0;
        int n = 0;
        for (int level = 1; level <= Problem.LEVELS.size(); level++)
            for (int i = 0; i < 1000; i++) {
                Problem p = Problem.random(level, rng);
                System2Writer.Trace t = System2Writer.write(p, rng);
                Checked c = check(p, t.response());
                assertEquals(t.passes(), c.passes());
                assertEquals(t.slip() == null ? 0 : 1, c.slips());
                passCount[c.passes()]++;
                if (c.passes() > 0) withPasses++;
                if (c.slips() > 0) {
                    slipped++;
                    assertTrue(c.passes() > 0, "a slip is always caught");
                }
                n++;
            }
        for (int k = 0; k <= System2Writer.MAX_PASSES; k++)
            assertEquals(0.25, (double) passCount[k] / n, 0.03, "passes " + k + " drawn uniformly");
        assertEquals(System2Writer.SLIP_RATE, (double) slipped / withPasses, 0.03, "slip rate among solutions with passes");
    }

    @Test
    void aSlipIsCaughtAndFixedByTheFirstPass() {
        Problem p = new Problem(3, new long[]{4821, 3975});
        String r = System2Writer.write(p, 2, new System2Writer.Slip(2, -1), new int[]{0, 1}).response();
        Checked c = check(p, r);
        assertEquals(1, c.slips());
        assertTrue(r.contains("So the sum is 8696."), r);           // hundreds column 8+9+0 written as 16
        assertTrue(r.contains("That gives 8796, not 8696. I made a mistake earlier, so the sum is 8796."), r);
        assertTrue(r.contains("That gives 8796 again, the same as before."), r);
        assertTrue(r.endsWith("\\boxed{8796}."), r);
    }

    @Test
    void theCheckerRejectsABrokenTrace() {
        Problem p = new Problem(2, new long[]{265, 482});
        String good = System2Writer.write(p, 1, null, new int[]{2}).response();
        check(p, good);
        assertThrows(AssertionError.class, () -> check(p, good.replace("A=265 B=482", "A=255 B=482")));  // copy error
        assertThrows(AssertionError.class, () -> check(p, good.replace("6+8+0=14", "6+8+0=15")));       // a sum changed, not what follows
        assertThrows(AssertionError.class, () -> check(p, good.replace("\\boxed{747}", "\\boxed{748}")));
        assertThrows(AssertionError.class, () -> check(p, good.replace("carry=1 digits=47", "carry=0 digits=47")));
    }

    @Test
    void sameRandomStreamSameTrace() {
        Problem p = new Problem(4, new long[]{482, 397, 615});
        for (long seed = 0; seed < 20; seed++)
            assertEquals(System2Writer.write(p, new SplittableRandom(seed)).response(),
                    System2Writer.write(p, new SplittableRandom(seed)).response());
    }

    @Test
    void finalCarryGetsItsOwnColumn() {
        Problem p = new Problem(1, new long[]{99, 98});
        String r = System2Writer.write(p, 0, null, new int[0]).response();
        assertTrue(r.contains("0+0+1=1\nA= B= carry=0 digits=197\nSo the sum is 197."), r);
        check(p, r);
    }

    @Test
    void system1IsOneLineOfThoughtThenTheAnswer() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int level = 1; level <= 4; level++)
            for (int i = 0; i < 200; i++) {
                Problem p = Problem.random(level, rng);
                String r = System1Writer.write(p);
                Matcher m = Pattern.compile("([0-9 +]+) = ([0-9]+)\\.\n</think>\n\nThe answer is \\\\boxed\\{([0-9]+)\\}\\.").matcher(r);
                assertTrue(m.matches(), r);
                BigInteger sum = BigInteger.ZERO;
                for (String s : m.group(1).split(" \\+ ")) sum = sum.add(new BigInteger(s));
                assertEquals(ProblemTest.operandsOf(p.text()).stream().reduce(BigInteger.ZERO, BigInteger::add), sum);
                assertEquals(sum, new BigInteger(m.group(2)));
                assertEquals(sum, new BigInteger(m.group(3)));
            }
    }

    @Test
    void briefIsTheLongScratchpadWithoutVerification() {
        Problem p = new Problem(3, new long[]{4821, 3975});
        String brief = GymFormat.response(p, GymFormat.Style.BRIEF, new SplittableRandom(1));
        String full = System2Writer.write(p, 2, null, new int[]{0, 1}).response();
        assertEquals(full.substring(0, full.indexOf("So the sum is")), brief.substring(0, brief.indexOf("So the sum is")));
        for (String opening : System2Writer.PASS_OPENINGS) assertFalse(brief.contains(opening));
        assertTrue(brief.endsWith("So the sum is 8796.\n</think>\n\nThe answer is \\boxed{8796}."), brief);
        assertEquals(GymFormat.Style.BRIEF, GymFormat.Style.parse("brief"));
    }

    /**
     * Re-reads a terse response from the prompt alone: column k (0 = ones) adds the k-th digit from the right
     * of every operand (0 once an operand is exhausted) and the carry of the line before; the lines run while a
     * digit or a carry is left; the conclusion and the box are the BigInteger sum. No state line anywhere.
     */
    static void checkTerse(Problem p, String response) {
        int end = response.indexOf("\n</think>\n\n");
        assertTrue(end > 0, "no </think>");
        List<String> lines = Arrays.asList(response.substring(0, end).split("\n", -1));
        assertEquals(System2Writer.HEADER, lines.getFirst());
        List<BigInteger> ops = ProblemTest.operandsOf(p.text());
        int longest = ops.stream().mapToInt(x -> x.toString().length()).max().orElseThrow();
        int carry = 0, k = 0;
        for (; k + 1 < lines.size() - 1; k++) {
            Matcher c = COLUMN.matcher(lines.get(k + 1));
            assertTrue(c.matches(), "column line expected: " + lines.get(k + 1));
            String[] addends = c.group(1).split("\\+");
            assertEquals(ops.size(), addends.length, lines.get(k + 1));
            int sum = carry;
            for (int i = 0; i < ops.size(); i++) {
                String o = ops.get(i).toString();
                int digit = k < o.length() ? o.charAt(o.length() - 1 - k) - '0' : 0;
                assertEquals(digit, Integer.parseInt(addends[i]), "digit " + k + " of operand " + i + ": " + lines.get(k + 1));
                sum += digit;
            }
            assertEquals(carry, Integer.parseInt(c.group(2)), "carry in " + lines.get(k + 1));
            assertEquals(sum, Integer.parseInt(c.group(3)), lines.get(k + 1));
            carry = sum / 10;
        }
        assertEquals(0, carry, "no carry left");
        assertTrue(k >= longest, "a column per digit: " + k + " lines for " + longest + " digits");
        BigInteger truth = ops.stream().reduce(BigInteger.ZERO, BigInteger::add);
        Matcher so = SO.matcher(lines.getLast());
        assertTrue(so.matches(), lines.getLast());
        assertEquals(truth, new BigInteger(so.group(1)));
        assertEquals("The answer is \\boxed{" + truth + "}.", response.substring(end + "\n</think>\n\n".length()));
        assertFalse(STATE.matcher(response).find(), "no state line: " + response);
    }

    @Test
    void terseIsTheColumnLinesAlone() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int level = 1; level <= Problem.LEVELS.size(); level++)
            for (int i = 0; i < 500; i++) {
                Problem p = Problem.random(level, rng);
                checkTerse(p, GymFormat.response(p, GymFormat.Style.TERSE, rng));
            }
        Problem p = new Problem(3, new long[]{4821, 3975});
        assertEquals(System2Writer.HEADER + "\n1+5+0=6\n2+7+0=9\n8+9+0=17\n4+3+1=8\nSo the sum is 8796.\n</think>\n\nThe answer is \\boxed{8796}.",
                GymFormat.response(p, GymFormat.Style.TERSE, rng));
        Problem carried = new Problem(1, new long[]{99, 98});
        assertTrue(System2Writer.terse(carried).contains("9+8+0=17\n9+9+1=19\n0+0+1=1\nSo the sum is 197."), System2Writer.terse(carried));
        assertThrows(AssertionError.class, () -> checkTerse(p, GymFormat.response(p, GymFormat.Style.TERSE, rng).replace("8+9+0=17", "8+9+0=16")));
        assertThrows(AssertionError.class, () -> checkTerse(p, GymFormat.response(p, GymFormat.Style.BRIEF, rng)));
        assertEquals(GymFormat.Style.TERSE, GymFormat.Style.parse("terse"));
    }

    @Test
    void sketchSumsEachColumnWithoutItsCarry() {
        Problem p = new Problem(3, new long[]{4821, 3975});
        assertEquals(System2Writer.HEADER + "\n1+5=6\n2+7=9\n8+9=17\n4+3=7\nSo the sum is 8796.\n</think>\n\nThe answer is \\boxed{8796}.",
                GymFormat.response(p, GymFormat.Style.SKETCH, new SplittableRandom(0)));
        SplittableRandom rng = new SplittableRandom(9);
        for (int level = 1; level <= Problem.LEVELS.size(); level++)
            for (int i = 0; i < 300; i++) {
                Problem q = Problem.random(level, rng);
                List<String> lines = System2Writer.reasoningLines(System2Writer.sketch(q));
                List<BigInteger> ops = ProblemTest.operandsOf(q.text());
                BigInteger total = BigInteger.ZERO;   // Σ column sum · 10^k must be the sum: the carries are left to the conclusion
                for (int k = 1; k + 1 < lines.size(); k++) {
                    String[] sides = lines.get(k).split("=");
                    int sum = 0;
                    String[] digits = sides[0].split("\\+");
                    for (int j = 0; j < ops.size(); j++) {
                        String o = ops.get(j).toString();
                        assertEquals(k - 1 < o.length() ? o.charAt(o.length() - k) - '0' : 0, Integer.parseInt(digits[j]), lines.get(k));
                        sum += Integer.parseInt(digits[j]);
                    }
                    assertEquals(sum, Integer.parseInt(sides[1]), lines.get(k));
                    total = total.add(BigInteger.valueOf(sum).multiply(BigInteger.TEN.pow(k - 1)));
                }
                BigInteger truth = ops.stream().reduce(BigInteger.ZERO, BigInteger::add);
                assertEquals(truth, total);
                assertEquals("So the sum is " + truth + ".", lines.getLast());
            }
        assertEquals(GymFormat.Style.SKETCH, GymFormat.Style.parse("sketch"));
    }
}
