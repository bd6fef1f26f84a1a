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
    """[(nll_sum, tokens)] in chunk order."""
    data = json.load(open(path))
    if "per_chunk" in data:
        return [(c["nll_sum"], c["tokens"]) for c in sorted(data["per_chunk"], key=lambda c: c["index"])]
    if "per_chunk_nll_sum_sumsq_count" in data:
        return [(c[0], c[2]) for c in data["per_chunk_nll_sum_sumsq_count"]]
    sys.exit(f"{path}: neither per_chunk (assay perplexity --format json) nor per_chunk_nll_sum_sumsq_count (llama_perplexity_goldens.py)")


if len(sys.argv) != 3:
    sys.exit(__doc__)
a, b = chunks(sys.argv[1]), chunks(sys.argv[2])
n = min(len(a), len(b))
if n < 2:
    sys.exit("need at least two chunks in both files")
if any(x[1] != y[1] for x, y in zip(a[:n], b[:n])):
    sys.exit("the chunks score different numbers of tokens: not the same text, context or tokenizer")
tokens = sum(x[1] for x in a[:n])
ppl_a = math.exp(sum(x[0] for x in a[:n]) / tokens)
ppl_b = math.exp(sum(x[0] for x in b[:n]) / tokens)
d = [y[0] - x[0] for x, y in zip(a[:n], b[:n])]
mean, sd = statistics.mean(d), statistics.stdev(d)
se = sd / math.sqrt(n)
print(f"{n} chunks, {tokens} tokens scored")
print(f"PPL A = {ppl_a:.5f}, B = {ppl_b:.5f}: B − A = {100 * (ppl_b / ppl_a - 1):+.3f} %")
print(f"per-chunk NLL sum, B − A: mean {mean:+.3f}, sd {sd:.3f}, standard error {se:.3f} "
      f"(mean = {mean / se if se else float('inf'):+.1f} standard errors)")
