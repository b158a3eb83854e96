package dev.laconic.transformer.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.BitSet;

/**
 * Unicode normalisation as Hugging Face tokenizers computes it. HF's normalizers use the Unicode 9 tables of the
 * unicode-normalization-alignments crate; the JDK's {@link Normalizer} has newer ones (JDK 25: Unicode 16), which give
 * 159 code points of Unicode 10-16 a combining class or a composition that HF's lack (U+07FD, U+0897..089F,
 * U+1ABF..1ACE, ...; listed in hf-unknown-code-points.txt, derived by tools/make_unicode_goldens.py from HF's own
 * output). To HF those are plain starters that neither reorder nor compose, so the text is split at them and the
 * pieces between them are normalised by the JDK: every other code point has the same properties in both versions
 * (Unicode's stability policy), and a starter that composes with nothing is a boundary of every normalisation.
 */
final class HfNormalizer {
    private static final BitSet UNKNOWN_TO_HF = load("hf-unknown-code-points.txt");

    private HfNormalizer() {}

    static String normalize(String s, Normalizer.Form form) {
        StringBuilder out = null;
        int start = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i), next = i + Character.charCount(cp);
            if (UNKNOWN_TO_HF.get(cp)) {
                if (out == null) out = new StringBuilder(s.length() + 8);
                out.append(Normalizer.normalize(s.substring(start, i), form)).append(s, i, next);
                start = next;
            }
            i = next;
        }
        return out == null ? Normalizer.normalize(s, form) : out.append(Normalizer.normalize(s.substring(start), form)).toString();
    }

    /** Whether HF's tables give {@code cp} no normalisation properties that the JDK's do (exposed for tests). */
    static boolean unknownToHf(int cp) {
        return UNKNOWN_TO_HF.get(cp);
    }

    private static BitSet load(String resource) {
        BitSet set = new BitSet();
        try (InputStream in = HfNormalizer.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("resource " + resource + " missing from the jar");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int dots = line.indexOf("..");
                int from = Integer.parseInt(dots < 0 ? line.strip() : line.substring(0, dots), 16);
                int to = dots < 0 ? from : Integer.parseInt(line.substring(dots + 2).strip(), 16);
                set.set(from, to + 1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return set;
    }
}
