"""The PyTorch peer of `./laconic bench train`: training steps of a Hugging Face model with random weights.

Reads one JSON object on stdin:
  {"mode": "full" | "lora", "dtype": "f32" | "bf16", "config": {...config.json...},
   "threads": N, "seed": S, "seq": T, "batch": B, "steps": K, "warmup_steps": W, "warmup_seq": TW,
   "lr": 1e-5, "rank": 16, "alpha": 32, "targets": ["q_proj", ...], "checkpointing": false}
and prints one JSON object on stdout:
  {"tokens_per_s", "step_seconds": [...], "tokens_per_step", "peak_rss_bytes", "loss", "info": {...}}

One step, as Laconic's side times it:
  loss = mean cross-entropy of the next token (model(input_ids, labels=input_ids));  loss.backward()
  torch.optim.AdamW step (lr, betas (0.9, 0.999), eps 1e-8, weight decay 0);  zero_grad
  full: every parameter trains, the model in F32;
  lora: peft LoRA (r, alpha, dropout 0) on the targets; the base in dtype (bf16 or f32), frozen.
The model is built straight in its dtype (torch default dtype set before construction), so the peak
RSS (VmHWM) never holds an F32 copy of a bf16 model. torch.set_num_threads(N) and the
OMP/MKL variables (set by the caller) give PyTorch the same threads as Laconic; the caller also
removes OPENBLAS_CORETYPE from the environment.
"""
import json
import resource
import sys
import time


def peak_rss_bytes():
    """VmHWM of this process. Not ru_maxrss: Linux carries the high-water mark of the image that exec
    replaced into it, and a JVM starts children through a helper sharing its memory, so ru_maxrss would
    report the parent JVM's peak when that is larger."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def log(msg):
    print("torch peer: " + msg, file=sys.stderr, flush=True)


def main():
    req = json.load(sys.stdin)
    try:
        import torch
        import transformers
        from transformers import AutoConfig, AutoModelForCausalLM
    except ImportError as e:
        print("torch/transformers missing for " + sys.executable + ": " + str(e), file=sys.stderr)
        return 3
    peft = None
    if req["mode"] == "lora":
        try:
            import peft
        except ImportError as e:
            print("peft missing for " + sys.executable + ": " + str(e), file=sys.stderr)
            return 3

    threads = int(req["threads"])
    torch.set_num_threads(threads)
    torch.manual_seed(int(req["seed"]))
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[req["dtype"]]

    cfg_dict = dict(req["config"])
    model_type = cfg_dict.pop("model_type", "qwen2")
    for k in ("architectures", "torch_dtype", "dtype", "transformers_version"):
        cfg_dict.pop(k, None)
    cfg_dict["use_cache"] = False
    config = AutoConfig.for_model(model_type, **cfg_dict)

    t0 = time.perf_counter()
    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = AutoModelForCausalLM.from_config(config)
    finally:
        torch.set_default_dtype(saved)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    log("built %s (%.1f M parameters, %s) in %.1f s" % (type(model).__name__, n_params / 1e6, req["dtype"],
                                                        time.perf_counter() - t0))

    if req["mode"] == "lora":
        lcfg = peft.LoraConfig(r=int(req["rank"]), lora_alpha=float(req["alpha"]), lora_dropout=0.0,
                               target_modules=list(req["targets"]), bias="none", task_type="CAUSAL_LM")
        model = peft.get_peft_model(model, lcfg)
    if req.get("checkpointing"):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if req["mode"] == "lora":
            model.enable_input_require_grads()

    trainable = [p for p in model.parameters() if p.requires_grad]
    adamw = dict(lr=float(req.get("lr", 1e-5)), betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    try:
        opt = torch.optim.AdamW(trainable, fused=True, **adamw)   # PyTorch's fastest CPU AdamW
        opt_impl = "fused"
    except (RuntimeError, TypeError, ValueError):
        opt = torch.optim.AdamW(trainable, **adamw)
        opt_impl = "default"

    vocab = config.vocab_size
    gen = torch.Generator().manual_seed(int(req["seed"]))

    def step(seq, batch):
        ids = torch.randint(0, vocab, (batch, seq), generator=gen)
        t = time.perf_counter()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t, float(out.loss.detach())

    seq, batch = int(req["seq"]), int(req["batch"])
    for i in range(int(req["warmup_steps"])):
        sec, _ = step(int(req.get("warmup_seq", seq)), batch)
        log("warm-up step %d: %.2f s" % (i + 1, sec))
    seconds, loss = [], None
    for i in range(int(req["steps"])):
        sec, loss = step(seq, batch)
        seconds.append(sec)
        log("step %d: %.2f s (%.1f tokens/s)" % (i + 1, sec, seq * batch / sec))

    info = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__ if peft is not None else None,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "adamw": opt_impl,
        "parameters": n_params,
        "trainable_parameters": sum(p.numel() for p in trainable),
        "gradient_checkpointing": bool(req.get("checkpointing")),
        "python": sys.executable,
    }
    tokens = seq * batch
    json.dump({"tokens_per_s": tokens * len(seconds) / sum(seconds), "step_seconds": seconds,
               "tokens_per_step": tokens, "loss": loss,
               "peak_rss_bytes": peak_rss_bytes(),
               "info": info}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
