package dev.laconic.transformer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An independent Java oracle: Jlama 0.8.4 (com.github.tjake:jlama-core), a pure-Java engine written
 * without reference to ours, loads the tiny Qwen2 golden directory that transformers wrote (the
 * transformer module's test resources, -Dlaconic.golden), and its next-token distributions must equal
 * ours at every position of every golden sequence. It lives in bench/peers, the one module that sees
 * Jlama, so that no library module depends on it, not even for its tests.
 *
 * <p>Jlama runs with F32 working memory and, since the checkpoint is F32, F32 "quantized" working
 * memory too (its default for a BF16 model rounds activations to BF16 before each product), decoding
 * token by token through its own KV cache. Ours prefills the first half of each sequence in one GEMM
 * forward and decodes the rest token by token, so both of our paths meet the oracle. Qwen2 only: Jlama
 * ignores llama3 rope scaling, so it cannot check the Llama golden.
 *
 * <p>Side effect contained here: Jlama's TensorOperationsProvider sets the JVM-wide property
 * jdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0, which switches off the bounds checks of C2-compiled
 * Vector API loads and stores for every later test in this JVM (surefire runs the module in one) if the
 * Vector API reads it after that. It reads it once, when its VectorIntrinsics class initializes (first
 * bounds-checked access), so {@link #containJlamaSideEffects()} makes that happen first, then lets
 * Jlama's initializer run and puts the property back.
 *
 * <p>The oracle is Jlama's pure-Java (Panama, Vector API) kernels: jlama-native is on this module's class
 * path (for {@code bench decode --jlama}), and its C kernels round differently (off by up to 3e-3 in p
 * here), so {@code jlama.force_panama_tensor_operations} picks the Java ones, as before the move.
 */
class JlamaOracleTest {
    static final String CHECKPOINT = "qwen2-f32";
    static final Path GOLDEN = Path.of(System.getProperty("laconic.golden", "../../transformer/src/test/resources/golden"));

    /** The golden of transformers' float64 run (sequences, log-probabilities) and its checkpoint directories. */
    static JsonNode golden(String model) throws IOException {
        return new ObjectMapper().readTree(GOLDEN.resolve(model + ".json").toFile());
    }

    static Path dir(String name) {
        return GOLDEN.resolve(name);
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    @BeforeAll
    static void containJlamaSideEffects() {
        String key = "jdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK", before = System.getProperty(key);
        FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, new float[FloatVector.SPECIES_PREFERRED.length()], 0);
        System.setProperty("jlama.force_panama_tensor_operations", "true");
        TensorOperationsProvider.get();
        System.clearProperty("jlama.force_panama_tensor_operations");
        assertTrue(TensorOperationsProvider.get().name().startsWith("Panama"), TensorOperationsProvider.get().name());
        if (before == null) System.clearProperty(key);
        else System.setProperty(key, before);
    }

    @Test
    void nextTokenDistributionsMatchJlamaAtEveryPosition() throws Exception {
        JsonNode g = golden("qwen2");
        AbstractModel jlama = loadJlama();
        try (Model ours = Model.load(dir(CHECKPOINT), DType.F32, new VectorOps())) {
            double worstLogProb = 0, worstProb = 0;
            for (int s = 0; s < g.get("sequences").size(); s++) {
                int[] ids = ints(g.get("sequences").get(s));
                double[][] want = jlamaProbabilities(jlama, ids);
                double[][] got = ourProbabilities(ours.transformer(), ids);
                for (int t = 0; t < ids.length; t++) {
                    for (int v = 0; v < want[t].length; v++) {
                        // every token of the distribution: absolute on probabilities, relative (log) on each
                        double dp = Math.abs(got[t][v] - want[t][v]), dl = Math.abs(Math.log(got[t][v]) - Math.log(want[t][v]));
                        worstProb = Math.max(worstProb, dp);
                        worstLogProb = Math.max(worstLogProb, dl);
                        assertEquals(want[t][v], got[t][v], 1e-5, "sequence " + s + " position " + t + " token " + v);
                        assertEquals(Math.log(want[t][v]), Math.log(got[t][v]), 1e-4, "log p, sequence " + s + " position " + t + " token " + v);
                    }
                }
            }
            System.out.printf("Jlama oracle: max |Δp| %.2e, max |Δlog p| %.2e%n", worstProb, worstLogProb);
        }
    }

    /**
     * The oracle itself reads the checkpoint as transformers does: Jlama's log p(ids[t] | ids[&lt;t])
     * equals the float64 golden, so agreement with it is agreement with Hugging Face, not a shared misreading.
     */
    @Test
    void jlamaAgreesWithTheTransformersGolden() throws Exception {
        JsonNode g = golden("qwen2"), want = g.get("checkpoints").get(CHECKPOINT).get("logprobs");
        AbstractModel jlama = loadJlama();
        for (int s = 0; s < g.get("sequences").size(); s++) {
            int[] ids = ints(g.get("sequences").get(s));
            double[][] p = jlamaProbabilities(jlama, ids);
            for (int t = 1; t < ids.length; t++)
                assertEquals(want.get(s).get(t - 1).asDouble(), Math.log(p[t - 1][ids[t]]), 1e-4, "sequence " + s + " position " + t);
        }
    }

    static AbstractModel loadJlama() throws Exception {
        var f32 = com.github.tjake.jlama.safetensors.DType.F32;
        AbstractModel m = ModelSupport.loadModel(dir(CHECKPOINT).toFile(), f32, f32);
        assertEquals(ModelSupport.ModelType.QWEN2, m.getModelType());
        assertEquals(f32, m.getWorkingDType());
        return m;
    }

    /** Jlama's p(· | ids[≤t]) for every t: [T, V], token by token through its KV cache. */
    static double[][] jlamaProbabilities(AbstractModel m, int[] ids) {
        double[][] out = new double[ids.length][];
        try (KvBufferCache caches = new KvBufferCache(m); KvBufferCache.KvBuffer kv = caches.getEphemeralKvBuffer()) {
            for (int t = 0; t < ids.length; t++) {
                try (AbstractTensor<?, ?> h = m.forward(ids[t], t, kv, Optional.empty())) {
                    float[] p = m.getLogits(h);              // softmax of the logits (despite the name)
                    out[t] = new double[p.length];
                    for (int v = 0; v < p.length; v++) out[t][v] = p[v];
                }
            }
        }
        return out;
    }

    /** Our p(· | ids[≤t]) for every t: [T, V]; the first half prefilled in one forward, the rest decoded. */
    static double[][] ourProbabilities(Transformer m, int[] ids) {
        int prefill = Math.max(1, ids.length / 2);
        double[][] out = new double[ids.length][];
        KVCache cache = new KVCache(m.config(), ids.length);
        Tensor logits = m.logits(m.forward(new int[][]{Arrays.copyOf(ids, prefill)}, new KVCache[]{cache}));   // [prefill, V]
        for (int t = 0; t < prefill; t++) out[t] = softmax(logits.row(t).toFloatArray());
        for (int t = prefill; t < ids.length; t++)
            out[t] = softmax(m.nextLogits(new int[][]{{ids[t]}}, new KVCache[]{cache}).row(0).toFloatArray());
        return out;
    }

    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float z : logits) max = Math.max(max, z);
        double[] p = new double[logits.length];
        for (int v = 0; v < p.length; v++) sum += p[v] = Math.exp(logits[v] - max);
        for (int v = 0; v < p.length; v++) p[v] /= sum;
        return p;
    }
}
