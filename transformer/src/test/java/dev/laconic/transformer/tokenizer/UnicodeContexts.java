package dev.laconic.transformer.tokenizer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * The eight contexts in which {@code UnicodeGoldenTest} tokenizes every assigned code point {@code c}, chosen so
 * that every normalisation property of {@code c} shows in the ids: its decomposition (alone), its canonical
 * combining class (between {@code a} and U+0301, it lets the accent compose with {@code a} iff 0 &lt; ccc &lt; 230;
 * before U+0334, ccc 1, it is reordered iff ccc &gt; 1), its compositions (its JDK decomposition after a composed
 * {@code é}), and the pre-tokenizer's classes (after a letter, before one, after a space, doubled).
 *
 * <p>Also a program: {@code java UnicodeContexts.java} prints, for every assigned code point (JDK 25: Unicode 16),
 * a line {@code cp<TAB>ctx0<TAB>...<TAB>ctx7<TAB>nfc0<TAB>...<TAB>nfc7}, each string as space-separated hex code
 * points and each JDK NFC as {@code =} where it leaves the context unchanged. tools/make_unicode_goldens.py reads it.
 */
final class UnicodeContexts {
    static final int COUNT = 8;

    private UnicodeContexts() {}

    /** Assigned in the JDK's Unicode version: any general category but unassigned (surrogates are not text). */
    static boolean assigned(int cp) {
        int type = Character.getType(cp);
        return type != Character.UNASSIGNED && type != Character.SURROGATE;
    }

    static String context(int k, int cp) {
        String c = Character.toString(cp);
        return switch (k) {
            case 0 -> c;
            case 1 -> "a" + c;
            case 2 -> c + "a";
            case 3 -> " " + c;
            case 4 -> "a" + c + "\u0301";
            case 5 -> "a" + c + "\u0334";
            case 6 -> "\u00e9" + Normalizer.normalize(c, Normalizer.Form.NFD);
            case 7 -> "1" + c + c;
            default -> throw new IllegalArgumentException("context " + k);
        };
    }

    private static String hex(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> b.append(b.isEmpty() ? "" : " ").append(Integer.toHexString(cp)));
        return b.toString();
    }

    public static void main(String[] args) throws IOException {
        try (BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 20)) {
            for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                if (!assigned(cp)) continue;
                StringBuilder line = new StringBuilder(Integer.toHexString(cp));
                String[] ctx = new String[COUNT];
                for (int k = 0; k < COUNT; k++) line.append('\t').append(hex(ctx[k] = context(k, cp)));
                for (int k = 0; k < COUNT; k++) {
                    String nfc = Normalizer.normalize(ctx[k], Normalizer.Form.NFC);
                    line.append('\t').append(nfc.equals(ctx[k]) ? "=" : hex(nfc));
                }
                out.write(line.append('\n').toString());
            }
        }
    }
}
