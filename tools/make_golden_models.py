#!/usr/bin/env python3
"""Golden data for Laconic's transformer (issue 4) and training (issue 5) tests.

Writes tiny random Qwen2 and Llama checkpoints as Hugging Face directories plus what Hugging Face
transformers computes on them, into transformer/src/test/resources/golden/ (see the README.md
written there for every file and the precision a Java F32 implementation must reach).

Run (venv recipe in tools/README.md):  tools/.venv/bin/python tools/make_golden_models.py [--out DIR]

Everything is seeded and runs on one CPU thread, so a rerun rewrites byte-identical files.

Reference arithmetic. "float64" below means the F32 (or BF16) weights of the files widened exactly to
float64 and every activation in float64, including RoPE: stock transformers builds its cos/sin tables
in float32 even for a float64 model, so this script swaps in a float64 table (inv_freq recomputed in
float64 by the same formulas, checked against transformers' float32 table). "hf_f32" means stock
transformers in float32 with eager attention, recorded only to show how far float32 arithmetic is
from the float64 truth.
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys
import tempfile
import types
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import torch
import safetensors.torch
import transformers
import peft
import tokenizers
from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoModelForCausalLM, Qwen2ForCausalLM, LlamaForCausalLM

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "transformer" / "src" / "test" / "resources" / "golden"

# ---- shapes and ids shared by both models -----------------------------------------------------------
VOCAB = 384
# Added tokens at the end of the vocabulary, in the order of DeepSeek-R1-Distill's (ids 151643...).
ADDED = [("<｜end▁of▁sentence｜>", True), ("<｜User｜>", False), ("<｜Assistant｜>", False),
         ("<｜begin▁of▁sentence｜>", True), ("<think>", False), ("</think>", False)]
EOS, BOS = 378, 381
N_REGULAR = VOCAB - len(ADDED)  # 256 byte tokens + 122 merges
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")

SEQ_LENGTHS = (5, 17, 80)       # 80 > 64: crosses a typical attention tile of 64
LAST_LOGITS_SEQ = 1             # full last-position logits of sequences[1]
GREEDY_NEW = 20
MIN_GREEDY_MARGIN = 0.02        # top-1 minus top-2 logit (float64) at every greedy step
TEXT_PROMPTS = ["Once upon a time, the model", "def add(a, b):\n    return", "The answer is 42 because",
                "In the beginning there was", "Hello, world! This is"]

# Training goldens (issue 5).
# lr 1e-3, not 1e-2: at 1e-2 Adam moves every weight by ~7% of its scale per step, and its first steps,
# which are sign descent (m/sqrt(v) = g/|g|), turn float32 noise in near-zero gradient elements into
# 1e-3 weight differences: float32 curves then drift from float64 by up to 2e-4 (batch 2), above the
# tests' 2e-5. At 1e-3 float32 stays within ~2e-6 while skipping weight decay on norms moves >4e-4.
ADAMW = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
CLIP = 1.0
STEPS = 10
N_TRAIN = 20
LORA = dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"],
            lora_dropout=0.0, bias="none")
LORA_INIT_STD = 0.1
LORA_SEED = {"qwen2": 3003, "llama": 4004}

GEN_CONFIG = {"_from_model_config": True, "bos_token_id": BOS, "eos_token_id": EOS, "do_sample": True,
              "temperature": 0.6, "top_p": 0.95, "transformers_version": transformers.__version__}


def qwen2_config(torch_dtype):
    # Legacy (transformers 4.x) spelling, field for field like DeepSeek-R1-Distill-Qwen-1.5B's config.json,
    # including its quirk bos_token_id == eos id here and the real BOS in generation_config.json.
    return {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": EOS,
            "eos_token_id": EOS, "hidden_act": "silu", "hidden_size": 64, "initializer_range": 0.02,
            "intermediate_size": 160, "max_position_embeddings": 512, "max_window_layers": 2,
            "model_type": "qwen2", "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
            "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": False,
            "torch_dtype": torch_dtype, "transformers_version": transformers.__version__, "use_cache": True,
            "use_mrope": False, "use_sliding_window": False, "vocab_size": VOCAB}


def llama_config(torch_dtype):
    # Like DeepSeek-R1-Distill-Llama-8B's config.json, but tied embeddings and a small
    # original_max_position_embeddings so that llama3 scaling changes frequencies at head_dim 16.
    return {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
            "bos_token_id": BOS, "eos_token_id": EOS, "head_dim": 16, "hidden_act": "silu", "hidden_size": 64,
            "initializer_range": 0.02, "intermediate_size": 160, "max_position_embeddings": 512,
            "mlp_bias": False, "model_type": "llama", "num_attention_heads": 4, "num_hidden_layers": 2,
            "num_key_value_heads": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
            "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                             "original_max_position_embeddings": 64, "rope_type": "llama3"},
            "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": torch_dtype,
            "transformers_version": transformers.__version__, "use_cache": True, "vocab_size": VOCAB}


# name, config builder, model class, weight seed, checkpoints (dir, dtype, max_shard_size or None)
MODELS = [
    ("qwen2", qwen2_config, Qwen2ForCausalLM, 1001,
     [("qwen2-f32", torch.float32, None), ("qwen2-bf16-sharded", torch.bfloat16, "120KB")]),
    ("llama", llama_config, LlamaForCausalLM, 2002,
     [("llama-f32-sharded", torch.float32, "200KB"), ("llama-bf16", torch.bfloat16, None)]),
]
DTYPE_NAME = {torch.float32: ("F32", "float32"), torch.bfloat16: ("BF16", "bfloat16")}


def floats(t):
    return [float(x) for x in t.detach().double().reshape(-1).tolist()]


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---- tokenizer -----------------------------------------------------------------------------------------
TOKENIZER_CORPUS = """\
Laconic is a small library that runs and trains transformer language models on the Java virtual machine.
The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore; they're the best, isn't it?
def add(a, b):
    return a + b

