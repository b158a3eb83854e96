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
 * `bench decode` on a tiny random Qwen2 (a few tokens; shapes and arithmetic, no timing claims): the
 * JSON has the rows and fields later checks read, each ratio is the quotient it claims to be, the
 * byte counts match the config, and the written random model is a model directory. Jlama's rows
 * ({@code --jlama}) are bench/peers' JlamaDecodeTest: the peers build after this module.
 */
class DecodeBenchCommandTest {
    // Qwen2, C=64, F=160, 2 layers, 4 heads of D=16, 2 KV heads, V=384, untied
    static final String CONFIG = """
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 160,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 384,
             "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
             "tie_word_embeddings": false, "use_sliding_window": false, "bos_token_id": 1, "eos_token_id": 2}
            """;
    static final int C = 64, F = 160, L = 2, Q = 4 * 16, KV = 2 * 16, V = 384;

    @TempDir Path tmp;

    record Run(int rc, String out) {}

    private Run run(String... args) {
        PrintStream saved = System.out;
        var buf = new ByteArrayOutputStream();
        int rc;
        try (var out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            // as the laconic main does for user faults: one line, exit 1 (a stack trace for anything else)
            rc = new CommandLine(new DecodeBenchCommand()).setExecutionExceptionHandler((e, cmd, parsed) -> {
                if (!(e instanceof IllegalArgumentException)) throw e;
                System.err.println("error: " + e.getMessage());
                return 1;
            }).execute(args);
        } finally {
            System.setOut(saved);
        }
        return new Run(rc, buf.toString(StandardCharsets.UTF_8));
    }

