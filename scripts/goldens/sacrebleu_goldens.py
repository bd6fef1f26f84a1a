"""Golden values for Assay's BLEU/chrF tests, computed with sacrebleu (the reference).

Run through ./make-sacrebleu-goldens.sh, which installs sacrebleu into a throw-away venv.
Writes Tests/AssayMetricsTests/Golden/sacrebleu-edge-cases.json (hand-written segments, committed
text of our own) and Tests/AssayMetricsTests/Golden/sacrebleu-wmt21.json (statistics on the WMT21
newstest2021 zh-en files in $ASSAY_DATA; only numbers are written, never the text).
"""
import json
import os
import sys

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "AssayMetricsTests", "Golden")
DATA = os.environ.get("ASSAY_DATA", os.path.join(ROOT, "..", "shared", "data"))
TOKENIZERS = ["13a", "intl", "zh", "char", "none"]
SMOOTHINGS = ["exp", "floor", "add-k", "none"]


def bleu_json(score):
    return {
        "score": score.score,
        "counts": [float(c) for c in score.counts],
        "totals": [float(t) for t in score.totals],
        "precisions": score.precisions,
        "bp": score.bp,
        "sys_len": score.sys_len,
        "ref_len": score.ref_len,
    }


def read_lines(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        return [line.rstrip() for line in f]


# Hand-written edge cases (our own text).
EDGE = [
    ("", ["The cat sat on the mat."]),
    ("The cat sat on the mat.", [""]),
    ("", [""]),
    ("The cat sat on the mat.", ["The cat sat on the mat."]),
    ("the cat", ["The cat sat on the mat.", "A cat was sitting there."]),
    ("It costs 1,000,000.50 dollars, i.e. $1.5-2 million.", ["It costs 1,000,000.50 dollars - about $1.5 million."]),
    ("He said “hello” — and left…", ["He said \"hello\" -- and left..."]),
    ("我们在2021年访问了北京 Beijing, 非常好!", ["我们2021年去了北京(Beijing),很好。"]),
    ("Größe: 3.5 cm; ÄÖÜ straße ΣΟΦΙΑ ΟΔΟΣ", ["Größe 3,5 cm; äöü Straße σοφια οδος"]),
    ("Tabs\tand  double  spaces , and a trailing dot .", ["Tabs and double spaces, and a trailing dot."]),
    ("&quot;quoted&quot; &amp; <skipped> escaped &lt;tag&gt;", ["\"quoted\" & escaped <tag>"]),
    ("a.b,c 3.14 x-1 10-20 5. .5 ,x", ["a. b, c 3.14 x - 1 10 - 20 5 . .5 , x"]),
    ("東京は晴れ。Tokyo is sunny! 🌞🙂", ["東京は晴れです。Tokyo is sunny 🌞"]),
    ("one two three four five six seven", ["one two three four five six eight", "seven six five four three two one"]),
    ("a a a a a a", ["a a", "a a a"]),
    ("(hi) [there] {you}: 'quote' \"double\"", ["(hi) there you: quote double"]),
    ("non\u00a0breaking\u2009thin\u3000ideographic space", ["non breaking thin ideographic space"]),
    ("Ünïcödé ﬁ ligature İstanbul", ["unicode fi ligature istanbul"]),
]


def edge_cases():
    cases = []
    for hyp, refs in EDGE:
        entry = {"hypothesis": hyp, "references": refs, "bleu": {}, "sentence_bleu": {}, "chrf": {}}
        for tok in TOKENIZERS:
            for lc in (False, True):
                key = f"{tok}{'-lc' if lc else ''}"
                bleu = BLEU(tokenize=tok, lowercase=lc)
                entry["bleu"][key] = bleu_json(bleu.corpus_score([hyp], [[r] for r in refs]))
        for smooth in SMOOTHINGS:
            bleu = BLEU(smooth_method=smooth, effective_order=True)
            entry["sentence_bleu"][smooth] = bleu_json(bleu.sentence_score(hyp, refs))
        for word_order in (0, 2):
            for lc in (False, True):
                chrf = CHRF(word_order=word_order, lowercase=lc)
                entry["chrf"][f"nw{word_order}{'-lc' if lc else ''}"] = chrf.sentence_score(hyp, refs).score
        cases.append(entry)
    return {"sacrebleu": sacrebleu.__version__, "cases": cases}


def wmt21():
    base = os.path.join(DATA, "wmt-mqm", "newstest2021-zhen")
    if not os.path.isdir(base):
        print(f"skip WMT21 goldens: {base} not found", file=sys.stderr)
        return None
    ref_a = read_lines(os.path.join(base, "newstest2021.zh-en.ref.A.en"))
    ref_b = read_lines(os.path.join(base, "newstest2021.zh-en.ref.B.en"))
    systems = sorted(f[len("newstest2021.zh-en.hyp."):-3] for f in os.listdir(os.path.join(base, "hyp")))
    out = {"sacrebleu": sacrebleu.__version__, "systems": {}}
    for system in systems:
        hyp = read_lines(os.path.join(base, "hyp", f"newstest2021.zh-en.hyp.{system}.en"))
        entry = {"bleu": {}, "chrf": {}, "sentence": {}}
        for refs_name, refs in (("A", [ref_a]), ("AB", [ref_a, ref_b])):
            for tok in TOKENIZERS:
                for lc in (False, True):
                    bleu = BLEU(tokenize=tok, lowercase=lc)
                    score = bleu.corpus_score(hyp, refs)
                    entry["bleu"][f"{refs_name}-{tok}{'-lc' if lc else ''}"] = bleu_json(score)
            for word_order in (0, 2):
                for lc in (False, True):
                    chrf = CHRF(word_order=word_order, lowercase=lc)
                    entry["chrf"][f"{refs_name}-nw{word_order}{'-lc' if lc else ''}"] = chrf.corpus_score(hyp, refs).score
        # Sentence-level scores on the first 120 segments, against ref-A, every smoothing.
        for smooth in SMOOTHINGS:
            bleu = BLEU(smooth_method=smooth, effective_order=True)
            entry["sentence"][f"bleu-{smooth}"] = [bleu.sentence_score(h, [r]).score for h, r in zip(hyp[:120], ref_a)]
        chrf = CHRF(word_order=2)
        entry["sentence"]["chrf-nw2"] = [chrf.sentence_score(h, [r]).score for h, r in zip(hyp[:120], ref_a)]
        out["systems"][system] = entry
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "sacrebleu-edge-cases.json"), "w", encoding="utf-8") as f:
        json.dump(edge_cases(), f, ensure_ascii=False, indent=1)
    wmt = wmt21()
    if wmt is not None:
        with open(os.path.join(OUT, "sacrebleu-wmt21.json"), "w", encoding="utf-8") as f:
            json.dump(wmt, f, indent=1)


if __name__ == "__main__":
    main()
