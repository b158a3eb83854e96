package dev.laconic.transformer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tiny random Qwen2 and Llama (llama3 rope scaling, tied embeddings) checkpoints written by Hugging
 * Face transformers (tools/make_golden_models.py), F32 and BF16, sharded and not: our log-probs must
 * match transformers' float64 values within 1e-4 and greedy continuations must be identical.
 */
class HuggingFaceGoldenTest {

    static Stream<Arguments> checkpoints() throws Exception {
        List<Arguments> out = new ArrayList<>();
        for (String model : new String[]{"qwen2", "llama"}) {
            JsonNode g = golden(model);
            g.get("checkpoints").fieldNames().forEachRemaining(name -> {
                out.add(Arguments.of(model, name, "vector"));
                if (name.endsWith("f32") || name.endsWith("f32-sharded")) out.add(Arguments.of(model, name, "reference"));
            });
        }
        return out.stream();
    }

    static JsonNode golden(String model) throws Exception {
        try (InputStream in = HuggingFaceGoldenTest.class.getResourceAsStream("/golden/" + model + ".json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    static Path dir(String name) throws URISyntaxException {
        return Path.of(HuggingFaceGoldenTest.class.getResource("/golden/" + name + "/config.json").toURI()).getParent();
    }

    @ParameterizedTest(name = "{1} ({2} ops)")
    @MethodSource("checkpoints")
    void logProbsMatchTransformersInFloat64(String model, String name, String opsName) throws Exception {
        JsonNode g = golden(model), ck = g.get("checkpoints").get(name);
        DType keep = ck.get("dtype").asText().equals("BF16") ? DType.BF16 : DType.F32;
        Ops ops = opsName.equals("vector") ? new VectorOps() : new ReferenceOps();
        try (Model m = Model.load(dir(name), keep, ops)) {
            for (int s = 0; s < g.get("sequences").size(); s++) {
                int[] ids = ints(g.get("sequences").get(s));
                float[] got = m.transformer().score(ids);
                JsonNode want = ck.get("logprobs").get(s);
                assertEquals(want.size(), got.length);
                for (int t = 0; t < got.length; t++)
                    assertEquals(want.get(t).asDouble(), got[t], 1e-4, name + " sequence " + s + " position " + (t + 1));
            }
            // full logits of the last position of one sequence
            JsonNode last = ck.get("last_logits");
            int[] ids = ints(g.get("sequences").get(last.get("sequence").asInt()));
            KVCache cache = new KVCache(m.config(), ids.length);
            float[] logits = m.transformer().nextLogits(new int[][]{ids}, new KVCache[]{cache}).toFloatArray();
            for (int v = 0; v < logits.length; v++)
                assertEquals(last.get("logits").get(v).asDouble(), logits[v], 1e-4, name + " last logits[" + v + "]");
        }
    }

    @ParameterizedTest(name = "{1} ({2} ops)")
    @MethodSource("checkpoints")
    void greedyContinuationsAreIdentical(String model, String name, String opsName) throws Exception {
        JsonNode ck = golden(model).get("checkpoints").get(name);
        DType keep = ck.get("dtype").asText().equals("BF16") ? DType.BF16 : DType.F32;
        try (Model m = Model.load(dir(name), keep, opsName.equals("vector") ? new VectorOps() : new ReferenceOps())) {
            Generator gen = new Generator(m.transformer(), ids -> "", -1, -1, new int[0]);
            for (JsonNode gr : ck.get("greedy")) {
                if (gr.has("prompt_text"))
                    assertArrayEquals(ints(gr.get("prompt_ids")), m.tokenizer().encode(gr.get("prompt_text").asText(), true),
                            "the tiny tokenizer encodes the prompt as transformers did");
                Completion c = gen.generate(List.of(ints(gr.get("prompt_ids"))),
                        GenerationConfig.greedy(gr.get("max_new_tokens").asInt()), null).getFirst();
                assertArrayEquals(ints(gr.get("ids")), c.ids(), name + " greedy from " + gr.get("prompt_ids"));
            }
        }
    }

    /**
     * Model.load(dir), Hugging Face's defaults: the weights keep the file's precision (an F32 checkpoint is not
     * rounded to BF16), so every checkpoint meets its own float64 log-probs within 1e-4 without naming a dtype.
     */
    @ParameterizedTest(name = "{1}")
    @MethodSource("checkpoints")
    void theDefaultLoadKeepsTheCheckpointsPrecision(String model, String name, String opsName) throws Exception {
        if (!opsName.equals("vector")) return;
        JsonNode g = golden(model), ck = g.get("checkpoints").get(name);
        DType stored = ck.get("dtype").asText().equals("BF16") ? DType.BF16 : DType.F32;
        assertEquals(stored, Model.storedDtype(dir(name)));
        double worstRounded = 0;
        try (Model m = Model.load(dir(name)); Model rounded = Model.load(dir(name), DType.BF16, new VectorOps())) {
            for (int s = 0; s < g.get("sequences").size(); s++) {
                int[] ids = ints(g.get("sequences").get(s));
                float[] got = m.transformer().score(ids), bf16 = rounded.transformer().score(ids);
                JsonNode want = ck.get("logprobs").get(s);
                for (int t = 0; t < got.length; t++) {
                    assertEquals(want.get(t).asDouble(), got[t], 1e-4, name + " sequence " + s + " position " + (t + 1));
                    worstRounded = Math.max(worstRounded, Math.abs(want.get(t).asDouble() - bf16[t]));
                }
            }
        }
        // the point of the default: rounding an F32 checkpoint to BF16 moves log-probs far past the tolerance
        if (stored == DType.F32) assertTrue(worstRounded > 1e-3, name + ": BF16 rounding moved log-probs by only " + worstRounded);
        else assertTrue(worstRounded < 1e-4, name + ": a BF16 checkpoint is the same at bf16");
    }

    /** F16 weights, which the kernels do not read, widen to F32 by default (exactly: every F16 is an F32). */
    @org.junit.jupiter.api.Test
    void f16CheckpointsWidenToF32(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path src = dir("qwen2-f32");
        for (String f : new String[]{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"})
            java.nio.file.Files.copy(src.resolve(f), tmp.resolve(f));
        java.util.Map<String, dev.laconic.tensor.Tensor> half = new java.util.TreeMap<>();
        try (dev.laconic.tensor.safetensors.Checkpoint ck = dev.laconic.tensor.safetensors.Checkpoint.open(src)) {
            for (String n : ck.names()) half.put(n, ck.tensor(n).to(DType.F16));
            dev.laconic.tensor.safetensors.SafetensorsWriter.write(tmp.resolve("model.safetensors"), half, java.util.Map.of("format", "pt"));
        }
        assertEquals(DType.F32, Model.storedDtype(tmp));
        int[] ids = ints(golden("qwen2").get("sequences").get(1));
        try (Model m = Model.load(tmp); Model widened = Model.load(tmp, DType.F32, new VectorOps())) {
            assertArrayEquals(widened.transformer().score(ids), m.transformer().score(ids));
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}
