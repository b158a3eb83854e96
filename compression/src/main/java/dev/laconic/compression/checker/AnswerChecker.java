package dev.laconic.compression.checker;

import dev.laconic.compression.checker.LatexExpr.Node;
import dev.laconic.compression.checker.LatexExpr.Parsed;
import dev.laconic.compression.checker.Normalizer.Normalized;
import dev.laconic.compression.checker.NumericParser.Value;
import dev.laconic.compression.checker.Structure.Composite;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The answer checker of methods.md ("Evaluation protocols"): extraction of the final answer and
 * equivalence with a GSM8K or MATH reference. Equivalence tries, in order:
 * <ol>
 *   <li>normalised strings ({@link Normalizer}); pure words compare case-insensitively;</li>
 *   <li>"x = 5" against "5": a single-variable assignment ("f(x) =", "x \in") is dropped when only
 *       one side has it;</li>
 *   <li>tuples, intervals, sets, lists, matrices part by part ({@link Structure});</li>
 *   <li>two equations: side by side, or lhs - rhs proportional as functions;</li>
 *   <li>plain numbers: integers exactly, a decimal within relative 1e-4 and as a rounding of the other
 *       number ({@link NumericParser});</li>
 *   <li>LaTeX expressions by value, or at fixed generic points when they have variables ({@link LatexExpr}).</li>
 * </ol>
 *
 * <p>Percent: the sign is dropped, so {@code 50\%} matches {@code 50} (MATH references write the
 * number a "what percent" question asks for, and models add the sign); when exactly one side had a
 * sign, its value divided by 100 also matches ({@code 50\%} ≡ {@code 0.5}). Two unsigned numbers
 * never match through a factor 100 ({@code 50} vs {@code 0.5} is wrong).
 *
 * <p>Approximations: the relative tolerance 1e-4 of methods.md is for two numbers, i.e. arithmetic
 * on written integers and decimals ({@code 0.33333} ≡ {@code \frac13}, {@code 4.6667} ≡
 * {@code \frac{14}{3}}). A decimal never matches an irrational or symbolic answer it approximates
 * ({@code 0.7071} ≢ {@code \frac{\sqrt2}{2}}, {@code 3.1416} ≢ {@code \pi}, {@code \frac{355}{113}} ≢
 * {@code \pi}), as in math-verify: such values, and expressions with variables at their sample
 * points, must agree to float rounding.
 */
public final class AnswerChecker {
    private AnswerChecker() {}

    public record Result(String extracted, boolean correct) {}

    static final int MAX_LENGTH = 4000;

    public static String extract(String completion) {
        return AnswerExtractor.extract(completion);
    }

    public static String gsm8kReference(String answerField) {
        return AnswerExtractor.gsm8kReference(answerField);
    }

    public static Result grade(String completion, String reference) {
        String extracted = extract(completion);
        String ref = reference != null && reference.contains("####") ? gsm8kReference(reference) : reference;
        return new Result(extracted, equivalent(extracted, ref));
    }

    public static boolean equivalent(String predicted, String reference) {
        if (predicted == null || reference == null) return false;
        // no answer is this long; keep the regular expressions and the parser away from pathological input
        if (predicted.length() > MAX_LENGTH || reference.length() > MAX_LENGTH)
            return predicted.strip().equals(reference.strip());
        Normalized p = Normalizer.normalize(predicted), r = Normalizer.normalize(reference);
        if (p.text().isEmpty() || r.text().isEmpty()) return false;
        return same(p.text(), r.text(), p.percent(), r.percent(), 0);
    }

    private static final Pattern WORD = Pattern.compile("[A-Za-z]{2,}");
    // three or more letters are a word with no value (two may be a product: "ab")
    private static final Pattern LONG_WORD = Pattern.compile("[A-Za-z]{3,}");
    private static final Pattern IN = Pattern.compile("\\\\in(?![a-zA-Z])"); // \in, not \infty
    // "x=5", "\theta=\frac{\pi}{2}", "x_1=3", "f(x)=2x+3", "x\in[-2,7]"
    private static final Pattern ASSIGNMENT = Pattern.compile(
            "(?<lhs>([A-Za-z]|\\\\[a-zA-Z]+)(_[0-9a-zA-Z])?(\\([a-z,]*\\))?)(?<rel>=|\\\\in(?![a-zA-Z]))(?<rhs>.+)");

