#!/usr/bin/env bash
# Recomputes Fixtures/tokenizers/{llama3,qwen2,deepseek-v3,spm-legacy,spm-metaspace,gemma}-like.json
# and Tests/AssayTokenizerTests/Golden/hf-tokenizer-fixtures.json with Hugging Face `tokenizers`,
# transformers' converters and SentencePiece (no torch; about a minute).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/venv-run.sh" "tokenizers==0.22.2 transformers==4.57.1 sentencepiece==0.2.3 protobuf==7.36.2 gguf==0.19.0" "$here/hf_tokenizer_goldens.py"
