#!/usr/bin/env bash
# Corpus BLEU (13a) over 100,000 segments: assay vs sacrebleu 2.6.0, side by side on this machine.
#
# The corpus is the WMT21 newstest2021 zh-en system outputs and reference A from $ASSAY_DATA
# (default ../shared/data), repeated to 100,000 lines in a temporary directory (nothing is
# written to the repository). sacrebleu is installed into a throw-away venv. Each tool runs
# REPEATS times (default 5) alternately; the script prints each time, the medians, the ratio,
# and checks that both tools report the same score.
#
# Usage: bench/bleu.sh [segments]      (needs a release build: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
segments=${1:-100000}
repeats=${REPEATS:-5}
data=${ASSAY_DATA:-../shared/data}
base="$data/wmt-mqm/newstest2021-zhen"
[ -d "$base" ] || { echo "error: $base not found (set ASSAY_DATA)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$base" "$segments" "$work" <<'PY'
import os, sys
base, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ref = open(os.path.join(base, "newstest2021.zh-en.ref.A.en"), encoding="utf-8").read().splitlines()
hyps, refs = [], []
for name in sorted(os.listdir(os.path.join(base, "hyp"))):
    hyp = open(os.path.join(base, "hyp", name), encoding="utf-8").read().splitlines()
    hyps += hyp; refs += ref
hyps = (hyps * (n // len(hyps) + 1))[:n]; refs = (refs * (n // len(refs) + 1))[:n]
open(os.path.join(out, "hyp.txt"), "w", encoding="utf-8").write("\n".join(hyps) + "\n")
open(os.path.join(out, "ref.txt"), "w", encoding="utf-8").write("\n".join(refs) + "\n")
PY

python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install --quiet "sacrebleu==2.6.0"
assay=$(scripts/build.sh)

now() { date +%s.%N; }
declare -a t_assay t_sacre
for i in $(seq 1 "$repeats"); do
  s=$(now); "$assay" bleu "$work/hyp.txt" --ref "$work/ref.txt" --format json > "$work/assay.json"; e=$(now)
  t_assay+=("$(echo "$e - $s" | bc)")
  s=$(now); "$work/venv/bin/sacrebleu" "$work/ref.txt" -i "$work/hyp.txt" -m bleu -tok 13a -w 9 > "$work/sacre.json"; e=$(now)
  t_sacre+=("$(echo "$e - $s" | bc)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ma=$(median "${t_assay[@]}"); ms=$(median "${t_sacre[@]}")
python3 - "$work/assay.json" "$work/sacre.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
assert abs(a["score"] - s["score"]) < 1e-6, (a["score"], s["score"])
print(f"score: assay {a['score']:.9f}  sacrebleu {s['score']:.9f}")
PY
echo "segments: $segments, repeats: $repeats, threads: $(nproc)"
echo "assay     seconds: ${t_assay[*]}  median $ma"
echo "sacrebleu seconds: ${t_sacre[*]}  median $ms"
echo "ratio (sacrebleu / assay): $(echo "scale=1; $ms / $ma" | bc)x"
