#!/usr/bin/env bash
# Serving benchmark clients side by side: `assay bench-serve` and vLLM's own client
# (`vllm bench serve`, vLLM 0.9.2's vllm/benchmarks/serve.py, from the PyPI wheel) against the same
# real server — llama-cpp-python 0.3.36 serving SmolLM2-135M-Instruct Q4_1 on one thread, so that
# the client has a core of its own — with the same 32 prompts (a JSONL file written here), 32
# output tokens, concurrency 1, temperature 0; rounds alternate vLLM, Assay.
# Prints, per metric, both values and the ratio Assay / vLLM (median over rounds).
# Usage: bench/serving.sh [rounds=3] [server-threads=1]
#   BENCH_PYTHON=… a Python with torch and transformers 4.x (vLLM 0.9.2 imports them); otherwise
#   a venv is made in ~/.cache/assay/bench-vllm-venv (large: torch). PYTHONPATH is passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-1}
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
gguf="$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
scripts/fetch-models.sh
assay=$(scripts/build.sh)
server_python=$(scripts/setup-test-server.sh)
work=$(mktemp -d)
cache=$HOME/.cache/assay
if [ -n "${BENCH_PYTHON:-}" ]; then
  python=$BENCH_PYTHON
else
  venv=$cache/bench-vllm-venv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    # vLLM 0.9.2's client imports these; transformers 5, huggingface-hub 1.x and datasets 4 break it.
    "$venv/bin/pip" install --quiet torch "transformers==4.57.1" "huggingface-hub<1.0" "datasets<4" aiohttp \
      numpy pandas tqdm pillow msgspec cachetools pyzmq blake3 pybase64 gguf cloudpickle psutil pydantic
  fi
  python=$venv/bin/python
fi
# vLLM's benchmark client, straight from the wheel (its Python files only; not installed).
vllm_src=$cache/vllm-0.9.2-src
if [ ! -f "$vllm_src/vllm/benchmarks/serve.py" ]; then
  python3 -m pip download --quiet --no-deps "vllm==0.9.2" -d "$work/wheel"
  python3 - "$work"/wheel/vllm-*.whl "$vllm_src" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.endswith(".py"):
            z.extract(name, sys.argv[2])
PY
  # vLLM 0.9.2 registers a config name that transformers 4.57 already has; allow it.
  sed -i 's/AutoConfig.register("aimv2", AIMv2Config)/AutoConfig.register("aimv2", AIMv2Config, exist_ok=True)/' \
    "$vllm_src/vllm/transformers_utils/configs/ovis.py"
fi
# The served model's tokenizer for vLLM's client: the GGUF's, as a Hugging Face tokenizer (with
# the GGUF's add-BOS flag: transformers' GGUF conversion adds BOS by default, SmolLM2 does not).
"$python" - "$gguf" "$work/tokenizer" <<'PY'
import sys
from gguf import GGUFReader
from transformers import AutoTokenizer
field = GGUFReader(sys.argv[1]).fields.get("tokenizer.ggml.add_bos_token")
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1].rsplit("/", 1)[0], gguf_file=sys.argv[1].rsplit("/", 1)[1])
tokenizer.add_bos_token = bool(field.parts[field.data[0]][0]) if field else False
tokenizer.save_pretrained(sys.argv[2])
PY
python3 - "$work/prompts.jsonl" <<'PY'
import json, random, sys
random.seed(7)
subjects = ["a lighthouse keeper", "a tired cartographer", "the river town", "a clockmaker's apprentice",
            "an old ferry", "the night market", "a field of sunflowers", "a library at dawn"]
asks = ["Write three sentences about {}.", "Describe {} in a short paragraph.",
        "Tell a very short story about {}.", "List four facts someone might notice about {}."]
with open(sys.argv[1], "w") as f:
    for _ in range(32):
        f.write(json.dumps({"prompt": random.choice(asks).format(random.choice(subjects))}) + "\n")
PY
cat > "$work/vllm_bench.py" <<'PY'
import argparse
from vllm.benchmarks.serve import add_cli_args, main
parser = argparse.ArgumentParser()
add_cli_args(parser)
main(parser.parse_args())
PY

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server_python" -m llama_cpp.server --model "$gguf" --model_alias smollm2 --host 127.0.0.1 --port "$port" \
  --n_threads "$threads" --n_threads_batch "$threads" --interrupt_requests False >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 120); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v1/models', timeout=1)" 2>/dev/null && break
  sleep 0.5
done

for round in $(seq "$rounds"); do
  (cd "$work" && PYTHONPATH="$vllm_src${PYTHONPATH:+:$PYTHONPATH}" "$python" vllm_bench.py --backend openai --base-url "http://127.0.0.1:$port" \
    --endpoint /v1/completions --model smollm2 --tokenizer "$work/tokenizer" --dataset-name custom \
    --dataset-path prompts.jsonl --custom-skip-chat-template --num-prompts 32 --custom-output-len 32 --max-concurrency 1 \
    --percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,90,99 --save-result \
    --result-filename "vllm-$round.json" >"$work/vllm-$round.log" 2>&1) || { cat "$work/vllm-$round.log" >&2; exit 2; }
  "$assay" bench-serve --endpoint "http://127.0.0.1:$port/v1" --model smollm2 --tokenizer "$gguf" \
    --prompts "$work/prompts.jsonl" --num-prompts 32 --output-len 32 --max-concurrency 1 --format json >"$work/assay-$round.json"
done
python3 - "$work" "$rounds" "$threads" <<'PY'
import json, statistics, sys
work, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
v = [json.load(open(f"{work}/vllm-{r}.json")) for r in range(1, rounds + 1)]
a = [json.load(open(f"{work}/assay-{r}.json"))[0] for r in range(1, rounds + 1)]
print(f"llama-cpp-python server, {threads} thread(s); 32 prompts, 32 output tokens, concurrency 1; {rounds} rounds (medians)")
print(f"{'metric':24s} {'vllm bench serve':>17s} {'assay bench-serve':>18s} {'assay/vllm':>11s}")
for key in ["total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput",
            "mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms",
            "mean_itl_ms", "median_itl_ms", "p99_itl_ms", "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms"]:
    vv = statistics.median(r[key] for r in v); aa = statistics.median(r[key] for r in a)
    print(f"{key:24s} {vv:17.3f} {aa:18.3f} {aa / vv:11.3f}")
print(f"assay harness_overhead_pct (median): {statistics.median(r['harness_overhead_pct'] for r in a):.3f}")
PY
