#!/usr/bin/env bash
# Recomputes Tests/AssayStatsTests/Golden/agreement.json with scikit-learn, statsmodels,
# krippendorff and scipy installed into a throw-away virtual environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet scikit-learn statsmodels krippendorff scipy "sacrebleu==2.6.0"
"$venv/bin/python" "$here/agreement_goldens.py"
