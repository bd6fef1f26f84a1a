#!/usr/bin/env bash
# Speed and memory against parameter count, assay vs llama.cpp, on Llama-shaped GGUFs with random
# weights (scripts/random-gguf.sh; random weights are fine for speed and memory, their perplexity
# means nothing). For each shape, alternating between the tools, 2 threads:
#   - two chunks of 512 tokens of chunked perplexity over WikiText-2 (prefill tokens/s; the
#     process's wall time, so load and tokenization show too);
#   - pp128 and tg16 as llama-bench measures them (assay bench; llama-cpp-python's Llama.eval);
#   - peak RSS of each process, and the budget the engine issue sets: file + KV cache + 128 MiB.
# Prints a Markdown table and writes an SVG chart (tokens/s and peak RSS against parameters).
# Usage: bench/scale.sh [type=q4_0] [shapes="1b 3b 7b 8b"]
#   SCALE_SVG=path (default docs/scale.svg); random files are kept in ~/.cache/assay/models/random
#   (about 11 GB for the four Q4_0 shapes); GGUF_PYTHON as for scripts/random-gguf.sh.
#   About 25 minutes for the four shapes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
type=${1:-q4_0}
shapes=${2:-"1b 3b 7b 8b"}
svg=${SCALE_SVG:-docs/scale.svg}
text="${ASSAY_DATA:-../shared/data}/wikitext2/wiki.test.raw"
[ -f "$text" ] || { echo "error: $text not found (set ASSAY_DATA)" >&2; exit 2; }
models=${ASSAY_MODELS:-$HOME/.cache/assay/models}/random
mkdir -p "$models"
assay=$(scripts/build.sh)
python=$(scripts/setup-test-server.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/llama.py" <<'PY'
import json, random, resource, sys, time
import numpy as np
import llama_cpp
model, text = sys.argv[1], sys.argv[2]
n_ctx = 512
started = time.perf_counter()
llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True, verbose=False,
                      n_threads=2, n_threads_batch=2)
