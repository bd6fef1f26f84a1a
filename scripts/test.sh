#!/usr/bin/env bash
# The README's second command: install what is missing and run the whole test suite.
# Fetches the real test models into $ASSAY_MODELS (scripts/fetch-models.sh, verified by SHA-256),
# writes the ones derived from them (scripts/make-derived-models.sh) and starts a real
# OpenAI-compatible server (llama-cpp-python, scripts/setup-test-server.sh) serving SmolLM2 for
# the remote-backend tests, runs a short kill-and-concurrency soak (scripts/soak.sh), a 60 s
# fuzz smoke of every parser (scripts/fuzz) and the parser-facing tests under AddressSanitizer
# (scripts/asan-tests.sh).
# Tests that need ../shared/data (or $ASSAY_DATA), the models or the server skip with a message
# locally and fail in CI (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
scripts/fetch-models.sh
server_python=$(scripts/setup-test-server.sh)
scripts/check-imports.sh
swift build --build-tests --explicit-target-dependency-import-check error
scripts/make-derived-models.sh "$(swift build --show-bin-path)/assay"
# A short kill-and-concurrency soak of one store (the full one: scripts/soak.sh, 200 kills).
scripts/soak.sh 4 60
# Every committed fuzz regression, then 60 s of libFuzzer per parser (ASSAY_FUZZ_SECONDS to change),
# and the parser-facing tests under AddressSanitizer.
scripts/fuzz all "${ASSAY_FUZZ_SECONDS:-60}"
scripts/asan-tests.sh

models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_log=$(mktemp -t assay-test-server.XXXXXX)
# One thread: the tests keep the other core.
"$server_python" -m llama_cpp.server --model "$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" \
  --model_alias smollm2 --host 127.0.0.1 --port "$port" --n_threads 1 --n_threads_batch 1 --interrupt_requests False \
  >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -f "$server_log"' EXIT
for _ in $(seq 120); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v1/models', timeout=1)" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; echo "error: the test server did not start" >&2; exit 2; }
  sleep 0.5
done
export ASSAY_TEST_ENDPOINT="http://127.0.0.1:$port/v1" ASSAY_TEST_SERVED_MODEL=smollm2 ASSAY_SERVER_PYTHON="$server_python"

swift test --skip-build "$@"
