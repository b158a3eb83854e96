package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.laconic.transformer.tokenizer.TokenizerFixtures.goldens;
import static dev.laconic.transformer.tokenizer.TokenizerFixtures.ints;
import static dev.laconic.transformer.tokenizer.TokenizerFixtures.tokenizer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Exact agreement with Hugging Face tokenizers 0.23 / transformers 5 on tools/make_tokenizer_goldens.py's corpus. */
class TokenizerGoldenTest {

    private static String label(JsonNode c) {
        String t = c.path("text").asText();
        return c.path("group").asText() + ": \"" + (t.length() > 60 ? t.substring(0, 60) + "…" : t) + "\"";
    }

    @Test
    void idsMatchHuggingFaceWithAndWithoutBos() {
        Tokenizer tok = tokenizer();
        int bos = goldens().path("meta").path("bos_id").asInt();
        List<String> failures = new ArrayList<>();
        for (JsonNode c : goldens().path("cases")) {
            String text = c.path("text").asText();
            int[] expected = ints(c.path("ids"));
            int[] got = tok.encode(text, false);
            if (!Arrays.equals(expected, got)) {
                failures.add(label(c) + "\n  expected " + Arrays.toString(expected) + "\n  got      " + Arrays.toString(got));
            }
            int[] withBos = new int[expected.length + 1];      // the script asserts HF's BOS ids are [bos] + ids
            withBos[0] = bos;
            System.arraycopy(expected, 0, withBos, 1, expected.length);
            assertArrayEquals(withBos, tok.encode(text, true), label(c));
        }
        if (!failures.isEmpty()) fail(failures.size() + " cases differ:\n" + String.join("\n", failures));
    }

    @Test
    void encodingTwiceGivesTheSameIds() {                      // the second pass is served by the merge cache
        Tokenizer tok = tokenizer();
        for (JsonNode c : goldens().path("cases")) {
            String text = c.path("text").asText();
            assertArrayEquals(tok.encode(text, false), tok.encode(text, false), label(c));
        }
    }

    @Test
    void decodeMatchesHuggingFaceWithAndWithoutSpecialTokens() {
        Tokenizer tok = tokenizer();
        int bos = goldens().path("meta").path("bos_id").asInt();
        for (JsonNode c : goldens().path("cases")) {
            int[] ids = ints(c.path("ids"));
            int[] withBos = new int[ids.length + 1];
            withBos[0] = bos;
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            assertEquals(c.path("decoded").asText(), tok.decode(withBos, false), label(c));
            assertEquals(c.path("decoded_skip_special").asText(), tok.decode(withBos, true), label(c));
        }
    }

    @Test
    void decodeOfInvalidUtf8AndOddSequencesMatchesHuggingFace() {
        Tokenizer tok = tokenizer();
        for (JsonNode d : goldens().path("decodes")) {
            int[] ids = ints(d.path("ids"));
            assertEquals(d.path("text").asText(), tok.decode(ids, false), d.path("name").asText());
            assertEquals(d.path("text_skip_special").asText(), tok.decode(ids, true), d.path("name").asText());
        }
    }

    @Test
    void splitPiecesMatchHuggingFaceForQwen2AndLlama3Patterns() {
        String llama3 = goldens().path("meta").path("llama3_regex").asText();
        assertEquals(PreTokenizer.LLAMA3_REGEX, llama3);
        PreTokenizer[] qwen = {PreTokenizer.split(PreTokenizer.QWEN2_REGEX), regexOnly(PreTokenizer.QWEN2_REGEX)};
        PreTokenizer[] llama = {PreTokenizer.split(llama3), regexOnly(llama3)};
        assertTrue(qwen[0] instanceof PreTokenizer.Scanner && llama[0] instanceof PreTokenizer.Scanner);
        for (JsonNode c : goldens().path("cases")) {
            String text = c.path("text").asText();
            for (PreTokenizer p : qwen) assertEquals(strings(c.path("pieces")), pieces(p, text), label(c) + " " + p);
            for (PreTokenizer p : llama) {
                assertEquals(strings(c.path("pieces_llama3_regex")), pieces(p, text), label(c) + " " + p);
            }
        }
    }

    /** The same pattern through java.util.regex (with UNICODE_CHARACTER_CLASS) rather than the hand-written scanner. */
    static PreTokenizer regexOnly(String regex) {
        return new PreTokenizer.RegexSplit(java.util.regex.Pattern.compile(regex,
                java.util.regex.Pattern.UNICODE_CHARACTER_CLASS));
    }

    static List<String> pieces(PreTokenizer p, String text) {
        IntArrayList ends = new IntArrayList();
        p.split(text, 0, text.length(), ends);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int e : ends) { out.add(text.substring(start, e)); start = e; }
        return out;
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : a) out.add(s.asText());
        return out;
    }

    @Test
    void mergesWrittenAsPairsGiveTheSameIds(@TempDir Path dir) throws IOException {
        ObjectNode json = TokenizerFixtures.tokenizerJson().deepCopy();
        ArrayNode pairs = TokenizerFixtures.JSON.createArrayNode();
        for (JsonNode m : json.path("model").path("merges")) {
            String[] ab = m.asText().split(" ");
            pairs.addArray().add(ab[0]).add(ab[1]);
        }
        ((ObjectNode) json.path("model")).set("merges", pairs);
        TokenizerFixtures.JSON.writeValue(dir.resolve("tokenizer.json").toFile(), json);
        List<Tokenizer> both = List.of(Tokenizer.load(dir), Tokenizer.fromJson(json, null));   // stream and tree readers
        for (Tokenizer tok : both) {
            for (JsonNode c : goldens().path("cases")) {
                assertArrayEquals(ints(c.path("ids")), tok.encode(c.path("text").asText(), false), label(c));
            }
        }
    }

    @Test
    void ignoreMergesEmitsWholeWordsFoundInTheVocabulary() {
        ObjectNode json = TokenizerFixtures.tokenizerJson().deepCopy();
        ObjectNode model = (ObjectNode) json.path("model");
        model.put("ignore_merges", true);
        goldens().path("meta").path("extra_words").properties()
                .forEach(e -> ((ObjectNode) model.path("vocab")).put(e.getKey(), e.getValue().asInt()));
        Tokenizer tok = Tokenizer.fromJson(json, TokenizerFixtures.config());
        for (JsonNode c : goldens().path("ignore_merges")) {
            String text = c.path("text").asText();
            assertArrayEquals(ints(c.path("ids")), tok.encode(text, false), text);
            assertArrayEquals(ints(c.path("ids_without_flag")), tokenizer().encode(text, false), text);
        }
    }

    @Test
    void lookupsMatchHuggingFace() {
        Tokenizer tok = tokenizer();
        JsonNode meta = goldens().path("meta");
        assertEquals(meta.path("vocab_size").asInt(), tok.vocabSize());
        assertEquals(meta.path("bos_id").asInt(), tok.bosId());
        assertEquals(meta.path("eos_id").asInt(), tok.eosId());
        assertEquals(tok.bosId(), tok.tokenId("<｜begin▁of▁sentence｜>"));
        assertEquals("<think>", tok.token(tok.tokenId("<think>")));
        assertTrue(tok.isSpecial(tok.eosId()));
        assertTrue(!tok.isSpecial(tok.tokenId("</think>")));
        assertEquals(-1, tok.tokenId("<|im_start|>"));          // Qwen's chat tokens are plain text in R1
        assertEquals("Ġthe", tok.token(tok.encode(" the", false)[0]));
    }
}
