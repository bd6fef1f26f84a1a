#!/usr/bin/env bash
# The README's second command: install what is missing and run the whole test suite.
# Fetches the real test models into $ASSAY_MODELS (scripts/fetch-models.sh, verified by SHA-256)
# and writes the ones derived from them (scripts/make-derived-models.sh).
# Tests that need ../shared/data (or $ASSAY_DATA) or the models skip with a message locally and
# fail in CI (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
scripts/fetch-models.sh
swift build --build-tests --explicit-target-dependency-import-check error
scripts/make-derived-models.sh "$(swift build --show-bin-path)/assay"
swift test --skip-build "$@"
