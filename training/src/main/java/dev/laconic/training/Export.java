package dev.laconic.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.tensor.safetensors.SafetensorsWriter;
import dev.laconic.transformer.Model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a run produces, in the formats other tools read:
 * <ul>
 *   <li>a Hugging Face model directory: {@code model.safetensors} (BF16 or F32, HF names, metadata
 *       {@code format: pt}), the base's {@code config.json} with {@code torch_dtype} set to the saved
 *       dtype, and its tokenizer and generation files copied unchanged;</li>
 *   <li>a PEFT LoRA adapter directory: {@code adapter_config.json} (peft's LoraConfig fields:
 *       {@code peft_type LORA}, {@code r}, {@code lora_alpha}, {@code target_modules} as HF module
 *       names, {@code base_model_name_or_path}) and {@code adapter_model.safetensors} with PEFT's
 *       tensor names ({@code base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight}, F32).</li>
 * </ul>
 * Both directories are written under a temp name and renamed into place ({@link RunDir#publish}).
 */
public final class Export {
    /** Files of a model directory copied as they are (those present). */
    static final List<String> COPIED = List.of("generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja");
    public static final String ADAPTER_CONFIG = "adapter_config.json", ADAPTER_WEIGHTS = "adapter_model.safetensors";

    private Export() {}

    /** A run's result: the model as an HF directory (full fine-tuning), else the adapter as a PEFT directory. */
    public static void result(TrainableModel m, Path baseDir, Path out, DType dtype) throws IOException {
        if (m.loraConfig() == null) model(m, baseDir, out, dtype);
        else adapter(m, baseDir.toAbsolutePath().normalize().toString(), out);
    }

    /** The (merged) model as a Hugging Face directory, weights in {@code dtype} (BF16 or F32). */
    public static void model(TrainableModel m, Path baseDir, Path out, DType dtype) throws IOException {
        if (dtype != DType.BF16 && dtype != DType.F32) throw new IllegalArgumentException("dtype must be bf16 or f32, not " + dtype);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        m.exportWeights(true).forEach((name, t) -> weights.put(name, t.dtype() == dtype ? t : t.to(dtype)));
        ObjectNode config = (ObjectNode) RunDir.JSON.readTree(baseDir.resolve("config.json").toFile());
        String torchName = dtype == DType.BF16 ? "bfloat16" : "float32";
        config.put("torch_dtype", torchName);        // the R1-Distill spelling; transformers 5 also writes "dtype"
        if (config.has("dtype")) config.put("dtype", torchName);
        RunDir.publish(out, tmp -> {
            SafetensorsWriter.write(tmp.resolve(Checkpoint.SINGLE_FILE), weights, Map.of("format", "pt"));
            Files.write(tmp.resolve("config.json"), RunDir.JSON.writeValueAsBytes(config));
            for (String f : COPIED)
                if (Files.isRegularFile(baseDir.resolve(f))) Files.copy(baseDir.resolve(f), tmp.resolve(f));
        });
    }

    /** The LoRA adapter as a PEFT directory; {@code baseModel} becomes base_model_name_or_path. */
    public static void adapter(TrainableModel m, String baseModel, Path out) throws IOException {
        LoraConfig lora = m.loraConfig();
        if (lora == null) throw new IllegalArgumentException("full fine-tuning has no adapter to export (export the model instead)");
        Map<String, Tensor> tensors = new LinkedHashMap<>(m.exportWeights(false));
        ObjectNode c = RunDir.JSON.createObjectNode();
        c.putObject("alpha_pattern");
        c.put("base_model_name_or_path", baseModel);
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.putNull("layers_pattern");
        c.putNull("layers_to_transform");
        if (lora.alpha() == Math.rint(lora.alpha())) c.put("lora_alpha", (long) lora.alpha());
        else c.put("lora_alpha", lora.alpha());
        c.put("lora_dropout", 0.0);
        c.putNull("modules_to_save");
        c.put("peft_type", "LORA");
        c.put("r", lora.rank());
        c.putObject("rank_pattern");
        c.putNull("revision");
        ArrayNode targets = c.putArray("target_modules");
        for (String t : new TreeSet<>(lora.targets())) targets.add(t + "_proj");
        c.put("task_type", "CAUSAL_LM");
        c.put("use_dora", false);
        c.put("use_rslora", false);
        RunDir.publish(out, tmp -> {
            SafetensorsWriter.write(tmp.resolve(ADAPTER_WEIGHTS), tensors, Map.of("format", "pt"));
            Files.write(tmp.resolve(ADAPTER_CONFIG), RunDir.JSON.writeValueAsBytes(c));
        });
    }

    /**
     * LoRA hyper-parameters from a PEFT {@code adapter_config.json}. Only what Laconic computes is
     * accepted: plain LoRA (no DoRA, no rsLoRA, no bias, no per-module rank/alpha) on q/k/v/o/gate/up/down.
     */
    public static LoraConfig readAdapterConfig(Path dir) throws IOException {
        Path file = dir.resolve(ADAPTER_CONFIG);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(dir + ": not a PEFT adapter directory (no " + ADAPTER_CONFIG + ")");
        JsonNode c = RunDir.JSON.readTree(file.toFile());
        if (!"LORA".equals(c.path("peft_type").asText())) throw new IllegalArgumentException(file + ": peft_type " + c.path("peft_type") + " is not LORA");
        for (String flag : List.of("use_dora", "use_rslora", "fan_in_fan_out"))
            if (c.path(flag).asBoolean(false)) throw new IllegalArgumentException(file + ": " + flag + " is not supported");
        if (!c.path("bias").asText("none").equals("none")) throw new IllegalArgumentException(file + ": bias " + c.path("bias") + " is not supported");
        for (String p : List.of("rank_pattern", "alpha_pattern"))
            if (c.path(p).size() > 0) throw new IllegalArgumentException(file + ": " + p + " is not supported");
        JsonNode tm = c.path("target_modules");
        if (!tm.isArray()) throw new IllegalArgumentException(file + ": target_modules must be a list of module names");
        Set<String> targets = new LinkedHashSet<>();
        for (JsonNode t : tm) {
            String name = t.asText();
            if (!name.endsWith("_proj") || !LoraConfig.TARGETS.contains(name.substring(0, name.length() - 5)))
                throw new IllegalArgumentException(file + ": target module " + name + " is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
            targets.add(name.substring(0, name.length() - 5));
        }
        if (!c.path("r").canConvertToInt() || !c.path("lora_alpha").isNumber())
            throw new IllegalArgumentException(file + ": r and lora_alpha must be numbers");
        return new LoraConfig(c.path("r").asInt(), (float) c.path("lora_alpha").asDouble(), targets);
    }

    /** A PEFT adapter directory applied to {@code base}: the trainable model with the adapter's A and B. */
    public static TrainableModel loadAdapter(Model base, Path dir) throws IOException {
        TrainableModel m = TrainableModel.lora(base, readAdapterConfig(dir), 0);
        try (Checkpoint ck = Checkpoint.open(dir.resolve(ADAPTER_WEIGHTS))) {
            Map<String, Tensor> values = new HashMap<>();
            for (String name : ck.names()) values.put(name, ck.tensor(name));
            m.loadParameters(values);       // copies, so the file can be unmapped
        }
        return m;
    }
}
