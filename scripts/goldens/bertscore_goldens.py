"""BERTScore goldens from bert_score 0.3.13 (transformers, torch on CPU) with all-MiniLM-L6-v2.

    python bertscore_goldens.py MODEL_DIR DATA_DIR OUT.json [--held-out]

Default: Tests/AssayProceduresTests/Golden/bertscore-minilm.json — 600 newstest2021 zh-en pairs (two
systems × the first 300 segments), layers 4 and 6, idf on and off, one reference (A) and two
(A and B). --held-out: other systems, segments, test set (generaltest2023) and layers, for checking
by hand (`assay bertscore` against the printed numbers); never used by the tests.

Each run is also repeated with batch_size=1. bert_score pads a batch's embeddings and lets the
padded positions count as similarity 0, so a token whose best cosine is negative scores 0 instead
whenever its partner is not the longest in the batch; items whose scores change with the batch
size are listed in "padding_affected" and left out of the comparison (Assay does not copy the quirk).
The file holds only numbers and line ranges, no text."""
import json
import sys
import time

import torch
from bert_score import score

torch.set_num_threads(2)
model, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
held_out = "--held-out" in sys.argv[4:]
nt = data + "/wmt-mqm/newstest2021-zhen/"
gt = data + "/wmt-mqm/generalmt2023-zhen-sxs/"


def lines(path, start, count):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f.readlines()[start:start + count]]


if not held_out:
    sources = [(nt + "hyp/newstest2021.zh-en.hyp.Facebook-AI.en", 0, 300), (nt + "hyp/newstest2021.zh-en.hyp.NiuTrans.en", 0, 300)]
    ref_files = [nt + "newstest2021.zh-en.ref.A.en", nt + "newstest2021.zh-en.ref.B.en"]
    runs = [(6, False, 1), (4, True, 1), (6, True, 2), (4, False, 2)]
else:
    sources = [(nt + "hyp/newstest2021.zh-en.hyp.DIDI-NLP.en", 1000, 300), (gt + "hyp/generaltest2023.zh-en.hyp.ONLINE-B.en", 500, 300)]
    ref_files = None
    runs = [(2, False, 1), (5, True, 1), (3, True, 1), (6, False, 1)]

cands, refs_a, refs_b, described = [], [], [], []
for path, start, count in sources:
    cands += lines(path, start, count)
    if held_out:
        ref = gt + "generaltest2023.zh-en.ref.refA.en" if "generaltest" in path else nt + "newstest2021.zh-en.ref.A.en"
        refs_a += lines(ref, start, count)
        described.append({"candidates": path[len(data) + 1:], "references": [ref[len(data) + 1:]], "start": start, "count": count})
    else:
        refs_a += lines(ref_files[0], start, count)
        refs_b += lines(ref_files[1], start, count)
        described.append({"candidates": path[len(data) + 1:], "references": [r[len(data) + 1:] for r in ref_files],
                          "start": start, "count": count})

golden = {"model": "all-MiniLM-L6-v2", "bert_score": "0.3.13", "pairs": described, "runs": []}
for layer, idf, nrefs in runs:
    refs = refs_a if nrefs == 1 else [[a, b] for a, b in zip(refs_a, refs_b)]
    t = time.perf_counter()
    (p, r, f), hash_ = score(cands, refs, model_type=model, num_layers=layer, idf=idf, device="cpu", batch_size=64, return_hash=True)
    p1, r1, f1 = score(cands, refs, model_type=model, num_layers=layer, idf=idf, device="cpu", batch_size=1)
    affected = [i for i in range(len(cands))
                if max(abs(p[i] - p1[i]), abs(r[i] - r1[i]), abs(f[i] - f1[i])) > 1e-6]
    print(f"layer {layer} idf {idf} refs {nrefs}: mean F {f.mean():.6f}, padding-affected {len(affected)}, "
          f"{time.perf_counter() - t:.1f}s", file=sys.stderr)
    golden["runs"].append({"layer": layer, "idf": idf, "references": nrefs, "hash": hash_,
                           "precision": [round(float(x), 7) for x in p], "recall": [round(float(x), 7) for x in r],
                           "f1": [round(float(x), 7) for x in f], "padding_affected": affected})
with open(out, "w") as fh:
    json.dump(golden, fh)
