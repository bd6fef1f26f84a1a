#!/usr/bin/env bash
# Short-prompt prefill speed, assay vs llama.cpp, side by side: ppN for each N in SIZES (N random
# token ids in one batch from an empty cache, logits of the last one, as llama-bench's ppN),
# 2 threads, repetitions alternating between the tools, medians. Prompts of a few to a hundred
# tokens are what scoring many short items (lm-eval's loglikelihood tasks) and generation run.
#   assay:     `assay bench MODEL -p SIZES -n 0 --numerics exact|ggml --format json`
#   llama.cpp: llama-cpp-python (the test server's venv) evaluating the same sizes with
#              `Llama.eval` (n_batch 512), timed around each, after one unmeasured warm-up each
# Usage: bench/prompts.sh [model.gguf] [sizes=2,8,32,128] [repetitions=3]
#   default model: SmolLM2-135M-Instruct Q4_1; larger shapes from scripts/random-gguf.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-"${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"}
sizes=${2:-2,8,32,128}
reps=${3:-3}
[ -n "${1:-}" ] || scripts/fetch-models.sh
assay=$(scripts/build.sh)
python=$(scripts/setup-test-server.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/llama.py" <<'PY'
import json, random, sys, time
import llama_cpp
path, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
llm = llama_cpp.Llama(model_path=path, n_ctx=max(sizes) + 16, n_batch=512, n_ubatch=512, n_threads=2, n_threads_batch=2,
                      verbose=False)
vocabulary = llm.n_vocab()
rng = random.Random(1)
def timed(n):
    tokens = [rng.randrange(vocabulary) for _ in range(n)]
    llm.reset()
    llm._ctx.memory_clear(True) if hasattr(llm._ctx, "memory_clear") else None
    start = time.perf_counter()
    llm.eval(tokens)
    return n / (time.perf_counter() - start)
out = {}
for n in sizes:
    timed(n)  # warm-up
    out[f"pp{n}"] = timed(n)
print(json.dumps(out))
PY
echo "model: $model; pp$sizes, 2 threads; $reps repetitions alternating"
for r in $(seq "$reps"); do
  for numerics in exact ggml; do
    "$assay" bench "$model" -p "$sizes" -n 0 -r 1 --warmup 1 --threads 2 --numerics "$numerics" --format json > "$work/assay-$numerics.$r.json"
  done
  "$python" "$work/llama.py" "$model" "$sizes" > "$work/llama.$r.json"
done
python3 - "$work" "$reps" "$sizes" <<'PY'
import json, statistics, sys
work, reps, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
def assay(numerics, test):
    return statistics.median(next(x for x in json.load(open(f"{work}/assay-{numerics}.{r}.json")) if x["test"] == test)["avg_ts"]
                             for r in range(1, reps + 1))
llama = [json.load(open(f"{work}/llama.{r}.json")) for r in range(1, reps + 1)]
print(f"{'test':6s} {'llama.cpp t/s':>14s} {'assay exact':>12s} {'ratio':>7s} {'assay ggml':>11s} {'ratio':>7s}")
for n in sizes:
    test = f"pp{n}"
    ref = statistics.median(x[test] for x in llama)
    e, g = assay("exact", test), assay("ggml", test)
    print(f"{test:6s} {ref:14.2f} {e:12.2f} {e / ref:6.2f}× {g:11.2f} {g / ref:6.2f}×")
PY
