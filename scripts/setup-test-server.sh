#!/usr/bin/env bash
# Installs a real OpenAI-compatible server for the remote-backend tests and benchmarks:
# llama-cpp-python's server (llama.cpp behind /v1/completions with streaming) in a venv at
# $ASSAY_SERVER_VENV (default ~/.cache/assay/llama-server-venv). Idempotent; the first run
# compiles llama.cpp (about 5 minutes on 2 cores). Prints the venv's python.
set -euo pipefail
venv=${ASSAY_SERVER_VENV:-$HOME/.cache/assay/llama-server-venv}
version=0.3.36
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp.server, llama_cpp; assert llama_cpp.__version__ == '$version'" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
missing=()
python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
command -v c++ >/dev/null || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
echo "installing llama-cpp-python[server] $version into $venv (compiles llama.cpp; a few minutes)" >&2
# An interrupted install fails the import check above and starts again from scratch.
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet "llama-cpp-python[server]==$version" >&2
echo "$venv/bin/python"
