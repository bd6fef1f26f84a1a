#!/usr/bin/env bash
# Ratings at scale: import 1,000,000 rating rows (CSV) into a fresh store, then compute every
# pairwise statistic with `assay agreement`. Targets (issue 3): import ≥ 200k rows/s, agreement < 2 s.
#
# The rows are generated (333,334 items, 3 of 50 raters each, labels 1–5 around a per-item base)
# in a temporary directory. Each step runs REPEATS times (default 3); medians are printed.
# Usage: bench/ratings.sh [rows]      (needs a release build: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
repeats=${REPEATS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/lib/ratings-csv.py "$rows" "$work/ratings.csv"
assay=$(scripts/build.sh)
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -a t_import t_agree
for i in $(seq 1 "$repeats"); do
  rm -f "$work"/store.sqlite*
  s=$(now); "$assay" ratings import "$work/ratings.csv" --set bench --scale 1,2,3,4,5 --store "$work/store.sqlite" > /dev/null; e=$(now)
  t_import+=("$(echo "$e - $s" | bc)")
  s=$(now); "$assay" agreement --set bench --weights quadratic --store "$work/store.sqlite" --format json > /dev/null; e=$(now)
  t_agree+=("$(echo "$e - $s" | bc)")
done
mi=$(median "${t_import[@]}"); ma=$(median "${t_agree[@]}")
echo "rows: $rows, repeats: $repeats"
echo "import    seconds: ${t_import[*]}  median $mi  → $(echo "$rows / $mi" | bc) rows/s"
echo "agreement seconds: ${t_agree[*]}  median $ma"
