"""Tests/AssayProceduresTests/Golden/tiny-roberta-bertscore.json: bert_score 0.3.13 with the tiny
RoBERTa fixture (Fixtures/models/tiny-roberta, scripts/fixtures/make_tiny_roberta.py) on the 20
sentence pairs of Fixtures/mt (system-a against the reference; text written for the project) —
the token ids bert_score's sent_encode gives (RoBERTa: byte-level BPE with a prefix space, <s> … </s>)
and P/R/F at layers 1 and 2 with idf off and on. Checks the RoBERTa path end to end: tokenizer,
position ids after the padding index, hidden states, matching.
Needs transformers 4.x: bert_score passes add_prefix_space=True to the RoBERTa tokenizer's encode(),
which transformers 5 no longer honours (the tokens then lose the space before the first word and
every score moves); the committed golden was made with transformers 4.57.1.
Run: scripts/goldens/venv-run.sh "torch transformers==4.57.1 bert_score==0.3.13" scripts/goldens/tiny_roberta_bertscore_goldens.py"""
import json
import os

import torch
from bert_score import score
from bert_score.utils import get_tokenizer, sent_encode

root = os.path.join(os.path.dirname(__file__), "..", "..")
model = os.path.join(root, "Fixtures", "models", "tiny-roberta")
torch.set_num_threads(2)


def lines(name):
    with open(os.path.join(root, "Fixtures", "mt", name), encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


cands, refs = lines("system-a.txt"), lines("reference.txt")
tokenizer = get_tokenizer(model, use_fast=False)
golden = {"tokenizer": type(tokenizer).__name__, "tokens": [sent_encode(tokenizer, s) for s in cands + refs], "runs": []}
for layer in (1, 2):
    for idf in (False, True):
        p, r, f = score(cands, refs, model_type=model, num_layers=layer, idf=idf, device="cpu", batch_size=64)
        golden["runs"].append({"layer": layer, "idf": idf, "precision": [round(float(x), 7) for x in p],
                               "recall": [round(float(x), 7) for x in r], "f1": [round(float(x), 7) for x in f]})
with open(os.path.join(root, "Tests", "AssayProceduresTests", "Golden", "tiny-roberta-bertscore.json"), "w") as fh:
    json.dump(golden, fh)
print(golden["tokenizer"], golden["tokens"][0])
