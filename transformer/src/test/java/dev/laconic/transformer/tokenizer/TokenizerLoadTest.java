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
}
