package dev.laconic.bench.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `bench decode --jlama` on a tiny random Qwen2 (bench's DecodeBenchCommandTest checks our rows):
 * Jlama runs in a child JVM from the peers' class path file, as ./laconic runs it, reports the same
 * rows as ours, and, fed the same F32 weights, picks the same greedy tokens.
 */
class JlamaDecodeTest {
    // Qwen2, C=64, F=160, 2 layers, 4 heads of D=16, 2 KV heads, V=384, untied
    static final String CONFIG = """
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 160,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 384,
             "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
             "tie_word_embeddings": false, "use_sliding_window": false, "bos_token_id": 1, "eos_token_id": 2}
            """;

    @TempDir Path tmp;

    @Test
    void jlamaRowsAndTheSameGreedyTokensOnTheSameWeights() throws Exception {
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, CONFIG);
        PrintStream saved = System.out;
        var buf = new ByteArrayOutputStream();
        int rc;
        try (var out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            rc = new CommandLine(new DecodeBenchCommand()).execute("--random-config", cfg.toString(), "--dtype", "f32",
                    "--prompt-tokens", "8", "--gen-tokens", "4", "--reps", "2", "--context", "24", "--bandwidth-mib", "16", "--json", "--jlama");
        } finally {
            System.setOut(saved);
        }
        String stdout = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, "exit code; stdout: " + stdout);
        JsonNode root = new ObjectMapper().readTree(stdout);

        List<String> ours = new ArrayList<>(), jlama = new ArrayList<>();
        for (JsonNode r : root.get("rows")) {
            (r.get("engine").asText().startsWith("jlama") ? jlama : ours).add(r.get("test").asText());
            assertTrue(r.get("tokens_per_s").asDouble() > 0 && Double.isFinite(r.get("tokens_per_s").asDouble()), r.toString());
        }
        assertEquals(List.of("pp8", "tg4", "pp20", "tg4@d20"), ours);
        assertEquals(List.of("pp8", "tg4", "pp20", "tg4@d20"), jlama);
        // Jlama read the same weights: F32 weights and activations in both engines decode the same tokens
        assertEquals("4/4", root.at("/jlama/greedy_prefix_agreement/tg4").asText(), root.get("jlama").toString());
        assertEquals("4/4", root.at("/jlama/greedy_prefix_agreement/tg4@d20").asText(), root.get("jlama").toString());
        assertTrue(root.at("/jlama/ours_over_jlama/tg4").asDouble() > 0);
        assertTrue(root.at("/jlama/peak_rss_bytes").asLong() > 0);
    }
}
