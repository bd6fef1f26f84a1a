#!/usr/bin/env bash
# Prefill speed and memory of chunked perplexity, assay vs llama.cpp, side by side in one run:
# the same model (SmolLM2-135M-Instruct Q4_1), text (WikiText-2 raw test), context (512), chunks and
# threads (2), repetitions alternating between the two tools.
#   assay:     `assay perplexity --context 512 --chunks N --format json` — eval_seconds (model and
#              scoring; load and tokenization excluded), peak RSS of the process
#   llama.cpp: llama-cpp-python (llama.cpp built from source by pip) evaluating the same chunks
#              as llama-perplexity does (one batch of 512 per chunk, all logits, empty cache each
#              time, 2 threads), timed around the evaluations; peak RSS of the Python process
# Both compute the perplexity, printed so the work can be seen to be the same.
# Usage: bench/perplexity.sh [chunks=16] [repetitions=3]
#   LLAMA_VENV=/path/to/venv reuses a venv that has llama-cpp-python (otherwise a throw-away one
#   is made, which compiles llama.cpp: several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
chunks=${1:-16}
reps=${2:-3}
data=${ASSAY_DATA:-../shared/data}
text="$data/wikitext2/wiki.test.raw"
model="${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
scripts/fetch-models.sh
assay=$(scripts/build.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${LLAMA_VENV:-}" ]; then
  python="$LLAMA_VENV/bin/python"
else
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet "llama-cpp-python==0.3.36" numpy
  python="$work/venv/bin/python"
fi
cat > "$work/llama.py" <<'PY'
import json, math, resource, sys, time
import numpy as np
import llama_cpp
model, path, chunks = sys.argv[1], sys.argv[2], int(sys.argv[3])
n_ctx = 512
llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True, verbose=False,
                      n_threads=2, n_threads_batch=2)
raw = open(path, "rb").read()
tokens = llm.tokenize(raw[:-1] if raw.endswith(b"\n") else raw, add_bos=False, special=False)
nll, count, seconds = 0.0, 0, 0.0
for c in range(chunks):
    chunk = tokens[c * n_ctx:(c + 1) * n_ctx]
    llm.reset()
    start = time.perf_counter()
    llm.eval(chunk)
    scores = np.asarray(llm.scores[n_ctx // 2:n_ctx - 1], dtype=np.float64)
    seconds += time.perf_counter() - start
    m = scores.max(axis=1, keepdims=True)
    logz = m[:, 0] + np.log(np.exp(scores - m).sum(axis=1))
    nll += float((logz - scores[np.arange(len(scores)), chunk[n_ctx // 2 + 1:]]).sum())
    count += len(scores)
print(json.dumps({"eval_seconds": seconds, "tokens_processed": chunks * n_ctx, "perplexity": math.exp(nll / count),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
PY
echo "chunks of 512: $chunks; repetitions: $reps (alternating); threads: 2"
for r in $(seq "$reps"); do
  "$assay" perplexity "$model" "$text" --context 512 --chunks "$chunks" --format json > "$work/assay.$r.json"
  "$python" "$work/llama.py" "$model" "$text" "$chunks" > "$work/llama.$r.json"
done
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
def load(name):
    return [json.load(open(f"{work}/{name}.{r}.json")) for r in range(1, reps + 1)]
a, l = load("assay"), load("llama")
rate = lambda rows: statistics.median(r["tokens_processed"] / r["eval_seconds"] for r in rows)
ra, rl = rate(a), rate(l)
print(f"assay:     {ra:8.1f} tokens/s (median eval {statistics.median(r['eval_seconds'] for r in a):.2f} s), "
      f"peak RSS {max(r['peak_rss_bytes'] for r in a) / 2**20:.0f} MiB, PPL {a[0]['perplexity']:.4f}")
print(f"llama.cpp: {rl:8.1f} tokens/s (median eval {statistics.median(r['eval_seconds'] for r in l):.2f} s), "
      f"peak RSS {max(r['peak_rss_bytes'] for r in l) / 2**20:.0f} MiB, PPL {l[0]['perplexity']:.4f}")
print(f"ratio (assay / llama.cpp prefill tokens/s): {ra / rl:.2f}x")
PY
