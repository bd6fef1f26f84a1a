#!/usr/bin/env bash
# Release build of assay with AVX2/FMA code generation (../shared/PLATFORM.md). Prints the binary path.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -target-cpu -Xswiftc haswell --product assay >&2
echo "$(swift build -c release -Xswiftc -target-cpu -Xswiftc haswell --show-bin-path)/assay"
