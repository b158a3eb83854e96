package dev.laconic.compression.checker;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** One line per normalisation rule: the rewriting the rule's comment promises. */
class NormalizerTest {
    static String norm(String s) { return Normalizer.normalize(s).text(); }

    @Test
    void rules() {
        assertEquals("(3,\\frac{\\pi}{2})", norm("\\left( 3, \\frac{\\pi}{2} \\right)"));
        assertEquals("\\{1,2\\}", norm("\\left\\{1, 2\\right\\}"));
        assertEquals("x\\rightarrow\\infty", norm("x \\rightarrow \\infty"));
        assertEquals("10,080", norm("10,\\!080"));
        assertEquals("10080", norm("10\\,080"));
        assertEquals("18.9", norm("\\$18.90"));
        assertEquals("5", norm("$5$"));
        assertEquals("15", norm("15\\mbox{ cm}^2"));
        assertEquals("5.4", norm("5.4 \\text{ cents}"));
        assertEquals("5", norm("5 cm"));
        assertEquals("2m", norm("2m"));
        assertEquals("B", norm("\\text{(B)}"));
        assertEquals("Evelyn", norm("\\text{Evelyn}"));
        assertEquals("\\cot x", norm("\\cot  x"));
        assertEquals("\\frac{1}{2}", norm("\\dfrac{1}{2}"));
        assertEquals("\\frac{1}{2}", norm("\\frac12"));
        assertEquals("\\frac{9}{19}", norm("\\frac9{19}"));
        assertEquals("\\frac{270}{7}", norm("\\frac{270}7"));
        assertEquals("\\sqrt{2}", norm("\\sqrt2"));
        assertEquals("30", norm("30^{\\circ}"));
        assertEquals("30", norm("30^\\circ"));
        assertEquals("30", norm("30°"));
        assertEquals("x^2", norm("x^{2}"));
        assertEquals("4210_5", norm("4210_{5}"));
        assertEquals("5", norm("5.0"));
        assertEquals("1.05", norm("1.05"));
        assertEquals("5", norm("5."));
        assertEquals("5", norm("{5}"));
        assertEquals("5", norm("\\boxed{5}"));
        assertEquals("-3", norm("−3"));
        assertEquals("5,7", norm("5 \\text{ and } 7"));
        assertEquals("\\begin{pmatrix}1\\\\2\\end{pmatrix}", norm("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"));
        assertEquals("2v", norm("2\\mathbf{v}")); // a math-mode name, not a unit
    }

    @Test
    void percentIsRemovedAndRemembered() {
        assertEquals(new Normalizer.Normalized("50", true), Normalizer.normalize("50\\%"));
        assertEquals(new Normalizer.Normalized("50", true), Normalizer.normalize("50%"));
        assertEquals(new Normalizer.Normalized("50", true), Normalizer.normalize("50 percent"));
        assertEquals(new Normalizer.Normalized("50", false), Normalizer.normalize("50"));
    }
}
