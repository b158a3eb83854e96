package dev.laconic.training;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.Model;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Gradients of the whole model against Hugging Face transformers (and peft) in float64, on the tiny
 * Qwen2 (biases, untied) and Llama (llama3 RoPE, tied embeddings) goldens: loss on example 0 of
 * train_data.jsonl within 1e-6 relative, every parameter's gradient within 1e-4 relative (‖g − g*‖/‖g*‖).
 */
class GoldenGradientTest {

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "llama"})
    void fullFineTuningGradientsOfEveryParameterMatchTransformers(String model) throws Exception {
        JsonNode g = Golden.json(model + "-train.json").get("gradients");
        Golden.Example ex = Golden.trainData().get(g.get("example").asInt());
        Map<String, Tensor> want = Golden.tensors(Golden.dir().resolve(g.get("file").asText()));
        try (Model m = Model.load(Golden.dir().resolve(Golden.json(model + "-train.json").get("checkpoint").asText()),
                DType.F32, new VectorOps())) {
            TrainableModel tm = TrainableModel.full(m);
            double loss = tm.forwardBackward(List.of(ex.ids()), TokenObjective.crossEntropy(new float[][]{ex.weights()}));
            double lossErr = Math.abs(loss - g.get("loss").asDouble()) / g.get("loss").asDouble();
            assertTrue(lossErr <= 1e-6, model + " loss " + loss + " vs " + g.get("loss").asDouble());

            assertEquals(want.keySet(), names(tm), "one parameter per Hugging Face tensor");
            double worst = 0;
            String worstName = null;
            for (Param p : tm.parameters()) {
                Tensor w = want.get(p.name());
                double err = Golden.relErr(p.grad(), w);
                if (err > worst) { worst = err; worstName = p.name(); }
                assertTrue(err <= 1e-4, p.name() + ": relative error " + err);
                for (long i = 0; i < w.numel(); i++)     // e.g. embedding rows of ids that are never an input
                    if (w.getFloat(i) == 0) assertEquals(0f, p.grad().getFloat(i), p.name() + "[" + i + "] must be exactly 0");
            }
            System.out.printf("%s full fine-tuning: loss rel err %.2e, max gradient rel err %.2e (%s), %d tensors%n",
                    model, lossErr, worst, worstName, want.size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "llama"})
    void loraGradientsMatchPeft(String model) throws Exception {
        JsonNode lora = Golden.json(model + "-train.json").get("lora");
        Path adapter = Golden.dir().resolve(lora.get("adapter_dir").asText());
        Golden.Example ex = Golden.trainData().get(lora.get("gradients").get("example").asInt());
        Map<String, Tensor> want = Golden.tensors(Golden.dir().resolve(lora.get("gradients").get("file").asText()));
        try (Model m = Model.load(Golden.dir().resolve(lora.get("base_checkpoint").asText()), DType.F32, new VectorOps())) {
            TrainableModel tm = TrainableModel.lora(m, Golden.loraConfig(adapter), 1);
            tm.loadParameters(Golden.tensors(adapter.resolve("adapter_model.safetensors")));
            double loss = tm.forwardBackward(List.of(ex.ids()), TokenObjective.crossEntropy(new float[][]{ex.weights()}));
            double truth = lora.get("gradients").get("loss").asDouble(), lossErr = Math.abs(loss - truth) / truth;
            assertTrue(lossErr <= 1e-6, model + " LoRA loss " + loss + " vs " + truth);

            assertEquals(want.keySet(), names(tm), "the trainable tensors are exactly peft's lora_A / lora_B");
            double worst = 0;
            for (Param p : tm.parameters()) {
                double err = Golden.relErr(p.grad(), want.get(p.name()));
                worst = Math.max(worst, err);
                assertTrue(err <= 1e-4, p.name() + ": relative error " + err);
            }
            System.out.printf("%s LoRA: loss rel err %.2e, max gradient rel err %.2e, %d tensors%n", model, lossErr, worst, want.size());
        }
    }

    /** The adapter on the F32 base and on the memory-mapped BF16 base (zero-copy, frozen) gives peft's log-probs. */
    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "llama"})
    void loraLogProbsMatchPeftOnF32AndBf16Bases(String model) throws Exception {
        JsonNode lora = Golden.json(model + "-train.json").get("lora");
        JsonNode sequences = Golden.json(model + ".json").get("sequences");
        Path adapter = Golden.dir().resolve(lora.get("adapter_dir").asText());
        String bf16 = lora.get("logprobs_bf16_base").get("base_checkpoint").asText();
        double worst = 0;
        for (String base : new String[]{lora.get("base_checkpoint").asText(), bf16}) {
            DType keep = base.equals(bf16) ? DType.BF16 : DType.F32;
            JsonNode truth = base.equals(bf16) ? lora.get("logprobs_bf16_base").get("logprobs") : lora.get("logprobs");
            try (Model m = Model.load(Golden.dir().resolve(base), keep, new VectorOps())) {
                TrainableModel tm = TrainableModel.lora(m, Golden.loraConfig(adapter), 1);
                tm.loadParameters(Golden.tensors(adapter.resolve("adapter_model.safetensors")));
                if (keep == DType.BF16)
                    assertSame(m.transformer().weights().layers()[0].wq(), tm.transformer().weights().layers()[0].wq(),
                            "the frozen base is the loaded (mapped) tensor, not a copy");
                for (int s = 0; s < sequences.size(); s++) {
                    float[] got = tm.logProbs(Golden.ints(sequences.get(s)));
                    for (int t = 0; t < got.length; t++) {
                        double err = Math.abs(got[t] - truth.get(s).get(t).asDouble());
                        worst = Math.max(worst, err);
                        assertTrue(err <= 1e-4, base + " sequence " + s + " position " + (t + 1) + ": " + got[t] + " vs " + truth.get(s).get(t));
                    }
                }
            }
        }
        System.out.printf("%s LoRA log-probs (F32 and BF16 base): max abs err %.2e%n", model, worst);
    }

    static java.util.Set<String> names(TrainableModel tm) {
        java.util.Set<String> s = new java.util.HashSet<>();
        for (Param p : tm.parameters()) s.add(p.name());
        return s;
    }
}
