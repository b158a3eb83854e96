package dev.laconic.transformer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.tensor.JsonFaults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The architecture of a model, read from a Hugging Face {@code config.json}.
 *
 * <p>Qwen2 and Llama differ only in fields here, never in code paths: Qwen2 has q/k/v biases and
 * usually untied embeddings; Llama 3.x has no biases, may tie embeddings and scales RoPE
 * frequencies (llama3 {@code rope_scaling}, which becomes a different {@link #invFreq()} table).
 * Anything the transformer does not implement is refused here with the name of the field.
 *
 * @param hidden      C, model dim
 * @param intermediate F, MLP dim
 * @param heads       H, query heads
 * @param kvHeads     KVH, key/value heads (GQA: H % KVH == 0)
 * @param headDim     D
 * @param vocab       V, rows of the embedding (may exceed the tokenizer's ids: padding rows)
 * @param qkvBias     q/k/v projections have a bias (Qwen2 always; Llama when attention_bias)
 * @param oBias       o projection has a bias (Llama attention_bias only)
 * @param eosIds      every id that ends generation (config and generation_config together)
 */
public record ModelConfig(
        String architecture, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
        int vocab, float rmsNormEps, double ropeTheta, Llama3Scaling ropeScaling, boolean qkvBias, boolean oBias,
        boolean tieWordEmbeddings, int maxPositions, int bosId, int[] eosIds) {

    /** llama3 rope_scaling parameters (Llama 3.1+, R1-Distill-Llama). */
    public record Llama3Scaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {}

    public static final String QWEN2 = "Qwen2ForCausalLM", LLAMA = "LlamaForCausalLM";

    public ModelConfig {
        positive("hidden_size", hidden);
        positive("intermediate_size", intermediate);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("head_dim", headDim);
        positive("vocab_size", vocab);
        positive("max_position_embeddings", maxPositions);
        if (heads % kvHeads != 0)
            throw new IllegalArgumentException("config.json: num_attention_heads (" + heads + ") is not a multiple of num_key_value_heads (" + kvHeads + ")");
        if (headDim % 2 != 0) throw new IllegalArgumentException("config.json: head_dim must be even for RoPE, is " + headDim);
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException("config.json: " + field + " must be positive, is " + value);
    }

    /** Reads {@code dir/config.json} and, when present, {@code dir/generation_config.json} (for bos/eos). */
    public static ModelConfig load(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IOException(file + ": not found (a model directory needs config.json)");
        ObjectMapper json = new ObjectMapper();
        JsonNode c;
        try {
            c = json.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": " + JsonFaults.invalid(e, false), e);
        }
        if (c == null || !c.isObject()) throw new IOException(file + ": not a JSON object");
        JsonNode gen = null;
        Path genFile = dir.resolve("generation_config.json");
        if (Files.isRegularFile(genFile)) {
            try {
                gen = json.readTree(genFile.toFile());
            } catch (JsonProcessingException e) {
                throw new IOException(genFile + ": " + JsonFaults.invalid(e, false), e);
            }
        }
        try {
            return fromJson(c, gen);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage().replaceFirst("^config\\.json: ", ""), e);
        }
    }

    /** Builds a config from parsed config.json (and optional generation_config.json) trees. */
    public static ModelConfig fromJson(JsonNode c, JsonNode gen) {
        String arch = c.path("architectures").path(0).asText(null);
        if (arch == null) arch = switch (c.path("model_type").asText("")) {
            case "qwen2" -> QWEN2;
            case "llama" -> LLAMA;
            default -> null;
        };
        if (!QWEN2.equals(arch) && !LLAMA.equals(arch))
            throw new IllegalArgumentException("architectures: " + arch + " is not supported (Qwen2ForCausalLM, LlamaForCausalLM)");
        boolean qwen = QWEN2.equals(arch);

        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new IllegalArgumentException("hidden_act: " + act + " is not supported (silu)");
        if (qwen && c.path("use_sliding_window").asBoolean(false))
            throw new IllegalArgumentException("use_sliding_window: sliding-window attention is not supported");
        if (c.path("use_mrope").asBoolean(false)) throw new IllegalArgumentException("use_mrope: multimodal RoPE is not supported");
        if (c.path("mlp_bias").asBoolean(false)) throw new IllegalArgumentException("mlp_bias: MLP biases are not supported");
        if (c.path("pretraining_tp").asInt(1) != 1) throw new IllegalArgumentException("pretraining_tp: only 1 is supported");

        int hidden = req(c, "hidden_size"), heads = req(c, "num_attention_heads");
        int kvHeads = c.path("num_key_value_heads").asInt(heads);
        int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;

        // transformers 4.x writes rope_theta + rope_scaling; 5.x writes both into rope_parameters
        JsonNode rs = c.hasNonNull("rope_parameters") ? c.get("rope_parameters") : c.path("rope_scaling");
        double theta = rs.hasNonNull("rope_theta") ? rs.get("rope_theta").asDouble() : c.path("rope_theta").asDouble(10000);
        Llama3Scaling scaling = null;
        if (!rs.isMissingNode() && !rs.isNull()) {
            String type = rs.path("rope_type").asText(rs.path("type").asText(""));
            if (!type.equals("llama3") && !type.equals("default") && !type.isEmpty())
                throw new IllegalArgumentException("rope_scaling.rope_type: " + type + " is not supported (llama3)");
            if (type.equals("llama3")) scaling = new Llama3Scaling(rs.path("factor").asDouble(8),
                    rs.path("low_freq_factor").asDouble(1), rs.path("high_freq_factor").asDouble(4),
                    rs.path("original_max_position_embeddings").asInt(8192));
        }
        boolean attnBias = c.path("attention_bias").asBoolean(false);

        int bos = c.path("bos_token_id").asInt(-1);
        List<Integer> eos = new ArrayList<>();
        addIds(c.path("eos_token_id"), eos);
        if (gen != null) {
            if (gen.hasNonNull("bos_token_id")) bos = gen.get("bos_token_id").asInt();
            addIds(gen.path("eos_token_id"), eos);
        }
        return new ModelConfig(arch, hidden, req(c, "intermediate_size"), req(c, "num_hidden_layers"), heads, kvHeads,
                headDim, req(c, "vocab_size"), (float) c.path("rms_norm_eps").asDouble(1e-6),
                theta, scaling, qwen || attnBias, !qwen && attnBias,
                c.path("tie_word_embeddings").asBoolean(false), c.path("max_position_embeddings").asInt(4096),
                bos, eos.stream().distinct().mapToInt(Integer::intValue).toArray());
    }

    private static int req(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt()) throw new IllegalArgumentException(field + ": missing or not an integer");
        return n.asInt();
    }

    private static void addIds(JsonNode n, List<Integer> out) {
        if (n.isInt()) out.add(n.asInt());
        else if (n.isArray()) n.forEach(e -> out.add(e.asInt()));
    }

    /**
     * RoPE inverse frequencies, D/2 entries: invFreq[i] = 1 / theta^(2i/D), computed in f32 as HF does;
     * with llama3 scaling (HF _compute_llama3_parameters), low frequencies (wavelength above
     * original_max/low_freq_factor) are divided by factor, high ones kept, and the band between
     * is interpolated: (1 − s)·f/factor + s·f with s = (original_max/wavelength − low)/(high − low).
     */
    public float[] invFreq() {
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            float exponent = (float) (2 * i) / headDim;
            f[i] = 1.0f / (float) Math.pow(ropeTheta, exponent);
        }
        if (ropeScaling == null) return f;
        Llama3Scaling s = ropeScaling;
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        for (int i = 0; i < f.length; i++) {
            double wavelen = 2 * Math.PI / f[i];
            double scaled = wavelen > lowWavelen ? f[i] / s.factor() : f[i];
            boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium) {
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
            }
            f[i] = (float) scaled;
        }
        return f;
    }

    /** Number of parameters (for reports), counting tied embeddings once. */
    public long parameterCount() {
        long c = hidden, q = (long) heads * headDim, kv = (long) kvHeads * headDim;
        long attn = c * q + 2 * c * kv + q * c + (qkvBias ? q + 2 * kv : 0) + (oBias ? c : 0);
        long mlp = 3L * c * intermediate;
        long perLayer = attn + mlp + 2 * c;
        return layers * perLayer + (long) vocab * c * (tieWordEmbeddings ? 1 : 2) + c;
    }
}
