#!/usr/bin/env bash
# Drift speed, assay vs llama.cpp, side by side: SmolLM2-135M-Instruct's F16 copy as the base and
# its Q4_0 as the candidate (both written by llama.cpp's quantizer from the Q4_1 file), the same
# WikiText-2 chunks (context 512), 2 threads, repetitions alternating.
#   assay:     `assay drift --reference F16 --candidate Q4_0 --chunks N --format json`: eval_seconds
#              (both models over every chunk plus all statistics; loading excluded)
#   llama.cpp: llama-perplexity --kl-divergence needs two passes: the base model's logits
#              (--kl-divergence-base) and the candidate's with the KLD. Timed here as llama.cpp's
#              evaluation of the same chunks with each model (llama-cpp-python, one batch of 512
#              per chunk, all logits, empty cache per chunk) — the statistics are not counted, so
#              llama.cpp's side is a lower bound.
# Usage: bench/drift.sh [chunks=8] [repetitions=2]   (LLAMA_VENV=… reuses a venv with llama-cpp-python)
set -euo pipefail
cd "$(dirname "$0")/.."
chunks=${1:-8}
reps=${2:-2}
text="${ASSAY_DATA:-../shared/data}/wikitext2/wiki.test.raw"
source_model="${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
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
import json, sys, time
import llama_cpp
mode = sys.argv[1]
if mode == "quantize":
    src, dst, ftype = sys.argv[2], sys.argv[3], int(sys.argv[4])
    p = llama_cpp.llama_model_quantize_default_params(); p.ftype = ftype; p.allow_requantize = True; p.nthread = 2
    assert llama_cpp.llama_model_quantize(src.encode(), dst.encode(), p) == 0
    sys.exit(0)
base, cand, path, chunks = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
n_ctx, seconds = 512, 0.0
for model in (base, cand):
    llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True, verbose=False,
                          n_threads=2, n_threads_batch=2)
    raw = open(path, "rb").read()
    tokens = llm.tokenize(raw[:-1] if raw.endswith(b"\n") else raw, add_bos=False, special=False)
    for c in range(chunks):
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens[c * n_ctx:(c + 1) * n_ctx])
        seconds += time.perf_counter() - start
print(json.dumps({"eval_seconds": seconds}))
PY
"$python" "$work/llama.py" quantize "$source_model" "$work/f16.gguf" 1 > /dev/null 2>&1
"$python" "$work/llama.py" quantize "$source_model" "$work/q4_0.gguf" 2 > /dev/null 2>&1
echo "chunks of 512: $chunks; repetitions: $reps (alternating); threads: 2"
for r in $(seq "$reps"); do
  "$assay" drift --reference "$work/f16.gguf" --candidate "$work/q4_0.gguf" "$text" --chunks "$chunks" --format json > "$work/assay.$r.json"
  "$python" "$work/llama.py" eval "$work/f16.gguf" "$work/q4_0.gguf" "$text" "$chunks" > "$work/llama.$r.json"
done
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
a = [json.load(open(f"{work}/assay.{r}.json")) for r in range(1, reps + 1)]
l = [json.load(open(f"{work}/llama.{r}.json")) for r in range(1, reps + 1)]
ta, tl = statistics.median(x["eval_seconds"] for x in a), statistics.median(x["eval_seconds"] for x in l)
print(f"assay drift (both models + statistics): {ta:.2f} s, mean KLD {a[0]['mean_kld']:.6f}, same top {a[0]['same_top_p']:.4f}, peak RSS {a[0]['peak_rss_bytes'] / 2**20:.0f} MiB")
print(f"llama.cpp two passes (evaluation only):  {tl:.2f} s")
print(f"ratio (assay time / llama.cpp time): {ta / tl:.2f}x")
PY
