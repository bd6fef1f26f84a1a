"""Tests/AssayCheckpointTests/Golden/llama-quantize.json: what llama.cpp's quantizer (llama-cpp-python
0.3.36's `llama_model_quantize`, no importance matrix, `pure` so every tensor gets the requested type
where its rows allow) writes for SmolLM2-135M-Instruct Q4_1 requantized to each type: the type and
SHA-256 of the bytes of the first and last layers' tensors and the token embedding. The test dequantizes the same Q4_1 tensors (as llama.cpp does
before requantizing) and quantizes them with Assay's quantizer.
Run: scripts/goldens/venv-run.sh "llama-cpp-python==0.3.36 gguf numpy" scripts/goldens/quantize_goldens.py MODEL.gguf"""
import hashlib
import json
import os
import sys
import tempfile

import llama_cpp
from gguf import GGUFReader

src = sys.argv[1]
types = {"Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q4_K": 14, "Q5_K": 16, "Q6_K": 18}
golden = {}
with tempfile.TemporaryDirectory() as work:
    for name, ftype in types.items():
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = ftype
        params.allow_requantize = True
        params.pure = True
        params.nthread = 2
        out = os.path.join(work, name + ".gguf")
        assert llama_cpp.llama_model_quantize(src.encode(), out.encode(), params) == 0
        reader = GGUFReader(out)
        # The first and last layer and the token embedding (the others are alike).
        golden[name] = {t.name: {"type": t.tensor_type.name, "sha256": hashlib.sha256(t.data.tobytes()).hexdigest()}
                        for t in reader.tensors if t.name.startswith(("blk.0.", "blk.29.", "token_embd"))}
        print(name, sum(1 for v in golden[name].values() if v["type"] == name), "tensors of the type", file=sys.stderr)
path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "AssayCheckpointTests", "Golden", "llama-quantize.json")
with open(path, "w") as f:
    json.dump(golden, f, indent=0, sort_keys=True)
