package dev.laconic.compression.gym;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.SafetensorsWriter;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Weights;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The gym reasoner's architecture and its from-scratch initialisation: a tiny Qwen2 (q/k/v biases,
 * RMSNorm, SwiGLU, RoPE θ = 10000, tied embeddings) and the Hugging Face files that describe it.
 *
 * <p>Initialisation (GPT-2's, Radford et al. 2019, as nanoGPT does it): every matrix ~ N(0, 0.02²),
 * the two projections that write into the residual stream (o_proj, down_proj) ~ N(0, (0.02/√(2L))²)
 * so the stream's variance does not grow with depth; RMSNorm weights 1; biases 0. Each tensor draws
 * from its own SplittableRandom seeded by (seed, tensor index): the result does not depend on threads.
 */
public final class GymModel {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final double STD = 0.02;

    private GymModel() {}

    /** Sizes of the tiny model. */
    public record Size(int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
        public Size {
            if (hidden < 1 || layers < 1 || heads < 1 || kvHeads < 1 || intermediate < 1 || maxPositions < 2)
                throw new IllegalArgumentException("model sizes must be positive");
            if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
            if (heads % kvHeads != 0) throw new IllegalArgumentException("heads " + heads + " is not a multiple of kvHeads " + kvHeads);
            if ((hidden / heads) % 2 != 0) throw new IllegalArgumentException("head dim " + hidden / heads + " must be even (RoPE)");
        }

        /** The default gym reasoner: about 1.1 M parameters. */
        public static final Size DEFAULT = new Size(128, 4, 4, 4, 512, 1024);
    }

    /** The config for {@code tok}: vocab rounded up to a multiple of 64 (unused rows are never targets). */
    public static ModelConfig config(Size s, Tokenizer tok) {
        int vocab = (tok.vocabSize() + 63) / 64 * 64;
        return new ModelConfig(ModelConfig.QWEN2, s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(),
                s.hidden() / s.heads(), vocab, 1e-6f, 10000, null, true, false, true, s.maxPositions(),
                tok.bosId(), new int[]{tok.eosId()});
    }

    public static Weights init(ModelConfig cfg, long seed) {
        double resid = STD / Math.sqrt(2.0 * cfg.layers());
        long[] k = {0};
        Tensor embed = normal(seed, k[0]++, STD, cfg.vocab(), cfg.hidden());
        Weights.Layer[] layers = new Weights.Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = Weights.Layer.of(cfg, p -> {
                int[] shape = p.shape(cfg);
                if (p.isMatrix()) return normal(seed, k[0]++, p == Weights.Part.WO || p == Weights.Part.W_DOWN ? resid : STD, shape[0], shape[1]);
                return p == Weights.Part.ATTN_NORM || p == Weights.Part.MLP_NORM ? ones(shape[0]) : Tensor.zeros(DType.F32, shape);
            });
        }
        return new Weights(embed, layers, ones(cfg.hidden()), embed);
    }

    private static Tensor normal(long seed, long index, double std, int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 1);
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            double u = 1 - rng.nextDouble(), v = rng.nextDouble();   // Box–Muller
            a[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return Tensor.of(a, rows, cols);
    }

    private static Tensor ones(int n) {
        Tensor t = Tensor.zeros(DType.F32, n);
        t.fill(1);
        return t;
    }

    /** config.json in the spelling of the DeepSeek-R1-Distill-Qwen files (rope_theta, torch_dtype). */
    public static ObjectNode configJson(ModelConfig cfg, DType dtype) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(ModelConfig.QWEN2);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", cfg.bosId());
        c.put("eos_token_id", cfg.eosIds()[0]);
        c.put("hidden_act", "silu");
        c.put("hidden_size", cfg.hidden());
        c.put("initializer_range", STD);
        c.put("intermediate_size", cfg.intermediate());
        c.put("max_position_embeddings", cfg.maxPositions());
        c.put("max_window_layers", cfg.layers());
        c.put("model_type", "qwen2");
        c.put("num_attention_heads", cfg.heads());
        c.put("num_hidden_layers", cfg.layers());
        c.put("num_key_value_heads", cfg.kvHeads());
        c.put("rms_norm_eps", (double) cfg.rmsNormEps());
        c.put("rope_theta", cfg.ropeTheta());
        c.put("sliding_window", cfg.maxPositions());
        c.put("tie_word_embeddings", cfg.tieWordEmbeddings());
        c.put("torch_dtype", dtype == DType.BF16 ? "bfloat16" : "float32");
        c.put("use_cache", true);
        c.put("use_mrope", false);
        c.put("use_sliding_window", false);
        c.put("vocab_size", cfg.vocab());
        return c;
    }

    /** generation_config.json: R1's sampling defaults (temperature 0.6, top-p 0.95). */
    public static ObjectNode generationConfigJson(ModelConfig cfg) {
        ObjectNode g = JSON.createObjectNode();
        g.put("_from_model_config", true);
        g.put("bos_token_id", cfg.bosId());
        g.put("eos_token_id", cfg.eosIds()[0]);
        g.put("do_sample", true);
        g.put("temperature", 0.6);
        g.put("top_p", 0.95);
        return g;
    }

    /**
     * Writes a complete Hugging Face directory: config.json, generation_config.json, tokenizer files,
     * model.safetensors (HF names; the tied LM head is stored once, as HF does).
     */
    public static void writeHf(Path dir, ModelConfig cfg, Map<String, Tensor> weights, DType dtype) throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16) throw new IllegalArgumentException("dtype must be f32 or bf16");
        Files.createDirectories(dir);
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.forEach((name, t) -> out.put(name, t.dtype() == dtype ? t : t.to(dtype)));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        writeConfigs(dir, cfg, dtype);
    }

    /** Everything of the HF directory except the weights. */
    public static void writeConfigs(Path dir, ModelConfig cfg, DType dtype) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(configJson(cfg, dtype)));
        Files.write(dir.resolve("generation_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(generationConfigJson(cfg)));
        GymTokenizer.write(dir, cfg.maxPositions());
    }
}
