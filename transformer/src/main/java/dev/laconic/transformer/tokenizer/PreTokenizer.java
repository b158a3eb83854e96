package dev.laconic.transformer.tokenizer;

import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits normalized text into the pieces ("words") that BPE encodes independently: HF's {@code Split} pre-tokenizer
 * with behaviour {@code Isolated} (every regex match is a piece, and so is every gap between matches), chained when
 * tokenizer.json lists several. Pieces are reported as end offsets (UTF-16 indices) appended to {@code ends}; the
 * first piece starts at {@code from}.
 *
 * <p>HF runs these regexes on Oniguruma, whose {@code \s}, {@code \p{L}}, {@code \p{N}} are Unicode classes; Java's
 * regex needs {@link Pattern#UNICODE_CHARACTER_CLASS} to give {@code \s} the same meaning (White_Space, which
 * includes U+0085, U+00A0, U+3000 but not U+200B or U+FEFF). The two patterns used by the DeepSeek-R1-Distill models
 * (Qwen2's and Llama 3's) are recognised and run by {@link Scanner}, a hand-written matcher several times faster
 * than java.util.regex; any other pattern runs through {@link RegexSplit}.
 */
sealed interface PreTokenizer permits PreTokenizer.Scanner, PreTokenizer.RegexSplit, PreTokenizer.Chain {

    void split(String s, int from, int to, IntArrayList ends);

