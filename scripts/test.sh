#!/usr/bin/env bash
# The README's second command: install what is missing and run the whole test suite.
# Fetches the real test models into $ASSAY_MODELS (scripts/fetch-models.sh, verified by SHA-256),
# writes the ones derived from them (scripts/make-derived-models.sh) and starts a real
# OpenAI-compatible server (llama-cpp-python, scripts/setup-test-server.sh) serving SmolLM2 for
# the remote-backend tests and a real vLLM (its CPU build, scripts/setup-vllm.sh) serving the same
# weights in the Hugging Face layout for the served-scoring tests, runs a short kill-and-concurrency soak (scripts/soak.sh), a 60 s
# fuzz smoke of every parser (scripts/fuzz) and the parser-facing tests under AddressSanitizer
# (scripts/asan-tests.sh).
# Tests that need ../shared/data (or $ASSAY_DATA), the models or the server skip with a message
# locally and fail in CI (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
scripts/fetch-models.sh
server_python=$(scripts/setup-test-server.sh)
vllm_python=$(scripts/setup-vllm.sh)
scripts/check-imports.sh
swift build --build-tests --explicit-target-dependency-import-check error
scripts/make-derived-models.sh "$(swift build --show-bin-path)/assay"

models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# vLLM starts now (about 40 s, then idle) and is waited for before the tests. It runs in a session
# of its own, under a watchdog that stops the whole group (its engine processes too) when this
# script is gone, however it ended; the trap stops it on a normal exit. -O0: no torch.compile (3
# minutes more to start).
vllm_port=$(free_port)
vllm_log=$(mktemp -t assay-test-vllm.XXXXXX)
VLLM_CPU_KVCACHE_SPACE=1 HF_HUB_OFFLINE=1 setsid bash -c '
  parent=$1; shift
  "$@" &
  while kill -0 "$parent" 2>/dev/null && kill -0 $! 2>/dev/null; do sleep 2; done
  kill -- -$$' vllm-watchdog "$$" "$vllm_python" -m vllm.entrypoints.openai.api_server \
  --model "$models/derived/smollm2-135m-instruct-hf" --served-model-name smollm2 --dtype float32 --max-model-len 2048 \
  --host 127.0.0.1 --port "$vllm_port" -O0 >"$vllm_log" 2>&1 &
vllm_pid=$!
trap 'kill -- -"$vllm_pid" 2>/dev/null || true; rm -f "$vllm_log"' EXIT
vllm_alive() { kill -0 "$vllm_pid" 2>/dev/null || { cat "$vllm_log" >&2; echo "error: vLLM stopped (its log is above)" >&2; exit 2; }; }
# A short kill-and-concurrency soak of one store (the full one: scripts/soak.sh, 200 kills).
scripts/soak.sh 4 60
vllm_alive
# Every committed fuzz regression, then 60 s of libFuzzer per parser (ASSAY_FUZZ_SECONDS to change),
# and the parser-facing tests under AddressSanitizer.
scripts/fuzz all "${ASSAY_FUZZ_SECONDS:-60}"
scripts/asan-tests.sh

port=$(free_port)
server_log=$(mktemp -t assay-test-server.XXXXXX)
# One thread: the tests keep the other core.
"$server_python" -m llama_cpp.server --model "$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" \
  --model_alias smollm2 --host 127.0.0.1 --port "$port" --n_threads 1 --n_threads_batch 1 --interrupt_requests False \
  >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; kill -- -"$vllm_pid" 2>/dev/null || true; rm -f "$server_log" "$vllm_log"' EXIT
wait_for() {  # PORT PID LOG WHAT
  for _ in $(seq 600); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/v1/models', timeout=1)" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; echo "error: $4 did not start" >&2; exit 2; }
    sleep 0.5
  done
  cat "$3" >&2; echo "error: $4 did not answer in 5 minutes" >&2; exit 2
}
wait_for "$port" "$server_pid" "$server_log" "the test server"
wait_for "$vllm_port" "$vllm_pid" "$vllm_log" "vLLM"
export ASSAY_TEST_ENDPOINT="http://127.0.0.1:$port/v1" ASSAY_TEST_SERVED_MODEL=smollm2 ASSAY_SERVER_PYTHON="$server_python"
export ASSAY_TEST_VLLM_ENDPOINT="http://127.0.0.1:$vllm_port/v1"

swift test --skip-build "$@"
