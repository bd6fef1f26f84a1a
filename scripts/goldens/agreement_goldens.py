"""Golden values for Assay's agreement statistics, from the reference libraries.

Run through ./make-agreement-goldens.sh (throw-away venv with scikit-learn, statsmodels,
krippendorff, scipy, sacrebleu). Reads $ASSAY_DATA (default ../shared/data) and writes only
numbers to Tests/AssayStatsTests/Golden/agreement.json.

Data sets and how labels are made (the Swift tests rebuild them the same way):
- wmt23: wmt-mqm/generalmt2023-zhen-sxs/segments.jsonl; item = system + "#" + seg_id; rater =
  `rater`; MQM points binned with edges [0, 5, 10] -> category = number of edges strictly below
  the score (0: no error, 1: (0,5], 2: (5,10], 3: > 10).
- squality-rank: squality-human-eval/all-responses.jsonl; item = passage/question/system; rater =
  worker_id; label = overall-rank (categories 1, 2, 3).
- squality-rating: same items and raters; overall-rating binned with edges [20, 40, 60, 80].
- wmt23_numeric: the wmt23 items and raters with the raw MQM points, each distinct score a
  category in increasing order (`assay agreement --numeric`); Krippendorff's interval and ratio
  levels measure the scores themselves.
"""
import json
import os
import sys
from itertools import combinations

import krippendorff
import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("ASSAY_DATA", os.path.join(ROOT, "..", "shared", "data"))
OUT = os.path.join(ROOT, "Tests", "AssayStatsTests", "Golden")


def binned(value, edges):
    return int(np.searchsorted(edges, value, side="left"))


def wmt23():
    ratings = {}
    raw = {}
    for line in open(os.path.join(DATA, "wmt-mqm", "generalmt2023-zhen-sxs", "segments.jsonl"), encoding="utf-8"):
        r = json.loads(line)
        item = f"{r['system']}#{r['seg_id']}"
        ratings[(item, r["rater"])] = binned(r["mqm_score"], [0, 5, 10])
        raw[(item, r["rater"])] = r["mqm_score"]
    return ratings, 4, raw


def squality(field, edges=None):
    ratings = {}
    for line in open(os.path.join(DATA, "squality-human-eval", "all-responses.jsonl"), encoding="utf-8"):
        p = json.loads(line)
        for q, systems in p["questions"].items():
            for system, entry in systems.items():
                for review in entry["reviews"]:
                    item = f"{p['passage-id']}/{q}/{system}"
                    value = review[field]
                    ratings[(item, review["worker_id"])] = binned(value, edges) if edges else value - 1
    return ratings, (len(edges) + 1 if edges else 3)


def statistics(ratings, k, values=None):
    items = sorted({i for i, _ in ratings})
    raters = sorted({r for _, r in ratings})
    out = {"items": len(items), "raters": raters, "categories": k, "pairs": []}
    for a, b in combinations(raters, 2):
        shared = [i for i in items if (i, a) in ratings and (i, b) in ratings]
        if len(shared) < 2:
            continue
        la = [ratings[(i, a)] for i in shared]
        lb = [ratings[(i, b)] for i in shared]
        table = np.zeros((k, k))
        for x, y in zip(la, lb):
            table[x, y] += 1
        pair = {"raters": [a, b], "n": len(shared)}
        for weighting in ("none", "linear", "quadratic"):
            sk = cohen_kappa_score(la, lb, labels=list(range(k)), weights=None if weighting == "none" else weighting)
            res = cohens_kappa(table, wt=None if weighting == "none" else weighting)
            pair[weighting] = {"sklearn": float(sk), "kappa": float(res.kappa), "ase": float(res.std_kappa),
                               "ci_low": float(res.kappa_low), "ci_high": float(res.kappa_upp)}
        out["pairs"].append(pair)
    # Fleiss/Randolph over items with 3 raters.
    per_item = {}
    for (i, r), v in ratings.items():
        per_item.setdefault(i, []).append(v)
    rows = [np.bincount(v, minlength=k) for i, v in sorted(per_item.items()) if len(v) == 3]
    table = np.array(rows)
    out["fleiss"] = {"kappa": float(fleiss_kappa(table, method="fleiss")),
                     "randolph": float(fleiss_kappa(table, method="randolph")), "items_used": len(rows)}
    # Krippendorff: raters x items with NaN for missing.
    matrix = np.full((len(raters), len(items)), np.nan)
    index = {i: n for n, i in enumerate(items)}
    for (i, r), v in ratings.items():
        matrix[raters.index(r), index[i]] = v
    out["krippendorff"] = {level: float(krippendorff.alpha(reliability_data=matrix, value_domain=list(range(k)),
                                                           level_of_measurement=level))
                           for level in ("nominal", "ordinal", "interval", "ratio")}
    if values is not None:
        # Interval and ratio on the numbers the categories stand for.
        numbers = np.where(np.isnan(matrix), np.nan, np.asarray(values)[np.nan_to_num(matrix).astype(int)])
        for level in ("interval", "ratio"):
            out["krippendorff"][level] = float(krippendorff.alpha(reliability_data=numbers, value_domain=list(values),
                                                                  level_of_measurement=level))
    return out


