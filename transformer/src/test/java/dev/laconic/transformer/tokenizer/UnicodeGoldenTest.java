package dev.laconic.transformer.tokenizer;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every code point the JDK calls assigned (292,531 in JDK 25's Unicode 16), in {@link UnicodeContexts}' eight
 * contexts, tokenizes to Hugging Face's ids (tools/make_unicode_goldens.py, HF tokenizers 0.23 with the vendored
 * R1-Distill tokenizer). The contexts show every normalisation property of the code point, so this is also the test
 * of the normaliser over every code point: the ids are the normalised text's bytes.
 */
class UnicodeGoldenTest {

    private static int varint(DataInputStream in) throws IOException {
        int v = 0;
        for (int shift = 0; ; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
    }

    @Test
    void everyAssignedCodePointInEightContextsMatchesHuggingFace() throws IOException {
        Tokenizer tok = TokenizerFixtures.tokenizer();
        List<String> failures = new ArrayList<>();
        int[][] prev = new int[UnicodeContexts.COUNT][0];
        int cp = 0, count = 0, expectedCp = nextAssigned(0);
        try (InputStream raw = UnicodeGoldenTest.class.getResourceAsStream("/tokenizer/unicode_goldens.bin.gz");
             DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
            while (true) {
                int delta;
                try { delta = varint(in); } catch (EOFException end) { break; }
                cp += delta;
                assertEquals(Integer.toHexString(expectedCp), Integer.toHexString(cp), "the golden's code points are the JDK's assigned ones");
                expectedCp = nextAssigned(cp + 1);
                for (int k = 0; k < UnicodeContexts.COUNT; k++) {
                    int[] ids = new int[varint(in)];
                    for (int j = 0; j < ids.length; j++) {
                        int z = varint(in);
                        ids[j] = (j < prev[k].length ? prev[k][j] : 0) + ((z >>> 1) ^ -(z & 1));
                    }
                    prev[k] = ids;
                    String text = UnicodeContexts.context(k, cp);
                    int[] got = tok.encode(text, false);
                    if (!Arrays.equals(ids, got) && failures.size() < 200)
                        failures.add(String.format("U+%04X context %d %s: HF %s, ours %s", cp, k,
                                text.codePoints().mapToObj(c -> String.format("%04X", c)).toList(),
                                Arrays.toString(ids), Arrays.toString(got)));
                }
                count++;
            }
        }
        assertEquals(Integer.MAX_VALUE, expectedCp, "code points missing from the golden after U+" + Integer.toHexString(cp));
        assertTrue(count > 290_000, count + " code points");
        if (!failures.isEmpty()) fail(failures.size() + " differ (first 200):\n" + String.join("\n", failures));
    }

    private static int nextAssigned(int from) {
        for (int cp = from; cp <= Character.MAX_CODE_POINT; cp++) if (UnicodeContexts.assigned(cp)) return cp;
        return Integer.MAX_VALUE;
    }
}
