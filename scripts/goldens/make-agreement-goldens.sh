#!/usr/bin/env bash
# Recomputes Tests/AssayStatsTests/Golden/agreement.json with scikit-learn, statsmodels,
# krippendorff and scipy (and sacrebleu for the sentence scores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/venv-run.sh" "scikit-learn statsmodels krippendorff scipy sacrebleu==2.6.0" "$here/agreement_goldens.py"
