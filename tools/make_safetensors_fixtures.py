#!/usr/bin/env python3
"""Golden data for tensor/'s safetensors reader/writer and BF16/F16 conversions, made with Hugging Face
safetensors and torch (independent of our Java code).

Writes into tensor/src/test/resources/safetensors/:
  hf_reference.safetensors  written by safetensors.torch.save_file: F32, BF16, F16, I32 tensors (NaN, Inf,
                            -0.0, subnormals, rounding ties), a 0-d and an empty tensor, metadata
  hf_reference.json         what that file holds, per tensor: dtype, shape, raw element bits, values as floats
  dtype_goldens.json        torch's f32 -> bf16/f16 bits for a table of edge-case inputs, its bf16/f16 -> f32
                            values, and SHA-256 digests of torch's conversions over large input sets that the
                            Java test regenerates (all 65536 16-bit patterns; ties at every exponent; random bits)

Then, if laconic_written.safetensors exists there (written by OUR SafetensorsWriter: run
`SafetensorsWriterTest` with -Dlaconic.regenerate=true), loads it with Hugging Face's safetensors and checks
that it holds exactly hf_reference's tensors and metadata, with an 8-byte aligned header and sorted names.

Run: tools/.venv/bin/python tools/make_safetensors_fixtures.py            (regenerate + verify)
     tools/.venv/bin/python tools/make_safetensors_fixtures.py --verify   (only verify our writer's file)
"""
import hashlib
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent.parent / "tensor/src/test/resources/safetensors"

# ---- the reference file -------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
F32_MAX = 3.4028234663852886e38
BF16_MAX = 3.3895313892515355e38


def reference_tensors():
    g = torch.Generator().manual_seed(7)
    return {
        "f32": torch.tensor([[0.0, -0.0, 1.5, -2.25],
                             [NAN, INF, -INF, F32_MAX],
                             [1.4e-45, 1.1754943508222875e-38, 0.1, -1 / 3]], dtype=torch.float32),
        # torch rounds these to bf16: 1+2^-8 is a tie (-> 1.0), 1+3*2^-8 a tie (-> up to even), 3.4e38 overflows to inf
        "bf16": torch.tensor([[1.0, 1.00390625, 1.01171875, -2.5, BF16_MAX],
                              [3.4e38, 1e-40, NAN, -INF, 0.1]], dtype=torch.float32).to(torch.bfloat16),
        # 65519 -> 65504, 65520 (a tie past max) -> inf, 1e-8 -> 0, 3*2^-26 -> subnormal tie
        "f16": torch.tensor([[[65504.0, 65519.0, 65520.0], [1e-8, 2.0 ** -24, 3 * 2.0 ** -26]],
                             [[6.103515625e-05, 0.1, NAN], [-INF, -0.0, 1 / 3]]], dtype=torch.float32).to(torch.float16),
        "i32": torch.tensor([0, 1, -1, 2147483647, -2147483648, 123456789], dtype=torch.int32),
        "scalar": torch.tensor(42.5, dtype=torch.float32),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        # names that sort differently as strings and as numbers
        "layers.10.w": torch.randn((2, 3), generator=g).to(torch.bfloat16),
        "layers.2.w": torch.randn((3, 2), generator=g),
    }


REFERENCE_METADATA = {"format": "pt", "note": "na\u00efve \"quoted\" \u2713 text"}


def element_bits(t):
    """Raw element bits as Python ints (unsigned for floats, signed for I32)."""
    flat = t.reshape(-1)
    if t.dtype == torch.int32:
        return flat.tolist()
    if t.dtype == torch.float32:
        return [b & 0xFFFFFFFF for b in flat.view(torch.int32).tolist()]
    return [b & 0xFFFF for b in flat.view(torch.int16).tolist()]


DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.int32: "I32"}


def describe(tensors, metadata):
    out = {"metadata": metadata, "tensors": {}}
    for name, t in sorted(tensors.items()):
        values = t.reshape(-1).tolist() if t.dtype == torch.int32 else t.reshape(-1).float().tolist()
        out["tensors"][name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                                "bits": element_bits(t), "values": values}
    return out


