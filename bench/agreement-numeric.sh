#!/usr/bin/env bash
# Agreement on numeric scores, where every distinct value is a category (`--numeric`): assay vs
# statsmodels 0.15 + krippendorff 0.9, side by side on this machine.
#
# The ratings are generated in a temporary directory (nothing is written to the repository):
# ITEMS items (default 300), 3 raters each, scores with 3 decimals around a per-item base, so
# about 3 × ITEMS distinct values. Both tools compute quadratic-weighted Cohen's kappa with its
# ASE for every rater pair, Fleiss' kappa and Krippendorff's alpha at LEVEL (default ordinal); the
# script checks that they agree (1e-9), then prints each time, the medians, the ratio and peak
# memory. The references build categories² tables, and krippendorff an items × values × values
# array (300 items, 895 values: 5.7 GB peak; 1,000 items would need about 24 times that), so
# larger ITEMS run assay alone (REFERENCE=0). Each tool runs REPEATS times (default 3) alternately.
#
# Usage: bench/agreement-numeric.sh [items] [level]      (needs a release build: scripts/build.sh,
# GNU time for peak memory, and bc)
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-300}
level=${2:-ordinal}
repeats=${REPEATS:-3}
reference=${REFERENCE:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$items" "$work/ratings.csv" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1)
with open(path, "w") as f:
    f.write("item,rater,label\n")
    for i in range(n):
        base = rng.uniform(10, 100)
        for r in ("a", "b", "c"):
            f.write(f"i{i},{r},{round(base + rng.gauss(0, 3), 3)}\n")
PY
if [ "$reference" = 1 ]; then
  python3 -m venv "$work/venv" >/dev/null
  "$work/venv/bin/pip" install --quiet "statsmodels==0.15.0" "krippendorff==0.9.0"
fi
assay=$(scripts/build.sh)

now() { date +%s.%N; }
timed() { # timed OUT CMD…: runs CMD with stdout to OUT; prints "seconds peak-MB"
  local out=$1; shift
  local s e; s=$(now); /usr/bin/env time -f "%M" -o "$work/rss" "$@" > "$out"; e=$(now)
  echo "$(echo "$e - $s" | bc) $(( $(cat "$work/rss") / 1024 ))"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -a t_assay t_ref
for i in $(seq 1 "$repeats"); do
  read -r t m_assay < <(timed "$work/assay.json" "$assay" agreement "$work/ratings.csv" --numeric --weights quadratic --level "$level" --format json)
  t_assay+=("$t")
  if [ "$reference" = 1 ]; then
    read -r t m_ref < <(timed "$work/ref.json" "$work/venv/bin/python" bench/lib/agreement_reference.py "$work/ratings.csv" quadratic "$level")
    t_ref+=("$t")
  fi
done
categories=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['categories']))" "$work/assay.json")
echo "items: $items, raters: 3, categories (distinct values): $categories, level: $level, repeats: $repeats"
echo "assay     seconds: ${t_assay[*]}  median $(median "${t_assay[@]}")  peak RSS ${m_assay} MB"
if [ "$reference" = 1 ]; then
  python3 - "$work/assay.json" "$work/ref.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
assert len(a["pairs"]) == len(r["pairs"])
for p, q in zip(a["pairs"], r["pairs"]):
    assert p["raters"] == q["raters"] and abs(p["kappa"] - q["kappa"]) < 1e-9 and abs(p["ase"] - q["ase"]) < 1e-9, (p, q)
assert abs(a["fleiss"]["kappa"] - r["fleiss"]["kappa"]) < 1e-9, (a["fleiss"], r["fleiss"])
assert abs(a["krippendorff"]["alpha"] - r["krippendorff"]["alpha"]) < 1e-9, (a["krippendorff"], r["krippendorff"])
print(f"same values: kappa {a['pairs'][0]['kappa']:.12f}, fleiss {a['fleiss']['kappa']:.12f}, alpha {a['krippendorff']['alpha']:.12f}")
PY
  echo "reference seconds: ${t_ref[*]}  median $(median "${t_ref[@]}")  peak RSS ${m_ref} MB"
  echo "ratio (reference / assay): $(echo "scale=1; $(median "${t_ref[@]}") / $(median "${t_assay[@]}")" | bc)x"
fi