def human_vs_metric():
    """The `agreement` evaluator's statistics, computed independently: MQM binned [0, 5, 10],
    oriented so higher is better (category c -> value -c), consensus = mean over raters, consensus
    category = nearest oriented category (ties -> lower), metric categories by quantiles in the
    human proportions (ties in the metric broken by item order), items sorted by id."""
    from sacrebleu.metrics import BLEU, CHRF
    segs = {}
    for line in open(os.path.join(DATA, "wmt-mqm", "generalmt2023-zhen-sxs", "segments.jsonl"), encoding="utf-8"):
        r = json.loads(line)
        key = f"{r['system']}#{r['seg_id']}"
        segs.setdefault(key, [r["hypothesis"], r["reference"], []])[2].append(binned(r["mqm_score"], [0, 5, 10]))
    keys = sorted(segs)
    k = 4
    human = [sum(-c for c in sorted(segs[key][2], reverse=True)) / len(segs[key][2]) for key in keys]
    oriented_values = [o - (k - 1) for o in range(k)]
    def nearest(v):
        best = 0
        for c in range(k):
            if abs(oriented_values[c] - v) < abs(oriented_values[best] - v):
                best = c
        return best
    human_cat = [nearest(v) for v in human]
    out = {}
    for name, metric in (("sentence_bleu", BLEU(effective_order=True)), ("sentence_chrf", CHRF())):
        values = [metric.sentence_score(segs[key][0], [segs[key][1]]).score for key in keys]
        counts = [human_cat.count(c) for c in range(k)]
        order = sorted(range(len(values)), key=lambda i: (values[i], i))
        metric_cat = [0] * len(values)
        category, used = 0, 0
        for i in order:
            while category < k - 1 and used >= counts[category]:
                category += 1
                used = 0
            metric_cat[i] = category
            used += 1
        n = len(values)
        concordant = pairs = 0
        h = np.array(human); m = np.array(values)
        for i in range(n):
            dh = h[i + 1:] - h[i]; dm = m[i + 1:] - m[i]
            differ = dh != 0
            pairs += int(differ.sum())
            concordant += int(((dh * dm) > 0).sum())
        out[name] = {
            "items": n,
            "kappa": float(cohen_kappa_score(human_cat, metric_cat, labels=list(range(k)))),
            "kappa_linear": float(cohen_kappa_score(human_cat, metric_cat, labels=list(range(k)), weights="linear")),
            "kappa_quadratic": float(cohen_kappa_score(human_cat, metric_cat, labels=list(range(k)), weights="quadratic")),
            "kendall_tau_b": float(stats.kendalltau(human, values)[0]),
            "spearman": float(stats.spearmanr(human, values)[0]),
            "pearson": float(stats.pearsonr(human, values)[0]),
            "pairwise_accuracy": concordant / pairs,
        }
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    result = {"versions": {}}
    import sklearn, statsmodels, scipy
    result["versions"] = {"scikit-learn": sklearn.__version__, "statsmodels": statsmodels.__version__,
                          "krippendorff": getattr(krippendorff, "__version__", "unknown"), "scipy": scipy.__version__}
    ratings, k, raw = wmt23()
    result["wmt23"] = statistics(ratings, k)
    # Interval alpha on the raw MQM points (value domain = every distinct score).
    items = sorted({i for i, _ in raw}); raters = sorted({r for _, r in raw})
    matrix = np.full((len(raters), len(items)), np.nan)
    index = {i: n for n, i in enumerate(items)}
    for (i, r), v in raw.items():
        matrix[raters.index(r), index[i]] = v
    result["wmt23"]["krippendorff_raw_interval"] = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval"))
    # Human vs metric: mean MQM per item against sentence BLEU (sacrebleu, effective order).
    from sacrebleu.metrics import BLEU
    segs = {}
    for line in open(os.path.join(DATA, "wmt-mqm", "generalmt2023-zhen-sxs", "segments.jsonl"), encoding="utf-8"):
        r = json.loads(line)
        segs.setdefault(f"{r['system']}#{r['seg_id']}", (r["hypothesis"], r["reference"], []))[2].append(r["mqm_score"])
    bleu = BLEU(effective_order=True)
    keys = sorted(segs)
    human = [-float(np.mean(segs[key][2])) for key in keys]
    metric = [bleu.sentence_score(segs[key][0], [segs[key][1]]).score for key in keys]
    result["wmt23"]["human_vs_bleu"] = {
        "items": len(keys),
        "pearson": float(stats.pearsonr(human, metric)[0]),
        "spearman": float(stats.spearmanr(human, metric)[0]),
        "kendall_tau_b": float(stats.kendalltau(human, metric)[0]),
    }
    result["wmt23"]["evaluator"] = human_vs_metric()
    values = sorted(set(raw.values()))
    index = {v: n for n, v in enumerate(values)}
    result["wmt23_numeric"] = statistics({key: index[v] for key, v in raw.items()}, len(values), values)
    ratings, k = squality("overall-rank")
    result["squality_rank"] = statistics(ratings, k)
    ratings, k = squality("overall-rating", [20, 40, 60, 80])
    result["squality_rating"] = statistics(ratings, k)
    with open(os.path.join(OUT, "agreement.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
