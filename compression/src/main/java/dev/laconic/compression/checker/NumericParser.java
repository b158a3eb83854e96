package dev.laconic.compression.checker;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plain numbers in a normalised answer, and the numeric comparison every later step uses.
 *
 * <p>Accepted forms: integers, with or without thousands separators ({@code 1,450,000}); decimals
 * ({@code .35625}, {@code -0.5}); {@code a/b}; {@code \frac{a}{b}} with an optional sign inside or
 * outside; mixed numbers ({@code 1\frac{4}{5}} = 9/5, the way MATH writes them). Anything else is
 * left to {@link LatexExpr}.
 *
 * <p>Comparison: numbers written with integers only compare exactly ({@link Rational}), so that
 * {@code 11,111,111,100} and {@code 11111111101} differ although their relative difference is below
 * 1e-4; anything else within relative tolerance 1e-4 (methods.md, {@link #close}).
 */
final class NumericParser {
    private NumericParser() {}

    static final double REL_TOL = 1e-4, ABS_NOISE = 1e-12;

    /**
     * A parsed number; {@code exact} is set when it is written with integers only (5, 6/3, \frac{3}{4},
     * 1\frac{4}{5}), and such numbers compare exactly. A decimal ({@code 0.33333}) is an
     * approximation and compares within the tolerance.
     */
    record Value(double value, Rational exact) {}

    private static final String NUM = "(?:\\d{1,3}(?:,\\d{3})+|\\d+)?(?:\\.\\d+)?";
    private static final Pattern DECIMAL = Pattern.compile("(-?)(" + NUM + ")");
    private static final Pattern SLASH = Pattern.compile("(-?)(" + NUM + ")/(-?)(" + NUM + ")");
    private static final Pattern FRAC = Pattern.compile("(-?)\\\\frac\\{(-?)(" + NUM + ")\\}\\{(-?)(" + NUM + ")\\}");
    private static final Pattern MIXED = Pattern.compile("(-?)(\\d+)\\\\frac\\{(\\d+)\\}\\{(\\d+)\\}");

    /** The value of a plain number, or null when {@code s} is not one. */
    static Value parse(String s) {
        Matcher m = DECIMAL.matcher(s);
        if (m.matches()) {
            BigDecimal d = decimal(m.group(2));
            if (d == null) return null;
            if (!m.group(1).isEmpty()) d = d.negate();
            return new Value(d.doubleValue(), exact(d));
        }
        m = SLASH.matcher(s);
        if (m.matches()) return ratio(m.group(1) + m.group(3), m.group(2), m.group(4));
        m = FRAC.matcher(s);
        if (m.matches()) return ratio(m.group(1) + m.group(2) + m.group(4), m.group(3), m.group(5));
        m = MIXED.matcher(s);
        if (m.matches()) {
            // 1\frac{4}{5} = 1 + 4/5; the sign applies to the whole mixed number
            Rational whole = Rational.of(new BigInteger(m.group(2)), BigInteger.ONE);
            Rational part = Rational.of(new BigInteger(m.group(3)), new BigInteger(m.group(4)));
            if (whole == null || part == null) return null;
            Rational r = whole.add(part);
            if (r == null) return null;
            if (!m.group(1).isEmpty()) r = r.negate();
            return new Value(r.doubleValue(), r);
        }
        return null;
    }

    private static BigDecimal decimal(String digits) {
        if (digits.isEmpty() || digits.equals(".")) return null;
        return new BigDecimal(digits.replace(",", ""));
    }

    /** Integers (including "18.00") are exact; other decimals are not. */
    private static Rational exact(BigDecimal d) {
        BigDecimal t = d.stripTrailingZeros();
        return t.scale() <= 0 ? Rational.of(t.toBigIntegerExact(), BigInteger.ONE) : null;
    }

    private static Value ratio(String signs, String num, String den) {
        BigDecimal a = decimal(num), b = decimal(den);
        if (a == null || b == null || b.signum() == 0) return null;
        boolean negative = (signs.length() - signs.replace("-", "").length()) % 2 == 1;
        double v = a.doubleValue() / b.doubleValue();
        Rational ea = exact(a), eb = exact(b);
        // exact only when both parts are integers: 6/3 = 2 and \frac{3}{4} = 0.75 exactly, 1.5/3 within tolerance
        Rational r = ea == null || eb == null ? null : ea.divide(eb);
        if (negative) {
            v = -v;
            if (r != null) r = r.negate();
        }
        return new Value(v, r);
    }

    static boolean equal(Value a, Value b) {
        if (a.exact() != null && b.exact() != null) return a.exact().equals(b.exact());
        return close(a.value(), b.value());
    }

    /**
     * Relative tolerance 1e-4; values that are both integers (within rounding of a float evaluation,
     * e.g. \sqrt{12}\sqrt{3} = 6.000000000000001) are compared exactly; infinities must match exactly;
     * differences below 1e-12 are float noise (\sin\pi = 1.2e-16 is 0).
     */
    static boolean close(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b)) return false;
        if (Double.isInfinite(a) || Double.isInfinite(b)) return a == b;
        if (Math.abs(a - b) <= ABS_NOISE) return true;
        if (integral(a) && integral(b)) return Math.round(a) == Math.round(b);
        return Math.abs(a - b) <= REL_TOL * Math.max(Math.abs(a), Math.abs(b));
    }

    // within float rounding of a non-zero integer (1e-31 is not "the integer 0"), or exactly 0
    private static boolean integral(double x) {
        double r = Math.rint(x);
        if (r == 0) return x == 0;
        return Math.abs(x) < 1e15 && Math.abs(x - r) <= 1e-9 * Math.abs(r);
    }
}
