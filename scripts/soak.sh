#!/usr/bin/env bash
# Kill-and-concurrency soak of one results store: PROCESSES concurrent assay commands (suite runs
# writing reports, ratings imports, readers), SIGKILLed at random until KILLS were killed, then the
# store and the reports are checked (scripts/soak.py says what). Exits 1 on any finding.
#
# Usage: scripts/soak.sh [PROCESSES] [KILLS]      (default 6 and 200; CI runs a short one)
#        ASSAY_BIN=path (default: the debug build), SOAK_SEED, SOAK_SECONDS (time limit, 1200)
set -euo pipefail
cd "$(dirname "$0")/.."
processes=${1:-6}
kills=${2:-200}
assay=${ASSAY_BIN:-$(swift build --show-bin-path)/assay}
[ -x "$assay" ] || { echo "error: $assay not found (swift build first)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/soak.py "$assay" "$processes" "$kills" "$work"
