#!/usr/bin/env bash
# Prompt processing and generation speed, assay vs llama.cpp, side by side as llama-bench measures
# them: pp512 (512 random token ids in one batch from an empty cache, logits of the last one) and
# tg64 (64 tokens one at a time from an empty cache), 2 threads, repetitions alternating between
# the tools, peak RSS of each process.
#   assay:     `assay bench MODEL -p 512 -n 64 --numerics exact|ggml --format json` (its own
#              process per repetition, so peak RSS is one model's)
#   llama.cpp: llama-cpp-python (llama.cpp built from source by pip; the test server's venv) doing
#              the same decodes through `Llama.eval`, timed around them; peak RSS of the Python process
# Usage: bench/speed.sh [model.gguf] [repetitions=3]
#   default model: SmolLM2-135M-Instruct Q4_1; for larger shapes write one with
#   scripts/random-gguf.sh (random weights: speed and memory only).
#   LLAMA_REPACK=0 bench/speed.sh …: llama.cpp keeps its weights in the mapped file as assay does,
#   instead of copying Q4_0 and Q4_K tensors into its repacked 8-row layout (bench/lib/llama_eval.py).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-"${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"}
reps=${2:-3}
[ -n "${1:-}" ] || scripts/fetch-models.sh
assay=$(scripts/build.sh)
python=$(scripts/setup-test-server.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "model: $model; pp512 and tg64, 2 threads; $reps repetitions alternating${LLAMA_REPACK:+; LLAMA_REPACK=$LLAMA_REPACK}"
for r in $(seq "$reps"); do
  for numerics in exact ggml; do
    "$assay" bench "$model" -p 512 -n 64 -r 1 --warmup 1 --threads 2 --numerics "$numerics" --format json > "$work/assay-$numerics.$r.json"
  done
  "$python" bench/lib/llama_eval.py "$model" 512 64 > "$work/llama.$r.json"
done
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
def assay(numerics, test):
    rows = [next(x for x in json.load(open(f"{work}/assay-{numerics}.{r}.json")) if x["test"] == test) for r in range(1, reps + 1)]
    return statistics.median(x["avg_ts"] for x in rows), max(x["peak_rss_bytes"] for x in rows)
llama = [json.load(open(f"{work}/llama.{r}.json")) for r in range(1, reps + 1)]
ref = {"pp512": statistics.median(x["pp"] for x in llama), "tg64": statistics.median(x["tg"] for x in llama)}
rss = max(x["peak_rss_bytes"] for x in llama)
print(f"{'test':6s} {'llama.cpp t/s':>14s} {'assay exact':>12s} {'ratio':>7s} {'assay ggml':>11s} {'ratio':>7s}")
for test in ["pp512", "tg64"]:
    e, erss = assay("exact", test); g, grss = assay("ggml", test)
    print(f"{test:6s} {ref[test]:14.2f} {e:12.2f} {e / ref[test]:6.2f}× {g:11.2f} {g / ref[test]:6.2f}×")
print(f"peak RSS MiB: llama.cpp {rss / 2**20:.0f}, assay exact {erss / 2**20:.0f}, assay ggml {grss / 2**20:.0f}")
PY
