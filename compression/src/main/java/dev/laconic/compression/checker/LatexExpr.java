package dev.laconic.compression.checker;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A small LaTeX arithmetic parser and evaluator, the "symbolic" step of the checker: an expression is
 * compared by its value, or, when it has variables, by its values at a few fixed points (two
 * polynomials or rational functions that agree at several generic points are the same function for
 * the purposes of grading: {@code (a+5)(b+2)} = {@code ab+2a+5b+10}).
 *
 * <p>Grammar (a normalised answer, see {@link Normalizer}):
 * <pre>
 *   sum     := product (('+' | '-') product)*
 *   product := signed (('*' | '\cdot' | '\times' | '/' | '\div' | implicit) signed)*
 *   signed  := ('-' | '+') signed | power
 *   power   := postfix ('^' atom)*            right-associative: 2^3^2 = 2^9
 *   postfix := primary '!'*
 *   primary := number | letter | \greek | \pi | \infty | (sum) | {sum} | |sum|
 *            | \frac A B | \sqrt[n] A | \binom A B | \fn A | \fn^k A | \log_b A
 * </pre>
 * Command arguments are a {@code {group}} or a single character, as in TeX ({@code \frac12},
 * {@code \sqrt2}). An integer followed by a {@code \frac} of integers is a mixed number
 * ({@code 137\frac{1}{2}} = 137.5, MATH's notation), any other juxtaposition multiplies. A run of three
 * or more letters is rejected, not read as a product: {@code east} is a word, not e·a·s·t.
 * {@code e} and {@code i} are ordinary variables (no complex arithmetic), which still matches
 * {@code -2+7i} with {@code 7i-2}.
 */
final class LatexExpr {
    /** Expression tree; {@code eval} takes the values of the variables. */
    sealed interface Node permits Num, Var, Neg, Bin, Fn, Frac {
        double eval(Map<String, Double> env);
    }

    /**
     * A constant; {@code integer} holds the exact value of an integer literal (null for 2.5, \pi),
     * {@code decimal} the exact value of any written number (2.5, 18; null for \pi, \infty).
     */
    record Num(double value, BigInteger integer, BigDecimal decimal) implements Node {
        public double eval(Map<String, Double> env) { return value; }
    }

    record Var(String name) implements Node {
        public double eval(Map<String, Double> env) { return env.getOrDefault(name, Double.NaN); }
    }

    record Neg(Node x) implements Node {
        public double eval(Map<String, Double> env) { return -x.eval(env); }
    }

    record Bin(char op, Node a, Node b) implements Node {
        public double eval(Map<String, Double> env) {
            double x = a.eval(env), y = b.eval(env);
            return switch (op) {
                case '+' -> x + y;
                case '*' -> x * y;
                case '/' -> y == 0 ? Double.NaN : x / y;
                case '^' -> Math.pow(x, y);
                default -> throw new IllegalStateException("op " + op);
            };
        }
    }

    /** Kept apart from '/' so that the mixed-number rule can see a fraction of integers. */
    record Frac(Node num, Node den) implements Node {
        // x/0 is undefined, not infinity: \frac{1}{0} must not match \infty
        public double eval(Map<String, Double> env) {
            double d = den.eval(env);
            return d == 0 ? Double.NaN : num.eval(env) / d;
        }
    }

    record Fn(String name, Node x, Node y) implements Node {
        public double eval(Map<String, Double> env) {
            double v = x.eval(env);
            return switch (name) {
                case "sqrt" -> Math.sqrt(v);
                case "root" -> Math.pow(v, 1 / y.eval(env)); // \sqrt[n]{v}
                case "sin" -> Math.sin(v);
                case "cos" -> Math.cos(v);
                case "tan" -> Math.tan(v);
                case "cot" -> 1 / Math.tan(v);
                case "sec" -> 1 / Math.cos(v);
                case "csc" -> 1 / Math.sin(v);
                case "arcsin" -> Math.asin(v);
                case "arccos" -> Math.acos(v);
                case "arctan" -> Math.atan(v);
                case "ln" -> Math.log(v);
                case "log" -> Math.log10(v);
                case "exp" -> Math.exp(v);
                case "abs" -> Math.abs(v);
                case "fact" -> factorial(v);
                case "binom" -> factorial(v) / (factorial(y.eval(env)) * factorial(v - y.eval(env)));
                default -> throw new IllegalStateException("function " + name);
            };
        }
    }

    /**
     * The exact value of an expression built from integer literals with + - * / ^(integer) ! and
     * \binom; null when it has anything else (a variable, a decimal, \pi, a root) or is undefined.
     */
    static Rational exact(Node node) {
        return exact(node, false);
    }

    /**
     * The exact value of arithmetic on written numbers, decimals included (0.5 is 1/2): a number in
     * the sense of the checker's tolerance. Null for anything with \pi, a root, a function, a
     * variable or a non-integer power, whose value may be irrational.
     */
    static Rational rational(Node node) {
        return exact(node, true);
    }

    /** The value of an expression without variables, for {@link NumericParser#equal}. */
    static NumericParser.Value value(Node node) {
        Node lit = node instanceof Neg(Node x) ? x : node;
        int places = -1;
        if (lit instanceof Num n && n.integer() == null && n.decimal() != null)
            places = Math.max(n.decimal().stripTrailingZeros().scale(), 0);
        return new NumericParser.Value(node.eval(Map.of()), exact(node), rational(node), places);
    }

    private static Rational exact(Node node, boolean decimals) {
        return switch (node) {
            case Num n -> n.integer() != null ? Rational.of(n.integer(), BigInteger.ONE)
                    : decimals && n.decimal() != null ? Rational.of(n.decimal()) : null;
            case Var v -> null;
            case Neg(Node x) -> {
                Rational r = exact(x, decimals);
                yield r == null ? null : r.negate();
            }
            case Frac(Node a, Node b) -> exactBin('/', a, b, decimals);
            case Bin(char op, Node a, Node b) -> exactBin(op, a, b, decimals);
            case Fn f -> switch (f.name()) {
                case "fact" -> {
                    Rational n = exact(f.x(), decimals);
                    yield n == null ? null : exactFactorial(n);
                }
                case "binom" -> {
                    Rational n = exact(f.x(), decimals), k = exact(f.y(), decimals);
                    if (n == null || k == null) yield null;
                    Rational top = exactFactorial(n), a = exactFactorial(k), b = n.add(k.negate());
                    Rational c = b == null ? null : exactFactorial(b);
                    yield top == null || a == null || c == null ? null : top.divide(a.multiply(c));
                }
                case "abs" -> {
                    Rational r = exact(f.x(), decimals);
                    yield r == null ? null : new Rational(r.num().abs(), r.den());
                }
                default -> null;
            };
        };
    }

    private static Rational exactBin(char op, Node a, Node b, boolean decimals) {
        Rational x = exact(a, decimals), y = exact(b, decimals);
        if (x == null || y == null) return null;
        return switch (op) {
            case '+' -> x.add(y);
            case '*' -> x.multiply(y);
            case '/' -> x.divide(y);
            case '^' -> x.pow(y);
            default -> null;
        };
    }

    private static Rational exactFactorial(Rational n) {
        if (!n.isInteger() || n.num().signum() < 0 || n.num().bitLength() > 10) return null; // n ≤ 1023
        BigInteger f = BigInteger.ONE;
        for (int k = 2; k <= n.num().intValue(); k++) f = f.multiply(BigInteger.valueOf(k));
        return Rational.of(f, BigInteger.ONE);
    }

    static double factorial(double n) {
        if (n < 0 || n != Math.rint(n) || n > 170) return Double.NaN;
        double f = 1;
        for (int k = 2; k <= n; k++) f *= k;
        return f;
    }

    private static final Set<String> FUNCTIONS = Set.of("sin", "cos", "tan", "cot", "sec", "csc", "arcsin",
            "arccos", "arctan", "ln", "log", "exp");
    private static final Set<String> GREEK = Set.of("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon",
            "zeta", "eta", "theta", "vartheta", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "varphi",
            "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Sigma", "Phi", "Psi", "Omega");

    /** Thrown for anything outside the grammar; the checker then treats the answer as a plain string. */
    static final class Unparsable extends RuntimeException {
        Unparsable(String m) { super(m, null, false, false); }
    }

    private final String s;
    private int pos;
    private final Set<String> variables = new TreeSet<>();
    private int nesting;
    static final int MAX_NESTING = 100;

    private LatexExpr(String s) { this.s = s; }

    /** A parsed expression and the variables it uses. */
    record Parsed(Node node, Set<String> variables) {}

    /** The expression, or null when {@code text} is not one. */
    static Parsed parse(String text) {
        if (text.isEmpty()) return null;
        LatexExpr p = new LatexExpr(text);
        try {
            Node n = p.sum();
            p.skipSpaces();
            if (p.pos != text.length()) return null;
            return new Parsed(n, p.variables);
        } catch (Unparsable | StringIndexOutOfBoundsException e) {
            return null;
        }
    }

    private Node sum() {
        Node left = product();
        while (true) {
            skipSpaces();
            if (eat('+')) left = new Bin('+', left, product());
            else if (eat('-')) left = new Bin('+', left, new Neg(product()));
            else return left;
        }
    }

    private Node product() {
        Node left = signed();
        boolean first = true;
        while (true) {
            skipSpaces();
            if (eat('*') || eatCommand("cdot") || eatCommand("times")) left = new Bin('*', left, signed());
            else if (eat('/') || eatCommand("div")) left = new Bin('/', left, signed());
            else if (startsPrimary() && !numberAfterNumber()) {
                Node right = power();
                // 1\frac{4}{5} is the mixed number 1 + 4/5, and -1\frac{4}{5} is -(1 + 4/5)
                if (first && isIntegerLiteral(left) && right instanceof Frac f && isIntegerLiteral(f.num())
                        && isIntegerLiteral(f.den()))
                    left = left instanceof Neg(Node whole) ? new Neg(new Bin('+', whole, right)) : new Bin('+', left, right);
                else left = new Bin('*', left, right);
            } else return left;
            first = false;
        }
    }

    private static boolean isIntegerLiteral(Node n) {
        if (n instanceof Neg(Node x)) n = x;
        return n instanceof Num num && num.integer() != null;
    }

    private Node signed() {
        skipSpaces();
        if (eat('-')) return new Neg(signed());
        if (eat('+')) return signed();
        return power();
    }

    private Node power() {
        Node base = postfix();
        skipSpaces();
        if (eat('^')) return new Bin('^', base, signedAtom());
        return base;
    }

    /** An exponent: x^{-1}, x^2, x^-1 (sloppy but unambiguous). */
    private Node signedAtom() {
        skipSpaces();
        if (eat('-')) return new Neg(atom());
        return atomPower();
    }

    // right-associative tower: 2^3^2 = 2^(3^2)
    private Node atomPower() {
        Node a = atom();
        skipSpaces();
        if (eat('^')) return new Bin('^', a, signedAtom());
        return a;
    }

    private Node postfix() {
        Node x = primary();
        while (true) {
            skipSpaces();
            if (eat('!')) x = new Fn("fact", x, null);
            else return x;
        }
    }

    // "1..2", "2.5.3": two numbers side by side are a malformed number, not a product
    private boolean numberAfterNumber() {
        char c = s.charAt(pos);
        if (!Character.isDigit(c) && c != '.') return false;
        char prev = s.charAt(pos - 1);
        return Character.isDigit(prev) || prev == '.';
    }

    private boolean startsPrimary() {
        if (pos >= s.length()) return false;
        char c = s.charAt(pos);
        if (Character.isLetterOrDigit(c) || c == '(' || c == '{' || c == '.') return true;
        if (c == '\\') {
            String name = peekCommand();
            return !(name.equals("cdot") || name.equals("times") || name.equals("div"));
        }
        return false;
    }

    private Node primary() {
        // bounded recursion: ((((...)))) from a runaway completion must not overflow the stack
        if (++nesting > MAX_NESTING) throw new Unparsable("nested too deeply");
        try {
            return primaryUnbounded();
        } finally {
            nesting--;
        }
    }

    private Node primaryUnbounded() {
        skipSpaces();
        if (pos >= s.length()) throw new Unparsable("end of input");
        char c = s.charAt(pos);
        if (Character.isDigit(c) || c == '.') return number();
        if (c == '(') {
            pos++;
            Node n = sum();
            expect(')');
            return n;
        }
        if (c == '{') {
            pos++;
            Node n = sum();
            expect('}');
            return n;
        }
        if (c == '|') {
            pos++;
            Node n = sum();
            expect('|');
            return new Fn("abs", n, null);
        }
        if (Character.isLetter(c)) return letter();
        if (c == '\\') return command();
        throw new Unparsable("unexpected '" + c + "'");
    }

    /** A command argument: {group}, or one character/command, as TeX reads \frac12 or \sqrt2. */
    private Node atom() {
        skipSpaces();
        if (pos >= s.length()) throw new Unparsable("missing argument");
        char c = s.charAt(pos);
        if (c == '{' || c == '(') return primary();
        if (Character.isDigit(c)) {
            pos++;
            return new Num(c - '0', BigInteger.valueOf(c - '0'), BigDecimal.valueOf(c - '0'));
        }
        if (Character.isLetter(c)) {
            pos++;
            return variable(String.valueOf(c));
        }
        if (c == '\\') return command();
        throw new Unparsable("unexpected '" + c + "'");
    }

    private Node number() {
        int start = pos;
        while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
        boolean integer = true;
        if (pos < s.length() && s.charAt(pos) == '.') {
            integer = false;
            pos++;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
        }
        String t = s.substring(start, pos);
        if (t.equals(".")) throw new Unparsable("lone '.'");
        return new Num(Double.parseDouble(t), integer ? new BigInteger(t) : null, new BigDecimal(t));
    }

    private Node letter() {
        int start = pos;
        while (pos < s.length() && Character.isLetter(s.charAt(pos))) pos++;
        // "ab" is a·b; "east" is a word, not a product of four variables
        if (pos - start >= 3) throw new Unparsable("word " + s.substring(start, pos));
        pos = start + 1;
        Node v = variable(s.substring(start, pos));
        return subscripted(v);
    }

    /** x_1, x_{12}: one variable named with its subscript. Only after letters: 204_5 is a base. */
    private Node subscripted(Node v) {
        if (pos < s.length() && s.charAt(pos) == '_' && v instanceof Var var) {
            pos++;
            int start = pos;
            Node sub = atom();
            variables.remove(var.name());
            return variable(var.name() + "_" + s.substring(start, pos));
        }
        return v;
    }

    private Node variable(String name) {
        variables.add(name);
        return new Var(name);
    }

    private Node command() {
        String name = peekCommand();
        pos += 1 + name.length();
        switch (name) {
            case "pi": return new Num(Math.PI, null, null);
            case "infty": return new Num(Double.POSITIVE_INFINITY, null, null);
            case "frac": {
                Node a = atom(), b = atom();
                return new Frac(a, b);
            }
            case "sqrt": {
                skipSpaces();
                if (eat('[')) {
                    Node n = sum();
                    expect(']');
                    return new Fn("root", atom(), n);
                }
                return new Fn("sqrt", atom(), null);
            }
            case "binom": {
                Node n = atom(), k = atom();
                return new Fn("binom", n, k);
            }
            default:
        }
        if (GREEK.contains(name)) return subscripted(variable("\\" + name));
        if (FUNCTIONS.contains(name)) {
            // \log_2 8 = ln 8 / ln 2
            Node base = null;
            skipSpaces();
            if (name.equals("log") && eat('_')) base = atom();
            // \sin^2 x = (\sin x)^2
            Node exponent = null;
            skipSpaces();
            if (eat('^')) exponent = signedAtom();
            Node arg = functionArgument();
            Node f = base == null ? new Fn(name, arg, null) : new Bin('/', new Fn("ln", arg, null), new Fn("ln", base, null));
            return exponent == null ? f : new Bin('^', f, exponent);
        }
        throw new Unparsable("command \\" + name);
    }

    /**
     * \sin(x), \ln{x}: the group; \cot x, \sin 2x: the implicit product that follows, up to an
     * operator or another function (so \sin x\cos x = \sin(x)\cos(x)).
     */
    private Node functionArgument() {
        skipSpaces();
        if (pos < s.length() && (s.charAt(pos) == '(' || s.charAt(pos) == '{')) return power();
        Node arg = power();
        while (true) {
            skipSpaces();
            if (!startsPrimary() || (s.charAt(pos) == '\\' && FUNCTIONS.contains(peekCommand()))) return arg;
            arg = new Bin('*', arg, power());
        }
    }

    private String peekCommand() {
        int k = pos + 1;
        while (k < s.length() && Character.isLetter(s.charAt(k))) k++;
        if (k == pos + 1) throw new Unparsable("command without a name");
        return s.substring(pos + 1, k);
    }

    private boolean eatCommand(String name) {
        if (pos < s.length() && s.charAt(pos) == '\\' && s.startsWith(name, pos + 1)) {
            int end = pos + 1 + name.length();
            if (end < s.length() && Character.isLetter(s.charAt(end))) return false;
            pos = end;
            return true;
        }
        return false;
    }

    private boolean eat(char c) {
        if (pos < s.length() && s.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        skipSpaces();
        if (!eat(c)) throw new Unparsable("expected '" + c + "'");
    }

    private void skipSpaces() {
        while (pos < s.length() && s.charAt(pos) == ' ') pos++;
    }
}
