#!/usr/bin/env bash
# Recomputes the sacrebleu golden values in Tests/AssayMetricsTests/Golden with sacrebleu 2.6.0
# installed into a throw-away virtual environment (nothing of sacrebleu is committed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "sacrebleu==2.6.0"
"$venv/bin/python" "$here/sacrebleu_goldens.py"
