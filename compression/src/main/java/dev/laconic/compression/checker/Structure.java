package dev.laconic.compression.checker;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers made of several parts, compared part by part: tuples and intervals (ordered, and their
 * brackets matter: {@code [1,2)} is not {@code (1,2)}), sets, unions and bare lists (unordered:
 * "list all solutions" answers such as {@code 1,-2} and {@code -2,1} are the same set), matrices
 * (same shape, cell by cell), and {@code \pm} ({@code 1\pm\sqrt{19}} is the list of both roots).
 * The input is a normalised answer, see {@link Normalizer}.
 */
final class Structure {
    private Structure() {}

    enum Kind { ORDERED, UNORDERED, MATRIX }

    static final int MAX_SIGNS = 6;

    /**
     * Parts of an answer: {@code open}/{@code close} are the brackets of an ORDERED answer, columns
     * the width of a MATRIX (cells row by row).
     */
    record Composite(Kind kind, char open, char close, List<String> items, int columns) {
        /** A list written without brackets ("1,-2"), in its written order. */
        boolean bare() { return kind == Kind.UNORDERED && open == ','; }
    }

    private static final Pattern MATRIX = Pattern.compile(
            "\\\\begin\\{([pbvBV]?matrix|array)\\}(?:\\{[^}]*\\})?(.*)\\\\end\\{\\1\\}", Pattern.DOTALL);

    /** The parts of {@code s}, or null when it is a single value. */
    static Composite parse(String s) {
        Matcher m = MATRIX.matcher(s);
        if (m.matches()) return matrix(m.group(2));

        List<String> union = split(s, "\\cup");
        if (union.size() > 1) return new Composite(Kind.UNORDERED, '{', '}', union, 0);

        if (s.startsWith("\\{") && s.endsWith("\\}") && closes(s, 1, s.length() - 1))
            return unordered(split(s.substring(2, s.length() - 2), ","), '{');

        if (s.length() >= 2 && "([".indexOf(s.charAt(0)) >= 0 && ")]".indexOf(s.charAt(s.length() - 1)) >= 0
                && closes(s, 0, s.length() - 1)) {
            List<String> items = split(s.substring(1, s.length() - 1), ",");
            if (items.size() > 1)
                return new Composite(Kind.ORDERED, s.charAt(0), s.charAt(s.length() - 1), items, 0);
        }

        // 10,080 is a number, 1,-2 a list
        if (NumericParser.parse(s) == null) {
            List<String> items = split(s, ",");
            if (items.size() > 1) return unordered(items, ',');
        }
        if (plusMinus(s) >= 0 && signs(s) <= MAX_SIGNS) return unordered(List.of(s), '{');
        return null;
    }

    /** A set or list; members written with \pm become two members. */
    private static Composite unordered(List<String> items, char open) {
        List<String> flat = new ArrayList<>();
        List<String> todo = new ArrayList<>(items);
        // n signs make 2^n members: none past a size no answer has
        boolean expand = signs(String.join(",", items)) <= MAX_SIGNS;
        while (!todo.isEmpty()) {
            String item = todo.removeFirst();
            int k = plusMinus(item);
            if (k < 0 || !expand) {
                flat.add(item);
                continue;
            }
            // \pm is "+ then -", \mp is "- then +"
            boolean mp = item.startsWith("\\mp", k);
            String head = item.substring(0, k), tail = item.substring(k + 3);
            todo.addFirst(head + (mp ? "+" : "-") + tail);
            todo.addFirst(head + (mp ? "-" : "+") + tail);
        }
        return new Composite(Kind.UNORDERED, open, '}', flat, 0);
    }

    private static int signs(String s) {
        return (s.length() - s.replace("\\pm", "").replace("\\mp", "").length()) / 3;
    }

    private static int plusMinus(String s) {
        for (String op : new String[] {"\\pm", "\\mp"}) {
            int k = s.indexOf(op);
            while (k >= 0) {
                int end = k + op.length();
                if (end >= s.length() || !Character.isLetter(s.charAt(end))) return k;
                k = s.indexOf(op, end);
            }
        }
        return -1;
    }

    private static Composite matrix(String body) {
        List<String> rows = split(body, "\\\\");
        // a trailing \\ before \end leaves an empty last row
        if (rows.size() > 1 && rows.getLast().isEmpty()) rows.removeLast();
        List<String> cells = new ArrayList<>();
        int columns = -1;
        for (String row : rows) {
            List<String> r = split(row, "&");
            if (columns >= 0 && r.size() != columns) return null;
            columns = r.size();
            cells.addAll(r);
        }
        return new Composite(Kind.MATRIX, '[', ']', cells, columns);
    }

    /** True when the bracket at {@code open} is closed exactly at {@code close} (not earlier). */
    private static boolean closes(String s, int open, int close) {
        int depth = 0;
        for (int k = open; k <= close; k++) {
            char c = s.charAt(k);
            if ("([{".indexOf(c) >= 0) depth++;
            else if (")]}".indexOf(c) >= 0) {
                depth--;
                if (depth == 0) return k == close;
            }
        }
        return false;
    }

    /**
     * Splits at {@code sep} outside brackets. Brackets are counted by kind-blind depth, so that the
     * half-open interval [1,2) still nests; "\{" counts through its brace.
     */
    static List<String> split(String s, String sep) {
        List<String> out = new ArrayList<>();
        int depth = 0, start = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if ("([{".indexOf(c) >= 0) depth++;
            else if (")]}".indexOf(c) >= 0) depth--;
            else if (depth == 0 && s.startsWith(sep, k) && !escapedComma(s, k, sep)) {
                out.add(s.substring(start, k));
                start = k + sep.length();
                k = start - 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }

    // "\," is a thin space (already removed by the normaliser), "\\" is not a comma
    private static boolean escapedComma(String s, int k, String sep) {
        return sep.equals(",") && k > 0 && s.charAt(k - 1) == '\\';
    }
}