for i in range(10):
    print(i * i)
The answer is 42, because 6 * 7 = 42 and 40 + 2 = 42. Let x = 3; then x^2 + 2x + 1 = 16.
Once upon a time there was a model that learned to think before it answered, and then it answered briefly.
In the beginning there was nothing; then there were tokens, and the tokens were merged by rank.
Hello, world! This is a test of the tokenizer: numbers 123 456 789, symbols #$%&, and spaces    here.
"""


def build_tokenizer():
    """Byte-level BPE shaped like Qwen2.5's (NFC, Split regex, ByteLevel, BOS post-processor), 384 ids."""
    tok = tokenizers.Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=N_REGULAR, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(TOKENIZER_CORPUS.splitlines(keepends=True) * 3, trainer)
    assert tok.get_vocab_size() == N_REGULAR, tok.get_vocab_size()
    for content, special in ADDED:
        tok.add_tokens([AddedToken(content, special=special, normalized=False, lstrip=False, rstrip=False,
                                   single_word=False)])
    assert tok.get_vocab_size() == VOCAB and tok.token_to_id(ADDED[0][0]) == EOS and tok.token_to_id(ADDED[3][0]) == BOS
    bos = ADDED[3][0]
    tok.post_processor = processors.TemplateProcessing(single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
                                                       special_tokens=[(bos, BOS)])
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": bos, "eos_token": ADDED[0][0],
              "pad_token": ADDED[0][0], "clean_up_tokenization_spaces": False, "legacy": True,
              "model_max_length": 512, "tokenizer_class": "PreTrainedTokenizerFast", "unk_token": None}
    return tok, config


