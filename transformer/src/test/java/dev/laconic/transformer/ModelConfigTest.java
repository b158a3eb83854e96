package dev.laconic.transformer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode resource(String name) throws Exception {
        try (InputStream in = ModelConfigTest.class.getResourceAsStream("/config/" + name)) {
            assertNotNull(in, name);
            return JSON.readTree(in);
        }
    }

    @Test
    void readsTheRealR1DistillQwen15BConfig() throws Exception {
        ModelConfig c = ModelConfig.fromJson(resource("r1-distill-qwen-1.5b.json"), resource("r1-distill-qwen-1.5b-generation.json"));
        assertEquals(ModelConfig.QWEN2, c.architecture());
        assertEquals(1536, c.hidden());
        assertEquals(8960, c.intermediate());
        assertEquals(28, c.layers());
        assertEquals(12, c.heads());
        assertEquals(2, c.kvHeads());
        assertEquals(128, c.headDim());
        assertEquals(151936, c.vocab());
        assertEquals(1e-6f, c.rmsNormEps());
        assertTrue(c.qkvBias(), "Qwen2 has q/k/v biases");
        assertFalse(c.oBias());
        assertFalse(c.tieWordEmbeddings());
        assertNull(c.ropeScaling());
        assertEquals(151646, c.bosId(), "generation_config.json overrides bos");
        assertArrayEquals(new int[]{151643}, c.eosIds());
        // 1.78 B parameters is the published size of R1-Distill-Qwen-1.5B
        assertEquals(1.777, c.parameterCount() / 1e9, 0.002);
    }

    @Test
    void inverseFrequencyTablesMatchHuggingFace() throws Exception {
        for (JsonNode tc : resource("rope_goldens.json").get("cases")) {
            ModelConfig c = ModelConfig.fromJson(tc.get("config"), null);
            float[] got = c.invFreq();
            JsonNode want = tc.get("inv_freq");
            assertEquals(want.size(), got.length, tc.get("name").asText());
            for (int i = 0; i < got.length; i++)
                assertEquals(want.get(i).asDouble(), got[i], 2e-7 * Math.abs(want.get(i).asDouble()) + 1e-12,
                        tc.get("name").asText() + " inv_freq[" + i + "]");
        }
    }

    @Test
    void legacyRopeScalingFieldIsReadToo() throws Exception {
        ObjectNode c = (ObjectNode) resource("r1-distill-qwen-1.5b.json");
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("rope_theta", 500000.0);
        ObjectNode rs = c.putObject("rope_scaling");
        rs.put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 8192);
        ModelConfig m = ModelConfig.fromJson(c, null);
        assertEquals(500000.0, m.ropeTheta());
        assertEquals(8.0, m.ropeScaling().factor());
        assertFalse(m.qkvBias(), "Llama without attention_bias has no biases");
    }

    @Test
    void unsupportedFeaturesAreRefusedNamingTheField() throws Exception {
        assertRefused(c -> c.put("use_sliding_window", true), "use_sliding_window");
        assertRefused(c -> c.putArray("architectures").add("MistralForCausalLM"), "architectures");
        assertRefused(c -> c.put("hidden_act", "gelu"), "hidden_act");
        assertRefused(c -> c.putObject("rope_scaling").put("rope_type", "yarn"), "rope_type");
        assertRefused(c -> c.remove("hidden_size"), "hidden_size");
        assertRefused(c -> c.put("num_key_value_heads", 5), "num_key_value_heads");
        // issue 21 item 8: a size of 0 names its field (was "sizes must be positive")
        assertRefused(c -> c.put("num_hidden_layers", 0), "num_hidden_layers must be positive, is 0");
        assertRefused(c -> c.put("vocab_size", -3), "vocab_size must be positive");
    }

    private void assertRefused(java.util.function.Consumer<ObjectNode> edit, String field) throws Exception {
        ObjectNode c = (ObjectNode) resource("r1-distill-qwen-1.5b.json");
        edit.accept(c);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(c, null));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void loadNamesTheFileOnBadJson() throws Exception {
        Path dir = Files.createTempDirectory("cfg");
        Files.writeString(dir.resolve("config.json"), "{not json");
        Exception e = assertThrows(java.io.IOException.class, () -> ModelConfig.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        Files.delete(dir.resolve("config.json"));
        e = assertThrows(java.io.IOException.class, () -> ModelConfig.load(dir));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }
}