# ---- conversion goldens --------------------------------------------------------------------------------

def f32_from_bits(bits):
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def to_bf16_bits(x32):  # torch's conversion; NaN canonicalised (torch drops the sign, we keep it)
    b = torch.from_numpy(np.ascontiguousarray(x32)).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16).copy()
    b[np.isnan(x32)] = 0x7FC0
    return b


def to_f16_bits(x32):
    h = torch.from_numpy(np.ascontiguousarray(x32)).to(torch.float16).view(torch.int16).numpy().view(np.uint16).copy()
    h[np.isnan(x32)] = 0x7E00
    return h


def bf16_reference_bits(x32):
    """Independent cross-check of torch: round to nearest even on the integer bits (non-NaN inputs)."""
    x = x32.view(np.uint32).astype(np.uint64)
    r = ((x + 0x7FFF + ((x >> 16) & 1)) >> 16).astype(np.uint16)
    r[np.isnan(x32)] = 0x7FC0
    return r


def sha256(arr):
    return hashlib.sha256(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()).hexdigest()


def set_ties():
    """Every high half (sign, exponent, 7 mantissa bits) with low halves around bf16's rounding point."""
    hi = np.arange(1 << 16, dtype=np.uint32)[:, None] << 16
    lo = np.array([0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF], dtype=np.uint32)[None, :]
    return (hi | lo).reshape(-1).view(np.float32)


def set_f16_midpoints():
    """For each positive finite f16 h: the exact midpoint m to the next value (65536 past the max), and
    m's f32 neighbours; then the same negated. Every f16 rounding tie, subnormal ones included."""
    h = np.arange(0x7C00, dtype=np.uint16)
    a = h.view(np.float16).astype(np.float64)
    b = (h + 1).view(np.float16).astype(np.float64)
    b[-1] = 65536.0
    m = ((a + b) / 2).astype(np.float32)  # exact: at most 12 significant bits
    trio = np.stack([m, np.nextafter(m, np.float32(-np.inf)), np.nextafter(m, np.float32(np.inf))], axis=1)
    return np.concatenate([trio, -trio], axis=1).reshape(-1).astype(np.float32)


def set_random(n=1 << 20, seed=42):
    """splitmix64(seed + (i+1)*golden), low 32 bits as f32 bits (the Java test computes the same)."""
    gamma = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(1, n + 1, dtype=np.uint64) * gamma)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)


TABLE_INPUTS = [
    0.0, -0.0, 1.0, -1.0, 1.00390625, 1.01171875, 1.0039063692092896, 0.99609375, 0.1, -1 / 3, 3.141592653589793,
    65504.0, 65519.99609375, 65520.0, 65536.0, -65520.0, F32_MAX, -F32_MAX, BF16_MAX, 3.3961776e38,
    1e-8, 2.0 ** -24, 2.0 ** -25, 2.0 ** -25 + 2.0 ** -40, 3 * 2.0 ** -26, 2.0 ** -14, 2.0 ** -14 - 2.0 ** -25,
    6.097555160522461e-05, 1.401298464324817e-45, 1.1754943508222875e-38, 1.1754942106924411e-38, 9.2e-41,
    INF, -INF, 1e38, -7.5, 12345.678, 2.0 ** 100, 2.0 ** -100,
]
TABLE_NAN_BITS = [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0xFF80FFFF, 0x7FA00000]


