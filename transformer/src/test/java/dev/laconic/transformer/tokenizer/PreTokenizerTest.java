package dev.laconic.transformer.tokenizer;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The hand-written scanner against java.util.regex running the same pattern, on random strings over an alphabet
 * that hits every branch: letters of several scripts, digits of several kinds, apostrophes and contraction letters,
 * symbols, every kind of whitespace, CR/LF, surrogate pairs. (The HF goldens check both against Oniguruma.)
 */
class PreTokenizerTest {
    private static final String[] ALPHABET = {
        "a", "Z", "s", "S", "t", "r", "e", "E", "v", "m", "l", "L", "d", "ſ", "é", "ß", "中", "ǅ", "ʰ", "й",
        "0", "7", "٣", "²", "Ⅻ", "½",
        "'", "’", "!", ".", "-", "=", "(", "😀", "\u200d", "\u0301", "\u200b", "\ufeff", "\u001c",
        " ", " ", " ", "\t", "\u000b", "\u000c", "\u0085", "\u00a0", "\u3000", "\u2028", "\u2009",
        "\r", "\n", "\r\n",
    };

    private static String randomText(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(30);
        for (int i = 0; i < n; i++) sb.append(ALPHABET[r.nextInt(ALPHABET.length)]);
        return sb.toString();
    }

    @Test
    void scannerAgreesWithJavaRegexOnRandomText() {
        for (String regex : List.of(PreTokenizer.QWEN2_REGEX, PreTokenizer.LLAMA3_REGEX)) {
            PreTokenizer scanner = PreTokenizer.split(regex);
            PreTokenizer reference = TokenizerGoldenTest.regexOnly(regex);
            Random r = new Random(11);
            for (int trial = 0; trial < 20_000; trial++) {
                String text = randomText(r);
                assertEquals(TokenizerGoldenTest.pieces(reference, text), TokenizerGoldenTest.pieces(scanner, text),
                        () -> "text " + text.codePoints().mapToObj(c -> String.format("U+%04X", c)).toList());
            }
        }
    }

    @Test
    void splittingARegionIsSplittingThatSubstring() {              // lookahead must not see past the region
        PreTokenizer scanner = PreTokenizer.split(PreTokenizer.QWEN2_REGEX);
        PreTokenizer reference = TokenizerGoldenTest.regexOnly(PreTokenizer.QWEN2_REGEX);
        Random r = new Random(5);
        for (int trial = 0; trial < 2000; trial++) {
            String text = randomText(r) + "  x" + randomText(r);
            int from = text.indexOf("  x"), to = from + 2;     // "  " alone: one piece; followed by x: two
            for (PreTokenizer p : List.of(scanner, reference)) {
                IntArrayList ends = new IntArrayList();
                p.split(text, from, to, ends);
                assertEquals(IntArrayList.of(to), ends, p.toString());
            }
        }
    }
}
