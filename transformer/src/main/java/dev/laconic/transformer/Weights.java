package dev.laconic.transformer;

import dev.laconic.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The parameters of a Qwen2/Llama decoder, under their Hugging Face names.
 * Matrices may be BF16/F16 views of a memory-mapped checkpoint or F32 (heap); norms and biases are F32.
 *
 * @param embed     model.embed_tokens.weight [V, C]
 * @param finalNorm model.norm.weight [C]
 * @param lmHead    lm_head.weight [V, C] (the same tensor as embed when tied)
 */
public record Weights(Tensor embed, Layer[] layers, Tensor finalNorm, Tensor lmHead) {
    /** The Hugging Face names of the tensors outside the layers (those inside: {@link Part#name}). */
    public static final String EMBED = "model.embed_tokens.weight", FINAL_NORM = "model.norm.weight", LM_HEAD = "lm_head.weight";

    /** Every tensor under its Hugging Face name, in load order (a tied LM head once, as the embedding). */
    public Map<String, Tensor> named() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(EMBED, embed);
        for (int l = 0; l < layers.length; l++)
            for (Part p : Part.values()) {
                Tensor t = p.of(layers[l]);
                if (t != null) out.put(p.name(l), t);
            }
        out.put(FINAL_NORM, finalNorm);
        if (lmHead != embed) out.put(LM_HEAD, lmHead);
        return out;
    }

    /**
     * "tensor 'NAME' holds NaN at element I" for the first tensor of {@code named} with a NaN or infinite element, or
     * null when all are finite: what a NaN loss or NaN logits are traced to (a full scan, so only after one is seen).
     */
    public static String nonFinite(Map<String, Tensor> named) {
        for (Map.Entry<String, Tensor> e : named.entrySet()) {
            Tensor t = e.getValue();
            for (long i = 0; i < t.numel(); i++) {
                float v = t.getFloat(i);
                if (!Float.isFinite(v)) return "tensor '" + e.getKey() + "' holds " + v + " at element " + i;
            }
        }
        return null;
    }

    /**
     * One decoder layer, model.layers.{i}.*; each component's name and shape is its {@link Part}.
     * Every layer is built by {@link #of}, the one place that lists the components.
     */
    public record Layer(Tensor attnNorm, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                        Tensor wo, Tensor bo, Tensor mlpNorm, Tensor wGate, Tensor wUp, Tensor wDown) {

        /**
         * A layer whose every part is {@code make.apply(part)}, asked in the order of the components
         * (the order the layer computes with: attnNorm, q, k, v, o, mlpNorm, gate, up, down), so a
         * maker that draws random numbers in turn always draws them in the same order.
         */
        public static Layer of(Function<Part, Tensor> make) {
            return new Layer(make.apply(Part.ATTN_NORM), make.apply(Part.WQ), make.apply(Part.BQ), make.apply(Part.WK),
                    make.apply(Part.BK), make.apply(Part.WV), make.apply(Part.BV), make.apply(Part.WO), make.apply(Part.BO),
                    make.apply(Part.MLP_NORM), make.apply(Part.W_GATE), make.apply(Part.W_UP), make.apply(Part.W_DOWN));
        }

        /** {@link #of(Function)} for a model of this config: the parts it lacks (biases) are null, never made. */
        public static Layer of(ModelConfig cfg, Function<Part, Tensor> make) {
            return of(p -> p.in(cfg) ? make.apply(p) : null);
        }
    }

    /**
     * The tensors of a decoder layer: the Hugging Face name under model.layers.{i}., the shape a config
     * gives it, and whether the config has it. Declared in Hugging Face's parameter order
     * ({@code named_parameters()}: self_attn, mlp, then the two norms), which is the order of
     * {@link #values()} and so of every list of parameters built from it.
     */
    public enum Part {
        /** self_attn.q_proj.weight [H·D, C] */
        WQ("self_attn.q_proj", "weight"),
        /** self_attn.q_proj.bias [H·D] (qkvBias) */
        BQ("self_attn.q_proj", "bias"),
        /** self_attn.k_proj.weight [KVH·D, C] */
        WK("self_attn.k_proj", "weight"),
        /** self_attn.k_proj.bias [KVH·D] (qkvBias) */
        BK("self_attn.k_proj", "bias"),
        /** self_attn.v_proj.weight [KVH·D, C] */
        WV("self_attn.v_proj", "weight"),
        /** self_attn.v_proj.bias [KVH·D] (qkvBias) */
        BV("self_attn.v_proj", "bias"),
        /** self_attn.o_proj.weight [C, H·D] */
        WO("self_attn.o_proj", "weight"),
        /** self_attn.o_proj.bias [C] (oBias) */
        BO("self_attn.o_proj", "bias"),
        /** mlp.gate_proj.weight [F, C] */
        W_GATE("mlp.gate_proj", "weight"),
        /** mlp.up_proj.weight [F, C] */
        W_UP("mlp.up_proj", "weight"),
        /** mlp.down_proj.weight [C, F] */
        W_DOWN("mlp.down_proj", "weight"),
        /** input_layernorm.weight [C]: the attention block's RMSNorm */
        ATTN_NORM("input_layernorm", "weight"),
        /** post_attention_layernorm.weight [C]: the MLP block's RMSNorm */
        MLP_NORM("post_attention_layernorm", "weight");

        /** The module, e.g. "self_attn.q_proj", and the tensor in it, "weight" or "bias". */
        private final String module, tensor;

        Part(String module, String tensor) {
            this.module = module;
            this.tensor = tensor;
        }

        /** The module in layer l, e.g. "model.layers.3.self_attn.q_proj" (what LoRA adapters are named after). */
        public String module(int layer) { return "model.layers." + layer + "." + module; }

        /** The tensor's Hugging Face name in layer l, e.g. "model.layers.3.self_attn.q_proj.weight". */
        public String name(int layer) { return module(layer) + "." + tensor; }

        /** A projection matrix (kept in the model's dtype), not a norm weight or a bias (always F32). */
        public boolean isMatrix() { return tensor.equals("weight") && !module.endsWith("layernorm"); }

        /** Whether a model of this config has the tensor: biases only with qkvBias / oBias. */
        public boolean in(ModelConfig cfg) {
            return switch (this) {
                case BQ, BK, BV -> cfg.qkvBias();
                case BO -> cfg.oBias();
                default -> true;
            };
        }

        /** The shape in a model of this config: [out, in] for a matrix, [n] for a bias or norm. */
        public int[] shape(ModelConfig cfg) {
            int c = cfg.hidden(), qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim(), f = cfg.intermediate();
            return switch (this) {
                case WQ -> new int[]{qd, c};
                case BQ -> new int[]{qd};
                case WK, WV -> new int[]{kvd, c};
                case BK, BV -> new int[]{kvd};
                case WO -> new int[]{c, qd};
                case BO, ATTN_NORM, MLP_NORM -> new int[]{c};
                case W_GATE, W_UP -> new int[]{f, c};
                case W_DOWN -> new int[]{c, f};
            };
        }

        /** This part of a layer (null when the layer has none). */
        public Tensor of(Layer l) {
            return switch (this) {
                case WQ -> l.wq();
                case BQ -> l.bq();
                case WK -> l.wk();
                case BK -> l.bk();
                case WV -> l.wv();
                case BV -> l.bv();
                case WO -> l.wo();
                case BO -> l.bo();
                case W_GATE -> l.wGate();
                case W_UP -> l.wUp();
                case W_DOWN -> l.wDown();
                case ATTN_NORM -> l.attnNorm();
                case MLP_NORM -> l.mlpNorm();
            };
        }

        /** The weight of the projection module {@code name}_proj, e.g. "gate" → W_GATE; null if there is none. */
        public static Part projection(String name) {
            for (Part p : values())
                if (p.isMatrix() && p.module.endsWith("." + name + "_proj")) return p;
            return null;
        }
    }
}
