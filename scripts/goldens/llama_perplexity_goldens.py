"""llama-perplexity's chunked perplexity computed from llama.cpp's own logits (llama-cpp-python),
chunk by chunk, for a GGUF model and a text file:

  the file read whole (one trailing newline dropped) and tokenized once (no BOS added); chunks of
  n_ctx tokens (tokens // n_ctx of them, or --chunks); the first token of each chunk replaced by BOS
  when the vocabulary adds BOS; each chunk evaluated in one batch from an empty cache (llama.cpp
  keeps the KV cache in f16); positions n_ctx/2 … n_ctx−2 predict (n_ctx − n_ctx/2 − 1 tokens per
  chunk); PPL = exp(mean NLL), ± = sqrt(var(NLL)/(N−1))·PPL.

Per chunk it records Σ NLL and Σ NLL² (float64), so a test can recompute the result over any
prefix of chunks.

  venv-run.sh "llama-cpp-python==0.3.36 numpy" llama_perplexity_goldens.py \
      --model M.gguf --text FILE --ctx 512 [--chunks N] [--batch B] [--out golden.json]

The F16 copy of a quantized GGUF is made the way `llama-quantize --allow-requantize IN OUT F16`
makes it (`--make-f16 OUT` runs llama.cpp's quantizer through the same library).
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import llama_cpp

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--text", required=True)
parser.add_argument("--ctx", type=int, default=512)
parser.add_argument("--chunks", type=int, default=0)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--batch", type=int, default=0,
                    help="tokens per llama_decode call (n_batch = n_ubatch; default n_ctx, llama-perplexity's); "
                         "1 decodes token by token, which changes only the order of some sums")
parser.add_argument("--make-f16", help="first write an F16 copy of --model here and evaluate that")
parser.add_argument("--out")
args = parser.parse_args()

model_path = args.model
if args.make_f16:
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_F16
    params.allow_requantize = True
    params.nthread = args.threads
    if llama_cpp.llama_model_quantize(model_path.encode(), args.make_f16.encode(), params) != 0:
        sys.exit("llama_model_quantize failed")
    model_path = args.make_f16

n_ctx = args.ctx
batch = args.batch or n_ctx
llm = llama_cpp.Llama(model_path=model_path, n_ctx=n_ctx, n_batch=batch, n_ubatch=batch, logits_all=True,
                      verbose=False, n_threads=args.threads, n_threads_batch=args.threads)
raw = open(args.text, "rb").read()
raw = raw[:-1] if raw.endswith(b"\n") else raw
tokens = llm.tokenize(raw, add_bos=False, special=False)
add_bos = bool(llm._model.add_bos_token())
n_chunks = len(tokens) // n_ctx
if args.chunks:
    n_chunks = min(n_chunks, args.chunks)
first = n_ctx // 2
per_chunk = []
start = time.time()
for c in range(n_chunks):
    chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
    if add_bos:
        chunk[0] = llm.token_bos()
    llm.reset()
    llm._ctx.memory_clear(True) if hasattr(llm._ctx, "memory_clear") else None
    llm.eval(chunk)
    scores = np.array(llm.scores[first:n_ctx - 1], dtype=np.float64)
    m = scores.max(axis=1, keepdims=True)
    logz = m[:, 0] + np.log(np.exp(scores - m).sum(axis=1))
    targets = np.array(chunk[first + 1:n_ctx])
    nll = logz - scores[np.arange(len(targets)), targets]
    per_chunk.append([float(nll.sum()), float((nll ** 2).sum()), int(len(nll))])
    if (c + 1) % 20 == 0:
        print(f"{c + 1}/{n_chunks} chunks, {time.time() - start:.0f} s", file=sys.stderr)

n = sum(p[2] for p in per_chunk)
mean = sum(p[0] for p in per_chunk) / n
mean2 = sum(p[1] for p in per_chunk) / n
ppl = math.exp(mean)
stderr = math.sqrt((mean2 - mean * mean) / (n - 1)) * ppl
sha = hashlib.sha256(open(model_path, "rb").read()).hexdigest()
out = {"llama_cpp_python": llama_cpp.__version__, "model": os.path.basename(model_path), "model_sha256": sha,
       "text": os.path.basename(args.text), "n_ctx": n_ctx, "n_batch": batch, "chunks": n_chunks, "add_bos": add_bos,
       "tokens_total": len(tokens), "tokens_scored": n, "perplexity": ppl, "stderr": stderr,
       "seconds": round(time.time() - start, 1), "per_chunk_nll_sum_sumsq_count": per_chunk}
if args.out:
    with open(args.out, "w") as f:
        json.dump(out, f, indent=0)
print(json.dumps({k: v for k, v in out.items() if k != "per_chunk_nll_sum_sumsq_count"}))
