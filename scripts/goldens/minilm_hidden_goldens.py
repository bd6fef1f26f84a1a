"""Tests/AssayModelsTests/Golden/minilm-hidden.json: transformers' hidden states of
all-MiniLM-L6-v2 (every layer) for a few sentences written for the project, tokenized by
transformers' BertTokenizer. Each token row keeps every 8th dimension plus its L2 norm (over all
384), so the file stays small while the norm still sees every value."""
import json
import os
import sys

import torch
from transformers import AutoModel, AutoTokenizer

model_dir = sys.argv[1]
root = os.path.join(os.path.dirname(__file__), "..", "..")
sentences = [
    "The lighthouse keeper counted seventeen ships before the fog rolled in.",
    "Quantized weights rarely change the answer, but they sometimes do!",
    "naïve café owners – 42 of them – signed the petition (unanimously).",
]
torch.set_num_threads(2)
tokenizer = AutoTokenizer.from_pretrained(model_dir, use_fast=False)
model = AutoModel.from_pretrained(model_dir).eval()
golden = []
with torch.no_grad():
    for s in sentences:
        ids = tokenizer.encode(s, add_special_tokens=True)
        states = model(torch.tensor([ids]), output_hidden_states=True).hidden_states
        layers = []
        for h in states:
            h = h[0].double()
            layers.append({"every8": h[:, ::8].numpy().round(7).tolist(), "norms": h.norm(dim=-1).numpy().round(7).tolist()})
        golden.append({"text": s, "tokens": ids, "layers": layers})
with open(os.path.join(root, "Tests", "AssayModelsTests", "Golden", "minilm-hidden.json"), "w") as f:
    json.dump(golden, f)
