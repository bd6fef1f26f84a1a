#!/usr/bin/env bash
# Recomputes Tests/AssayTokenizerTests/Golden/wordpiece-minilm.json with Hugging Face `tokenizers`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../fetch-models.sh"
"$here/venv-run.sh" "tokenizers" "$here/wordpiece_goldens.py"
