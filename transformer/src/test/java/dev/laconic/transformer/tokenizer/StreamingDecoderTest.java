package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static dev.laconic.transformer.tokenizer.TokenizerFixtures.goldens;
import static dev.laconic.transformer.tokenizer.TokenizerFixtures.ints;
import static dev.laconic.transformer.tokenizer.TokenizerFixtures.tokenizer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamingDecoderTest {

    /** Streams {@code ids} and checks the pieces add up to the one-shot decode (itself checked against HF). */
    private static void assertStreamsLikeDecode(int[] ids, boolean skipSpecial, boolean validUtf8, String label) {
        Tokenizer tok = tokenizer();
        StreamingDecoder s = new StreamingDecoder(tok, skipSpecial);
        StringBuilder all = new StringBuilder();
        for (int id : ids) {
            String piece = s.push(id);
            // never half a character: no lone surrogate, and no replacement char made up for valid text
            for (int i = 0; i < piece.length(); i++) {
                char c = piece.charAt(i);
                if (Character.isHighSurrogate(c)) assertTrue(i + 1 < piece.length() && Character.isLowSurrogate(piece.charAt(++i)), label);
                else assertFalse(Character.isLowSurrogate(c), label);
                if (validUtf8) assertTrue(c != '\uFFFD', label + ": U+FFFD in " + piece);
            }
            all.append(piece);
        }
        all.append(s.finish());
        assertFalse(s.hasPending());
        assertEquals(tok.decode(ids, skipSpecial), all.toString(), label);
    }

    @Test
    void corpusStreamsWithoutSplittingCharacters() {
        for (JsonNode c : goldens().path("cases")) {
            boolean valid = c.path("text").asText().indexOf('\uFFFD') < 0;
            assertStreamsLikeDecode(ints(c.path("ids")), false, valid, c.path("text").asText());
            assertStreamsLikeDecode(ints(c.path("ids")), true, valid, c.path("text").asText());
        }
    }

    @Test
    void invalidAndRandomSequencesStreamLikeDecode() {
        for (JsonNode d : goldens().path("decodes")) {
            assertStreamsLikeDecode(ints(d.path("ids")), false, false, d.path("name").asText());
            assertStreamsLikeDecode(ints(d.path("ids")), true, false, d.path("name").asText());
        }
        // random runs of single-byte tokens: every way a UTF-8 sequence can be cut or broken
        Tokenizer tok = tokenizer();
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) byteIds[b] = tok.tokenId(String.valueOf(ByteLevel.charOf(b)));
        int[] interesting = {0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF,
                0xF0, 0xF1, 0xF4, 0xF5, 0xFF};
        Random r = new Random(7);
        for (int trial = 0; trial < 3000; trial++) {
            int[] ids = new int[1 + r.nextInt(12)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(10) == 0 ? tok.eosId() : byteIds[interesting[r.nextInt(interesting.length)]];
            }
            assertStreamsLikeDecode(ids, trial % 2 == 0, false, "trial " + trial);
        }
    }

    @Test
    void utf8DecoderAgreesWithJavaOnValidTextAndReplacesMaximalSubparts() {
        Random r = new Random(3);
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                int cp;
                do cp = r.nextInt(4) == 0 ? r.nextInt(0x110000) : r.nextInt(0x800); while (cp >= 0xD800 && cp <= 0xDFFF);
                sb.appendCodePoint(cp);
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            assertEquals(sb.toString(), StreamingDecoder.utf8(b, 0, b.length));
        }
        // Unicode 16 §3.9, table 3-11: "61 F1 80 80 E1 80 C2 62 80 63 80 BF 64" → a,FFFD,FFFD,FFFD,b,FFFD,c,FFFD,FFFD,d
        byte[] t = {0x61, (byte) 0xF1, (byte) 0x80, (byte) 0x80, (byte) 0xE1, (byte) 0x80, (byte) 0xC2, 0x62,
                (byte) 0x80, 0x63, (byte) 0x80, (byte) 0xBF, 0x64};
        assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd", StreamingDecoder.utf8(t, 0, t.length));
    }
}
