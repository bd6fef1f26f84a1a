"""llama-perplexity's chunked perplexity of SmolLM2-135M-Instruct Q4_1 on the WikiText-2 raw test
file, computed from llama.cpp's logits (llama-cpp-python) with llama-perplexity's definition:
the file read whole (one trailing newline dropped) and tokenized once; chunks of n_ctx tokens; the
first token replaced by BOS when the vocabulary adds BOS; each chunk evaluated from an empty cache;
only positions n_ctx/2 … n_ctx−2 predict (n_ctx − n_ctx/2 − 1 tokens per chunk);
PPL = exp(mean NLL), ± = sqrt(var(NLL)/(N−1))·PPL.

Run: scripts/goldens/venv-run.sh "llama-cpp-python numpy" scripts/goldens/smollm2_perplexity_goldens.py
Writes Tests/AssayProceduresTests/Golden/smollm2-perplexity.json.
"""
import json
import math
import os

import numpy as np
import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models"))
DATA = os.environ.get("ASSAY_DATA", os.path.join(ROOT, "..", "shared", "data"))
N_CTX, CHUNKS = 128, 4

llm = llama_cpp.Llama(model_path=os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                      n_ctx=N_CTX, n_batch=N_CTX, logits_all=True, verbose=False, n_threads=2)
raw = open(os.path.join(DATA, "wikitext2", "wiki.test.raw"), "rb").read()
raw = raw[:-1] if raw.endswith(b"\n") else raw
tokens = llm.tokenize(raw, add_bos=False, special=False)
add_bos = llm._model.add_bos_token() if hasattr(llm._model, "add_bos_token") else False
nlls = []
first = N_CTX // 2
for c in range(CHUNKS):
    chunk = list(tokens[c * N_CTX:(c + 1) * N_CTX])
    if add_bos:
        chunk[0] = llm.token_bos()
    llm.reset()
    llm.eval(chunk)
    scores = np.array(llm.scores[:N_CTX], dtype=np.float64)
    for j in range(first, N_CTX - 1):
        row = scores[j]
        m = row.max()
        nlls.append(-(row[chunk[j + 1]] - m - math.log(np.exp(row - m).sum())))
nll = np.array(nlls)
mean = nll.mean()
ppl = math.exp(mean)
stderr = math.sqrt(((nll ** 2).mean() - mean ** 2) / (len(nll) - 1)) * ppl
out = {"llama_cpp_python": llama_cpp.__version__, "n_ctx": N_CTX, "chunks": CHUNKS, "add_bos": bool(add_bos),
       "tokens_total": len(tokens), "tokens_scored": len(nll), "perplexity": ppl, "stderr": stderr}
with open(os.path.join(ROOT, "Tests", "AssayProceduresTests", "Golden", "smollm2-perplexity.json"), "w") as f:
    json.dump(out, f, indent=1)
print(out)
