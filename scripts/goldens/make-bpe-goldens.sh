#!/usr/bin/env bash
# Recomputes Tests/AssayTokenizerTests/Golden/bpe-smollm2*.json with llama.cpp (llama-cpp-python,
# compiled from source by pip: several minutes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../fetch-models.sh"
"$here/venv-run.sh" "llama-cpp-python" "$here/bpe_goldens.py"
"$here/venv-run.sh" "llama-cpp-python" "$here/bpe_goldens.py" --files
"$here/venv-run.sh" "llama-cpp-python" "$here/bpe_goldens.py" --fixtures
