#!/usr/bin/env bash
# Recomputes Tests/AssayTensorTests/Golden/dequant.json with gguf-py in a throw-away venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet gguf numpy
"$venv/bin/python" "$here/dequant_goldens.py"
