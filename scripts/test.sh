#!/usr/bin/env bash
# The README's second command: install what is missing and run the whole test suite.
# Tests that need ../shared/data (or $ASSAY_DATA) skip with a message locally and fail in CI (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build --build-tests --explicit-target-dependency-import-check error
swift test --skip-build "$@"
