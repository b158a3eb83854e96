package dev.laconic.compression.checker;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The evaluator against values computed directly with java.lang.Math. */
class LatexExprTest {
    static double value(String latex, Map<String, Double> env) {
        LatexExpr.Parsed p = LatexExpr.parse(latex);
        assertNotNull(p, latex);
        return p.node().eval(env);
    }

    static double value(String latex) { return value(latex, Map.of()); }

    @Test
    void numbersAndOperators() {
        assertEquals(3 * Math.sqrt(3) / 4, value("\\frac{3\\sqrt{3}}{4}"), 1e-15);
        assertEquals(512, value("2^3^2"));            // right-associative tower
        assertEquals(0.5, value("2^{-1}"));
        assertEquals(0.5, value("2^-1"));
        assertEquals(3, value("\\sqrt[3]{27}"), 1e-12);
        assertEquals(0.5, value("\\frac12"));
        assertEquals(270.0 / 7, value("\\frac{270}7"));
        assertEquals(6, value("2(3)"));
        assertEquals(2.0 / 3 * 4, value("2/3\\cdot4"), 1e-15); // left to right
        assertEquals(10 - 4 * 2, value("10-4\\times2"));
        assertEquals(120, value("5!"));
        assertEquals(20, value("\\binom{6}{3}"));
        assertEquals(3, value("|-3|"));
        assertEquals(Double.NEGATIVE_INFINITY, value("-\\infty"));
        assertEquals(12 * Math.PI, value("12\\pi"), 1e-12);
        assertEquals(Math.log(2), value("\\ln 2"), 1e-15);
        assertEquals(2, value("\\log{100}"), 1e-15);
    }

    @Test
    void mixedNumbersOnlyForIntegerFractions() {
        assertEquals(1.8, value("1\\frac{4}{5}"), 1e-15);
        assertEquals(-1.8, value("-1\\frac{4}{5}"), 1e-15);
        assertEquals(2 * Math.PI / 3, value("2\\frac{\\pi}{3}"), 1e-15);  // a product, not 2 + π/3
        assertEquals(2 * 1.5 / 2, value("2\\frac{x}{2}", Map.of("x", 1.5)), 1e-15);
        assertEquals(1.5 * 0.8, value("x\\frac{4}{5}", Map.of("x", 1.5)), 1e-15);
    }

    @Test
    void variablesAndFunctions() {
        Map<String, Double> x = Map.of("x", 0.7);
        assertEquals(-0.49, value("-x^2", x), 1e-15);
        assertEquals(Math.pow(Math.sin(0.7), 2), value("\\sin^2 x", x), 1e-15);
        assertEquals(Math.sin(0.7) * Math.cos(0.7), value("\\sin x\\cos x", x), 1e-15);
        assertEquals(Math.sin(2 * 0.7), value("\\sin 2x", x), 1e-15);
        assertEquals(1 / Math.tan(0.7), value("\\cot x", x), 1e-15);
        assertEquals(Math.sin(0.7) + 1, value("\\sin(x)+1", x), 1e-15);
        assertEquals(0.7 * 0.3 + 1, value("ab+1", Map.of("a", 0.7, "b", 0.3)), 1e-15);
        assertEquals(Set.of("a", "b"), LatexExpr.parse("ab+1").variables());
        assertEquals(Set.of("x_1", "x_{2}"), LatexExpr.parse("x_1+x_{2}").variables());
        assertEquals(Set.of("\\theta"), LatexExpr.parse("2\\theta").variables());
    }

    @Test
    void undefinedValuesAreNaN() {
        assertTrue(Double.isNaN(value("\\frac{1}{0}")));
        assertTrue(Double.isNaN(value("1/0")));
        assertTrue(Double.isNaN(value("\\sqrt{-4}")));
        assertTrue(Double.isNaN(value("(-1)!")));
    }

    @Test
    void rejectsWhatIsNotAnExpression() {
        for (String s : new String[] {"", "east", "204_5", "x=5", "(1,2)", "1,2", "(1", "\\cup", "A\\cup B", "\\frac{1}",
                "\\unknown{3}", "1..2", "x\\le3"})
            assertNull(LatexExpr.parse(s), s);
    }
}
