#!/usr/bin/env bash
# Recomputes Tests/AssayCheckpointTests/Golden/smollm2.json with gguf-py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../fetch-models.sh"
"$here/venv-run.sh" "gguf numpy" "$here/smollm2_dequant_goldens.py"