# ---- float64 RoPE ---------------------------------------------------------------------------------------
def inv_freq_f64(cfg):
    """RoPE inverse frequencies in float64, the formulas of transformers' default and llama3 rope types."""
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / cfg["rope_theta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    rs = cfg.get("rope_scaling")
    if rs is None:
        return inv
    assert rs["rope_type"] == "llama3"
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    out = []
    for f in inv.tolist():
        wavelen = 2 * math.pi / f
        if wavelen < old / hi:
            out.append(f)                       # high frequency: unchanged
        elif wavelen > old / lo:
            out.append(f / factor)              # low frequency: divided by factor
        else:                                   # band between: interpolate
            smooth = (old / wavelen - lo) / (hi - lo)
            out.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(out, dtype=torch.float64)


def patch_rope_f64(model, cfg):
    """Make the rotary embedding build float64 cos/sin when the activations are float64."""
    inv = inv_freq_f64(cfg)
    n = 0
    for m in model.modules():
        if type(m).__name__.endswith("RotaryEmbedding"):
            assert m.attention_scaling == 1.0
            assert torch.allclose(m.inv_freq.double(), inv, rtol=1e-6, atol=0), (m.inv_freq, inv)
            stock = m.forward

            def forward(self, x, position_ids, _stock=stock):
                if x.dtype != torch.float64:
                    return _stock(x, position_ids)
                freqs = position_ids[:, :, None].double() * inv.to(x.device)[None, None, :]
                emb = torch.cat((freqs, freqs), dim=-1)
                return emb.cos(), emb.sin()

            m.forward = types.MethodType(forward, m)
            n += 1
    assert n == 1, n
    return model


# ---- checkpoints ----------------------------------------------------------------------------------------
def init_weights(model, seed, proj_std=0.15):
    """Larger-than-default random weights so that log-probs, attention and norms all matter.

    embeddings / lm_head ~ N(0, 0.3^2); q,k,v,o,gate,up,down ~ N(0, proj_std^2) (0.3 would make the
    attention softmax nearly one-hot at hidden 64); RMSNorm weights 1 + 0.1 N(0,1); biases 0.1 N(0,1).
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if name.endswith("norm.weight"):
                v = 1 + 0.1 * r
            elif name.endswith(".bias"):
                v = 0.1 * r
            elif "embed_tokens" in name or "lm_head" in name:
                v = 0.3 * r
            else:
                v = proj_std * r
            p.copy_(v.to(p.dtype))


def write_checkpoint(model, cfg_fn, dir_, dtype, shard, tok, tok_config):
    dir_.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        m = copy.deepcopy(model).to(dtype)  # Module.to works in place: keep the F32 original intact
        m.save_pretrained(tmp, max_shard_size=shard or "50GB")
        for f in sorted(os.listdir(tmp)):
            if f.endswith(".safetensors") or f.endswith(".safetensors.index.json"):
                shutil.copy(os.path.join(tmp, f), dir_ / f)
    write_json(dir_ / "config.json", cfg_fn(DTYPE_NAME[dtype][1]))
    write_json(dir_ / "generation_config.json", GEN_CONFIG)
    tok.save(str(dir_ / "tokenizer.json"))
    write_json(dir_ / "tokenizer_config.json", tok_config)
    files = sorted(f for f in os.listdir(dir_) if f.endswith(".safetensors"))
    assert (len(files) >= 2) == (shard is not None), files
    assert (dir_ / "model.safetensors.index.json").exists() == (shard is not None)
    return files


def load(dir_, dtype, cfg):
    m = AutoModelForCausalLM.from_pretrained(str(dir_), dtype=dtype, attn_implementation="eager")
    m.eval()
    return patch_rope_f64(m, cfg)


def check_loaded(model, reference, dtype):
    """The reloaded model holds exactly the in-memory weights (rounded to dtype), tied as intended."""
    ref = dict(reference.named_parameters())
    got = dict(model.named_parameters())
    assert ref.keys() == got.keys(), (ref.keys() ^ got.keys())
    for k, p in ref.items():
        assert torch.equal(got[k].double(), p.detach().to(dtype).double()), k
    assert (model.lm_head.weight is model.model.embed_tokens.weight) == (reference.lm_head.weight is reference.model.embed_tokens.weight)


# ---- inference expectations ----------------------------------------------------------------------------
@torch.no_grad()
def logits_of(model, ids):
    return model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]


def token_logprobs(logits, ids):
    """log p(ids[t] | ids[<t]) for t = 1..n-1, log_softmax in the logits' dtype."""
    lp = torch.log_softmax(logits[:-1], dim=-1)
    return lp.gather(1, torch.tensor(ids[1:])[:, None])[:, 0]


def greedy_manual(model, prompt, n):
    """Greedy decoding by full recompute in the model's dtype; returns ids and the smallest top-2 gap."""
    ids, margin = list(prompt), math.inf
    for _ in range(n):
        last = logits_of(model, ids)[-1].double()
        top = torch.topk(last, 2)
        margin = min(margin, float(top.values[0] - top.values[1]))
        ids.append(int(top.indices[0]))
    return ids[len(prompt):], margin


@torch.no_grad()
def greedy_generate(model, prompt, n):
    inp = torch.tensor([prompt])
    out = model.generate(inp, attention_mask=torch.ones_like(inp), max_new_tokens=n, min_new_tokens=0,
                         do_sample=False, temperature=None, top_p=None, top_k=None, pad_token_id=EOS)
    return out[0, len(prompt):].tolist()


def pick_greedy_prompts(model64, tok, seed):
    """One random-id prompt and one text prompt whose 20 greedy tokens have a clear argmax and no EOS."""
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for _ in range(50):
        prompt = [BOS] + torch.randint(0, N_REGULAR, (7,), generator=g).tolist()
        ids, margin = greedy_manual(model64, prompt, GREEDY_NEW)
        if margin >= MIN_GREEDY_MARGIN and EOS not in ids:
            chosen.append({"prompt_ids": prompt}); break
    for text in TEXT_PROMPTS:
        prompt = tok.encode(text).ids
        ids, margin = greedy_manual(model64, prompt, GREEDY_NEW)
        if margin >= MIN_GREEDY_MARGIN and EOS not in ids:
            chosen.append({"prompt_text": text, "prompt_ids": prompt}); break
    assert len(chosen) == 2, "no greedy prompt with a clear margin; change the seed"
    return chosen


def inference_expectations(name, cfg_fn, cls, seed, ckpts, out, tok, tok_config):
    cfg = cfg_fn("float32")
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        write_json(Path(tmp) / "config.json", cfg)
        config = transformers.AutoConfig.from_pretrained(tmp)
    assert all(t == "full_attention" for t in getattr(config, "layer_types", ["full_attention"]))
    model = cls(config).eval()
    init_weights(model, seed)

    g = torch.Generator().manual_seed(seed + 1)
    sequences = [torch.randint(0, VOCAB, (n,), generator=g).tolist() for n in SEQ_LENGTHS]
    result = {"model": name, "config": cfg, "inv_freq_f64": floats(inv_freq_f64(cfg)),
              "inv_freq_hf_f32": floats(model.model.rotary_emb.inv_freq), "sequences": sequences,
              "checkpoints": {}}
    greedy_prompts = None
    for dir_name, dtype, shard in ckpts:
        files = write_checkpoint(model, cfg_fn, out / dir_name, dtype, shard, tok, tok_config)
        m64 = load(out / dir_name, torch.float64, cfg)
        m32 = load(out / dir_name, torch.float32, cfg)
        check_loaded(m64, model, dtype)
        check_loaded(m32, model, dtype)
        lp64, lp32, stock = [], [], []
        for ids in sequences:
            lg64 = logits_of(m64, ids)
            lp64.append(token_logprobs(lg64, ids))
            lp32.append(token_logprobs(logits_of(m32, ids), ids))
        err32 = max(float((a - b.double()).abs().max()) for a, b in zip(lp64, lp32))
        # stock transformers float64 (float32 RoPE tables) for comparison
        stock_m = AutoModelForCausalLM.from_pretrained(str(out / dir_name), dtype=torch.float64,
                                                       attn_implementation="eager").eval()
        err_rope = max(float((token_logprobs(logits_of(stock_m, ids), ids) - a).abs().max())
                       for ids, a in zip(sequences, lp64))
        last = logits_of(m64, sequences[LAST_LOGITS_SEQ])[-1]
        last_err32 = float((logits_of(m32, sequences[LAST_LOGITS_SEQ])[-1].double() - last).abs().max())
        if greedy_prompts is None:
            greedy_prompts = pick_greedy_prompts(m64, tok, seed + 2)
        greedy = []
        for gp in greedy_prompts:
            ids64, margin = greedy_manual(m64, gp["prompt_ids"], GREEDY_NEW)
            gen32 = greedy_generate(m32, gp["prompt_ids"], GREEDY_NEW)
            gen64 = greedy_generate(m64, gp["prompt_ids"], GREEDY_NEW)
            assert ids64 == gen32 == gen64, (dir_name, ids64, gen32, gen64)
            assert margin >= MIN_GREEDY_MARGIN and EOS not in ids64, (dir_name, margin)
            greedy.append({**gp, "max_new_tokens": GREEDY_NEW, "ids": ids64, "min_top2_margin": margin,
                           "text": tok.decode(ids64, skip_special_tokens=False)})
        result["checkpoints"][dir_name] = {
            "dtype": DTYPE_NAME[dtype][0], "sharded": shard is not None, "files": files,
            "logprobs": [floats(x) for x in lp64],
            "logprobs_hf_f32": [floats(x) for x in lp32],
            "max_abs_diff_hf_f32": err32,
            "max_abs_diff_stock_hf_f64_rope_f32": err_rope,
            "last_logits": {"sequence": LAST_LOGITS_SEQ, "logits": floats(last), "max_abs_diff_hf_f32": last_err32},
            "greedy": greedy}
        print(f"{dir_name}: files {files}, |hf_f32 - f64| {err32:.2e}, |stock rope - f64| {err_rope:.2e}, "
              f"greedy margins {[round(x['min_top2_margin'], 3) for x in greedy]}", flush=True)
    write_json(out / f"{name}.json", result)
    return model


# ---- training expectations -----------------------------------------------------------------------------
def train_examples(seed):
    """SFT examples of random ids: BOS + prompt (mask 0), response + EOS (mask 1).

    Twenty distinct examples, so that in 10 steps of batch 1 or 2 every step scores examples the model
    has not been trained on yet: the losses stay O(1) instead of collapsing to memorised ~1e-3, where
    float32 noise alone would exceed the 2e-5 relative tolerance.
    """
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(N_TRAIN):
        prompt_len = int(torch.randint(4, 14, (1,), generator=g))
        resp_len = int(torch.randint(8, 24, (1,), generator=g))
        ids = [BOS] + torch.randint(0, N_REGULAR, (prompt_len + resp_len,), generator=g).tolist() + [EOS]
        mask = [0] * (1 + prompt_len) + [1] * (resp_len + 1)
        out.append({"ids": ids, "loss_mask": mask})
    return out


def masked_nll(model, examples):
    """Σ_examples Σ_{t≥1} mask[t]·(−log p(ids[t]|ids[<t])) / Σ mask[t]  (mask[0] is never used)."""
    num, den = 0, 0
    for ex in examples:
        logits = model(input_ids=torch.tensor([ex["ids"]]), use_cache=False).logits[0]
        lp = token_logprobs(logits, ex["ids"])
        w = torch.tensor(ex["loss_mask"][1:], dtype=lp.dtype)
        num = num - (w * lp).sum()
        den += float(w.sum())
    return num / den


def trainable(model):
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def gradients(model, example):
    model.zero_grad(set_to_none=True)
    loss = masked_nll(model, [example])
    loss.backward()
    return float(loss.detach()), {n: p.grad.detach().clone() for n, p in trainable(model)}


def is_norm_or_bias(n):
    return n.endswith("norm.weight") or n.endswith(".bias")


def adamw_run(model, examples, batch, watch, decay_norms=True, clip=True):
    """torch.optim.AdamW + clip_grad_norm_, losses before each update; examples cycled in file order.

    decay_norms=False / clip=False are deliberate bugs, run only to show how much they move the curve."""
    params = [p for _, p in trainable(model)]
    if decay_norms:
        opt = torch.optim.AdamW(params, **ADAMW)
    else:
        groups = [{"params": [p for n, p in trainable(model) if not is_norm_or_bias(n)]},
                  {"params": [p for n, p in trainable(model) if is_norm_or_bias(n)], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, **ADAMW)
    initial = {n: p.detach().clone() for n, p in trainable(model)}
    losses, norms = [], []
    for step in range(STEPS):
        chosen = [examples[(step * batch + i) % len(examples)] for i in range(batch)]
        opt.zero_grad(set_to_none=True)
        loss = masked_nll(model, chosen)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, CLIP if clip else math.inf)))
        losses.append(float(loss.detach()))
        opt.step()
    with torch.no_grad():  # what an 11th step would report: the loss after the 10th update
        after = float(masked_nll(model, [examples[(STEPS * batch + i) % len(examples)] for i in range(batch)]))
    named = dict(trainable(model))
    return {"batch": batch, "losses": losses, "grad_norms_before_clip": norms,
            "loss_after_last_step": after,
            "param_norms_final": {n: float(p.detach().norm()) for n, p in named.items()},
            "param_delta_norms": {n: float((p.detach() - initial[n]).norm()) for n, p in named.items()},
            "final_params": {n: floats(named[n]) for n in watch}}


