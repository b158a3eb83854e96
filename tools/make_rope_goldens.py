"""Writes transformer/src/test/resources/config/rope_goldens.json: RoPE inverse-frequency tables
computed by Hugging Face transformers' own rope initialisation (default and llama3 scaling).
Run: tools/.venv/bin/python tools/make_rope_goldens.py"""
import json, pathlib
import transformers
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

cases = []
for name, kw in [
    ("default_theta10000_d128", dict(rope_theta=10000.0, hidden_size=1536, num_attention_heads=12)),
    ("default_theta1e6_d64", dict(rope_theta=1e6, hidden_size=512, num_attention_heads=8)),
    ("llama3_8b", dict(rope_theta=500000.0, hidden_size=4096, num_attention_heads=32,
                       rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                         high_freq_factor=4.0, original_max_position_embeddings=8192))),
    ("llama3_tiny", dict(rope_theta=10000.0, hidden_size=64, num_attention_heads=4,
                         rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                           high_freq_factor=4.0, original_max_position_embeddings=64))),
]:
    cfg = LlamaConfig(**kw)
    rope_type = cfg.rope_parameters.get("rope_type", "default")
    if rope_type == "default":  # transformers' LlamaRotaryEmbedding.compute_default_rope_parameters
        head_dim = cfg.hidden_size // cfg.num_attention_heads
        import torch
        theta = cfg.rope_parameters["rope_theta"]
        inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).to(dtype=torch.float) / head_dim))
    else:
        inv, _ = ROPE_INIT_FUNCTIONS[rope_type](cfg, "cpu")
    cases.append({"name": name, "config": json.loads(cfg.to_json_string()) | {"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2},
                  "inv_freq": [float(x) for x in inv.tolist()]})
out = pathlib.Path(__file__).resolve().parent.parent / "transformer/src/test/resources/config/rope_goldens.json"
out.write_text(json.dumps({"transformers": transformers.__version__, "cases": cases}, indent=1))
print("wrote", out)
