package dev.laconic.training;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Exports load back: a full fine-tune as an HF directory, a LoRA adapter as a PEFT directory (names
 * and config as peft's own save_pretrained wrote them in the goldens), and a merged adapter.
 */
class ExportTest {
    static final Path GOLDEN = SftTrainerGoldenTest.GOLDEN;
    static final int[] IDS = {381, 17, 250, 3, 99, 140, 378, 12, 300, 5, 77};

    /** Moves every trainable value by a seeded random amount (as training would). */
    static void perturb(TrainableModel m, double scale) {
        SplittableRandom r = new SplittableRandom(11);
        Map<String, Tensor> v = new HashMap<>();
        for (Param p : m.parameters()) {
            Tensor t = p.value().to(DType.F32);
            for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (t.getFloat(i) + scale * r.nextGaussian()));
            v.put(p.name(), t);
        }
        m.loadParameters(v);
    }

    static void assertClose(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol, "position " + i);
    }

    @Test
    void fullModelExportLoadsBackWithTheSameLogProbs(@TempDir Path dir) throws IOException {
        for (String name : List.of("qwen2-f32", "llama-f32-sharded")) {
            Path base = GOLDEN.resolve(name);
            try (Model model = Model.load(base, DType.F32, new VectorOps())) {
                TrainableModel m = TrainableModel.full(model);
                perturb(m, 0.01);
                float[] trained = m.logProbs(IDS);
                Path f32 = dir.resolve(name + "-f32"), bf16 = dir.resolve(name + "-bf16");
                Export.model(m, base, f32, DType.F32);
                Export.model(m, base, bf16, DType.BF16);
                try (Model back = Model.load(f32, DType.F32, new VectorOps())) {
                    assertClose(trained, back.transformer().score(IDS), 2e-5);
                }
                // BF16: exactly the trained values rounded to nearest even, nothing else changed
                Map<String, Tensor> want = m.exportWeights(true);
                try (Checkpoint ck = Checkpoint.open(bf16)) {
                    assertEquals(want.keySet(), ck.names(), "HF names; a tied embedding is stored once");
                    assertEquals("pt", ck.metadata().get("format"));
                    for (String n : ck.names()) {
                        Tensor t = ck.tensor(n), w = want.get(n);
                        assertEquals(DType.BF16, t.dtype());
                        for (long i = 0; i < t.numel(); i++) assertEquals(DType.floatToBf16(w.getFloat(i)), t.getBits16(i), n);
                    }
                }
                try (Model back = Model.load(bf16, DType.BF16, new VectorOps())) {
                    assertClose(trained, back.transformer().score(IDS), 0.2);
                }
                JsonNode cfg = RunDir.JSON.readTree(bf16.resolve("config.json").toFile()), orig = RunDir.JSON.readTree(base.resolve("config.json").toFile());
                assertEquals("bfloat16", cfg.get("torch_dtype").asText());
                ((com.fasterxml.jackson.databind.node.ObjectNode) cfg).set("torch_dtype", orig.get("torch_dtype"));
                assertEquals(orig, cfg, "config.json unchanged apart from torch_dtype");
                for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json"))
                    assertArrayEquals(Files.readAllBytes(base.resolve(f)), Files.readAllBytes(bf16.resolve(f)), f);
            }
        }
    }

    @Test
    void loraAdapterHasPeftsLayoutAndLoadsBack(@TempDir Path dir) throws IOException {
        Path base = GOLDEN.resolve("qwen2-f32"), peftDir = GOLDEN.resolve("qwen2-lora");
        try (Model model = Model.load(base, DType.F32, new VectorOps())) {
            // the goldens' adapter: r 4, alpha 8 on q, v, o, gate, down, written by peft's save_pretrained
            TrainableModel m = TrainableModel.lora(model, new LoraConfig(4, 8, Set.of("q", "v", "o", "gate", "down")), 1);
            perturb(m, 0.05);
            Path out = dir.resolve("adapter");
            Export.adapter(m, base.toString(), out);
            try (Checkpoint ours = Checkpoint.open(out.resolve(Export.ADAPTER_WEIGHTS));
                 Checkpoint peft = Checkpoint.open(peftDir.resolve(Export.ADAPTER_WEIGHTS))) {
                assertEquals(peft.names(), ours.names(), "PEFT tensor names");
                for (String n : peft.names()) assertArrayEquals(peft.tensor(n).shape(), ours.tensor(n).shape(), n);
            }
            JsonNode ours = RunDir.JSON.readTree(out.resolve(Export.ADAPTER_CONFIG).toFile());
            JsonNode peft = RunDir.JSON.readTree(peftDir.resolve(Export.ADAPTER_CONFIG).toFile());
            for (String k : List.of("peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "bias", "target_modules",
                    "fan_in_fan_out", "use_rslora", "use_dora", "inference_mode", "init_lora_weights", "rank_pattern", "alpha_pattern"))
                assertEquals(peft.get(k), ours.get(k), k);
            assertEquals(base.toString(), ours.get("base_model_name_or_path").asText());

            float[] adapted = m.logProbs(IDS);
            TrainableModel back = Export.loadAdapter(model, out);
            assertArrayEquals(adapted, back.logProbs(IDS), "the same adapter on the same base");
            back.adaptersEnabled(false);
            float[] plain = back.logProbs(IDS);
            assertNotEquals(plain[3], adapted[3], "the adapter matters");

            Path merged = dir.resolve("merged");
            Export.model(m, base, merged, DType.F32);
            try (Model mm = Model.load(merged, DType.F32, new VectorOps())) {
                assertClose(adapted, mm.transformer().score(IDS), 2e-5);
            }
        }
    }

    @Test
    void goldenPeftAdapterReadsAndRefusesWhatWeDoNotCompute(@TempDir Path dir) throws IOException {
        LoraConfig c = Export.readAdapterConfig(GOLDEN.resolve("qwen2-lora"));
        assertEquals(new LoraConfig(4, 8, Set.of("q", "v", "o", "gate", "down")), c);
        Map<String, Object> cfg = new TreeMap<>(Map.of("peft_type", "LORA", "r", 4, "lora_alpha", 8, "target_modules", List.of("q_proj"), "use_dora", true));
        Files.write(dir.resolve(Export.ADAPTER_CONFIG), RunDir.JSON.writeValueAsBytes(cfg));
        assertThrows(IllegalArgumentException.class, () -> Export.readAdapterConfig(dir));
        cfg.put("use_dora", false);
        cfg.put("target_modules", List.of("lm_head"));
        Files.write(dir.resolve(Export.ADAPTER_CONFIG), RunDir.JSON.writeValueAsBytes(cfg));
        assertThrows(IllegalArgumentException.class, () -> Export.readAdapterConfig(dir));
    }
}