def rel_err(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm())


def curve_err(c32, c64):
    return max(abs(a - b) / abs(b) for a, b in zip(c32["losses"], c64["losses"]))


def save_f32(tensors, path):
    safetensors.torch.save_file({k: v.detach().float().contiguous() for k, v in tensors.items()}, str(path),
                                metadata={"format": "pt"})  # one key: safetensors orders keys at random


def lora_model(base_dir, dtype, cfg, adapter_dir):
    base = load(base_dir, dtype, cfg)
    pm = peft.PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=True).to(dtype)
    pm.train(False)
    return pm


def peft_name(n):
    return n.replace(".default", "")


def training_expectations(name, cfg_fn, ckpts, out, examples, watch):
    cfg = cfg_fn("float32")
    f32_dir = out / next(d for d, dt, _ in ckpts if dt == torch.float32)
    bf16_dir = out / next(d for d, dt, _ in ckpts if dt == torch.bfloat16)
    res = {"checkpoint": f32_dir.name, "data": "train_data.jsonl"}

    # full-model gradients on example 0
    m64, m32 = load(f32_dir, torch.float64, cfg), load(f32_dir, torch.float32, cfg)
    loss64, g64 = gradients(m64, examples[0])
    loss32, g32 = gradients(m32, examples[0])
    save_f32(g64, out / f"{name}-grads.safetensors")
    res["gradients"] = {
        "example": 0, "loss": loss64, "file": f"{name}-grads.safetensors", "tensors": len(g64),
        "grad_norm": float(torch.sqrt(sum((g ** 2).sum() for g in g64.values()))),
        "grad_norms": {n: float(g.norm()) for n, g in g64.items()},
        "hf_f32_loss_rel_err": abs(loss32 - loss64) / loss64,
        "hf_f32_max_tensor_rel_err": max(rel_err(g32[n], g64[n]) for n in g64)}

    # AdamW curves
    res["adamw"] = {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in ADAMW.items()},
                    "clip_grad_norm": CLIP, "steps": STEPS, "schedule": "constant"}
    for batch in (1, 2):
        c64 = adamw_run(load(f32_dir, torch.float64, cfg), examples, batch, watch)
        c32 = adamw_run(load(f32_dir, torch.float32, cfg), examples, batch, [])
        c64["hf_f32_max_loss_rel_err"] = curve_err(c32, c64)
        if batch == 1:  # what a test with 2e-5 relative tolerance must be able to see
            c64["bug_max_loss_rel_change"] = {
                "no_weight_decay_on_norms_and_biases": curve_err(
                    adamw_run(load(f32_dir, torch.float64, cfg), examples, 1, [], decay_norms=False), c64),
                "no_grad_clipping": curve_err(
                    adamw_run(load(f32_dir, torch.float64, cfg), examples, 1, [], clip=False), c64)}
        res["adamw"][f"batch{batch}"] = c64
        print(f"{name} adamw batch {batch}: losses {[round(x, 4) for x in c64['losses']]}, "
              f"grad norms {[round(x, 2) for x in c64['grad_norms_before_clip']]}, "
              f"f32 rel err {c64['hf_f32_max_loss_rel_err']:.1e}, bugs {c64.get('bug_max_loss_rel_change')}", flush=True)

    # LoRA: adapter with seeded non-zero A and B, saved the PEFT way
    adapter_dir = out / f"{name}-lora"
    base = load(f32_dir, torch.float32, cfg)
    pm = peft.get_peft_model(base, peft.LoraConfig(task_type="CAUSAL_LM", **LORA))
    g = torch.Generator().manual_seed(LORA_SEED[name])
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.copy_((LORA_INIT_STD * torch.randn(p.shape, generator=g, dtype=torch.float64)).float())
    with tempfile.TemporaryDirectory() as tmp:
        pm.save_pretrained(tmp)
        adapter_dir.mkdir()
        shutil.copy(os.path.join(tmp, "adapter_model.safetensors"), adapter_dir / "adapter_model.safetensors")
        ac = json.loads(Path(tmp, "adapter_config.json").read_text())
        ac["base_model_name_or_path"] = f32_dir.name  # the sibling directory, not this machine's path
        ac["target_modules"] = sorted(ac["target_modules"])  # a set in peft: random order
        write_json(adapter_dir / "adapter_config.json", ac)
    lora64 = lora_model(f32_dir, torch.float64, cfg, adapter_dir)
    lora32 = lora_model(f32_dir, torch.float32, cfg, adapter_dir)
    saved = safetensors.torch.load_file(str(adapter_dir / "adapter_model.safetensors"))
    names = {peft_name(n) for n, _ in trainable(lora64)}
    assert names == saved.keys(), names ^ saved.keys()
    seqs = json.loads((out / f"{name}.json").read_text())["sequences"]
    with torch.no_grad():
        lp = [token_logprobs(logits_of(lora64, s), s) for s in seqs]
        base_lp = json.loads((out / f"{name}.json").read_text())["checkpoints"][f32_dir.name]["logprobs"]
        effect = max(float((a - torch.tensor(b, dtype=torch.float64)).abs().max()) for a, b in zip(lp, base_lp))
        lora_bf16 = lora_model(bf16_dir, torch.float64, cfg, adapter_dir)
        lp_bf16 = [token_logprobs(logits_of(lora_bf16, s), s) for s in seqs]
    l64, lg64 = gradients(lora64, examples[0])
    l32, lg32 = gradients(lora32, examples[0])
    lg64 = {peft_name(n): v for n, v in lg64.items()}
    lg32 = {peft_name(n): v for n, v in lg32.items()}
    save_f32(lg64, out / f"{name}-lora-grads.safetensors")
    c64 = adamw_run(lora_model(f32_dir, torch.float64, cfg, adapter_dir), examples, 1, [])
    c32 = adamw_run(lora_model(f32_dir, torch.float32, cfg, adapter_dir), examples, 1, [])
    c64["param_norms_final"] = {peft_name(n): v for n, v in c64["param_norms_final"].items()}
    c64["param_delta_norms"] = {peft_name(n): v for n, v in c64["param_delta_norms"].items()}
    c64["hf_f32_max_loss_rel_err"] = curve_err(c32, c64)
    res["lora"] = {
        "adapter_dir": adapter_dir.name, "base_checkpoint": f32_dir.name, **LORA,
        "scaling": LORA["lora_alpha"] / LORA["r"], "init": f"lora_A and lora_B ~ N(0, {LORA_INIT_STD}^2), seeded",
        "logprobs": [floats(x) for x in lp], "max_abs_change_vs_base": effect,
        "logprobs_bf16_base": {"base_checkpoint": bf16_dir.name, "logprobs": [floats(x) for x in lp_bf16]},
        "gradients": {"example": 0, "loss": l64, "file": f"{name}-lora-grads.safetensors", "tensors": len(lg64),
                      "grad_norms": {n: float(v.norm()) for n, v in lg64.items()},
                      "hf_f32_loss_rel_err": abs(l32 - l64) / l64,
                      "hf_f32_max_tensor_rel_err": max(rel_err(lg32[n], lg64[n]) for n in lg64)},
        "adamw_batch1": c64}
    print(f"{name}: loss {loss64:.6f}, grad f32 rel err {res['gradients']['hf_f32_max_tensor_rel_err']:.1e}; "
          f"lora loss {l64:.6f}, lora effect {effect:.3f}, lora grad f32 rel err "
          f"{res['lora']['gradients']['hf_f32_max_tensor_rel_err']:.1e}", flush=True)
    write_json(out / f"{name}-train.json", res)


WATCH = {"qwen2": ["model.norm.weight", "model.layers.1.input_layernorm.weight", "model.layers.0.self_attn.k_proj.bias"],
         "llama": ["model.norm.weight", "model.layers.1.post_attention_layernorm.weight"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    out = args.out
    readme = (out / "README.md").read_text(encoding="utf-8") if (out / "README.md").exists() else None
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if readme is not None:
        (out / "README.md").write_text(readme, encoding="utf-8")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, "
          f"tokenizers {tokenizers.__version__}", flush=True)

    tok, tok_config = build_tokenizer()
    examples = train_examples(5005)
    with open(out / "train_data.jsonl", "w", encoding="utf-8") as f:
        for ex in examples:
            f.write(json.dumps(ex) + "\n")
    for name, cfg_fn, cls, seed, ckpts in MODELS:
        inference_expectations(name, cfg_fn, cls, seed, ckpts, out, tok, tok_config)
        training_expectations(name, cfg_fn, ckpts, out, examples, WATCH[name])
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"total {total / 1e6:.2f} MB in {out}")


if __name__ == "__main__":
    sys.exit(main())
