#!/usr/bin/env bash
# Models Assay derives from the fetched ones, written by `assay quantize` (byte-identical to
# llama-quantize's): a Q4_0 copy of SmolLM2 (suites/quant-drift.yaml), and an F32 copy (its Q4_1
# weights dequantized) with a Q8_0 copy of that (suites/examples/quantization-gate.yaml). Skips
# what exists.
#   scripts/make-derived-models.sh [ASSAY_BINARY]   (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
assay=${1:-$(swift build --show-bin-path)/assay}
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
source="$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
derived="$models/derived/smollm2-135m-instruct"
[ -f "$source" ] || exit 0
[ -f "$derived.q4_0.gguf" ] || "$assay" quantize "$source" --type q4_0 --out "$derived.q4_0.gguf" >&2
[ -f "$derived.f32.gguf" ] || "$assay" quantize "$source" --type f32 --out "$derived.f32.gguf" >&2
[ -f "$derived.q8_0.gguf" ] || "$assay" quantize "$derived.f32.gguf" --type q8_0 --out "$derived.q8_0.gguf" >&2
