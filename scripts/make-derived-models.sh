#!/usr/bin/env bash
# Models Assay derives from the fetched ones (suites/quant-drift.yaml uses them): a Q4_0 copy of
# SmolLM2 written by `assay quantize` (byte-identical to llama-quantize's). Skips what exists.
#   scripts/make-derived-models.sh [ASSAY_BINARY]   (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
assay=${1:-$(swift build --show-bin-path)/assay}
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
source="$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
target="$models/derived/smollm2-135m-instruct.q4_0.gguf"
if [ ! -f "$target" ] && [ -f "$source" ]; then
  "$assay" quantize "$source" --type q4_0 --out "$target" >&2
fi
