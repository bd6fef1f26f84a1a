#!/usr/bin/env bash
# Recomputes Tests/AssayTensorTests/Golden/dequant.json with gguf-py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/venv-run.sh" "gguf numpy" "$here/dequant_goldens.py"
