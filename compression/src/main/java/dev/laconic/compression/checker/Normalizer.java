package dev.laconic.compression.checker;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * String normalisation of an answer: the first, cheapest equivalence step, and the canonical text the
 * later steps (numbers, tuples, symbolic) parse. Every rule removes a way of writing the same answer
 * that models and MATH references both use; none changes a value. The one exception is the percent
 * sign, which is removed but remembered ({@link Normalized#percent}) so that 50% can also match 0.5.
 */
final class Normalizer {
    private Normalizer() {}

    /** Normalised text; {@code percent} when a % sign (or the word "percent") was removed. */
    record Normalized(String text, boolean percent) {}

    static Normalized normalize(String answer) {
        String s = answer.strip();

        // unicode that models emit instead of LaTeX: "−3", "2π", "√3", "45°"
        s = s.replace('\u2212', '-').replace('\u00a0', ' ').replace("π", "\\pi ").replace("√", "\\sqrt")
                .replace("∞", "\\infty ").replace("°", "^\\circ").replace("×", "\\times ").replace("·", "\\cdot ")
                .replace("÷", "\\div ");

        // a reference or answer that is itself boxed: \boxed{5} → 5
        s = unwrapCommand(s, "\\boxed");
        s = s.replace("\\displaystyle", "");

        // math delimiters and currency: "$5$", "\$18.90", "\(x\)", "\[x\]"
        s = s.replace("\\$", "").replace("$", "");
        if (s.startsWith("\\(") && s.endsWith("\\)") || s.startsWith("\\[") && s.endsWith("\\]"))
            s = s.substring(2, s.length() - 2);

        // sizing: "\left( 3, \frac{\pi}{2} \right)" → "( 3, \frac{\pi}{2} )"; "\left." is an invisible delimiter.
        // The look-ahead keeps \rightarrow and \leftarrow intact.
        s = s.replaceAll("\\\\(left|right)\\.", "");
        s = s.replaceAll("\\\\(left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])", "");

        // thousands separators: "1{,}000" (a comma in braces, so that TeX sets no space after it);
        // "1\,000" and "1~000" (a thin or tied space) lose their space below
        s = s.replace("{,}", ",");

        // spacing: "10,\!080", "10\,080", "1,\quad 2", "x~=~5"
        // (the look-behind keeps the matrix row break "\\" apart from "\ " and "\,")
        s = s.replaceAll("(?<!\\\\)\\\\(!|,|;|:| |quad|qquad)(?![a-zA-Z])", " ").replace('~', ' ');

        // \dfrac{1}{2} and \tfrac{1}{2} print the same number as \frac{1}{2}
        s = s.replaceAll("\\\\[dtc]frac(?![a-zA-Z])", "\\\\frac");

        s = textCommands(s);

        // degrees: "30^\circ", "30^{\circ}", "30 \degree"
        s = s.replaceAll("\\^\\s*\\{\\s*\\\\circ\\s*\\}", "").replaceAll("\\^\\s*\\\\circ", "")
                .replaceAll("\\\\(circ|degree)(?![a-zA-Z])", "");

        // "1 and 2", "x=2 or x=3" list the two answers
        s = s.replaceAll("\\s+(and|or)\\s+", ",");

        boolean percent = false;
        Matcher pw = TRAILING_PERCENT_WORD.matcher(s);
        if (pw.find()) {
            s = s.substring(0, pw.start());
            percent = true;
        }
        if (s.contains("%")) {
            s = s.replace("\\%", "").replace("%", "");
            percent = true;
        }

        // plain unit words after a number, separated by a space: "15 cm^2", "18 dollars", "4 hours".
        // Needs the space: "2m" may be 2·m.
        Matcher u = TRAILING_WORD.matcher(s);
        if (u.find() && UNITS.contains(u.group(1).toLowerCase())) s = s.substring(0, u.start());

        s = removeSpaces(s);

        // a trailing full stop ends the sentence, not the number: "\boxed{5.}"
        while (s.endsWith(".") && !s.endsWith("\\.")) s = s.substring(0, s.length() - 1);
        if (s.startsWith("+")) s = s.substring(1);
        s = stripOuterBraces(s);

        // shorthand arguments: \frac12 → \frac{1}{2}, \frac1{2}, \frac{1}2, \sqrt2 → \sqrt{2}
        s = s.replaceAll("\\\\frac([0-9a-zA-Z])([0-9a-zA-Z])", "\\\\frac{$1}{$2}")
                .replaceAll("\\\\frac([0-9a-zA-Z])\\{", "\\\\frac{$1}{")
                .replaceAll("\\\\frac(\\{[^{}]*\\})([0-9a-zA-Z])", "\\\\frac$1{$2}")
                .replaceAll("\\\\sqrt([0-9a-zA-Z])", "\\\\sqrt{$1}");
        // single-character groups: x^{2} → x^2, 4210_{5} → 4210_5
        s = s.replaceAll("([\\^_])\\{([0-9a-zA-Z])\\}", "$1$2");
        // trailing zeros after a decimal point: 5.0 → 5, 18.90 → 18.9
        s = s.replaceAll("(\\d)\\.0+(?![0-9])", "$1").replaceAll("(\\d\\.\\d*[1-9])0+(?![0-9])", "$1");
        // a multiple-choice letter: "(B)" → "B"
        Matcher mc = CHOICE.matcher(s);
        if (mc.matches()) s = mc.group(1);
        return new Normalized(s, percent);
    }

    private static final Pattern CHOICE = Pattern.compile("\\(([A-Z])\\)");
    private static final Pattern TRAILING_PERCENT_WORD = Pattern.compile("(?<=[0-9}])\\s*percent\\s*$");
    private static final Pattern TRAILING_WORD = Pattern.compile("(?<=[0-9}])\\s+([A-Za-z]+)(\\^\\d|\\^\\{\\d\\})?\\s*$");

    // Plain unit words seen in GSM8K/MATH answers; multi-letter only (a single letter may be a variable).
    private static final Set<String> UNITS = Set.of(
            "cm", "mm", "km", "meter", "meters", "metre", "metres", "inch", "inches", "ft", "foot", "feet", "yard",
            "yards", "mile", "miles", "units", "unit", "sq", "dollars", "dollar", "cents", "cent", "degrees", "degree",
            "hours", "hour", "hrs", "minutes", "minute", "mins", "min", "seconds", "second", "days", "day", "weeks",
            "week", "months", "month", "years", "year", "grams", "gram", "kg", "pounds", "pound", "lbs", "lb",
            "ounces", "ounce", "oz", "mph", "liters", "liter", "litres", "ml", "gallons", "gallon", "cups", "cup");

    // \text{...} and friends: a trailing group of words after some content is a unit ("5.4 \text{ cents}",
    // "15\mbox{ cm}^2", "\frac{270}7\text{ degrees}") and goes; any other group is unwrapped
    // ("\text{(B)}" → "(B)", "\text{Evelyn}" → "Evelyn").
    private static final Pattern TEXT = Pattern.compile(
            "\\\\(text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf|mathit|mathsf|operatorname)\\s*\\{");
    private static final Pattern WORDS = Pattern.compile("\\s*[A-Za-z][A-Za-z .]*");
    private static final Pattern POWER_TAIL = Pattern.compile("\\s*(\\^\\d|\\^\\{\\d\\})?\\s*");

    static String textCommands(String s) {
        Matcher m = TEXT.matcher(s);
        while (m.find()) {
            int open = m.end() - 1;
            int close = AnswerExtractor.matchingBrace(s, open);
            if (close < 0) return s;
            String inner = s.substring(open + 1, close);
            Matcher tail = POWER_TAIL.matcher(s).region(close + 1, s.length());
            boolean trailing = tail.matches();
            // \mathbf{v}, \operatorname{lcm}: math-mode names, never units
            boolean mathName = m.group(1).matches("mathbf|mathit|mathsf|operatorname");
            boolean unit = trailing && !mathName && WORDS.matcher(inner).matches()
                    && !s.substring(0, m.start()).isBlank() && !inner.strip().equals("percent");
            String before = s.substring(0, m.start());
            if (unit) s = before;
            else s = before + (inner.strip().equals("percent") ? "%" : inner) + s.substring(close + 1);
            m = TEXT.matcher(s);
        }
        return s;
    }

    /** Replaces {@code \cmd{X}} by X everywhere. */
    static String unwrapCommand(String s, String cmd) {
        int i;
        while ((i = s.indexOf(cmd + "{")) >= 0) {
            int open = i + cmd.length();
            int close = AnswerExtractor.matchingBrace(s, open);
            if (close < 0) return s;
            s = s.substring(0, i) + s.substring(open + 1, close) + s.substring(close + 1);
        }
        return s;
    }

    /**
     * Removes whitespace, except one space between a command name and a following letter, which
     * LaTeX needs to tell "\cot x" from the unknown command "\cotx".
     */
    static String removeSpaces(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c)) {
                out.append(c);
                continue;
            }
            int j = i;
            while (j < s.length() && Character.isWhitespace(s.charAt(j))) j++;
            if (j < s.length() && Character.isLetter(s.charAt(j)) && endsWithCommand(out)) out.append(' ');
            i = j - 1;
        }
        return out.toString();
    }

    private static boolean endsWithCommand(CharSequence out) {
        int k = out.length() - 1;
        while (k >= 0 && Character.isLetter(out.charAt(k))) k--;
        return k >= 0 && k < out.length() - 1 && out.charAt(k) == '\\';
    }

    /** "{5}" → "5"; "{1}{2}" stays (the braces are two groups). */
    static String stripOuterBraces(String s) {
        while (s.length() >= 2 && s.charAt(0) == '{' && AnswerExtractor.matchingBrace(s, 0) == s.length() - 1)
            s = s.substring(1, s.length() - 1);
        return s;
    }
}
