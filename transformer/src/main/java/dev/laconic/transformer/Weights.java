package dev.laconic.transformer;

import dev.laconic.tensor.Tensor;

/**
 * The parameters of a Qwen2/Llama decoder, under their Hugging Face names.
 * Matrices may be BF16/F16 views of a memory-mapped checkpoint or F32 (heap); norms and biases are F32.
 *
 * @param embed     model.embed_tokens.weight [V, C]
 * @param finalNorm model.norm.weight [C]
 * @param lmHead    lm_head.weight [V, C] (the same tensor as embed when tied)
 */
public record Weights(Tensor embed, Layer[] layers, Tensor finalNorm, Tensor lmHead) {

    /**
     * One decoder layer, model.layers.{i}.*.
     *
     * @param attnNorm input_layernorm.weight [C]
     * @param wq       self_attn.q_proj.weight [H·D, C]; bq its bias [H·D] or null
     * @param wk       self_attn.k_proj.weight [KVH·D, C]; bk [KVH·D] or null
     * @param wv       self_attn.v_proj.weight [KVH·D, C]; bv [KVH·D] or null
     * @param wo       self_attn.o_proj.weight [C, H·D]; bo [C] or null
     * @param mlpNorm  post_attention_layernorm.weight [C]
     * @param wGate    mlp.gate_proj.weight [F, C]
     * @param wUp      mlp.up_proj.weight [F, C]
     * @param wDown    mlp.down_proj.weight [C, F]
     */
    public record Layer(Tensor attnNorm, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                        Tensor wo, Tensor bo, Tensor mlpNorm, Tensor wGate, Tensor wUp, Tensor wDown) {}
}
