"""Reference next-token statistics of SmolLM2-135M-Instruct Q4_1 from llama.cpp
(llama-cpp-python, CPU, all logits) for a short text written for Assay.

Run: scripts/goldens/venv-run.sh "llama-cpp-python numpy" scripts/goldens/smollm2_logits_goldens.py
Writes Tests/AssayModelsTests/Golden/smollm2-logits.json.
"""
import json
import os

import numpy as np
import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models"))
TEXT = "The committee approved the new budget on Tuesday evening, and the museum will reopen"

llm = llama_cpp.Llama(model_path=os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                      n_ctx=128, logits_all=True, verbose=False, n_threads=2)
tokens = llm.tokenize(TEXT.encode(), add_bos=False, special=False)
llm.eval(tokens)
scores = np.array(llm.scores[: len(tokens)], dtype=np.float64)
logsoftmax = scores - np.log(np.exp(scores - scores.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)) - scores.max(axis=1, keepdims=True)
out = {
    "llama_cpp_python": llama_cpp.__version__, "text": TEXT, "tokens": tokens,
    "argmax": [int(x) for x in scores.argmax(axis=1)],
    "top5": [[int(i) for i in np.argsort(-row)[:5]] for row in scores],
    "next_logprob": [float(logsoftmax[i, tokens[i + 1]]) for i in range(len(tokens) - 1)],
    "first_logits": [[float(x) for x in row[:8]] for row in scores],
}
os.makedirs(os.path.join(ROOT, "Tests", "AssayModelsTests", "Golden"), exist_ok=True)
with open(os.path.join(ROOT, "Tests", "AssayModelsTests", "Golden", "smollm2-logits.json"), "w") as f:
    json.dump(out, f, indent=1)