    /** Equivalence of two normalised answers (or parts of answers); {@code depth} stops runaway recursion. */
    static boolean same(String a, String b, boolean pa, boolean pb, int depth) {
        if (a.equals(b)) return true;
        if (depth > 8) return false;
        // "East" and "east", "\text{Evelyn}" and "evelyn": words are names, not products of variables
        if (WORD.matcher(a).matches() && WORD.matcher(b).matches() && a.equalsIgnoreCase(b)) return true;
        if (LONG_WORD.matcher(a).matches() || LONG_WORD.matcher(b).matches()) return false;

        Matcher ma = ASSIGNMENT.matcher(a), mb = ASSIGNMENT.matcher(b);
        boolean assignA = ma.matches() && !ma.group("rhs").contains("=");
        boolean assignB = mb.matches() && !mb.group("rhs").contains("=");
        boolean eqA = a.contains("="), eqB = b.contains("=");
        boolean inA = IN.matcher(a).find(), inB = IN.matcher(b).find();
        // "x=5" vs "5", "x\in[-2,7]" vs "[-2,7]", "f(x)=2x" vs "2x": the other side has no relation,
        // so the name on the left is dropped
        if (assignA && !eqB && !inB) return same(ma.group("rhs"), b, pa, pb, depth + 1);
        if (assignB && !eqA && !inA) return same(a, mb.group("rhs"), pa, pb, depth + 1);
        if (assignA && assignB && ma.group("rel").equals(mb.group("rel")) && ma.group("lhs").equals(mb.group("lhs")))
            return same(ma.group("rhs"), mb.group("rhs"), pa, pb, depth + 1);

        // before equations: "x=1,x=2" is a list of two assignments
        Composite ca = Structure.parse(a), cb = Structure.parse(b);
        if (ca != null || cb != null) return ca != null && cb != null && composites(ca, cb, pa, pb, depth);
        if (eqA || eqB) return eqA && eqB && equations(a, b, depth);

        Value na = NumericParser.parse(a), nb = NumericParser.parse(b);
        if (na != null && nb != null) return NumericParser.equal(na, nb) || percentVariant(na, nb, pa, pb);
        return symbolic(a, b, na, nb, pa, pb);
    }

    /** 50% ≡ 0.5: only when exactly one side carried a percent sign; the other side is scaled by 100. */
    private static boolean percentVariant(Value a, Value b, boolean pa, boolean pb) {
        if (pa == pb) return false;
        return pa ? NumericParser.equal(a, b.times100()) : NumericParser.equal(a.times100(), b);
    }

    private static boolean composites(Composite a, Composite b, boolean pa, boolean pb, int depth) {
        if (a.items().size() != b.items().size()) return false;
        // "6, 31, -1" for the triple (6,31,-1): a bare list read in its written order, against a
        // tuple in parentheses (not brackets: [1,2] is an interval)
        if (a.kind() != b.kind()) {
            Composite tuple = a.kind() == Structure.Kind.ORDERED ? a : b, list = tuple == a ? b : a;
            return list.bare() && tuple.open() == '(' && tuple.close() == ')'
                    && inOrder(a.items(), b.items(), pa, pb, depth);
        }
        return switch (a.kind()) {
            case ORDERED -> a.open() == b.open() && a.close() == b.close() && inOrder(a.items(), b.items(), pa, pb, depth);
            case MATRIX -> a.columns() == b.columns() && inOrder(a.items(), b.items(), pa, pb, depth);
            case UNORDERED -> matchAll(a.items(), b.items(), pa, pb, depth);
        };
    }

    private static boolean inOrder(List<String> a, List<String> b, boolean pa, boolean pb, int depth) {
        for (int k = 0; k < a.size(); k++)
            if (!same(a.get(k), b.get(k), pa, pb, depth + 1)) return false;
        return true;
    }

    /**
     * Unordered: a perfect matching between the parts. Augmenting paths (Kuhn), not greedy choice:
     * {1, 1, 2} vs {1, 2, 1} must pair the 2s, and backtracking would be exponential on long lists.
     */
    private static boolean matchAll(List<String> a, List<String> b, boolean pa, boolean pb, int depth) {
        boolean[][] eq = new boolean[a.size()][b.size()];
        for (int i = 0; i < a.size(); i++)
            for (int j = 0; j < b.size(); j++) eq[i][j] = same(a.get(i), b.get(j), pa, pb, depth + 1);
        int[] owner = new int[b.size()];
        Arrays.fill(owner, -1);
        for (int i = 0; i < a.size(); i++)
            if (!augment(eq, i, new boolean[b.size()], owner)) return false;
        return true;
    }

    private static boolean augment(boolean[][] eq, int i, boolean[] seen, int[] owner) {
        for (int j = 0; j < owner.length; j++) {
            if (!eq[i][j] || seen[j]) continue;
            seen[j] = true;
            if (owner[j] < 0 || augment(eq, owner[j], seen, owner)) {
                owner[j] = i;
                return true;
            }
        }
        return false;
    }

