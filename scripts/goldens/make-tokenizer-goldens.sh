#!/usr/bin/env bash
# Recomputes the tokenizer goldens in Tests/AssayTokenizerTests/Golden with Hugging Face
# `tokenizers` installed into a throw-away virtual environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../fetch-models.sh"
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet tokenizers
"$venv/bin/python" "$here/wordpiece_goldens.py"
