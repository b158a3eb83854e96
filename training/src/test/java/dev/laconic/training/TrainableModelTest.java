package dev.laconic.training;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.SafetensorsWriter;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Behaviour of {@link TrainableModel}: adapters on/off, LoRA init, packing, accumulation, export, bad input. */
class TrainableModelTest {
    static final Path QWEN = Golden.dir().resolve("qwen2-f32"), LLAMA = Golden.dir().resolve("llama-f32-sharded");
    static final Path ADAPTER = Golden.dir().resolve("qwen2-lora");

    static Model load(Path dir) throws Exception {
        return Model.load(dir, DType.F32, new VectorOps());
    }

    static TrainableModel withGoldenAdapter(Model m) {
        TrainableModel tm = TrainableModel.lora(m, Golden.loraConfig(ADAPTER), 1);
        tm.loadParameters(Golden.tensors(ADAPTER.resolve("adapter_model.safetensors")));
        return tm;
    }

    @Test
    void adaptersOffIsExactlyTheBaseModel() throws Exception {
        int[] ids = Golden.trainData().get(2).ids();
        try (Model m = load(QWEN)) {
            float[] base = TrainableModel.full(m).logProbs(ids);     // same computation on copies of the same weights
            float[] inference = m.transformer().score(ids);
            for (int t = 0; t < base.length; t++) assertEquals(inference[t], base[t], 1e-5, "training forward vs inference at " + t);

            TrainableModel tm = withGoldenAdapter(m);
            float[] on = tm.logProbs(ids);
            double change = 0;
            for (int t = 0; t < on.length; t++) change = Math.max(change, Math.abs(on[t] - base[t]));
            assertTrue(change > 0.5, "the golden adapter changes log-probs (by " + change + ")");
            tm.adaptersEnabled(false);
            assertArrayEquals(base, tm.logProbs(ids), "adapters off = the base model, bit for bit");
            assertArrayEquals(inference, tm.transformer().score(ids), "generation uses the current adapters (off)");
            tm.adaptersEnabled(true);
            assertArrayEquals(on, tm.logProbs(ids));
            float[] gen = tm.transformer().score(ids);
            for (int t = 0; t < on.length; t++) assertEquals(on[t], gen[t], 1e-5, "generation uses the current adapters (on)");
            assertThrows(IllegalStateException.class, () -> TrainableModel.full(m).adaptersEnabled(false));
        }
    }

    @Test
    void freshLoraStartsAsTheBaseModelWithPeftInit() throws Exception {
        int[] ids = Golden.trainData().get(3).ids();
        LoraConfig cfg = new LoraConfig(3, 6, Set.copyOf(LoraConfig.TARGETS));
        try (Model m = load(LLAMA)) {
            TrainableModel tm = TrainableModel.lora(m, cfg, 5);
            assertArrayEquals(TrainableModel.full(m).logProbs(ids), tm.logProbs(ids), "B = 0: exactly the base model");
            assertEquals(2f, cfg.scale());

            List<String> expected = new ArrayList<>();
            for (int l = 0; l < m.config().layers(); l++)
                for (String t : LoraConfig.TARGETS) {
                    expected.add("base_model.model.model.layers." + l + "." + (t.length() == 1 ? "self_attn." : "mlp.") + t + "_proj.lora_A.weight");
                    expected.add("base_model.model.model.layers." + l + "." + (t.length() == 1 ? "self_attn." : "mlp.") + t + "_proj.lora_B.weight");
                }
            assertEquals(expected, tm.parameters().stream().map(Param::name).toList(), "PEFT names, stable order");

            for (Param p : tm.parameters()) {
                float[] v = p.value().toFloatArray();
                if (p.name().contains("lora_B")) {
                    for (float x : v) assertEquals(0f, x, p.name());
                } else {
                    double bound = 1 / Math.sqrt(p.value().dim(1)), mean = 0, max = 0;   // U(−1/√in, 1/√in)
                    for (float x : v) { mean += x; max = Math.max(max, Math.abs(x)); assertTrue(Math.abs(x) <= bound, p.name()); }
                    mean /= v.length;
                    assertTrue(max > 0.9 * bound && Math.abs(mean) < 0.2 * bound, p.name() + " max " + max + " mean " + mean);
                }
            }
            Tensor a0 = tm.parameters().getFirst().value();
            assertArrayEquals(a0.toFloatArray(), TrainableModel.lora(m, cfg, 5).parameters().getFirst().value().toFloatArray(), "same seed, same A");
            assertFalse(java.util.Arrays.equals(a0.toFloatArray(), TrainableModel.lora(m, cfg, 6).parameters().getFirst().value().toFloatArray()));
        }
    }

