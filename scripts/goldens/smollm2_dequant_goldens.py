"""SHA-256 of gguf-py's float32 dequantization of selected SmolLM2-135M-Instruct Q4_1 tensors.

Run through ./make-smollm2-goldens.sh (throw-away venv with gguf) after scripts/fetch-models.sh.
Writes Tests/AssayCheckpointTests/Golden/smollm2.json (numbers and hashes only).
"""
import hashlib
import json
import os

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models"))
PATH = os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")
NAMES = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.29.attn_norm.weight", "output_norm.weight"]

reader = GGUFReader(PATH)
out = {"file_sha256": hashlib.sha256(open(PATH, "rb").read()).hexdigest(), "tensor_count": len(reader.tensors), "tensors": {}}
for t in reader.tensors:
    if t.name in NAMES:
        values = np.ascontiguousarray(dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1))
        prefix = min(values.size, 1 << 20)  # keep the Swift test quick: hash at most the first 2^20 values
        out["tensors"][t.name] = {"type": t.tensor_type.name, "elements": int(values.size), "hashed_elements": int(prefix),
                                  "sha256_f32": hashlib.sha256(values[:prefix].tobytes()).hexdigest()}
os.makedirs(os.path.join(ROOT, "Tests", "AssayCheckpointTests", "Golden"), exist_ok=True)
with open(os.path.join(ROOT, "Tests", "AssayCheckpointTests", "Golden", "smollm2.json"), "w") as f:
    json.dump(out, f, indent=1)