    /**
     * Two equations: the same sides, or lhs - rhs proportional as functions
     * ({@code 5x-7y+11z+4=0} ≡ {@code -10x+14y-22z=8}).
     */
    private static boolean equations(String a, String b, int depth) {
        String[] sa = a.split("=", -1), sb = b.split("=", -1);
        if (sa.length != 2 || sb.length != 2) return false;
        if (same(sa[0], sb[0], false, false, depth + 1) && same(sa[1], sb[1], false, false, depth + 1)) return true;
        Parsed la = LatexExpr.parse(sa[0]), ra = LatexExpr.parse(sa[1]);
        Parsed lb = LatexExpr.parse(sb[0]), rb = LatexExpr.parse(sb[1]);
        if (la == null || ra == null || lb == null || rb == null) return false;
        Node da = new LatexExpr.Bin('+', la.node(), new LatexExpr.Neg(ra.node()));
        Node db = new LatexExpr.Bin('+', lb.node(), new LatexExpr.Neg(rb.node()));
        TreeSet<String> vars = new TreeSet<>(la.variables());
        vars.addAll(ra.variables());
        vars.addAll(lb.variables());
        vars.addAll(rb.variables());
        if (vars.isEmpty()) return false;
        Double ratio = null;
        int valid = 0;
        for (Map<String, Double> env : points(vars)) {
            double x = da.eval(env), y = db.eval(env);
            if (!Double.isFinite(x) || !Double.isFinite(y) || y == 0) continue;
            double q = x / y;
            if (ratio == null) ratio = q;
            else if (!closeAtPoint(q, ratio)) return false;
            valid++;
        }
        return valid >= MIN_POINTS && ratio != 0;
    }

    /**
     * Both sides as LaTeX expressions: equal values (no variables), or equal values at every fixed
     * generic point (with variables; points where either side is undefined are skipped, and at least
     * {@link #MIN_POINTS} must remain).
     *
     * <p>Without variables, as numbers ({@link NumericParser#equal}): integers only on both sides
     * compare exactly ({@code 2^{100}} is not {@code 2^{100}+1}); arithmetic on written numbers on both
     * sides (decimals included) within the tolerance of numbers; anything else (\pi, a root, a
     * logarithm on either side) by its value at float precision: a decimal approximation of an
     * irrational answer is not the answer ({@code 0.7071} ≢ {@code \frac{\sqrt2}{2}}, {@code 3.1416} ≢
     * {@code \pi}), while {@code \sin\frac{\pi}{6}} ≡ {@code 0.5} and {@code \sqrt{12}} ≡ {@code 2\sqrt3}.
     */
    private static boolean symbolic(String a, String b, Value na, Value nb, boolean pa, boolean pb) {
        Parsed x = LatexExpr.parse(a), y = LatexExpr.parse(b);
        // a plain number the expression grammar does not read (1,000,000 against 10^6) stands as its value
        Value u = na != null ? na : x != null && x.variables().isEmpty() ? LatexExpr.value(x.node()) : null;
        Value v = nb != null ? nb : y != null && y.variables().isEmpty() ? LatexExpr.value(y.node()) : null;
        if (u != null && v != null) return NumericParser.equal(u, v) || percentVariant(u, v, pa, pb);
        if (x == null || y == null) return false;
        TreeSet<String> vars = new TreeSet<>(x.variables());
        vars.addAll(y.variables());
        int valid = 0;
        for (Map<String, Double> env : points(vars)) {
            double f = x.node().eval(env), g = y.node().eval(env);
            if (!Double.isFinite(f) || !Double.isFinite(g)) continue;
            if (!closeAtPoint(f, g)) return false;
            valid++;
        }
        return valid >= MIN_POINTS;
    }

    static final int POINTS = 12, MIN_POINTS = 3;

    /**
     * Fixed pseudo-random points, each variable of magnitude in [0.5, 2.5] (away from 0 and 1, where
     * x^2 = x and the like). The first half is positive, so that \sqrt{x} and \ln x have values to
     * compare; the second half has random signs, so that \sqrt{x^2} and |x| differ from x.
     */
    private static List<Map<String, Double>> points(TreeSet<String> vars) {
        List<Map<String, Double>> out = new ArrayList<>();
        Random rng = new Random(20250101L);
        for (int k = 0; k < POINTS; k++) {
            Map<String, Double> env = new HashMap<>();
            for (String v : vars) {
                double x = 0.5 + 2 * rng.nextDouble();
                env.put(v, k >= POINTS / 2 && rng.nextBoolean() ? -x : x);
            }
            out.add(env);
        }
        return out;
    }

    /**
     * At generic points an expression is a function, not a number: no tolerance for approximate
     * coefficients ({@code 0.3333x} ≢ {@code \frac{x}{3}}), only for float rounding
     * ({@link NumericParser#sameValue}).
     */
    private static boolean closeAtPoint(double u, double v) {
        return NumericParser.sameValue(u, v);
    }
}
