#!/usr/bin/env bash
# Linear time on hostile sizes: every tokenizer and text normaliser on one line of 100 KB and of
# 1.6 MB (16×), with no line break to split on (a third of it kana and Hangul with no space
# either). For each command the script prints both times and their ratio; linear work gives about
# 16, quadratic about 256. It fails (exit 1) when a ratio exceeds 20 (docs/reliability.md). The text mixes ASCII, accented Latin, Greek capitals (Python's
# final-sigma rule), CJK, emoji and written U+2581, generated in a temporary directory.
#
# Usage: bench/linear.sh      (needs a release build: scripts/build.sh; the models of
#                               scripts/fetch-models.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
assay=.build/release/assay
[ -x "$assay" ] || { echo "error: $assay not found (run scripts/build.sh)" >&2; exit 2; }
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}
[ -d "$models/all-minilm-l6-v2" ] || { echo "error: no models in $models (run scripts/fetch-models.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import random, sys
random.seed(1)
words = ("The quick brown fox jumps over the lazy dog; naïve café Größe ΣΟΦΊΑ ΟΔΟΣ 中文文本 über 12345 it's "
         "e\u0301te\u0301 \u2581marker 😀 DON'T").split()
# Kana and Hangul without a space between them: nothing splits them before the normalisers.
unspaced = list("ひらがなカタカナ한국어텍스트ですマス")
for size, name in [(100_000, "small"), (1_600_000, "large")]:
    out, n = [], 0
    while n < size * 2 // 3:
        w = random.choice(words); out.append(w); n += len(w.encode()) + 1
    text = " ".join(out[: len(out) // 2]) + " " + "".join(random.choice(unspaced) for _ in range(size // 9)) + " " + " ".join(out[len(out) // 2:])
    open(f"{sys.argv[1]}/{name}.txt", "w", encoding="utf-8").write(text + "\n")
PY
status=0
run() {
  local label=$1; shift
  local times=()
  for size in small large; do
    local args=("${@//FILE/$work/$size.txt}")
    local start end
    start=$(date +%s.%N)
    "$assay" "${args[@]}" > /dev/null
    end=$(date +%s.%N)
    times+=("$(python3 -c "print(f'{$end - $start:.3f}')")")
  done
  local ratio
  ratio=$(python3 -c "print(f'{${times[1]} / max(${times[0]}, 1e-3):.1f}')")
  printf '%-50s 100 KB %8s s   1.6 MB %8s s   ratio %6s\n' "$label" "${times[0]}" "${times[1]}" "$ratio"
  python3 -c "import sys; sys.exit(0 if $ratio <= 20 else 1)" || status=1
}
run "tokenize: BERT WordPiece (all-MiniLM-L6-v2)" tokenize "$models/all-minilm-l6-v2" --file FILE --format json
run "tokenize: byte-level BPE (SmolLM2 GGUF)" tokenize "$models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --file FILE --format json
run "tokenize: SentencePiece (GGUF, llama.cpp rule)" tokenize Fixtures/gguf/vocab-spm.gguf --file FILE --format json
run "tokenize: SentencePiece (tokenizer.json, HF rule)" tokenize Fixtures/tokenizers/spm-legacy-like.json --file FILE --format json
run "tokenize: DeepSeek-V3 regular expressions" tokenize Fixtures/gguf/vocab-deepseek-v3.gguf --file FILE --format json
run "tokenize: Qwen2 with NFC (tokenizer.json)" tokenize Fixtures/tokenizers/qwen2-like.json --file FILE --format json
run "bleu 13a, lowercase" bleu FILE --ref FILE --lowercase
run "bleu intl" bleu FILE --ref FILE --tokenize intl
run "chrF++, lowercase" chrf FILE --ref FILE --word-order 2 --lowercase
exit $status
