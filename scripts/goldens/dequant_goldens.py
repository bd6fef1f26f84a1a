"""Golden dequantization values from gguf-py (the reference for ggml's block formats).

Run through ./make-dequant-goldens.sh (throw-away venv with `gguf`). For every supported type it
makes a few blocks (quantized with gguf-py where it can quantize, otherwise random bytes with
finite f16 scales), dequantizes them with gguf-py, and writes the raw block bytes and the
expected float32 bit patterns (hex) to Tests/AssayTensorTests/Golden/dequant.json.
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "AssayTensorTests", "Golden")
rng = np.random.default_rng(20261129)

# byte offsets of the f16 scale fields inside one block, for types built from random bytes
F16_FIELDS = {
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def random_blocks(qtype, n_blocks):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for offset in F16_FIELDS.get(qtype, []):
        scales = rng.uniform(-0.05, 0.05, size=n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        raw[:, offset:offset + 2] = scales
    return raw


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for qtype in [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]:
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        n_blocks = 4
        if qtype in (T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
            values = rng.normal(0, 1, size=(n_blocks * block_size,)).astype(np.float32)
            values[:block_size] = 0.0  # an all-zero block
            raw = (quantize(values.reshape(1, -1), qtype) if qtype != T.F32 else values).reshape(-1)
            raw = raw.view(np.uint8) if raw.dtype != np.uint8 else raw
        else:
            raw = random_blocks(qtype, n_blocks).reshape(-1)
        if qtype == T.F16:  # every class of half: zeros, subnormals, normals, infinities, NaNs
            specials = np.array([0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFFFF, 0x3555],
                                dtype=np.uint16)
            raw = np.concatenate([raw, specials.view(np.uint8)])
        if qtype == T.BF16:
            specials = np.array([0x0000, 0x8000, 0x0001, 0x3F80, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0xFFFF], dtype=np.uint16)
            raw = np.concatenate([raw, specials.view(np.uint8)])
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        out = dequantize(raw, qtype).astype(np.float32).reshape(-1)
        cases.append({
            "type": qtype.name, "type_id": int(qtype), "block_size": block_size, "type_size": type_size,
            "bytes": raw.tobytes().hex(), "expected_bits": out.view(np.uint32).tolist(),
        })
    with open(os.path.join(OUT, "dequant.json"), "w") as f:
        json.dump({"cases": cases}, f)


if __name__ == "__main__":
    main()
