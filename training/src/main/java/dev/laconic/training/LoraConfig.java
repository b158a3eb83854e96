package dev.laconic.training;

import dev.laconic.transformer.Weights;

import java.util.List;
import java.util.Set;

/**
 * LoRA hyper-parameters (Hu et al. 2021, as PEFT implements them): each targeted projection
 * y = x·Wᵀ becomes y = x·Wᵀ + scale·(x·Aᵀ)·Bᵀ with A[r, in], B[out, r] and scale = alpha / rank
 * (PEFT's default scaling, not rsLoRA's alpha/√rank).
 *
 * @param targets a non-empty subset of {@link #TARGETS}: q, k, v, o (attention), gate, up, down (MLP)
 */
public record LoraConfig(int rank, float alpha, Set<String> targets) {

    /** Every projection LoRA can adapt, in the order of a layer's modules (the parameter order). */
    public static final List<String> TARGETS = List.of("q", "k", "v", "o", "gate", "up", "down");

    public LoraConfig {
        if (rank <= 0) throw new IllegalArgumentException("LoRA rank must be positive, is " + rank);
        if (!(alpha > 0) || !Float.isFinite(alpha)) throw new IllegalArgumentException("LoRA alpha must be positive, is " + alpha);
        if (targets == null || targets.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target of " + TARGETS);
        for (String t : targets)
            if (!TARGETS.contains(t)) throw new IllegalArgumentException("LoRA target '" + t + "' is not one of " + TARGETS);
        targets = Set.copyOf(targets);
    }

    /** scale = alpha / rank. */
    public float scale() { return (float) ((double) alpha / rank); }

    /** The frozen weight a target adapts, e.g. "gate" → mlp.gate_proj.weight. */
    public static Weights.Part projection(String target) {
        Weights.Part p = TARGETS.contains(target) ? Weights.Part.projection(target) : null;
        if (p == null) throw new IllegalArgumentException("LoRA target '" + target + "' is not one of " + TARGETS);
        return p;
    }

    /** The Hugging Face module of a target inside layer l, e.g. "model.layers.3.mlp.gate_proj". */
    public static String modulePath(int layer, String target) {
        return projection(target).module(layer);
    }

    /** PEFT's name of an adapter matrix: "base_model.model.&lt;module&gt;.lora_A.weight" (which = "A" or "B"). */
    public static String peftName(int layer, String target, String which) {
        return "base_model.model." + modulePath(layer, target) + ".lora_" + which + ".weight";
    }
}
