#!/usr/bin/env python3
"""Forward and backward goldens for the ops in tensor/.../Ops.java, from torch and Hugging Face code.

An independent implementation for ReferenceOpsGoldenTest: every op is computed here with torch
(and, where HF has it, with transformers' own function: Qwen2RMSNorm, apply_rotary_pos_emb,
rotate_half, repeat_kv, LlamaRotaryEmbedding with llama3 rope scaling), on small seeded inputs,
and the gradients come from torch autograd of L = sum(dy * y) for a saved random dy.

Inputs are float32 (saved exactly, as %.9g); the math runs in float64 except where HF itself forces
float32 (RMSNorm's internals, the RoPE cos/sin table), so the goldens are HF's semantics to ~1e-7.

Run:  tools/.venv/bin/python tools/make_op_goldens.py
Writes tensor/src/test/resources/ops/op_goldens.json (a few tens of KB).
"""
import json
import math
import os

import torch
import torch.nn.functional as F
import transformers
from transformers import LlamaConfig, Qwen2Config
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
from transformers.models.qwen2.modeling_qwen2 import (Qwen2RMSNorm, Qwen2RotaryEmbedding,
                                                      apply_rotary_pos_emb, repeat_kv)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tensor", "src", "test",
                   "resources", "ops", "op_goldens.json")
F64 = torch.float64