def conversion_goldens():
    inputs = f32_from_bits([struct.unpack("<I", struct.pack("<f", v))[0] for v in TABLE_INPUTS] + TABLE_NAN_BITS)
    bf = to_bf16_bits(inputs)
    hf = to_f16_bits(inputs)
    all16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    bf_wide = torch.from_numpy(all16.view(np.int16).copy()).view(torch.bfloat16).float().numpy()
    hf_wide = torch.from_numpy(all16.view(np.int16).copy()).view(torch.float16).float().numpy()
    canon = lambda f: np.where(np.isnan(f), np.float32(np.nan), f).astype(np.float32).view(np.uint32)

    # cross-checks of torch against numpy (f16) and integer rounding (bf16): must agree everywhere
    for name, xs in [("ties", set_ties()), ("f16 midpoints", set_f16_midpoints()), ("random", set_random())]:
        assert np.array_equal(to_bf16_bits(xs), bf16_reference_bits(xs)), f"torch bf16 disagrees on {name}"
        with np.errstate(over="ignore"):
            ref16 = xs.astype(np.float16).view(np.uint16).copy()
        ref16[np.isnan(xs)] = 0x7E00
        assert np.array_equal(to_f16_bits(xs), ref16), f"torch f16 disagrees with numpy on {name}"
    assert np.array_equal(canon(hf_wide), canon(all16.view(np.float16).astype(np.float32)))

    return {
        "note": "NaN results are canonicalised before hashing (bf16 0x7FC0, f16 0x7E00, f32 0x7FC00000); "
                "digests are SHA-256 of the little-endian output arrays",
        "table": {"f32_bits": inputs.view(np.uint32).tolist(), "bf16_bits": bf.tolist(), "f16_bits": hf.tolist()},
        "widen_bf16_all_sha256": sha256(canon(bf_wide)),
        "widen_f16_all_sha256": sha256(canon(hf_wide)),
        "ties_to_bf16_sha256": sha256(to_bf16_bits(set_ties())),
        "ties_to_f16_sha256": sha256(to_f16_bits(set_ties())),
        "f16_midpoints_to_f16_sha256": sha256(to_f16_bits(set_f16_midpoints())),
        "f16_midpoints_to_bf16_sha256": sha256(to_bf16_bits(set_f16_midpoints())),
        "random_to_bf16_sha256": sha256(to_bf16_bits(set_random())),
        "random_to_f16_sha256": sha256(to_f16_bits(set_random())),
        "random": {"n": 1 << 20, "seed": 42},
    }


# ---- checking a file written by our writer -----------------------------------------------------------

def verify_ours(path, expected_tensors, expected_metadata):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    assert n % 8 == 0, f"header length {n} not a multiple of 8"
    assert raw[8:8 + n].rstrip(b" ").endswith(b"}"), "header padding is not spaces"
    names = [k for k in header if k != "__metadata__"]
    assert names == sorted(names), f"names not sorted: {names}"
    pos = 0
    for k in names:
        b, e = header[k]["data_offsets"]
        assert b == pos, f"{k}: data not contiguous in name order"
        pos = e
    assert pos == len(raw) - 8 - n, "data area not fully covered"
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata() == expected_metadata, f"metadata {f.metadata()} != {expected_metadata}"
        assert sorted(f.keys()) == sorted(expected_tensors), f"tensor names {sorted(f.keys())}"
        for k, want in expected_tensors.items():
            got = f.get_tensor(k)
            assert got.dtype == want.dtype and got.shape == want.shape, f"{k}: {got.dtype}{list(got.shape)}"
            assert element_bits(got) == element_bits(want), f"{k}: element bits differ"
    print(f"verified {path.name}: HF safetensors loads it; {len(expected_tensors)} tensors bit-identical to "
          f"hf_reference, metadata equal, header {n} bytes (8-aligned), names sorted, data contiguous")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    tensors = reference_tensors()
    if "--verify" not in sys.argv:
        save_file(tensors, str(OUT / "hf_reference.safetensors"), metadata=REFERENCE_METADATA)
        (OUT / "hf_reference.json").write_text(json.dumps(describe(tensors, REFERENCE_METADATA), indent=1) + "\n")
        (OUT / "dtype_goldens.json").write_text(json.dumps(conversion_goldens(), indent=1) + "\n")
        print(f"wrote hf_reference.safetensors, hf_reference.json, dtype_goldens.json to {OUT} "
              f"(torch {torch.__version__})")
    ours = OUT / "laconic_written.safetensors"
    if ours.exists():
        verify_ours(ours, tensors, REFERENCE_METADATA)
    else:
        print(f"{ours.name} not found: run SafetensorsWriterTest with -Dlaconic.regenerate=true, then --verify")
        if "--verify" in sys.argv:
            sys.exit(1)


if __name__ == "__main__":
    main()
