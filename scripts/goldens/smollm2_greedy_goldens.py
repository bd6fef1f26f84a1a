"""Greedy continuation of a prompt written for Assay by SmolLM2-135M-Instruct Q4_1 in llama.cpp
(llama-cpp-python, temperature 0). Writes Tests/AssayModelsTests/Golden/smollm2-greedy.json.

Run: scripts/goldens/venv-run.sh "llama-cpp-python" scripts/goldens/smollm2_greedy_goldens.py
"""
import json
import os

import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models"))
PROMPT = "The committee approved the new budget on Tuesday evening. The"

llm = llama_cpp.Llama(model_path=os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                      n_ctx=256, verbose=False, n_threads=2)
prompt = llm.tokenize(PROMPT.encode(), add_bos=False, special=False)
out = []
for token in llm.generate(prompt, temp=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0):
    out.append(int(token))
    if len(out) == 24:
        break
with open(os.path.join(ROOT, "Tests", "AssayModelsTests", "Golden", "smollm2-greedy.json"), "w") as f:
    json.dump({"llama_cpp_python": llama_cpp.__version__, "prompt": PROMPT, "prompt_tokens": prompt, "generated": out,
               "text": llm.detokenize(out).decode("utf-8", "replace")}, f, indent=1, ensure_ascii=False)
