"""Writes the Unicode-version data of the tokenizer:

  transformer/src/main/resources/dev/laconic/transformer/tokenizer/hf-unknown-code-points.txt
      the code points to which Hugging Face tokenizers' normalizers give no normalisation properties although
      the JDK's Unicode does (HF: the unicode-normalization-alignments 0.1.12 crate, Unicode 9 tables; JDK 25:
      Unicode 16): combining marks of Unicode 10-16 (HF: combining class 0) and the parts of their new canonical
      compositions. Tokenizer splits text at them and normalises the pieces between them with the JDK.
  transformer/src/test/resources/tokenizer/unicode_goldens.bin.gz
      HF `tokenizers` ids of every code point the JDK calls assigned, in UnicodeContexts' eight contexts, with the
      vendored DeepSeek-R1-Distill-Qwen tokenizer (no special tokens added).

Derived empirically, never from a Unicode version number: `java UnicodeContexts.java` prints every assigned
code point's eight contexts and the JDK's NFC of each; a code point goes into the table when HF's
normalizers.NFC() disagrees with the JDK on one of its contexts, and with it the code points of its JDK
decomposition that HF's NFC leaves alone in all their contexts (the new parts of a composition that HF does not
make: U+105C9 = U+105D2 U+0307 brings U+105D2, which HF does not know, not U+0307, which it does).

Golden format (gzip): for each code point in increasing order, varint(cp - previous cp), then for each context
varint(number of ids) and the ids, each as a zigzag varint of its difference from the id at the same place in the
previous code point's same context (0 where there was none).

Run: /tmp/hfvenv/bin/python tools/make_unicode_goldens.py   (needs `tokenizers` and a JDK 25 `java` on PATH or
in JAVA_HOME)"""
import gzip, os, pathlib, subprocess, sys

import tokenizers
from tokenizers import Tokenizer, normalizers

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTEXTS = ROOT / "transformer/src/test/java/dev/laconic/transformer/tokenizer/UnicodeContexts.java"
TABLE = ROOT / "transformer/src/main/resources/dev/laconic/transformer/tokenizer/hf-unknown-code-points.txt"
GOLDEN = ROOT / "transformer/src/test/resources/tokenizer/unicode_goldens.bin.gz"
VOCAB = ROOT / "transformer/src/test/resources/tokenizer/tokenizer.json.gz"
COUNT = 8


def text(h):
    return "".join(chr(int(x, 16)) for x in h.split(" ")) if h else ""


def varint(out, v):
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def main():
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if "JAVA_HOME" in os.environ else "java"
    lines = subprocess.run([java, str(CONTEXTS)], check=True, capture_output=True, text=True,
                           encoding="utf-8").stdout.splitlines()
    nfc = normalizers.NFC()
    cps, contexts, unknown, parts, hf_inert = [], [], set(), set(), set()
    for line in lines:
        f = line.split("\t")
        cp = int(f[0], 16)
        ctx = [text(h) for h in f[1:1 + COUNT]]
        jdk = [c if h == "=" else text(h) for c, h in zip(ctx, f[1 + COUNT:1 + 2 * COUNT])]
        hf = [nfc.normalize_str(c) for c in ctx]
        differs = [k for k in range(COUNT) if hf[k] != jdk[k]]
        if differs:
            unknown.add(cp)
            if 6 in differs:                       # context 6 holds the JDK decomposition: a composition HF lacks
                parts.update(ord(ch) for ch in ctx[6][1:])
        if hf == ctx:
            hf_inert.add(cp)
        cps.append(cp)
        contexts.append(ctx)
    # Of a composition HF does not make, the parts HF gives no properties at all (U+0307 of U+105C9 it knows)
    unknown |= parts & hf_inert
    print(f"{len(cps)} assigned code points, {len(unknown)} that HF's normalizer does not know", file=sys.stderr)

    ranges = []
    for cp in sorted(unknown):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    with open(TABLE, "w", encoding="utf-8") as t:
        t.write(f"# Code points that Hugging Face tokenizers {tokenizers.__version__} (unicode-normalization-alignments "
                "0.1.12, Unicode 9) normalises as\n# having no combining class, decomposition or composition, "
                f"although JDK 25 (Unicode 16) gives them one: {len(unknown)} code points.\n"
                "# Written by tools/make_unicode_goldens.py; one code point or range (hex) per line.\n")
        for a, b in ranges:
            t.write(f"{a:04X}\n" if a == b else f"{a:04X}..{b:04X}\n")

    tok = Tokenizer.from_str(gzip.decompress(VOCAB.read_bytes()).decode("utf-8"))
    flat = [c for ctx in contexts for c in ctx]
    encoded = tok.encode_batch(flat, add_special_tokens=False)
    out = bytearray()
    prev_cp, prev = 0, [[] for _ in range(COUNT)]
    for i, cp in enumerate(cps):
        varint(out, cp - prev_cp)
        prev_cp = cp
        for k in range(COUNT):
            ids = encoded[i * COUNT + k].ids
            varint(out, len(ids))
            for j, v in enumerate(ids):
                d = v - (prev[k][j] if j < len(prev[k]) else 0)
                varint(out, (d << 1) ^ (d >> 63) if d < 0 else d << 1)
            prev[k] = ids
    GOLDEN.write_bytes(gzip.compress(bytes(out), 9, mtime=0))
    print(f"{GOLDEN.name}: {len(out)} bytes, {GOLDEN.stat().st_size} gzipped", file=sys.stderr)


if __name__ == "__main__":
    main()