    private JsonNode json(int reps, String... extra) throws Exception {
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, CONFIG);
        List<String> args = new ArrayList<>(List.of("--random-config", cfg.toString(), "--dtype", "f32", "--prompt-tokens", "8",
                "--gen-tokens", "4", "--reps", "" + reps, "--context", "24", "--bandwidth-mib", "16", "--json"));
        for (int i = 0; i + 1 < extra.length; i += 2) {   // an option given in extra replaces its default above
            int at = args.indexOf(extra[i]);
            if (at >= 0) args.subList(at, at + 2).clear();
        }
        args.addAll(List.of(extra));
        Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.rc, "exit code; stdout: " + r.out);
        return new ObjectMapper().readTree(r.out);
    }

    /** One run does it all (each run starts a child JVM, so they are few): ours, the written directory. */
    @Test
    void randomModelJsonRowsAndTheWrittenDirectory() throws Exception {
        Path dir = tmp.resolve("model");
        JsonNode root = json(2, "--write-model", dir.toString());
        List<String> tests = new ArrayList<>();
        for (JsonNode r : root.get("rows")) {
            assertTrue(r.get("engine").asText().startsWith("laconic"), "no Jlama rows without --jlama: " + r);
            tests.add(r.get("test").asText());
            for (String f : new String[]{"tokens_per_s", "weight_gb_per_s", "bandwidth_gb_per_s", "ratio_to_bound", "bound_tokens_per_s"}) {
                assertTrue(r.path(f).isNumber(), f + " is a number in " + r);
                double v = r.get(f).asDouble();
                assertTrue(Double.isFinite(v) && v > 0, f + " finite and > 0 in " + r);
            }
            assertEquals(root.at("/machine/read_bandwidth_gb_per_s").asDouble(), r.get("bandwidth_gb_per_s").asDouble(), 1e-9,
                    "every row is against the bandwidth measured in this run");
            double bytes = root.at("/model/matrix_bytes_per_token").asDouble(), tps = r.get("tokens_per_s").asDouble();
            if (r.get("test").asText().startsWith("tg")) {
                assertEquals("read_bandwidth", r.get("bound").asText());
                assertEquals(bytes * tps / 1e9, r.get("weight_gb_per_s").asDouble(), 2e-3 * r.get("weight_gb_per_s").asDouble());
                double want = r.get("weight_gb_per_s").asDouble() / r.get("bandwidth_gb_per_s").asDouble();
                assertEquals(want, r.get("ratio_to_bound").asDouble(), 2e-3 * want, "tg ratio = weight GB/s / bandwidth in " + r);
            } else {
                assertEquals("f32_gemm", r.get("bound").asText());
                double want = tps / r.get("bound_tokens_per_s").asDouble();
                assertEquals(want, r.get("ratio_to_bound").asDouble(), 2e-3 * want, "pp ratio = t/s / GEMM bound in " + r);
            }
        }
        assertEquals(List.of("pp8", "tg4", "pp20", "tg4@d20"), tests);
        assertTrue(root.path("jlama").isMissingNode(), "no jlama section without --jlama");

        // bytes from the config, counted by hand: F32, untied (embed and lm_head both stored)
        long matrices = (long) L * (C * Q + 2L * C * KV + (long) Q * C + 3L * C * F);
        assertEquals(4 * (matrices + (long) V * C), root.at("/model/matrix_bytes_per_token").asLong());
        long normsAndBiases = L * (2L * C + Q + 2L * KV) + C;
        assertEquals(4 * (matrices + 2L * V * C + normsAndBiases), root.at("/model/weight_bytes").asLong());
        JsonNode mem = root.get("memory");
        assertTrue(mem.get("peak_rss_bytes").asLong() > mem.get("weight_bytes").asLong(), "peak RSS counts the weights: " + mem);
        assertEquals(mem.get("peak_rss_bytes").asLong() - mem.get("weight_bytes").asLong(), mem.get("peak_rss_minus_weight_bytes").asLong());
        assertEquals(24, mem.get("largest_context").asInt());

        // --write-model kept the directory, and it benchmarks as a model directory
        for (String f : new String[]{"config.json", "model.safetensors", "tokenizer.json"})
            assertTrue(Files.isRegularFile(dir.resolve(f)), f + " written");
        Run r = run("--model", dir.toString(), "--dtype", "f32", "--prompt-tokens", "8", "--gen-tokens", "4", "--reps", "1",
                "--bandwidth-mib", "16", "--json");
        assertEquals(0, r.rc, r.out);
        JsonNode mapped = new ObjectMapper().readTree(r.out);
        assertEquals(root.at("/model/matrix_bytes_per_token").asLong(), mapped.at("/model/matrix_bytes_per_token").asLong());
        assertEquals(root.at("/model/weight_bytes").asLong(), mapped.at("/model/weight_bytes").asLong());
        assertEquals(dir.toString(), mapped.at("/model/source").asText());
    }

    /**
     * --dtype f32,bf16 and --batch 1,3 in one run: every row names its batch and dtype, each dtype has its pp/tg rows
     * and one batched row per B, a batched row's bound is the smaller of B × the bandwidth bound and the GEMM bound
     * and its ratio the quotient; memory has weights_gb and peak_rss_gb and, with two dtypes, one entry per dtype.
     */
    @Test
    void dtypeListAndBatchRows() throws Exception {
        JsonNode root = json(1, "--dtype", "f32,bf16", "--batch", "1,3", "--context", "0");
        List<String> seen = new ArrayList<>();
        for (JsonNode r : root.get("rows")) {
            List<String> keys = new ArrayList<>();
            r.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("test", "batch", "dtype", "tokens_per_s", "bound_tokens_per_s", "ratio_to_bound", "weight_gb_per_s"),
                    keys.subList(0, 7), "the issue's fields first, in order: " + r);
            seen.add(r.get("dtype").asText() + " " + r.get("test").asText() + " b" + r.get("batch").asInt());
            if (!r.has("sequences")) continue;
            int b = r.get("batch").asInt();
            assertEquals(b + (b + 1) / 2, r.get("sequences").asInt(), "B + B/2 sequences: " + r);
            double memory = r.get("bandwidth_bound_tokens_per_s").asDouble(), compute = r.get("gemm_bound_tokens_per_s").asDouble();
            assertEquals(Math.min(memory, compute), r.get("bound_tokens_per_s").asDouble(), 2e-3 * Math.min(memory, compute), r.toString());
            double want = r.get("tokens_per_s").asDouble() / r.get("bound_tokens_per_s").asDouble();
            assertEquals(want, r.get("ratio_to_bound").asDouble(), 2e-3 * want, r.toString());
            assertTrue(r.get("sequence_ms_per_token_p50").asDouble() <= r.get("sequence_ms_per_token_max").asDouble(), r.toString());
            // lengths 2 .. 6 tokens (G = 4): every token but each sequence's first (from its prefill) is decoded
            int total = 0;
            for (int len : BatchRuns.lengths(b, 4, 42)) total += len - 1;
            assertEquals(total, r.get("decoded_tokens").asInt(), r.toString());
        }
        assertEquals(List.of("f32 pp8 b1", "f32 tg4 b1", "f32 tg4 b1", "f32 tg4 b3", "bf16 pp8 b1", "bf16 tg4 b1", "bf16 tg4 b1", "bf16 tg4 b3"), seen);
        JsonNode mem = root.get("memory");
        assertEquals(root.at("/model/weight_bytes").asDouble() / 1e9, mem.get("weights_gb").asDouble(), 1e-3 * mem.get("weights_gb").asDouble());
        assertEquals(mem.get("peak_rss_bytes").asDouble() / 1e9, mem.get("peak_rss_gb").asDouble(), 1e-3 * mem.get("peak_rss_gb").asDouble());
        assertEquals("f32", root.at("/model/dtype").asText(), "model and memory describe the first dtype");
        assertEquals(mem.get("weights_gb").asDouble() / 2, mem.at("/by_dtype/bf16/weights_gb").asDouble(), 1e-3, "bf16 is half the bytes");
    }

    /** The lengths of a batch row: G/2 … 3G/2, B + ⌈B/2⌉ of them, mean ≈ G, not all equal (sequences leave at different steps). */
    @Test
    void batchLengthsSpreadAroundG() {
        int[] len = BatchRuns.lengths(8, 128, 42);
        assertEquals(12, len.length);
        int min = Integer.MAX_VALUE, max = 0;
        double sum = 0;
        for (int l : len) { min = Math.min(min, l); max = Math.max(max, l); sum += l; }
        assertEquals(64, min);
        assertEquals(192, max);
        assertEquals(128, sum / len.length, 1);
        assertArrayEquals(len, BatchRuns.lengths(8, 128, 42), "the seed fixes the order");
        assertEquals(2, BatchRuns.lengths(1, 4, 42).length);
    }

    @Test
    void dtypeNamesParseThroughDType() {
        assertEquals(List.of(dev.laconic.tensor.DType.BF16, dev.laconic.tensor.DType.F32),
                DecodeBenchCommand.parseDtypes(List.of("bf16", " F32", "bf16")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DecodeBenchCommand.parseDtypes(List.of("bf16", "int4")));
        assertTrue(e.getMessage().contains("'int4'") && e.getMessage().contains("bf16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DecodeBenchCommand.parseDtypes(List.of("i32")));
    }

    @Test
    void badArgumentsFailWithoutOutput() throws Exception {
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, CONFIG);
        Run r = run("--random-config", cfg.toString(), "--gen-tokens", "8", "--context", "8", "--json");
        assertNotEquals(0, r.rc);
        assertEquals("", r.out);
        r = run("--random-config", cfg.toString(), "--model", tmp.toString());
        assertNotEquals(0, r.rc, "--model and --random-config exclude each other");
        r = run("--random-config", cfg.toString(), "--prompt-tokens", "600");
        assertNotEquals(0, r.rc, "more positions than max_position_embeddings");
        r = run("--random-config", cfg.toString(), "--batch", "8,0", "--json");
        assertNotEquals(0, r.rc, "a batch of 0");
        assertEquals("", r.out);
        r = run("--random-config", cfg.toString(), "--dtype", "bf16,int4", "--json");
        assertNotEquals(0, r.rc, "an unknown dtype");
        assertEquals("", r.out);
    }
}