    @Test
    void packedSequencesEqualSeparateCallsAndGradientsAccumulate() throws Exception {
        List<Golden.Example> data = Golden.trainData();
        int[] s0 = data.get(4).ids(), s1 = data.get(5).ids();
        float[][] w = {data.get(4).weights(), data.get(5).weights()};
        // Σ_b Σ_t −w·logp / 100: a fixed normaliser, so one sequence's objective does not depend on the other
        TokenObjective both = (b, logp, dlogp) -> {
            double l = 0;
            for (int t = 0; t < logp.length; t++) { l -= w[b][t] * logp[t] / 100.0; dlogp[t] = -w[b][t] / 100f; }
            return l;
        };
        for (Path dir : new Path[]{QWEN, LLAMA})
            try (Model m = load(dir)) {
                for (TrainableModel tm : new TrainableModel[]{TrainableModel.full(m), withGoldenAdapterIfQwen(m, dir)}) {
                    float[][] packedLogp = tm.transformer().logProbs(new int[][]{s0, s1});
                    float[] single = tm.logProbs(s1);
                    for (int t = 0; t < single.length; t++) assertEquals(single[t], packedLogp[1][t], 1e-6, "packed log-probs at " + t);
                    double packed = tm.forwardBackward(List.of(s0, s1), both);
                    Map<String, float[]> g = grads(tm);
                    tm.zeroGrad();
                    double separate = tm.forwardBackward(List.of(s0), both)
                            + tm.forwardBackward(List.of(s1), (b, lp, d) -> both.apply(1, lp, d));
                    assertEquals(packed, separate, 1e-6 * Math.abs(packed));
                    for (Param p : tm.parameters())
                        assertTrue(Golden.relErr(p.grad(), Tensor.of(g.get(p.name()), p.grad().shape())) < 1e-5, p.name());
                    tm.zeroGrad();
                    tm.forwardBackward(List.of(s0, s1), both);
                    tm.forwardBackward(List.of(s0, s1), both);
                    for (Param p : tm.parameters()) {              // += : twice the gradient, up to F32 re-association
                        float[] twice = g.get(p.name()).clone();
                        for (int i = 0; i < twice.length; i++) twice[i] *= 2;
                        assertTrue(Golden.relErr(p.grad(), Tensor.of(twice, p.grad().shape())) < 1e-6, p.name() + " accumulates");
                    }
                }
            }
    }

    static TrainableModel withGoldenAdapterIfQwen(Model m, Path dir) {
        if (dir.equals(QWEN)) return withGoldenAdapter(m);
        TrainableModel tm = TrainableModel.lora(m, new LoraConfig(2, 4, Set.of("k", "up")), 9);
        for (Param p : tm.parameters())                      // B ≠ 0, so that A has a gradient
            if (p.name().contains("lora_B")) for (int i = 0; i < p.value().numel(); i++) p.value().setFloat(i, 0.05f * (float) Math.sin(i));
        return tm;
    }

    static Map<String, float[]> grads(TrainableModel tm) {
        Map<String, float[]> out = new HashMap<>();
        for (Param p : tm.parameters()) out.put(p.name(), p.grad().toFloatArray());
        return out;
    }

    @Test
    void aOneTokenSequencePredictsNothing() throws Exception {
        try (Model m = load(QWEN)) {
            TrainableModel tm = TrainableModel.full(m);
            int[] ids = {381, 5, 6, 7};
            double alone = tm.forwardBackward(List.<int[]>of(ids), TokenObjective.crossEntropy(new float[][]{{1, 1, 1}}));
            Map<String, float[]> g = grads(tm);
            tm.zeroGrad();
            double withShort = tm.forwardBackward(List.of(new int[]{9}, ids), TokenObjective.crossEntropy(new float[][]{{}, {1, 1, 1}}));
            assertEquals(alone, withShort, 1e-6 * alone);
            assertEquals(0, tm.logProbs(new int[]{9}).length);
            for (Param p : tm.parameters())     // the lone token's row predicts nothing and attends only to itself
                assertTrue(Golden.relErr(p.grad(), Tensor.of(g.get(p.name()), p.grad().shape())) < 1e-6, p.name());
        }
    }

