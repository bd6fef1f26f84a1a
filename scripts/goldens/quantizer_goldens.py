"""Tests/AssayTensorTests/Golden/quantizer.json: gguf-py's reference quantizers (NumPy ports of
ggml's quantize_row_*_ref) on seeded blocks plus edge cases (all zero, ties at .5, equal
magnitudes of both signs, one huge value). Run: scripts/goldens/venv-run.sh "gguf numpy" $0"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType, quants

rng = np.random.default_rng(7)
blocks = [rng.standard_normal(32) * s for s in (0.02, 1, 30)]
blocks.append(np.zeros(32))
blocks.append(np.arange(32) - 15.5)              # ties after scaling
blocks.append(np.array([1, -1] * 16) * 0.75)      # equal magnitudes, first one wins
spike = rng.standard_normal(32) * 1e-3
spike[17] = -250
blocks.append(spike)
blocks.append(np.linspace(-1, 1, 32) * 127 / 127)
values = np.concatenate(blocks).astype(np.float32)
golden = {"values": [float(v) for v in values]}
for name, t in (("q8_0", GGMLQuantizationType.Q8_0), ("q4_0", GGMLQuantizationType.Q4_0)):
    golden[name] = quants.quantize(values.reshape(1, -1), t).tobytes().hex()
path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "AssayTensorTests", "Golden", "quantizer.json")
with open(path, "w") as f:
    json.dump(golden, f)
