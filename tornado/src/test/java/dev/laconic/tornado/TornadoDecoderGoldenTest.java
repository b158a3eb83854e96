package dev.laconic.tornado;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.transformer.KVCache;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole decode step on the device ({@link TornadoDecoder}) on the tiny Hugging Face golden models
 * of the transformer module: greedy continuations identical to the CPU backend's and to transformers'
 * own (recorded with a top-2 logit margin ≥ 0.066, far above f32 noise), and the logits of the last
 * position of a golden sequence within 1e-4 of transformers' float64 values (as the CPU backend must be),
 * with the key/value rows handed back to the host's cache within 1e-4 of the CPU's.
 * Qwen2 in F32 (q/k/v biases, untied head) and Llama in BF16 (tied embeddings, llama3 rope scaling)
 * cover both weight layouts the kernels have. Skipped, with the reason, without a TornadoVM runtime.
 */
class TornadoDecoderGoldenTest {

    static Path golden() {
        return Path.of(System.getProperty("laconic.golden", "../../transformer/src/test/resources/golden"));
    }

    static JsonNode json(String model) throws IOException {
        return new ObjectMapper().readTree(golden().resolve(model + ".json").toFile());
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static List<Completion> greedy(Model m, List<int[]> prompts, int maxTokens) {
        return new Generator(m.transformer(), ids -> "", -1, -1, new int[0]).generate(prompts, GenerationConfig.greedy(maxTokens), null);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource({"qwen2, qwen2-f32, F32", "llama, llama-bf16, BF16"})
    void decodesLikeTheCpuAndTransformers(String model, String checkpoint, DType dtype) throws Exception {
        Device.assumeRuntime();
        JsonNode g = json(model), ck = g.get("checkpoints").get(checkpoint);
        List<int[]> prompts = new ArrayList<>();
        List<int[]> want = new ArrayList<>();
        for (JsonNode gr : ck.get("greedy")) {
            prompts.add(ints(gr.get("prompt_ids")));
            want.add(ints(gr.get("ids")));
        }
        int maxTokens = ck.get("greedy").get(0).get("max_new_tokens").asInt();
        JsonNode last = ck.get("last_logits");
        int[] seq = ints(g.get("sequences").get(last.get("sequence").asInt()));
        List<Completion> cpu;
        KVCache cpuCache;
        try (Model m = Model.load(golden().resolve(checkpoint), dtype, new VectorOps())) {
            cpu = greedy(m, prompts, maxTokens);
            cpuCache = new KVCache(m.config(), seq.length);
            m.transformer().nextLogits(new int[][]{seq}, new KVCache[]{cpuCache});
        }
        try (Model m = Model.load(golden().resolve(checkpoint), dtype, Backend.named("tornado"))) {
            // each prompt alone: the device holds one sequence from its first token to its last
            for (int p = 0; p < prompts.size(); p++) {
                int[] ids = greedy(m, List.of(prompts.get(p)), maxTokens).getFirst().ids();
                assertArrayEquals(want.get(p), ids, checkpoint + ": transformers' greedy continuation of prompt " + p);
                assertArrayEquals(cpu.get(p).ids(), ids, checkpoint + ": the CPU backend's greedy continuation of prompt " + p);
            }
            // both prompts in one call: the generator alternates between their caches every step, so the
            // device re-uploads a cache at each switch and must still follow each sequence exactly
            List<Completion> both = greedy(m, prompts, maxTokens);
            for (int p = 0; p < prompts.size(); p++)
                assertArrayEquals(want.get(p), both.get(p).ids(), checkpoint + ": prompt " + p + " decoded beside another");

            // the logits of one golden sequence's last position, all its tokens fed through the device, and the
            // key/value rows the device handed back for the host's cache
            KVCache cache = new KVCache(m.config(), seq.length);
            float[] logits = m.transformer().nextLogits(new int[][]{seq}, new KVCache[]{cache}).toFloatArray();
            assertEquals(seq.length, cache.length());
            for (int v = 0; v < logits.length; v++)
                assertEquals(last.get("logits").get(v).asDouble(), logits[v], 1e-4, checkpoint + " last logits[" + v + "]");
            for (int l = 0; l < m.config().layers(); l++) {
                assertClose(cpuCache.keys(l, seq.length), cache.keys(l, seq.length), 1e-4, 1e-4, checkpoint + " cached keys of layer " + l);
                assertClose(cpuCache.values(l, seq.length), cache.values(l, seq.length), 1e-4, 1e-4, checkpoint + " cached values of layer " + l);
            }
        }
    }
}