def randn(seed, *shape, scale=1.0):
    """float32 N(0,1)*scale from a seeded generator, returned as float64 (exact)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale).to(F64)


def arr(t, digits=9):
    """A tensor as {"shape", "data"}: row-major flat list. %.9g round-trips float32 exactly."""
    t = t.detach().to(F64).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.{digits}g}") for v in t.reshape(-1).tolist()]}


def out(t):
    """A float64 result, with enough digits for a ~1e-9 comparison."""
    return arr(t, digits=12)


def leaf(t):
    return t.clone().requires_grad_(True)


def matmul_case():
    x, w, b = leaf(randn(1, 5, 7)), leaf(randn(2, 6, 7)), leaf(randn(3, 6))
    # a BF16-representable weight, so the Java side can run the same case with a BF16 tensor
    wb = leaf(randn(4, 6, 7).to(torch.bfloat16).to(F64))
    y = F.linear(x, w, b)
    yb = F.linear(x, wb, b)
    dy = randn(5, 5, 6)
    (y * dy).sum().backward()
    x2 = leaf(x.detach())
    (F.linear(x2, wb, None) * dy).sum().backward()
    return {"x": arr(x), "w": arr(w), "b": arr(b), "y": out(y), "dy": arr(dy),
            "dx": out(x.grad), "dw": out(w.grad), "db": out(b.grad),
            "w_bf16": arr(wb), "y_bf16": out(yb), "dx_bf16": out(x2.grad), "dw_bf16": out(wb.grad)}


def rmsnorm_case():
    t, c, eps = 4, 10, 1e-6
    x = randn(10, t, c)
    x[3] *= 1e-3                     # a small row, where eps matters
    x = leaf(x)
    norm = Qwen2RMSNorm(c, eps=eps).to(F64)
    with torch.no_grad():
        norm.weight.copy_(randn(11, c))
    y = norm(x)                       # HF: variance and x*rsqrt in float32, then weight * (...)
    dy = randn(12, t, c)
    (y * dy).sum().backward()
    return {"eps": eps, "x": arr(x), "weight": arr(norm.weight), "y": out(y), "dy": arr(dy),
            "dx": out(x.grad), "dweight": out(norm.weight.grad)}


def rope_case(name, config, rotary_cls, heads, pos, seed):
    """x[T,H,D] rotated at positions pos with the HF rotary table of `config`."""
    rotary = rotary_cls(config)
    d = config.head_dim
    t = len(pos)
    x = leaf(randn(seed, t, heads, d))
    position_ids = torch.tensor([pos])
    cos, sin = rotary(x, position_ids)                 # [1,T,D] each, float32 math, cast to x's dtype
    # HF layout is [B,H,T,D]; ours [T,H,D]: unsqueeze_dim=2 broadcasts over the head axis in [B,T,H,D].
    y, _ = apply_rotary_pos_emb(x[None], x[None], cos, sin, unsqueeze_dim=2)
    y = y[0]
    dy = randn(seed + 1, t, heads, d)
    (y * dy).sum().backward()
    inv_freq = rotary.inv_freq.to(torch.float32)
    return {"rope_parameters": dict(config.rope_parameters), "head_dim": d, "pos": pos,
            "inv_freq": arr(inv_freq), "attention_scaling": rotary.attention_scaling,
            "x": arr(x), "y": out(y), "dy": arr(dy), "dx": out(x.grad)}


def attention_case(t, h, kvh, d, start, s, seed):
    """Causal GQA attention of T queries at positions start.. over an S-row cache (S ≥ start+T)."""
    q, k, v = leaf(randn(seed, t, h, d)), leaf(randn(seed + 1, s, kvh, d)), leaf(randn(seed + 2, s, kvh, d))
    # HF layout [B, heads, len, D]; repeat_kv expands kv heads so query head i reads kv head i // (H/KVH).
    qh = q.permute(1, 0, 2)[None]
    kh = repeat_kv(k.permute(1, 0, 2)[None], h // kvh)
    vh = repeat_kv(v.permute(1, 0, 2)[None], h // kvh)
    qpos = torch.arange(start, start + t)[:, None]
    mask = torch.arange(s)[None, :] <= qpos            # [T,S] True = may attend
    o = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask)   # scale 1/sqrt(D)
    o = o[0].permute(1, 0, 2)                                          # [T,H,D]
    scores = (qh @ kh.transpose(-1, -2)) / math.sqrt(d)
    lse = torch.logsumexp(scores.masked_fill(~mask, float("-inf")), dim=-1)[0].permute(1, 0)   # [T,H]
    dout = randn(seed + 3, t, h, d)
    (o * dout).sum().backward()
    return {"start": start, "q": arr(q), "k": arr(k), "v": arr(v), "out": out(o), "lse": out(lse),
            "dout": arr(dout), "dq": out(q.grad), "dk": out(k.grad), "dv": out(v.grad)}


def swiglu_case():
    g = randn(60, 3, 7, scale=3.0)
    g[0, 0], g[0, 1], g[0, 2] = 20.0, -20.0, 0.0
    g, u = leaf(g), leaf(randn(61, 3, 7))
    hh = F.silu(g) * u
    dh = randn(62, 3, 7)
    (hh * dh).sum().backward()
    return {"gate": arr(g), "up": arr(u), "h": out(hh), "dh": arr(dh), "dgate": out(g.grad), "dup": out(u.grad)}


def embedding_case():
    table = leaf(randn(70, 10, 4))
    ids = [3, 9, 3, 0, 3, 7]
    o = F.embedding(torch.tensor(ids), table)
    dout = randn(71, len(ids), 4)
    (o * dout).sum().backward()
    return {"table": arr(table), "ids": ids, "out": out(o), "dout": arr(dout), "dtable": out(table.grad)}


def token_logprobs_case():
    t, vocab = 5, 13
    logits = randn(80, t, vocab, scale=2.0)
    logits[2] = logits[2] * 20 + 300      # large logits: needs the max shift
    logits = leaf(logits)
    targets = [0, 12, 5, 5, 7]
    logsm = F.log_softmax(logits, dim=-1)
    logp = logsm.gather(1, torch.tensor(targets)[:, None])[:, 0]
    lse = torch.logsumexp(logits, dim=-1)
    dlogp = randn(81, t)
    (logp * dlogp).sum().backward()
    return {"logits": arr(logits), "targets": targets, "logp": out(logp), "lse": out(lse),
            "dlogp": arr(dlogp), "dlogits": out(logits.grad)}


def cross_entropy_case():
    """Weighted token cross-entropy through an LM head, T > Ops.LM_HEAD_CHUNK (64) and not a multiple."""
    t, c, vocab = 70, 8, 16
    h, w = leaf(randn(90, t, c)), leaf(randn(91, vocab, c, scale=0.5))
    g = torch.Generator().manual_seed(92)
    targets = torch.randint(0, vocab, (t,), generator=g)
    weight = torch.rand(t, generator=g, dtype=torch.float32).to(F64)
    weight[:10] = 0.0                     # masked prompt tokens
    logp = F.log_softmax(h @ w.T, dim=-1).gather(1, targets[:, None])[:, 0]
    loss = -(weight * logp).sum() / weight.sum()
    loss.backward()
    return {"h": arr(h), "w_out": arr(w), "targets": targets.tolist(), "weight": arr(weight),
            "logp": out(logp), "loss": float(f"{loss.item():.15g}"), "dh": out(h.grad), "dw_out": out(w.grad)}


def main():
    llama3 = LlamaConfig(hidden_size=32, num_attention_heads=2, head_dim=16, max_position_embeddings=131072,
                         rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                          "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                          "original_max_position_embeddings": 8192})
    qwen = Qwen2Config(hidden_size=24, num_attention_heads=3, head_dim=8, max_position_embeddings=32768,
                       rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    goldens = {
        "generator": f"tools/make_op_goldens.py, torch {torch.__version__}, transformers {transformers.__version__}",
        "matmul": matmul_case(),
        "rmsnorm": rmsnorm_case(),
        # llama3 table: wavelengths on both sides of 2048 and 8192, so all three branches are used
        "rope_llama3": rope_case("llama3", llama3, LlamaRotaryEmbedding, 2, [3, 4, 5, 1000, 8191, 20000], 20),
        "rope_qwen2": rope_case("qwen2", qwen, Qwen2RotaryEmbedding, 3, [100, 101, 102, 103], 25),
        "attention_cache": attention_case(3, 4, 2, 8, 4, 9, 30),    # queries at 4..6, cache rows 0..8
        "attention_prefill": attention_case(5, 4, 2, 8, 0, 5, 40),
        "swiglu": swiglu_case(),
        "embedding": embedding_case(),
        "token_logprobs": token_logprobs_case(),
        "cross_entropy": cross_entropy_case(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(goldens, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    torch.use_deterministic_algorithms(True)
    main()
