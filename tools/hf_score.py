#!/usr/bin/env python3
"""Score token ids with Hugging Face transformers, in the shape of `./laconic score`.

    tools/.venv/bin/python tools/hf_score.py --model DIR [--adapter PEFT_DIR] --in FILE.jsonl [--dtype float64|float32]

Each input line {"ids": [...]} gives one output line {"logprobs": [...]} holding log p(ids[t] | ids[<t])
for t = 1 .. n-1. Used to check directories that Laconic exports (issue 5: merged models and PEFT
adapters must give the same log-probs in transformers as in `./laconic score`). float64 (default)
widens the file's weights and computes everything, RoPE included, in float64 (as the goldens).
"""
import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_golden_models import load, logits_of, token_logprobs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--adapter", type=Path, help="PEFT adapter directory applied on top of --model")
    ap.add_argument("--in", dest="inp", required=True, type=Path)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = ap.parse_args()
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    dtype = getattr(torch, args.dtype)
    cfg = json.loads((args.model / "config.json").read_text())
    model = load(args.model, dtype, cfg)
    if args.adapter:
        import peft
        model = peft.PeftModel.from_pretrained(model, str(args.adapter)).to(dtype).eval()
    with open(args.inp, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                ids = json.loads(line)["ids"]
                lp = token_logprobs(logits_of(model, ids), ids)
                print(json.dumps({"logprobs": [float(x) for x in lp.double().tolist()]}))


if __name__ == "__main__":
    main()
