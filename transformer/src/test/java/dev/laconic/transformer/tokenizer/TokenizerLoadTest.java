package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files we cannot tokenize exactly are refused with a message naming the field. */
class TokenizerLoadTest {

    private static void assertRefused(String field, Consumer<ObjectNode> change) {
        ObjectNode json = TokenizerFixtures.tokenizerJson().deepCopy();
        change.accept(json);
        var e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson(json, null));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void aCorruptVocabIdIsOneLineNamingFileAndToken(@TempDir Path dir) throws IOException {
        for (String id : new String[] {"1000000000", "2147483647", "-5", "99999999999", "\"x\""}) {
            ObjectNode json = TokenizerFixtures.tokenizerJson().deepCopy();
            String first = json.path("model").path("vocab").fieldNames().next();
            Path file = dir.resolve("tokenizer.json");
            Files.writeString(file, json.toString().replaceFirst("(\"" + java.util.regex.Pattern.quote(first) + "\"\\s*:\\s*)\\d+", "$1" + id));
            var e = assertThrows(IOException.class, () -> Tokenizer.load(dir), id);
            assertTrue(e.getMessage().startsWith(file + ": model.vocab: token \"" + first + "\": id "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aTruncatedTokenizerJsonIsOneLineNamingTheFile(@TempDir Path dir) throws IOException {
        String whole = TokenizerFixtures.tokenizerJson().toString();
        Files.writeString(dir.resolve("tokenizer.json"), whole.substring(0, whole.length() / 2));
        var e = assertThrows(IOException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": not valid JSON: "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("Source"), e.getMessage());
    }

    @Test
    void refusesWhatItWouldGetWrong() {
        assertRefused("model.type", j -> ((ObjectNode) j.path("model")).put("type", "WordPiece"));
        assertRefused("model.byte_fallback", j -> ((ObjectNode) j.path("model")).put("byte_fallback", true));
        assertRefused("normalizer.type", j -> j.putObject("normalizer").put("type", "Lowercase"));
        assertRefused("pre_tokenizer.type", j -> j.putObject("pre_tokenizer").put("type", "Metaspace"));
        assertRefused("pre_tokenizer.pretokenizers[0].behavior",
                j -> ((ObjectNode) j.path("pre_tokenizer").path("pretokenizers").get(0)).put("behavior", "Removed"));
        assertRefused("decoder.type", j -> j.remove("decoder"));
        assertRefused("post_processor.type", j -> j.putObject("post_processor").put("type", "RobertaProcessing"));
        assertRefused("merge 3", j -> ((com.fasterxml.jackson.databind.node.ArrayNode) j.path("model").path("merges"))
                .set(3, "a b c"));
    }

    @Test
    void missingFilesAreAnIOException(@TempDir Path dir) throws IOException {
        var e = assertThrows(IOException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        e = assertThrows(IOException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("model.type"), e.getMessage());
    }

    @Test
    void withoutConfigTheTemplatesSpecialTokenIsTheBos() {
        Tokenizer tok = Tokenizer.fromJson(TokenizerFixtures.tokenizerJson(), null);
        assertEquals(TokenizerFixtures.tokenizer().bosId(), tok.bosId());
        assertEquals(-1, tok.eosId());
        assertEquals(tok.bosId(), tok.encode("x", true)[0]);
    }

    @Test
    void aCorruptIdIsOneLineNamingTheFileAndToken(@TempDir Path dir) throws IOException {
        for (String id : new String[] {"1000000000", "2147483647", "-5", "99999999999", "1.5", "\"x\""}) {
            ObjectNode json = TokenizerFixtures.tokenizerJson().deepCopy();
            String token = json.path("model").path("vocab").fieldNames().next();
            Files.writeString(dir.resolve("tokenizer.json"), json.toString().replaceFirst(
                    "\"" + java.util.regex.Pattern.quote(token) + "\":\\d+", java.util.regex.Matcher.quoteReplacement("\"" + token + "\":" + id)));
            var e = assertThrows(IOException.class, () -> Tokenizer.load(dir), id);
            assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": model.vocab: token \"" + token + "\": id "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aTruncatedFileIsOneLineNamingIt(@TempDir Path dir) throws IOException {
        String full = TokenizerFixtures.tokenizerJson().toString();
        Files.writeString(dir.resolve("tokenizer.json"), full.substring(0, full.length() / 2));
        var e = assertThrows(IOException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": not valid JSON: "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("Source"), e.getMessage());
    }
}
