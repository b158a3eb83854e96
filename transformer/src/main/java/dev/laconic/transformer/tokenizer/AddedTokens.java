package dev.laconic.transformer.tokenizer;

import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens (tokenizer.json "added_tokens", special or not) in text before it reaches the normalizer and
 * BPE, as HF's AddedVocabulary does with an Aho-Corasick automaton in LeftmostLongest mode: scanning left to right,
 * the match starting earliest wins, the longest one among those starting there, and the scan resumes after it.
 * Then each match may be widened over whitespace ({@code lstrip}/{@code rstrip}) or dropped when it is not a whole
 * word ({@code single_word}).
 *
 * <p>A matcher holds either the tokens with {@code normalized: false} (matched on the raw text) or those with
 * {@code normalized: true} (matched on the normalized text; their contents are normalized too).
 */
final class AddedTokens {
    record Token(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                 boolean normalized) {}

    /** A token and the text it is matched as (its content, normalized when the token is). */
    private record Entry(Token token, String text) {}

    private final Map<Character, Entry[]> byFirstChar = new HashMap<>();
    private final long[] firstChars = new long[1024];              // bit set over chars: cheap rejection per char

    /** {@code texts.get(i)} is the string matched for {@code tokens.get(i)}. */
    AddedTokens(List<Token> tokens, List<String> texts) {
        var groups = new HashMap<Character, List<Entry>>();
        for (int i = 0; i < tokens.size(); i++) {
            String text = texts.get(i);
            if (!text.isEmpty()) {
                groups.computeIfAbsent(text.charAt(0), k -> new ArrayList<>()).add(new Entry(tokens.get(i), text));
            }
        }
        for (var e : groups.entrySet()) {
            // longest first, so the first hit at a position is the longest (a stable sort keeps the listed order)
            List<Entry> g = e.getValue();
            g.sort(Comparator.comparingInt((Entry x) -> -x.text().length()));
            char c = e.getKey();
            byFirstChar.put(c, g.toArray(Entry[]::new));
            firstChars[c >>> 6] |= 1L << c;
        }
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /**
     * Splits {@code s} into segments: for each segment, appends its end to {@code ends} and the added token's id to
     * {@code ids} (-1 for plain text that still needs encoding). Empty plain segments are not reported.
     */
    void split(String s, IntArrayList ends, IntArrayList ids) {
        int prevStop = 0, i = 0, n = s.length();
        while (i < n) {
            char c0 = s.charAt(i);
            if ((firstChars[c0 >>> 6] & (1L << c0)) == 0) { i++; continue; }
            Entry[] cands = byFirstChar.get(c0);
            Entry e = null;
            if (cands != null) {
                for (Entry c : cands) {
                    if (s.startsWith(c.text(), i)) { e = c; break; }
                }
            }
            if (e == null) { i++; continue; }
            Token hit = e.token();
            int start = i, stop = i + e.text().length();
            i = stop;
            if (hit.singleWord()) {
                boolean startOk = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopOk = stop == n || !isWordChar(s.codePointAt(stop));
                if (!startOk || !stopOk) continue;
            }
            if (hit.lstrip()) {
                while (start > prevStop && isWhitespace(s.charAt(start - 1))) start--;
            }
            if (hit.rstrip()) {
                while (stop < n && isWhitespace(s.charAt(stop))) stop++;
                i = stop;
            }
            if (start > prevStop) { ends.add(start); ids.add(-1); }
            ends.add(stop);
            ids.add(hit.id());
            prevStop = stop;
        }
        if (prevStop < n) { ends.add(n); ids.add(-1); }
    }

    /** Rust's char::is_alphanumeric: Alphabetic or a numeric category. */
    private static boolean isWordChar(int cp) {
        int t = Character.getType(cp);
        return Character.isAlphabetic(cp) || t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER
                || t == Character.OTHER_NUMBER;
    }

    /** Rust's char::is_whitespace: the Unicode White_Space property. */
    static boolean isWhitespace(char c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x85 || switch (Character.getType(c)) {
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> true;
            default -> false;
        };
    }
}
