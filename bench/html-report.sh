#!/usr/bin/env bash
# The HTML report of a 10,000-item run in headless chromium: file size, first contentful paint
# and the time until every row is parsed and the page's script has enhanced the tables, as the
# page records them (data-first-paint-ms, data-ready-ms; ms since navigation start). For scale,
# the same for a bare page holding only the same 10,000 rows as a plain table (no style, no
# script): the floor any HTML table of that size has in this browser on this machine.
#
# The run: corpus BLEU over the first 10,000 segments of the WMT21 newstest2021 zh-en system
# outputs against reference A from $ASSAY_DATA (default ../shared/data), in a temporary
# directory. Each page loads REPEATS times (default 5); the script prints each load and medians.
#
# Usage: bench/html-report.sh      (needs a release build: scripts/build.sh; chromium:
#                                   scripts/install-system-packages.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${REPEATS:-5}
data=${ASSAY_DATA:-../shared/data}
base="$data/wmt-mqm/newstest2021-zhen"
[ -d "$base" ] || { echo "error: $base not found (set ASSAY_DATA)" >&2; exit 2; }
assay=.build/release/assay
[ -x "$assay" ] || { echo "error: $assay not found (run scripts/build.sh)" >&2; exit 2; }
command -v chromium > /dev/null || { echo "error: chromium not found (run scripts/install-system-packages.sh)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$base" "$work" <<'PY'
import os, sys
base, out = sys.argv[1], sys.argv[2]
ref = open(os.path.join(base, "newstest2021.zh-en.ref.A.en"), encoding="utf-8").read().splitlines()
hyps, refs = [], []
for name in sorted(os.listdir(os.path.join(base, "hyp"))):
    hyps += open(os.path.join(base, "hyp", name), encoding="utf-8").read().splitlines(); refs += ref
open(os.path.join(out, "hyp.txt"), "w", encoding="utf-8").write("\n".join(hyps[:10000]) + "\n")
open(os.path.join(out, "ref.txt"), "w", encoding="utf-8").write("\n".join(refs[:10000]) + "\n")
PY
cat > "$work/suite.yaml" <<'YAML'
version: 1
name: html-bench
datasets:
  mt: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] }
evaluations:
  - { id: bleu, evaluator: bleu, dataset: mt, options: { confidence: true } }
YAML
(cd "$work" && "$OLDPWD/$assay" run suite.yaml --store store.sqlite --out reports --format text > /dev/null)
page=$(ls "$work"/reports/html-bench/*.html)
# The floor: the same rows, nothing else.
python3 - "$page" "$work/bare.html" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
body = re.search(r'<table class="items".*?</table>', html, re.S).group(0)
open(sys.argv[2], "w", encoding="utf-8").write("<!DOCTYPE html><html><body>" + body +
    "<script>var p=performance.getEntriesByType('paint')[0];document.documentElement.dataset.firstPaintMs=p?p.startTime.toFixed(1):'';"
    "document.documentElement.dataset.readyMs=performance.now().toFixed(1)</script></body></html>")
PY
rows=$(grep -c "^<tr>" "$page" || true)
drills=$(grep -o "<summary>texts</summary>" "$page" | wc -l)
echo "report: $(stat -c %s "$page") bytes, $rows table rows, $drills with their texts; bare table: $(stat -c %s "$work/bare.html") bytes"
measure() {
  local file=$1 label=$2 paints=() readies=()
  for i in $(seq "$repeats"); do
    local dom
    dom=$(chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/profile" --dump-dom "file://$file" 2> /dev/null)
    local paint ready
    paint=$(grep -o 'data-first-paint-ms="[0-9.]*"' <<< "$dom" | grep -o '[0-9.]*' || echo nan)
    ready=$(grep -o 'data-ready-ms="[0-9.]*"' <<< "$dom" | grep -o '[0-9.]*' || echo nan)
    echo "  $label load $i: first paint $paint ms, ready $ready ms"
    paints+=("$paint"); readies+=("$ready")
  done
  python3 -c "import statistics,sys; p=[float(x) for x in sys.argv[2].split()]; r=[float(x) for x in sys.argv[3].split()]; print(f'{sys.argv[1]}: median first paint {statistics.median(p):.0f} ms, median ready {statistics.median(r):.0f} ms')" \
    "$label" "${paints[*]}" "${readies[*]}"
}
measure "$page" "report"
measure "$work/bare.html" "bare table"
