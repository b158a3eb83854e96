package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The vendored DeepSeek-R1-Distill-Qwen tokenizer (src/test/resources/tokenizer, see NOTICE there) and the goldens
 * written by tools/make_tokenizer_goldens.py with Hugging Face tokenizers/transformers. Loaded once per JVM.
 */
final class TokenizerFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode tokenizerJson, config, goldens, chatGoldens;
    private static Tokenizer tokenizer;

    private TokenizerFixtures() {}

    static synchronized JsonNode tokenizerJson() {
        if (tokenizerJson == null) tokenizerJson = read("tokenizer.json.gz");
        return tokenizerJson;
    }

    static synchronized JsonNode config() {
        if (config == null) config = read("tokenizer_config.json");
        return config;
    }

    /** Through {@link Tokenizer#load}, the streaming reader (the variants in the tests go through the tree reader). */
    static synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            try {
                tokenizer = Tokenizer.load(resourceDir());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tokenizer;
    }

    /** The folder holding tokenizer.json.gz and tokenizer_config.json (target/test-classes/tokenizer). */
    static Path resourceDir() {
        try {
            return Path.of(TokenizerFixtures.class.getResource("/tokenizer/tokenizer_config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static synchronized JsonNode goldens() {
        if (goldens == null) goldens = read("tokenizer_goldens.json");
        return goldens;
    }

    static synchronized JsonNode chatGoldens() {
        if (chatGoldens == null) chatGoldens = read("chat_template_goldens.json");
        return chatGoldens;
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).asInt();
        return a;
    }

    private static JsonNode read(String name) {
        try (InputStream raw = TokenizerFixtures.class.getResourceAsStream("/tokenizer/" + name)) {
            if (raw == null) throw new IllegalStateException("missing test resource tokenizer/" + name);
            return JSON.readTree(name.endsWith(".gz") ? new GZIPInputStream(raw) : raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