    @Test
    void badTokenIdsAreRefusedWithSequenceAndPosition() throws Exception {
        try (Model m = load(QWEN)) {
            TrainableModel tm = TrainableModel.full(m);
            int[] ok = {381, 5, 6, 7}, bad = {381, 5, 6, 384, 9};
            TokenObjective obj = TokenObjective.crossEntropy(new float[][]{{1, 1, 1}, {1, 1, 1, 1}});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tm.forwardBackward(List.of(ok, bad), obj));
            assertTrue(e.getMessage().contains("sequence 1") && e.getMessage().contains("token id 384")
                    && e.getMessage().contains("position 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> tm.logProbs(new int[]{1, -2}));
            assertTrue(e.getMessage().contains("token id -2") && e.getMessage().contains("position 1"), e.getMessage());
            for (Param p : tm.parameters()) for (float x : p.grad().toFloatArray()) assertEquals(0f, x, "nothing accumulated");
        }
    }

    @Test
    void loadParametersNamesUnknownMissingAndMisshapedTensors() throws Exception {
        try (Model m = load(QWEN)) {
            TrainableModel tm = withGoldenAdapter(m);
            Map<String, Tensor> values = new LinkedHashMap<>(tm.exportWeights(false));
            float[] before = tm.parameters().getFirst().value().toFloatArray();
            String dropped = tm.parameters().get(3).name();
            Map<String, Tensor> wrong = new LinkedHashMap<>(values);
            wrong.remove(dropped);
            wrong.put("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", Tensor.zeros(DType.F32, 4, 64));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tm.loadParameters(wrong));
            assertTrue(e.getMessage().contains(dropped) && e.getMessage().contains("k_proj.lora_A"), e.getMessage());

            Map<String, Tensor> misshaped = new LinkedHashMap<>(values);
            String first = tm.parameters().getFirst().name();
            misshaped.put(first, Tensor.zeros(DType.F32, 5, 64));
            for (Map.Entry<String, Tensor> en : misshaped.entrySet()) if (!en.getKey().equals(first)) en.setValue(Tensor.zeros(DType.F32, en.getValue().shape()));
            e = assertThrows(IllegalArgumentException.class, () -> tm.loadParameters(misshaped));
            assertTrue(e.getMessage().contains(first), e.getMessage());
            assertArrayEquals(before, tm.parameters().getFirst().value().toFloatArray(), "nothing loaded on failure");

            Map<String, Tensor> bf16 = new LinkedHashMap<>();                    // any float dtype loads, as F32
            values.forEach((k, v) -> bf16.put(k, v.to(DType.BF16)));
            tm.loadParameters(bf16);
            assertArrayEquals(bf16.get(first).to(DType.F32).toFloatArray(), tm.parameters().getFirst().value().toFloatArray());
        }
    }

    @Test
    void fullFineTuningTrainsF32CopiesUnderHuggingFaceNames() throws Exception {
        for (Path dir : new Path[]{QWEN, LLAMA})
            try (Model m = load(dir); var ck = dev.laconic.tensor.safetensors.Checkpoint.open(dir)) {
                TrainableModel tm = TrainableModel.full(m);
                assertEquals(ck.names(), new java.util.TreeSet<>(tm.exportWeights(false).keySet()), "every checkpoint tensor, once");
                assertEquals(ck.names().size(), tm.parameters().size());
                for (Param p : tm.parameters()) {
                    assertEquals(DType.F32, p.value().dtype());
                    assertNotNull(p.value().floatArray(), "heap master copy");
                    assertArrayEquals(ck.tensor(p.name()).toFloatArray(), p.value().toFloatArray(), p.name());
                }
                if (m.config().tieWordEmbeddings())
                    assertSame(tm.transformer().weights().embed(), tm.transformer().weights().lmHead(), "tied: one tensor");
                // an in-place update (what the optimizer does) is what the model computes with; the loaded model is untouched
                int[] ids = Golden.trainData().get(0).ids();
                float[] before = tm.logProbs(ids);
                Param norm = tm.parameters().stream().filter(p -> p.name().equals("model.norm.weight")).findFirst().orElseThrow();
                norm.value().fill(0.5f);
                assertFalse(java.util.Arrays.equals(before, tm.logProbs(ids)));
                assertArrayEquals(before, TrainableModel.full(m).logProbs(ids));
            }
    }

    @Test
    void mergedExportScoresLikeTheAdaptedModel(@TempDir Path tmp) throws Exception {
        int[] ids = Golden.trainData().get(6).ids();
        try (Model m = load(QWEN)) {
            TrainableModel tm = withGoldenAdapter(m);
            Map<String, Tensor> adapter = tm.exportWeights(false);
            assertEquals(tm.parameters().stream().map(Param::name).toList(), new ArrayList<>(adapter.keySet()));
            Map<String, Tensor> merged = tm.exportWeights(true);
            assertEquals(m.transformer().weights().embed(), merged.get("model.embed_tokens.weight"), "untargeted weights are the base's");
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), merged, Map.of());
            Files.copy(QWEN.resolve("config.json"), tmp.resolve("config.json"));
            try (Model mergedModel = load(tmp)) {
                float[] want = tm.logProbs(ids), got = mergedModel.transformer().score(ids);
                for (int t = 0; t < want.length; t++) assertEquals(want[t], got[t], 2e-5, "position " + (t + 1));
            }
        }
    }
}
