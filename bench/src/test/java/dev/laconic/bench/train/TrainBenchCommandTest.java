package dev.laconic.bench.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.tensor.DType;
import dev.laconic.training.LoraConfig;
import dev.laconic.transformer.ModelConfig;
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
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * `bench train` on tiny random Qwen2 models (a few tokens; the JSON's shape and arithmetic, no timing
 * claims), the FLOP accounting against counts made another way, and, when a Python with torch, transformers
 * and peft is at hand, the PyTorch peers' rows.
 */
class TrainBenchCommandTest {
    // Qwen2, C=32, F=80, 2 layers, 4 heads of D=8, 2 KV heads, V=96, untied
    static final String CONFIG = """
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 32, "intermediate_size": 80,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 96,
             "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
             "tie_word_embeddings": false, "use_sliding_window": false, "bos_token_id": 1, "eos_token_id": 2}
            """;
    static final String[] ROW_FIELDS = {"name", "config", "tokens_per_s", "peer", "peer_tokens_per_s", "ratio", "gflops",
            "bound_ratio", "peak_rss_gb"};

    @TempDir Path tmp;

    private JsonNode runJson(String... extra) throws Exception {
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, CONFIG);
        List<String> args = new ArrayList<>(List.of("--full-config", cfg.toString(), "--random-config", cfg.toString(),
                "--full-seq", "12", "--full-batch", "2", "--full-steps", "2", "--seq", "16", "--warmup-seq", "8",
                "--steps", "1", "--rank", "4", "--quick", "--json"));
        args.addAll(List.of(extra));
        PrintStream saved = System.out;
        var buf = new ByteArrayOutputStream();
        int rc;
        try (var out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            rc = new CommandLine(new TrainBenchCommand()).execute(args.toArray(String[]::new));
        } finally {
            System.setOut(saved);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, "exit code; stdout: " + out);
        return new ObjectMapper().readTree(out);
    }

    @Test
    void jsonRowsHaveTheDocumentedFieldsAndConsistentArithmetic() throws Exception {
        JsonNode root = runJson("--skip-peer");
        JsonNode rows = root.get("rows");
        assertEquals(2, rows.size(), "full + LoRA rows without peers: " + rows);
        assertEquals("full F32", rows.get(0).get("name").asText());
        assertTrue(rows.get(1).get("name").asText().startsWith("LoRA r4"), rows.get(1).toString());
        for (JsonNode r : rows) {
            for (String f : ROW_FIELDS) assertTrue(r.has(f), f + " in " + r);
            for (String f : new String[]{"tokens_per_s", "gflops", "bound_ratio", "flops_per_token", "executed_flops_per_token",
                    "gemm_gflops", "bound_tokens_per_s", "fma_peak_gflops"}) {
                double v = r.get(f).asDouble();
                assertTrue(r.get(f).isNumber() && Double.isFinite(v) && v > 0, f + " finite and > 0 in " + r);
            }
            assertTrue(r.get("peer").asText().contains("skipped"), r.toString());
            assertTrue(r.get("peer_tokens_per_s").isNull() && r.get("ratio").isNull(), "no peer, no ratio: " + r);
            // each derived figure is the quotient it claims to be (4 significant digits each)
            double tps = r.get("tokens_per_s").asDouble();
            assertEquals(tps * r.get("flops_per_token").asDouble() / 1e9, r.get("gflops").asDouble(), 2e-3 * r.get("gflops").asDouble());
            assertEquals(r.get("gemm_gflops").asDouble() * 1e9 / r.get("executed_flops_per_token").asDouble(),
                    r.get("bound_tokens_per_s").asDouble(), 2e-3 * r.get("bound_tokens_per_s").asDouble());
            assertEquals(tps / r.get("bound_tokens_per_s").asDouble(), r.get("bound_ratio").asDouble(), 2e-3 * r.get("bound_ratio").asDouble());
            double sum = 0;
            for (JsonNode s : r.get("step_seconds")) sum += s.asDouble();
            assertEquals(r.get("tokens_per_step").asDouble() * r.get("steps").asInt() / sum, tps, 2e-3 * tps);
            assertTrue(Double.isFinite(r.get("loss").asDouble()), "the steps ran to a finite loss: " + r);
            if (Files.exists(Path.of("/proc/self/status"))) assertTrue(r.get("peak_rss_gb").asDouble() > 0, r.toString());
        }
        assertEquals(2L * 12, rows.get(0).get("tokens_per_step").asLong());
        assertEquals(16, rows.get(1).get("tokens_per_step").asLong());
        // the full row trains every parameter of the tiny model (ModelConfig counts them independently)
        ModelConfig cfg = ModelConfig.fromJson(new ObjectMapper().readTree(CONFIG), null);
        assertEquals(cfg.parameterCount(), rows.get(0).get("trainable_parameters").asLong());
        // LoRA: A[r, in] and B[out, r] on the seven projections of each layer
        long perLayer = 4L * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32) + (32 + 80) + (32 + 80) + (80 + 32));
        assertEquals(2 * perLayer, rows.get(1).get("trainable_parameters").asLong());
        assertTrue(root.at("/machine/load_average_end").isTextual(), root.get("machine").toString());
    }

    /**
     * The FLOP accounting against counts made another way: the model's parameters as {@link ModelConfig}
     * counts them (less embedding, norms and biases: the matrices), causal attention summed pair by pair,
     * and the GEMM list's Σ count·2·T·N·K equal to the executed FLOPs less attention.
     */
    @Test
    void stepFlopsMatchIndependentCounts() throws Exception {
        ModelConfig cfg = ModelConfig.fromJson(new ObjectMapper().readTree(CONFIG), null);
        int seq = 129, batch = 3, c = 32, layers = 2, h = 4, d = 8, kvd = 16, v = 96;   // 128 predicted positions: 2 LM-head chunks
        long matrices = cfg.parameterCount() - (long) v * c - (2L * layers + 1) * c - (long) layers * (h * d + 2 * kvd);
        long head = (long) v * c, layerMatrices = matrices - head;
        double attn = 0;   // causal: query i meets i+1 keys, QKᵀ and P·V cost 2·D each per head and pair
        for (int i = 0; i < seq; i++) attn += (i + 1) * 2.0 * 2 * d * h;
        attn *= layers * batch;
        long rows = (long) seq * batch, predicted = (long) (seq - 1) * batch;

        StepCost full = StepCost.of(cfg, seq, batch, null, DType.F32);
        assertEquals(6.0 * (rows * layerMatrices + predicted * head) + 3 * attn, full.modelFlops(), 1e-9 * full.modelFlops());
        assertEquals(8.0 * (rows * layerMatrices + predicted * head) + 4.5 * attn, full.executedFlops(), 1e-9 * full.executedFlops());
        assertEquals(full.executedFlops() - 4.5 * attn, full.gemmFlops(), 1e-9 * full.executedFlops());

        LoraConfig lora = new LoraConfig(4, 8, Set.of("q", "down"));
        StepCost lo = StepCost.of(cfg, seq, batch, lora, DType.BF16);
        double adapters = layers * rows * 4.0 * ((c + h * d) + (80 + c));   // r·(in+out) per token, q and down
        assertEquals(4.0 * (rows * layerMatrices + predicted * head) + 3 * attn + 6 * adapters, lo.modelFlops(), 1e-9 * lo.modelFlops());
        // the frozen base: forward twice and dx once per product, no dW
        assertEquals(6.0 * (rows * layerMatrices + predicted * head), lo.gemmFlops(), 1e-9 * lo.gemmFlops());
        assertTrue(lo.gemms().stream().allMatch(g -> g.gemm().wtype() == DType.BF16 && g.gemm().kind() != dev.laconic.bench.GemmCase.Kind.DW));
    }

    /**
     * With a Python that has torch, transformers and peft: the script's answer has what the rows read,
     * and peft trains as many adapter parameters as we do (one peer process, LoRA on a bf16 base, to keep
     * this test short; the command runs this same call per peer).
     */
    @Test
    void torchPeerAnswersWithTheFieldsTheRowsRead() throws Exception {
        TorchPeer.Python py = TorchPeer.find(null, new ArrayList<>());
        assumeTrue(py != null && py.peft(), "no Python with torch, transformers and peft");
        TrainBenchCommand cmd = new TrainBenchCommand();
        new CommandLine(cmd).parseArgs("--rank", "4");
        var req = cmd.request("lora", "bf16", new ObjectMapper().readTree(CONFIG), 16, 1, 1, 8, 2, 1);
        TorchPeer.Result r = TorchPeer.run(py.path(), req, 1, System.err);
        assertEquals(2, r.stepSeconds().length);
        double sum = r.stepSeconds()[0] + r.stepSeconds()[1];
        assertEquals(2 * 16 / sum, r.tokensPerSecond(), 1e-9 * r.tokensPerSecond());
        assertTrue(r.peakRssBytes() > 0);
        assertEquals(2L * 4 * (2 * (32 + 32) + 2 * (32 + 16) + 3 * (32 + 80)), ((Number) r.info().get("trainable_parameters")).longValue(),
                "peft trains the same adapters: " + r.info());
        assertEquals(1, ((Number) r.info().get("threads")).intValue(), "torch.set_num_threads took: " + r.info());
        assertEquals(true, r.info().get("gradient_checkpointing"), "LoRA peers checkpoint layers by default, as ours: " + r.info());
        assertTrue(Double.isFinite(((Number) r.info().get("loss")).doubleValue()), r.info().toString());
    }
}
