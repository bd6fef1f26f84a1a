#!/usr/bin/env bash
# Recomputes the sacrebleu golden values in Tests/AssayMetricsTests/Golden with sacrebleu 2.6.0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/venv-run.sh" "sacrebleu==2.6.0" "$here/sacrebleu_goldens.py"
