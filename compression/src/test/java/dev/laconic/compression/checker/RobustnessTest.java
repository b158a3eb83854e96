package dev.laconic.compression.checker;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collections;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Model output is arbitrary text: the checker answers for anything, quickly, and never throws. */
class RobustnessTest {
    static final String ALPHABET = "0123456789+-*/^_=,.()[]{}|!$% xyzabe\\";
    static final String[] TOKENS = {"\\frac", "\\sqrt", "\\pi", "\\left(", "\\right)", "\\text{", "\\boxed{", "\\pm",
            "\\cup", "\\{", "\\}", "\\\\", "&", "\\begin{pmatrix}", "\\end{pmatrix}", "\\infty", "\\cdot", "\\sin",
            "^\\circ", "\\%", "</think>", "\\in", "\\!", "\\,", "cm", "dollars"};

    @Test
    void randomLatexNeverThrows() {
        Random rng = new Random(7);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int n = 0; n < 3000; n++) {
                String a = random(rng), b = rng.nextBoolean() ? random(rng) : a;
                boolean same = AnswerChecker.equivalent(a, b);
                if (a.equals(b) && !Normalizer.normalize(a).text().isEmpty()) assertTrue(same, a);
                AnswerChecker.grade(a, b);
                AnswerChecker.grade(a, "#### " + b);
            }
        });
    }

    static String random(Random rng) {
        StringBuilder sb = new StringBuilder();
        int len = rng.nextInt(25);
        for (int k = 0; k < len; k++) {
            if (rng.nextInt(3) == 0) sb.append(TOKENS[rng.nextInt(TOKENS.length)]);
            else sb.append(ALPHABET.charAt(rng.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    @Test
    void pathologicalInputsStayFast() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            String deep = "(".repeat(3000) + "1" + ")".repeat(3000);
            assertFalse(AnswerChecker.equivalent(deep, "2"));
            String braces = "{".repeat(1500) + "1" + "}".repeat(1500);
            assertTrue(AnswerChecker.equivalent(braces, "1"));
            // 2^30 members if every sign were expanded
            String signs = String.join("", Collections.nCopies(30, "\\pm1"));
            AnswerChecker.equivalent(signs, signs + "+1");
            // equal-looking members without a perfect matching: no exponential search
            String ones = String.join(",", Collections.nCopies(40, "1"));
            assertFalse(AnswerChecker.equivalent(ones, ones.substring(2) + ",2"));
            assertTrue(AnswerChecker.equivalent(ones + ",2", "2," + ones));
            String huge = "1+".repeat(5000) + "1";
            assertFalse(AnswerChecker.equivalent(huge, "5001"));
            assertTrue(AnswerChecker.equivalent(huge, huge));
            String completion = "\\boxed{".repeat(2000) + "5";
            assertNull(AnswerChecker.extract(completion));
        });
    }
}
