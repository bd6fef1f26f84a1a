#!/usr/bin/env bash
# Generation beside a busy process, assay vs llama.cpp: tg64 (64 tokens one at a time from an empty
# cache) on a quiet machine and with a busy loop pinned to the last CPU this process may use (a
# shared CI runner, a neighbour's job), at 2 threads and at 1; repetitions alternating between
# the tools, medians.
#   assay:     `assay bench MODEL -p 0 -n 64 --threads T --numerics NUMERICS --format json`
#   llama.cpp: llama-cpp-python (the test server's venv) through bench/lib/llama_eval.py
# Usage: bench/contention.sh [model.gguf] [repetitions=3] [numerics=ggml]
#   default model: SmolLM2-135M-Instruct Q4_1. Needs two CPUs in the affinity mask.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-"${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"}
reps=${2:-3}
numerics=${3:-ggml}
[ -n "${1:-}" ] || scripts/fetch-models.sh
assay=$(scripts/build.sh)
python=$(scripts/setup-test-server.sh)
cpus=$(python3 -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))')
[ "$(echo "$cpus" | wc -w)" -ge 2 ] || { echo "bench/contention.sh: needs at least two CPUs (has: $cpus)" >&2; exit 1; }
busy_cpu=${cpus##* }
work=$(mktemp -d)
busy=
stop_busy() { [ -z "$busy" ] || { kill "$busy" 2>/dev/null || true; wait "$busy" 2>/dev/null || true; busy=; }; }
trap 'stop_busy; rm -rf "$work"' EXIT
echo "model: $model; tg64, numerics $numerics; busy loop on CPU $busy_cpu of {$cpus}; $reps repetitions alternating"
for condition in quiet busy; do
  if [ "$condition" = busy ]; then
    taskset -c "$busy_cpu" sh -c 'while :; do :; done' &
    busy=$!
  fi
  for r in $(seq "$reps"); do
    for threads in 2 1; do
      "$assay" bench "$model" -p 0 -n 64 -r 1 --warmup 1 --threads "$threads" --numerics "$numerics" --format json \
        > "$work/assay.$condition.$threads.$r.json"
      "$python" bench/lib/llama_eval.py "$model" 0 64 "$threads" > "$work/llama.$condition.$threads.$r.json"
    done
  done
  stop_busy
done
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
def median(tool, condition, threads):
    values = []
    for r in range(1, reps + 1):
        data = json.load(open(f"{work}/{tool}.{condition}.{threads}.{r}.json"))
        values.append(next(x["avg_ts"] for x in data if x["test"] == "tg64") if tool == "assay" else data["tg"])
    return statistics.median(values)
print(f"{'machine':8s} {'threads':>7s} {'llama.cpp t/s':>14s} {'assay t/s':>10s} {'ratio':>7s}")
for condition in ["quiet", "busy"]:
    for threads in [2, 1]:
        l, a = median("llama", condition, threads), median("assay", condition, threads)
        print(f"{condition:8s} {threads:7d} {l:14.2f} {a:10.2f} {a / l:6.2f}×")
PY
