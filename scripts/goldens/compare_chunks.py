"""Compares two chunked perplexity runs of the same text, chunk by chunk: how far apart they are
and whether that is more than the chunks' own scatter.

  python3 compare_chunks.py A.json B.json

Each file is either `assay perplexity --format json` output (its `per_chunk`) or a
`llama_perplexity_goldens.py --out` file (its `per_chunk_nll_sum_sumsq_count`). Prints both
perplexities over the chunks they share, B's difference from A in percent, and the per-chunk
difference of summed NLL: mean, standard deviation and standard error. Two runs whose arithmetic
differs only in rounding (llama.cpp at batch 1 against batch n_ctx, assay's ggml numerics against
llama.cpp on a quantized file) scatter by about a nat per chunk either way; a mean difference
within two standard errors is that scatter, not a bias. Standard library only.
"""
import json
import math
import statistics
import sys


def chunks(path):
    """{chunk index: (nll_sum, tokens)}."""
    data = json.load(open(path))
    if "per_chunk" in data:
        rows = {c["index"]: (c["nll_sum"], c["tokens"]) for c in data["per_chunk"]}
    elif "per_chunk_nll_sum_sumsq_count" in data:
        rows = {i: (c[0], c[2]) for i, c in enumerate(data["per_chunk_nll_sum_sumsq_count"])}
    else:
        sys.exit(f"{path}: neither per_chunk (assay perplexity --format json) nor per_chunk_nll_sum_sumsq_count (llama_perplexity_goldens.py)")
    broken = [i for i, (nll, _) in rows.items() if nll is None or not math.isfinite(nll)]
    if broken:
        sys.exit(f"{path}: chunk {broken[0]} has no finite NLL (a broken model's NaN): nothing to compare")
    return rows


if len(sys.argv) != 3:
    sys.exit(__doc__)
a, b = chunks(sys.argv[1]), chunks(sys.argv[2])
shared = sorted(set(a) & set(b))
if len(shared) < 2:
    sys.exit("need at least two chunks in both files")
if len(a) != len(b) or len(shared) != len(a):
    print(f"note: A has {len(a)} chunks and B {len(b)}; comparing the {len(shared)} they share", file=sys.stderr)
if any(a[i][1] != b[i][1] for i in shared):
    sys.exit("the chunks score different numbers of tokens: not the same text, context or tokenizer")
n = len(shared)
tokens = sum(a[i][1] for i in shared)
ppl_a = math.exp(sum(a[i][0] for i in shared) / tokens)
ppl_b = math.exp(sum(b[i][0] for i in shared) / tokens)
d = [b[i][0] - a[i][0] for i in shared]
mean, sd = statistics.mean(d), statistics.stdev(d)
se = sd / math.sqrt(n)
print(f"{n} chunks, {tokens} tokens scored")
print(f"PPL A = {ppl_a:.5f}, B = {ppl_b:.5f}: B − A = {100 * (ppl_b / ppl_a - 1):+.3f} %")
print(f"per-chunk NLL sum, B − A: mean {mean:+.3f}, sd {sd:.3f}, standard error {se:.3f} "
      + (f"(mean = {mean / se:+.1f} standard errors)" if se > 0 else "(identical chunk by chunk)" if mean == 0 else "(no scatter)"))