loaded = time.perf_counter() - started
raw = open(text, "rb").read(65536)  # enough for two chunks (the random vocabulary tokenizes byte by byte)
tokens = llm.tokenize(raw, add_bos=False, special=False)
eval_seconds = 0.0
for c in range(2):  # two chunks as llama-perplexity evaluates them (BOS first, one batch, empty cache)
    chunk = [llm.token_bos()] + tokens[c * n_ctx + 1:(c + 1) * n_ctx]
    llm.reset()
    start = time.perf_counter()
    llm.eval(chunk)
    np.asarray(llm.scores[n_ctx // 2:n_ctx - 1])
    eval_seconds += time.perf_counter() - start
rng = random.Random(1)
def timed(count, one_at_a_time):
    ids = [rng.randrange(3, llm.n_vocab()) for _ in range(count)]
    llm.reset()
    start = time.perf_counter()
    if one_at_a_time:
        for t in ids:
            llm.eval([t])
    else:
        llm.eval(ids)
    return count / (time.perf_counter() - start)
timed(16, True)  # warm-up
pp = [timed(128, False) for _ in range(2)]
tg = [timed(16, True) for _ in range(2)]
print(json.dumps({"load_seconds": loaded, "ppl_tokens_per_second": 2 * n_ctx / eval_seconds, "pp128": sum(pp) / 2, "tg16": sum(tg) / 2,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
PY
echo "type $type; shapes $shapes; 2 threads; perplexity 2 × 512, pp128, tg16" >&2
for shape in $shapes; do
  file="$models/$shape.$type.gguf"
  [ -f "$file" ] || scripts/random-gguf.sh "$shape" "$type" "$file"
  sync
  start=$(date +%s.%N)
  "$assay" perplexity "$file" "$text" --context 512 --chunks 2 --threads 2 --format json > "$work/$shape.assay-ppl.json"
  end=$(date +%s.%N)
  python3 -c "import sys; print('{\"wall_seconds\": %f}' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$end" > "$work/$shape.assay-wall.json"
  "$assay" bench "$file" -p 128 -n 16 -r 2 --warmup 1 --threads 2 --format json > "$work/$shape.assay-bench.json"
  "$python" "$work/llama.py" "$file" "$text" > "$work/$shape.llama.json"
  echo "$shape done" >&2
done
python3 - "$work" "$type" "$svg" $shapes <<'PY'
import json, os, struct, sys
work, kind, svg, shapes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
models = os.path.join(os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models")), "random")
# (layers, kv heads × head dim) per shape, for the KV cache of a 512-token context (f32 K and V).
kv = {"1b": (22, 4 * 64), "3b": (28, 8 * 128), "7b": (32, 32 * 128), "8b": (32, 8 * 128),
      "qwen2-1.5b": (28, 2 * 128), "qwen2-7b": (28, 4 * 128), "tiny": (4, 2 * 64)}
rows = []
for shape in shapes:
    ppl = json.load(open(f"{work}/{shape}.assay-ppl.json"))
    wall = json.load(open(f"{work}/{shape}.assay-wall.json"))["wall_seconds"]
    bench = {b["test"]: b for b in json.load(open(f"{work}/{shape}.assay-bench.json"))}
    llama = json.load(open(f"{work}/{shape}.llama.json"))
    size = os.path.getsize(f"{models}/{shape}.{kind}.gguf")
    layers, width = kv[shape]
    budget = size + 2 * layers * width * 512 * 4 + 128 * 2**20
    rss = max(ppl["peak_rss_bytes"], bench["pp128"]["peak_rss_bytes"])
    rows.append(dict(shape=shape, params=bench["pp128"]["model_n_params"], size=size,
                     assay_ppl=ppl["prefill_tokens_per_second"], llama_ppl=llama["ppl_tokens_per_second"],
                     assay_pp=bench["pp128"]["avg_ts"], llama_pp=llama["pp128"], assay_tg=bench["tg16"]["avg_ts"], llama_tg=llama["tg16"],
                     assay_rss=rss, llama_rss=llama["peak_rss_bytes"], budget=budget,
                     assay_other=wall - ppl["eval_seconds"], llama_load=llama["load_seconds"]))
mib = lambda b: b / 2**20
print(f"| shape | params | file MiB | ppl prefill t/s assay / llama.cpp | pp128 t/s assay / llama.cpp | tg16 t/s assay / llama.cpp "
      f"| peak RSS MiB assay / llama.cpp | RSS budget MiB | assay load + tokenize s / llama.cpp load s |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['shape']} {kind.upper()} | {r['params'] / 1e9:.2f} B | {mib(r['size']):.0f} "
          f"| {r['assay_ppl']:.1f} / {r['llama_ppl']:.1f} ({r['assay_ppl'] / r['llama_ppl']:.2f}×) "
          f"| {r['assay_pp']:.1f} / {r['llama_pp']:.1f} ({r['assay_pp'] / r['llama_pp']:.2f}×) "
          f"| {r['assay_tg']:.2f} / {r['llama_tg']:.2f} ({r['assay_tg'] / r['llama_tg']:.2f}×) "
          f"| {mib(r['assay_rss']):.0f} / {mib(r['llama_rss']):.0f} | {mib(r['budget']):.0f} "
          f"| {r['assay_other']:.1f} / {r['llama_load']:.1f} |")

# The chart: three panels sharing the x axis (parameters, billions): prefill t/s, decode t/s, peak RSS GiB.
W, H, pad, gap = 900, 300, 50, 30
pw = (W - 2 * pad - 2 * gap) / 3
colors = {"assay": "#1f77b4", "llama.cpp": "#d62728"}
xmax = max(r["params"] for r in rows) / 1e9 * 1.1
panels = [("prefill tokens/s (perplexity, 2×512)", "assay_ppl", "llama_ppl", 1),
          ("decode tokens/s (tg16)", "assay_tg", "llama_tg", 1),
          ("peak RSS, GiB", "assay_rss", "llama_rss", 2**30)]
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13">Random-weight Llama shapes, {kind.upper()}, 2 threads: assay vs llama.cpp</text>']
for i, (title, a, l, scale) in enumerate(panels):
    x0, y0, y1 = pad + i * (pw + gap), 40, H - 40
    ymax = max(max(r[a], r[l]) / scale for r in rows) * 1.15
    X = lambda v: x0 + v / xmax * pw
    Y = lambda v: y1 - v / ymax * (y1 - y0)
    out.append(f'<text x="{x0 + pw / 2}" y="{y0 - 8}" text-anchor="middle">{title}</text>')
    out.append(f'<line x1="{x0}" y1="{y1}" x2="{x0 + pw}" y2="{y1}" stroke="#333"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>')
    for k in range(5):
        v = ymax * k / 4
        out.append(f'<text x="{x0 - 4}" y="{Y(v) + 4:.1f}" text-anchor="end" fill="#555">{v:.3g}</text>')
        out.append(f'<line x1="{x0}" y1="{Y(v):.1f}" x2="{x0 + pw}" y2="{Y(v):.1f}" stroke="#eee"/>')
    for r in rows:
        out.append(f'<text x="{X(r["params"] / 1e9):.1f}" y="{y1 + 14}" text-anchor="middle" fill="#555">{r["params"] / 1e9:.1f}B</text>')
    for name, key in (("assay", a), ("llama.cpp", l)):
        points = " ".join(f'{X(r["params"] / 1e9):.1f},{Y(r[key] / scale):.1f}' for r in rows)
        out.append(f'<polyline points="{points}" fill="none" stroke="{colors[name]}" stroke-width="2"/>')
        for r in rows:
            out.append(f'<circle cx="{X(r["params"] / 1e9):.1f}" cy="{Y(r[key] / scale):.1f}" r="3" fill="{colors[name]}"/>')
    out.append(f'<text x="{x0 + pw / 2}" y="{H - 12}" text-anchor="middle" fill="#555">parameters</text>')
for j, name in enumerate(colors):
    out.append(f'<rect x="{W - 190 + j * 90}" y="{H - 22}" width="12" height="3" fill="{colors[name]}"/>'
               f'<text x="{W - 174 + j * 90}" y="{H - 17}">{name}</text>')
out.append("</svg>")
open(svg, "w").write("\n".join(out) + "\n")
print(f"\nchart: {svg}", file=sys.stderr)
PY
