"""Writes app/src/test/resources/issue21/: one file per reproducer of issue 21 (hostile files), read by
Issue21CorpusTest. Run from the repository root: python3 tools/make_issue21_corpus.py (no dependencies)."""
import json, os, struct

OUT = "app/src/test/resources/issue21"
GOLDEN = "transformer/src/test/resources/golden/qwen2-f32"
os.makedirs(OUT, exist_ok=True)


def safetensors(name, header: str, data=b""):
    h = header.encode()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


one = '"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
# item 1: Jackson's stream limits (were a NullPointerException): the long name loads (Hugging Face loads it too)
safetensors("loads-name-60000-chars.safetensors", '{"' + "n" * 60000 + '":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4)
safetensors("nesting-1000.safetensors", '{"__x__":' + "[" * 1000 + "]" * 1000 + "," + one + "}", b"\0" * 4)
safetensors("nesting-128.safetensors", '{"__x__":' + "[" * 127 + "]" * 127 + "," + one + "}", b"\0" * 4)
safetensors("number-1001-digits.safetensors", '{"t":{"dtype":"F32","shape":[' + "1" * 1001 + '],"data_offsets":[0,4]}}', b"\0" * 4)
# item 2: a shape whose product overflows and then meets a 0 (was ArithmeticException on read)
safetensors("shape-overflow-then-0.safetensors", '{"t":{"dtype":"F32","shape":[2147483647,2147483647,2147483647,0],"data_offsets":[0,0]}}')

tok = json.load(open(os.path.join(GOLDEN, "tokenizer.json"), encoding="utf-8"))
# item 5: corrupt vocab ids (were OutOfMemoryError or an index exception)
for label, bad in [("1e9", 10 ** 9), ("2p31m1", 2 ** 31 - 1), ("minus5", -5)]:
    t = json.loads(json.dumps(tok))
    first = next(iter(t["model"]["vocab"]))
    t["model"]["vocab"][first] = bad
    json.dump(t, open(os.path.join(OUT, "tokenizer-id-" + label + ".json"), "w", encoding="utf-8"), ensure_ascii=False)
# item 8: truncated tokenizer.json / config.json (were two lines of Jackson's noise without the file); a size of 0
text = open(os.path.join(GOLDEN, "tokenizer.json"), encoding="utf-8").read()
open(os.path.join(OUT, "tokenizer-truncated.json"), "w", encoding="utf-8").write(text[: len(text) // 2])
cfg = open(os.path.join(GOLDEN, "config.json"), encoding="utf-8").read()
open(os.path.join(OUT, "config-truncated.json"), "w", encoding="utf-8").write(cfg[: len(cfg) // 2])
c = json.loads(cfg)
c["num_hidden_layers"] = 0
json.dump(c, open(os.path.join(OUT, "config-num-hidden-layers-0.json"), "w"), indent=2)
# item 9: trailing garbage after a JSONL object (was accepted); item 7's corrupt middle line of metrics.jsonl
open(os.path.join(OUT, "data-trailing-garbage.jsonl"), "w").write('{"text": "a"}\n{"text": "b"} x\n')
open(os.path.join(OUT, "data-middle-line-corrupt.jsonl"), "w").write('{"text": "a"}\n{"text": "b\n{"text": "c"}\n')