    /** Qwen2 / Qwen2.5 (single digits). */
    String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Llama 3 (runs of up to three digits). */
    String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** GPT-2's, used by the ByteLevel pre-tokenizer when its {@code use_regex} is true. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** The Split pre-tokenizer for {@code regex} (Isolated behaviour): the fast scanner when we know the pattern. */
    static PreTokenizer split(String regex) {
        if (regex.equals(QWEN2_REGEX)) return new Scanner(1);
        if (regex.equals(LLAMA3_REGEX)) return new Scanner(3);
        return new RegexSplit(Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS));
    }

    static PreTokenizer chain(List<PreTokenizer> stages) {
        return stages.size() == 1 ? stages.getFirst() : new Chain(List.copyOf(stages));
    }

    /** Each stage splits every piece of the previous one. */
    record Chain(List<PreTokenizer> stages) implements PreTokenizer {
        @Override
        public void split(String s, int from, int to, IntArrayList ends) {
            IntArrayList cur = new IntArrayList(), next = new IntArrayList();
            stages.getFirst().split(s, from, to, cur);
            for (int k = 1; k < stages.size(); k++) {
                next.clear();
                int start = from;
                for (int i = 0; i < cur.size(); i++) {
                    stages.get(k).split(s, start, cur.getInt(i), next);
                    start = cur.getInt(i);
                }
                IntArrayList t = cur; cur = next; next = t;
            }
            ends.addAll(cur);
        }
    }

    /** HF Split with behaviour Isolated on java.util.regex; bounds are opaque, as if the piece were the whole text. */
    record RegexSplit(Pattern pattern) implements PreTokenizer {
        @Override
        public void split(String s, int from, int to, IntArrayList ends) {
            Matcher m = pattern.matcher(s).region(from, to);
            int last = from;
            while (m.find()) {
                if (m.end() == m.start()) continue;               // HF drops empty matches
                if (m.start() > last) ends.add(m.start());        // the gap before the match is a piece too
                ends.add(m.end());
                last = m.end();
            }
            if (last < to) ends.add(to);
        }
    }

    /**
     * The Qwen2 / Llama 3 pattern as code. Alternatives in the regex's order (leftmost-first, like the regex engine):
     * <pre>
     * 1 (?i:'s|'t|'re|'ve|'m|'ll|'d)        contraction; Oniguruma folds case Unicode-wise, so "'ſ" (long s) counts
     * 2 [^\r\n\p{L}\p{N}]?\p{L}+            a letter run, optionally led by one char that is not CR/LF/letter/digit
     * 3 \p{N} (Qwen2) or \p{N}{1,3} (Llama 3)
     * 4  ?[^\s\p{L}\p{N}]+[\r\n]*           a symbol run, optionally led by one ' ', then any CR/LF
     * 5 \s*[\r\n]+                          whitespace up to and including the last CR/LF of the whitespace run
     * 6 \s+(?!\S)                           whitespace run minus its last char when a non-space follows
     * 7 \s+                                 (a single whitespace char before a non-space)
     * </pre>
     */
    record Scanner(int maxDigits) implements PreTokenizer {
        private static final byte LETTER = 0, NUMBER = 1, SPACE = 2, OTHER = 3;
        private static final byte[] ASCII = new byte[128];

        static {
            for (int c = 0; c < 128; c++) {
                ASCII[c] = Character.isLetter(c) ? LETTER : Character.isDigit(c) ? NUMBER
                        : (c == ' ' || (c >= 0x09 && c <= 0x0D)) ? SPACE : OTHER;
            }
        }

        static byte classOf(int cp) {
            if (cp < 128) return ASCII[cp];
            return switch (Character.getType(cp)) {
                case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                     Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
                case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
                // Unicode White_Space = Zs, Zl, Zp, U+0009..U+000D, U+0085
                case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SPACE;
                default -> cp == 0x85 ? SPACE : OTHER;
            };
        }

        private static boolean isCrLf(int c) {
            return c == '\r' || c == '\n';
        }

        @Override
        public void split(String s, int from, int to, IntArrayList ends) {
            int i = from;
            while (i < to) {
                i = next(s, i, to);
                ends.add(i);
            }
        }

        /** End of the piece that starts at {@code i}. */
        private int next(String s, int i, int to) {
            int c0 = s.codePointAt(i);
            int n0 = Character.charCount(c0);
            byte k0 = classOf(c0);
            // 1: contractions (ASCII case-insensitive, plus U+017F LATIN SMALL LETTER LONG S which folds to 's')
            if (c0 == '\'' && i + 1 < to) {
                int len = contraction(s, i + 1, to);
                if (len > 0) return i + 1 + len;
            }
            // 2: letters, optionally led by one char that is not CR, LF, a letter or a digit
            if (k0 == LETTER) return letters(s, i + n0, to);
            if (k0 != NUMBER && !isCrLf(c0) && i + n0 < to && classOf(s.codePointAt(i + n0)) == LETTER) {
                return letters(s, i + n0, to);
            }
            // 3: digits
            if (k0 == NUMBER) {
                int j = i + n0;
                for (int d = 1; d < maxDigits && j < to; d++) {
                    int c = s.codePointAt(j);
                    if (classOf(c) != NUMBER) break;
                    j += Character.charCount(c);
                }
                return j;
            }
            // 4: symbols, optionally led by one ' ', then CR/LF
            int j = -1;
            if (k0 == OTHER) j = i;
            else if (c0 == ' ' && i + 1 < to && classOf(s.codePointAt(i + 1)) == OTHER) j = i + 1;
            if (j >= 0) {
                while (j < to) {
                    int c = s.codePointAt(j);
                    if (classOf(c) != OTHER) break;
                    j += Character.charCount(c);
                }
                while (j < to && isCrLf(s.charAt(j))) j++;
                return j;
            }
            // 5-7: c0 is whitespace (all whitespace chars are in the BMP)
            int end = i, lastCrLf = -1;
            while (end < to && classOf(s.charAt(end)) == SPACE) {
                if (isCrLf(s.charAt(end))) lastCrLf = end;
                end++;
            }
            if (lastCrLf >= 0) return lastCrLf + 1;               // 5
            if (end == to || end - i == 1) return end;             // 6 at the end of the text, or 7
            return end - 1;                                        // 6: leave one space for the next piece
        }

        private static int letters(String s, int j, int to) {
            while (j < to) {
                int c = s.codePointAt(j);
                if (classOf(c) != LETTER) break;
                j += Character.charCount(c);
            }
            return j;
        }

        /** Length after the apostrophe of a contraction starting at {@code j}, or 0. */
        private static int contraction(String s, int j, int to) {
            char a = s.charAt(j);
            char b = j + 1 < to ? s.charAt(j + 1) : 0;
            return switch (a) {
                case 's', 'S', 'ſ', 't', 'T', 'm', 'M', 'd', 'D' -> 1;
                case 'r', 'R', 'v', 'V' -> (b == 'e' || b == 'E') ? 2 : 0;
                case 'l', 'L' -> (b == 'l' || b == 'L') ? 2 : 0;
                default -> 0;
            };
        }
    }
}
