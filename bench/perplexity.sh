#!/usr/bin/env bash
# Prefill speed, preliminary: 8 chunks of 512 tokens of WikiText-2 through SmolLM2-135M-Instruct Q4_1.
# assay: `assay perplexity --context 512 --chunks 8` as a whole command (model load, tokenizing the
# whole file, hashing and scoring included). llama.cpp: llama-cpp-python (compiled by pip in a
# throw-away venv, several minutes) evaluating the same 8 chunks with all logits, 2 threads, timed
# in-process (model load excluded). Not yet llama-perplexity itself, which pip does not build.
# Usage: bench/perplexity.sh    (needs scripts/fetch-models.sh, a release build and $ASSAY_DATA)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${ASSAY_DATA:-../shared/data}
model="${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
scripts/fetch-models.sh
assay=$(scripts/build.sh)
s=$(date +%s.%N); "$assay" perplexity "$model" "$data/wikitext2/wiki.test.raw" --context 512 --chunks 8; e=$(date +%s.%N)
echo "assay: $(echo "$e - $s" | bc) s (whole command)"
scripts/goldens/venv-run.sh "llama-cpp-python numpy" - "$model" "$data/wikitext2/wiki.test.raw" <<'PY'
import sys, time, llama_cpp
model, path = sys.argv[1], sys.argv[2]
llm = llama_cpp.Llama(model_path=model, n_ctx=512, n_batch=512, logits_all=True, verbose=False, n_threads=2)
raw = open(path, "rb").read()
tokens = llm.tokenize(raw[:-1] if raw.endswith(b"\n") else raw, add_bos=False, special=False)
t = time.perf_counter()
for c in range(8):
    llm.reset()
    llm.eval(tokens[c * 512:(c + 1) * 512])
print(f"llama.cpp (llama-cpp-python): {time.perf_counter() - t:.2f} s for 8 chunks (evaluation only)")
PY
