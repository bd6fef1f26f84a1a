#!/usr/bin/env bash
# Runs a golden-value script with reference tools installed into a throw-away virtual environment
# (nothing of the tools is committed or kept):  venv-run.sh "pkg1 pkg2==1.0" script.py [args…]
set -euo pipefail
packages=$1
shift
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet $packages
"$venv/bin/python" "$@"
