#!/usr/bin/env bash
# Recomputes the perplexity goldens in Tests/AssayProceduresTests/Golden/ (the exact commands that made
# the committed files; each runs its reference in a throw-away venv):
#   smollm2-wikitext2-512-f16.json   llama-perplexity's procedure on llama.cpp's logits, context 512,
#                                    every chunk of WikiText-2 (raw test), on an F16 copy of the Q4_1
#                                    weights made by llama.cpp's quantizer (llama-quantize
#                                    --allow-requantize … F16, through llama-cpp-python)
#   smollm2-wikitext2-512-q4_1.json  the same on the Q4_1 file itself
#   smollm2-wikitext2-rolling-128.json  lm-evaluation-harness 0.4.13 HFLM.loglikelihood_rolling with a
#                                    transformers model loaded from the Q4_1 GGUF (float32): the first
#                                    40 non-blank lines of the raw test file, max_length 128
# llama-cpp-python compiles llama.cpp (several minutes); each full WikiText-2 pass takes ~15 min on
# 2 cores; the lm-eval venv downloads torch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
golden="$here/../../Tests/AssayProceduresTests/Golden"
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
data=${ASSAY_DATA:-$here/../../../shared/data}
model="$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
text="$data/wikitext2/wiki.test.raw"
"$here/../fetch-models.sh"
f16=$(mktemp -d)/smollm2-f16.gguf
"$here/venv-run.sh" "llama-cpp-python==0.3.36 numpy" "$here/llama_perplexity_goldens.py" \
  --model "$model" --make-f16 "$f16" --text "$text" --ctx 512 --out "$golden/smollm2-wikitext2-512-f16.json"
"$here/venv-run.sh" "llama-cpp-python==0.3.36 numpy" "$here/llama_perplexity_goldens.py" \
  --model "$model" --text "$text" --ctx 512 --out "$golden/smollm2-wikitext2-512-q4_1.json"
"$here/venv-run.sh" "torch transformers accelerate gguf lm_eval==0.4.13" "$here/lm_eval_rolling_goldens.py" \
  --model "$model" --text "$text" --split lines --ctx 128 --docs 40 --out "$golden/smollm2-wikitext2-rolling-128.json"
