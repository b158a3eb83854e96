package dev.laconic.training;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.Weights;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * LoRA on a frozen 8-bit base (QLoRA's idea with Q8_0): adapters, activations and gradients F32, the base
 * Q8_0, its matmuls differentiated for dx only. Checked against finite differences of the Q8 forward, and
 * against the same adapters on the dequantised base in F32 (ReferenceOps, double sums): the Q8 kernels'
 * forward and dx GEMMs must give that base's gradients.
 */
class Q8LoraTest {
    private static final Path BASE = Golden.dir().resolve("qwen2-f32"), ADAPTER = Golden.dir().resolve("qwen2-lora");

    @Test
    void loraGradientsOnAQ8BaseMatchFiniteDifferences() throws Exception {
        try (Model m = Model.load(BASE, DType.Q8_0, new ReferenceOps())) {
            assertEquals(DType.Q8_0, m.transformer().weights().layers()[0].wq().dtype());
            TrainableModel tm = TrainableModel.lora(m, Golden.loraConfig(ADAPTER), 1);
            tm.loadParameters(Golden.tensors(ADAPTER.resolve("adapter_model.safetensors")));   // B ≠ 0
            FiniteDifferenceTest.check("qwen2-lora on q8", tm);
        }
    }

    @Test
    void loraGradientsOnAQ8BaseAreThoseOfTheDequantisedBase() throws Exception {
        try (Model m = Model.load(BASE, DType.Q8_0, new VectorOps())) {
            Weights q = m.transformer().weights();
            UnaryOperator<Tensor> deq = t -> t == null ? null : t.to(DType.F32);
            Weights.Layer[] layers = Arrays.stream(q.layers())
                    .map(l -> Weights.Layer.of(p -> deq.apply(p.of(l)))).toArray(Weights.Layer[]::new);
            Tensor embed = deq.apply(q.embed());
            Weights f32 = new Weights(embed, layers, q.finalNorm(), q.lmHead() == q.embed() ? embed : deq.apply(q.lmHead()));
            TrainableModel onQ8 = TrainableModel.lora(m, Golden.loraConfig(ADAPTER), 1);
            TrainableModel onF32 = TrainableModel.lora(new Transformer(m.config(), f32, new ReferenceOps()), Golden.loraConfig(ADAPTER), 1);
            var adapter = Golden.tensors(ADAPTER.resolve("adapter_model.safetensors"));
            onQ8.loadParameters(adapter);
            onF32.loadParameters(adapter);
            List<Golden.Example> data = Golden.trainData();
            List<int[]> seqs = List.of(data.get(0).ids(), data.get(1).ids());
            float[][] w = {data.get(0).weights(), data.get(1).weights()};
            double a = onQ8.forwardBackward(seqs, TokenObjective.crossEntropy(w));
            double b = onF32.forwardBackward(seqs, TokenObjective.crossEntropy(w));
            assertEquals(b, a, 1e-5 * Math.abs(b), "loss");
            for (int i = 0; i < onQ8.parameters().size(); i++) {
                Param p = onQ8.parameters().get(i), r = onF32.parameters().get(i);
                assertEquals(r.name(), p.name());
                float[] want = r.grad().toFloatArray(), got = p.grad().toFloatArray();
                double scale = 0;
                for (float g : want) scale = Math.max(scale, Math.abs(g));
                for (int j = 0; j < want.length; j++)
                    assertEquals(want[j], got[j], 1e-4 * scale, "gradient of " + p.name() + "[" + j + "]");
            }
        }
    }
}
