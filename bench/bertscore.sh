#!/usr/bin/env bash
# BERTScore speed, assay vs bert_score 0.3.13, side by side: the same 5,000 candidate/reference
# pairs (newstest2021 zh-en: systems Borderline, DIDI-NLP, Facebook-AI against reference A, in file
# order), the same encoder (all-MiniLM-L6-v2, layer 6, no idf), 2 threads each, repetitions
# alternating between the two tools.
#   assay:      `assay bertscore --threads 2 --format json`; time = load_seconds + seconds (encoder
#               loading, tokenization, embedding, matching); peak RSS of the process
#   bert_score: `bert_score.score(..., batch_size=64, device="cpu")` with torch.set_num_threads(2),
#               timed around the call (it loads the model and tokenizer inside); peak RSS of the
#               Python process
#   assay, references cached: the same command with `--cache-references --store` on a store that
#               an untimed run filled first — a gate scoring new candidates against fixed
#               references: only the candidates are embedded (bert_score has no such cache)
# Both print the mean F1 and the largest per-pair F1 difference, so the work is seen to be the same.
# Usage: bench/bertscore.sh [repetitions=1]
#   BERT_VENV=/path/to/venv reuses a venv with bert_score==0.3.13, torch and transformers
#   (otherwise a throw-away one is made).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-1}
data=${ASSAY_DATA:-../shared/data}/wmt-mqm/newstest2021-zhen
encoder="${ASSAY_MODELS:-$HOME/.cache/assay/models}/all-minilm-l6-v2"
scripts/fetch-models.sh
assay=$(scripts/build.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${BERT_VENV:-}" ]; then
  python="$BERT_VENV/bin/python"
else
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --extra-index-url https://download.pytorch.org/whl/cpu torch transformers "bert_score==0.3.13"
  python="$work/venv/bin/python"
fi
for s in Borderline DIDI-NLP Facebook-AI; do cat "$data/hyp/newstest2021.zh-en.hyp.$s.en"; done | awk "NR <= 5000" > "$work/cands.txt"
for s in 1 2 3; do cat "$data/newstest2021.zh-en.ref.A.en"; done | awk "NR <= 5000" > "$work/refs.txt"
cat > "$work/bert_score_run.py" <<'PY'
import json, resource, sys, time
import torch
torch.set_num_threads(2)
from bert_score import score
encoder, cands, refs = sys.argv[1], sys.argv[2], sys.argv[3]
c = [l.rstrip("\n") for l in open(cands, encoding="utf-8")]
r = [l.rstrip("\n") for l in open(refs, encoding="utf-8")]
start = time.perf_counter()
P, R, F = score(c, r, model_type=encoder, num_layers=6, idf=False, device="cpu", batch_size=64)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "pairs": len(c), "f1": F.tolist(),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
PY
echo "pairs: 5000; encoder: all-MiniLM-L6-v2 layer 6, no idf; threads: 2; repetitions: $reps (alternating)"
cache=(--cache-references --store "$work/cache.sqlite")
"$assay" bertscore "$work/cands.txt" --ref "$work/refs.txt" --encoder "$encoder" --layer 6 --threads 2 --format json "${cache[@]}" > /dev/null
for r in $(seq "$reps"); do
  "$assay" bertscore "$work/cands.txt" --ref "$work/refs.txt" --encoder "$encoder" --layer 6 --threads 2 --format json > "$work/assay.$r.json"
  "$assay" bertscore "$work/cands.txt" --ref "$work/refs.txt" --encoder "$encoder" --layer 6 --threads 2 --format json "${cache[@]}" > "$work/cached.$r.json"
  "$python" "$work/bert_score_run.py" "$encoder" "$work/cands.txt" "$work/refs.txt" > "$work/bert_score.$r.json" 2> "$work/bert_score.$r.log"
done
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
load = lambda name: [json.load(open(f"{work}/{name}.{r}.json")) for r in range(1, reps + 1)]
a, b = load("assay"), load("bert_score")
ta = statistics.median(x["seconds"] + x["load_seconds"] for x in a)
tb = statistics.median(x["seconds"] for x in b)
fa, fb = a[0]["f1"], b[0]["f1"]
print(f"assay:      {5000 / ta:7.1f} pairs/s ({ta:.1f} s), peak RSS {max(x['peak_rss_bytes'] for x in a) / 2**20:.0f} MiB, mean F1 {sum(fa) / len(fa):.6f}")
print(f"bert_score: {5000 / tb:7.1f} pairs/s ({tb:.1f} s), peak RSS {max(x['peak_rss_bytes'] for x in b) / 2**20:.0f} MiB, mean F1 {sum(fb) / len(fb):.6f}")
print(f"max |F1 difference| over the pairs: {max(abs(x - y) for x, y in zip(fa, fb)):.2e}")
print(f"ratio (assay / bert_score pairs/s): {tb / ta:.2f}x")
c = load("cached")
tc = statistics.median(x["seconds"] + x["load_seconds"] for x in c)
fc = c[0]["f1"]
print(f"assay, references cached: {5000 / tc:7.1f} pairs/s ({tc:.1f} s; {c[0]['references_cached']} references from the store, "
      f"{c[0]['texts_encoded']} texts embedded), peak RSS {max(x['peak_rss_bytes'] for x in c) / 2**20:.0f} MiB, mean F1 {sum(fc) / len(fc):.6f}")
print(f"max |F1 difference| cached vs bert_score: {max(abs(x - y) for x, y in zip(fc, fb)):.2e}")
print(f"ratio (assay with references cached / bert_score pairs/s): {tb / tc:.2f}x")
PY
