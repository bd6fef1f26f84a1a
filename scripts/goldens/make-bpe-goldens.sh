#!/usr/bin/env bash
# Recomputes Tests/AssayTokenizerTests/Golden/bpe-smollm2.json with llama.cpp (llama-cpp-python,
# compiled from source by pip, several minutes) in a throw-away virtual environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../fetch-models.sh"
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet llama-cpp-python
"$venv/bin/python" "$here/bpe_goldens.py"
"$venv/bin/python" "$here/bpe_goldens.py" --files
