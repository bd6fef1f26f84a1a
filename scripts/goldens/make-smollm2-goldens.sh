#!/usr/bin/env bash
# Recomputes Tests/AssayCheckpointTests/Golden/smollm2.json with gguf-py in a throw-away venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../fetch-models.sh"
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet gguf numpy
"$venv/bin/python" "$here/smollm2_dequant_goldens.py"
