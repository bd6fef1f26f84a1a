"""llama-perplexity --kl-divergence's statistics from llama.cpp's own logits (llama-cpp-python):
both models evaluate the same chunks as llama-perplexity cuts them (the file read whole, one
trailing newline dropped, tokenized once without BOS; chunks of n_ctx; the first token of a chunk
replaced by BOS when the vocabulary adds one; positions n_ctx/2 … n_ctx−2 scored), and the
statistics follow tools/perplexity/perplexity.cpp: the base log-probabilities stored in 16 bits
(scale/min per row, entries below max−16 clamped) and base probabilities under e^-16 skipped, as
llama.cpp does ("llama_cpp"), and the same from full-precision logits ("full_precision").

  venv-run.sh "llama-cpp-python==0.3.36 numpy" llama_kld_goldens.py --base B.gguf --candidate C.gguf \
      --text FILE --ctx 512 --chunks N [--skip K] [--out golden.json]
"""
import argparse
import json
import math
import sys

import numpy as np
import llama_cpp

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--candidate", required=True)
parser.add_argument("--text", required=True)
parser.add_argument("--ctx", type=int, default=512)
parser.add_argument("--chunks", type=int, required=True)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--out")
args = parser.parse_args()
n_ctx, first = args.ctx, args.ctx // 2


def load(path):
    return llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True, verbose=False,
                           n_threads=args.threads, n_threads_batch=args.threads)


base, cand = load(args.base), load(args.candidate)
raw = open(args.text, "rb").read()
raw = raw[:-1] if raw.endswith(b"\n") else raw
tokens = base.tokenize(raw, add_bos=False, special=False)
assert tokens == cand.tokenize(raw, add_bos=False, special=False), "tokenizers differ"
add_bos = bool(base._model.add_bos_token())


def logits(llm, chunk):
    llm.reset()
    llm.eval(chunk)
    return np.array(llm.scores[first:n_ctx - 1], dtype=np.float32)


def log_softmax(rows):
    m = rows.max(axis=1, keepdims=True).astype(np.float64)
    z = m + np.log(np.exp(rows.astype(np.float64) - m).sum(axis=1, keepdims=True))
    return rows.astype(np.float64) - z


def base_uint16(rows):
    """llama.cpp's stored base log-probabilities: per row scale/min and nearest_int levels (float32 math)."""
    out = []
    for r in rows:
        mx, mn = np.float32(r.max()), np.float32(r.min())
        mn = max(mn, np.float32(mx - 16))
        log_sum_exp = np.float32(math.log(float(np.exp((r - mx).astype(np.float32)).astype(np.float64).sum())))
        min_log_prob = np.float32(mn - mx - log_sum_exp)
        scale = np.float32((mx - mn) / np.float32(65535))
        if scale:
            q = np.where(r > mn, np.rint(np.float32(1 / scale) * (r - mn)), 0)
        else:
            q = np.zeros_like(r)
        out.append(np.float32(scale) * q.astype(np.float32) + min_log_prob)
    return np.array(out, dtype=np.float32)


class Stats:
    def __init__(self):
        self.nll, self.nll_base, self.kld, self.same = [], [], [], []

    def summary(self):
        nll, nb, kld = np.array(self.nll), np.array(self.nll_base), np.array(self.kld)
        n = len(nll)

        def mu(x):
            f = x.sum() / n
            v = (x * x).sum() / n - f * f
            return f, (math.sqrt(v / (n - 1)) if v > 0 and n > 10 else 0.0)

        lp, lb = mu(nll), mu(nb)
        cov = ((nll * nb).sum() / n - (nll.sum() / n) * (nb.sum() / n)) / (n - 1)
        ratio_unc = math.sqrt(lp[1] ** 2 + lb[1] ** 2 - 2 * cov)
        pd = np.exp(-nll) - np.exp(-nb)
        mse = mu(pd * pd)
        same = sum(self.same) / n
        k = np.sort(kld.astype(np.float32))

        def pct(v, f):
            p = f * (len(v) - 1)
            i = int(p)
            p -= i
            return float((1 - p) * v[i] + p * v[min(i + 1, len(v) - 1)])

        return {"tokens_scored": n, "ppl_candidate": math.exp(lp[0]), "ppl_base": math.exp(lb[0]),
                "cor_ln_ppl": cov / (lp[1] * lb[1]), "ln_ppl_ratio": lp[0] - lb[0], "ln_ppl_ratio_stderr": ratio_unc,
                "mean_kld": float(kld.mean()), "mean_kld_stderr": mu(kld)[1], "kld_p99": pct(k, 0.99), "kld_max": float(k[-1]),
                "mean_dp": float(pd.mean()), "rms_dp": math.sqrt(mse[0]), "same_top_p": same}


llama, full = Stats(), Stats()
n_chunks = min(args.chunks, len(tokens) // n_ctx)
for c in range(n_chunks):
    chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
    if add_bos:
        chunk[0] = base.token_bos()
    lb, lc = logits(base, chunk), logits(cand, chunk)
    targets = np.array(chunk[first + 1:n_ctx])
    idx = np.arange(len(targets))
    logp_c = log_softmax(lc)
    # llama.cpp: candidate in float32 as perplexity.cpp computes it, base from the 16-bit store.
    qb = base_uint16(lb)
    mx = lc.max(axis=1)
    lse = np.log(np.exp(lc.astype(np.float32) - mx[:, None]).astype(np.float64).sum(axis=1)).astype(np.float32)
    nll_c = (mx + lse - lc[idx, targets]).astype(np.float64)
    nll_b = -qb[idx, targets].astype(np.float64)
    keep = qb > -16
    pb = np.where(keep, np.exp(qb), 0).astype(np.float64)
    kld_q = (pb * (qb - lc + (mx + lse)[:, None])).sum(axis=1)
    top_c, top_b = lc.argmax(axis=1), qb.argmax(axis=1)
    llama.nll += list(nll_c); llama.nll_base += list(nll_b); llama.kld += list(kld_q); llama.same += list(top_c == top_b)
    # Full precision from the same logits.
    logp_b = log_softmax(lb)
    full.nll += list(-logp_c[idx, targets]); full.nll_base += list(-logp_b[idx, targets])
    full.kld += list((np.exp(logp_b) * (logp_b - logp_c)).sum(axis=1)); full.same += list(lc.argmax(axis=1) == lb.argmax(axis=1))
    print(f"chunk {c + 1}/{n_chunks}", file=sys.stderr)
result = {"ctx": n_ctx, "chunks": n_chunks, "llama_cpp": llama.summary(), "full_precision": full.summary()}
print(json.dumps(result, indent=1))
if args.out:
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
