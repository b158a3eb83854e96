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
 * <p>Comparison ({@link #equal}):
 * <ul>
 *   <li>numbers written with integers only compare exactly ({@link Rational}), so that
 *       {@code 11,111,111,100} and {@code 11111111101} differ although their relative difference is
 *       below 1e-4;</li>
 *   <li>two numbers one of which is a decimal compare within relative tolerance 1e-4 (methods.md),
 *       and the decimal must be the other number rounded to the decimal's written digits:
 *       {@code 4.6667} ≡ {@code \frac{14}{3}}, but {@code 100.01} ≢ {@code 100} (within 1e-4, yet not
 *       a rounding of 100) and {@code 4.67} ≢ {@code \frac{14}{3}} (a rounding, but 1e-3 off); two
 *       decimals must be equal;</li>
 *   <li>anything that is not a number ({@code \pi}, a root, a logarithm: {@link #number} false) must
 *       have the same value up to float rounding ({@link #sameValue}), so a decimal approximation
 *       never matches it: {@code 0.7071} ≢ {@code \frac{\sqrt2}{2}}.</li>
 * </ul>
 */
final class NumericParser {
    private NumericParser() {}

    static final double REL_TOL = 1e-4, ABS_NOISE = 1e-12;

    /** Relative float rounding of an evaluation: far below any decimal a person writes. */
    static final double SAME_VALUE_TOL = 1e-10;

    /**
     * A value to compare. {@code exact} is set when it is written with integers only (5, 6/3,
     * \frac{3}{4}, 1\frac{4}{5}, 2^{10}), {@code rational} when it is arithmetic on written numbers,
     * decimals included (0.15 = 3/20): a number, in the sense of the tolerance. {@code places} is the
     * number of written digits after the point of a decimal literal ({@code 4.6667}: 4), -1 for
     * anything else (an integer is exact, not a rounding).
     */
    record Value(double value, Rational exact, Rational rational, int places) {
        /** A number (arithmetic on written numbers), as opposed to \pi, \sqrt2, \ln 2. */
        boolean number() { return rational != null; }

        /** 100 times this value, its decimal places two fewer: 0.125 is 12.5 (percent) to one place. */
        Value times100() {
            Rational h = Rational.of(100);
            return new Value(value * 100, exact == null ? null : exact.multiply(h),
                    rational == null ? null : rational.multiply(h), places < 0 ? -1 : Math.max(places - 2, 0));
        }
    }

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
            return literal(d);
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
            return new Value(r.doubleValue(), r, r, -1);
        }
        return null;
    }

    /** A written number: 18 (exact), 4.6667 (a decimal with 4 places). */
    static Value literal(BigDecimal d) {
        BigDecimal t = d.stripTrailingZeros();
        Rational exact = t.scale() <= 0 ? Rational.of(t.toBigIntegerExact(), BigInteger.ONE) : null;
        return new Value(d.doubleValue(), exact, Rational.of(d), exact != null ? -1 : t.scale());
    }

    private static BigDecimal decimal(String digits) {
        if (digits.isEmpty() || digits.equals(".")) return null;
        return new BigDecimal(digits.replace(",", ""));
    }

    private static Value ratio(String signs, String num, String den) {
        BigDecimal a = decimal(num), b = decimal(den);
        if (a == null || b == null || b.signum() == 0) return null;
        boolean negative = (signs.length() - signs.replace("-", "").length()) % 2 == 1;
        double v = a.doubleValue() / b.doubleValue();
        Value ea = literal(a), eb = literal(b);
        // exact only when both parts are integers: 6/3 = 2 and \frac{3}{4} = 0.75 exactly, 1.5/3 within tolerance
        Rational r = ea.exact() == null || eb.exact() == null ? null : ea.exact().divide(eb.exact());
        Rational q = ea.rational() == null || eb.rational() == null ? null : ea.rational().divide(eb.rational());
        if (negative) {
            v = -v;
            if (r != null) r = r.negate();
            if (q != null) q = q.negate();
        }
        return new Value(v, r, q, -1);
    }

    /** The comparison of the class comment. */
    static boolean equal(Value a, Value b) {
        if (a.exact() != null && b.exact() != null) return a.exact().equals(b.exact());
        if (a.number() && b.number()) return numbers(a, b);
        return sameValue(a.value(), b.value());
    }

    /**
     * Two numbers, at least one not exact: within 1e-4 relative, and a decimal literal is the other
     * rounded to its written digits, |a - b| ≤ ½·10^-places. Two decimal literals are two exact
     * finite decimals: they must be equal ({@code 3.14159} ≢ {@code 3.1416}, {@code 326.47} ≢
     * {@code 326.5}).
     */
    private static boolean numbers(Value a, Value b) {
        if (a.rational().equals(b.rational())) return true;
        if (a.places() >= 0 && b.places() >= 0) return false;
        if (!close(a.value(), b.value())) return false;
        int places = Math.max(a.places(), b.places());
        if (places < 0) return true; // no decimal literal (1.5/3.1): the tolerance alone
        Rational d = a.rational().add(b.rational().negate());
        if (d == null) return false;
        // |num/den| ≤ 1/(2·10^places)  ⇔  2·10^places·|num| ≤ den
        return d.num().abs().multiply(BigInteger.TWO).multiply(BigInteger.TEN.pow(places)).compareTo(d.den()) <= 0;
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

    /**
     * The same real value up to the rounding of a double evaluation (relative {@link #SAME_VALUE_TOL},
     * absolute {@link #ABS_NOISE} around 0, so that \sin\pi is 0); infinities must match exactly.
     */
    static boolean sameValue(double u, double v) {
        if (Double.isNaN(u) || Double.isNaN(v)) return false;
        if (Double.isInfinite(u) || Double.isInfinite(v)) return u == v;
        return Math.abs(u - v) <= SAME_VALUE_TOL * Math.max(Math.abs(u), Math.abs(v)) || Math.abs(u - v) <= ABS_NOISE;
    }

    // within float rounding of a non-zero integer (1e-31 is not "the integer 0"), or exactly 0
    private static boolean integral(double x) {
        double r = Math.rint(x);
        if (r == 0) return x == 0;
        return Math.abs(x) < 1e15 && Math.abs(x - r) <= 1e-9 * Math.abs(r);
    }
}
