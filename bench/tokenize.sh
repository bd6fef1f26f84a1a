#!/usr/bin/env bash
# Tokenizing the WikiText-2 raw test file with SmolLM2-135M's tokenizer: assay (byte-level BPE
# from the GGUF) vs Hugging Face `tokenizers` (Rust) with the equivalent tokenizer built from the
# same GGUF vocabulary and merges (digits split individually, then GPT-2 byte-level). Both read
# the file the same way; the script checks that both give the same ids, then times REPEATS runs
# (default 5) of each and prints the medians and the ratio. assay is timed as a whole command
# (start-up and GGUF parsing included); tokenizers is timed in-process, encode only.
# Usage: bench/tokenize.sh     (needs scripts/fetch-models.sh, a release build and $ASSAY_DATA)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${REPEATS:-5}
data=${ASSAY_DATA:-../shared/data}
text="$data/wikitext2/wiki.test.raw"
model="${ASSAY_MODELS:-$HOME/.cache/assay/models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$text" ] || { echo "error: $text not found (set ASSAY_DATA)" >&2; exit 2; }
scripts/fetch-models.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install --quiet tokenizers gguf numpy
assay=$(scripts/build.sh)
"$assay" tokenize "$model" --file "$text" --format json > "$work/assay.json"
"$work/venv/bin/python" - "$model" "$text" "$work/assay.json" "$repeats" <<'PY'
import json, statistics, sys, time
from gguf import GGUFReader
from tokenizers import Tokenizer, models, pre_tokenizers
model, path, assay_json, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
r = GGUFReader(model)
def strings(key):
    f = r.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ", 1)) for m in merges]))
tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
raw = open(path, "rb").read()
text = (raw[:-1] if raw.endswith(b"\n") else raw).decode("utf-8")
ids = tok.encode(text).ids
ours = json.load(open(assay_json))["ids"]
print(f"tokens: tokenizers {len(ids)}, assay {len(ours)}, identical: {ids == ours}")
times = []
for _ in range(repeats):
    t = time.perf_counter(); tok.encode(text); times.append(time.perf_counter() - t)
print(f"tokenizers seconds: {' '.join(f'{x:.3f}' for x in times)}  median {statistics.median(times):.3f}")
open(assay_json + ".hf", "w").write(str(statistics.median(times)))
PY
now() { date +%s.%N; }
declare -a t_assay
for i in $(seq 1 "$repeats"); do
  s=$(now); "$assay" tokenize "$model" --file "$text" > /dev/null; e=$(now)
  t_assay+=("$(echo "$e - $s" | bc)")
done
ma=$(printf '%s\n' "${t_assay[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
mh=$(cat "$work/assay.json.hf")
echo "assay      seconds: ${t_assay[*]}  median $ma (whole command)"
echo "ratio (tokenizers / assay): $(echo "scale=2; $mh / $ma" | bc)x"
