"""The statistics `assay agreement FILE --numeric --weights W --level L --format json` prints,
computed with the reference libraries (statsmodels cohens_kappa and fleiss_kappa, krippendorff),
for bench/agreement-numeric.sh. Reads a CSV of item,rater,label with numeric labels; each
distinct value is a category in increasing order. Prints the same JSON keys assay does
(pairs[].kappa/ase, fleiss.kappa, krippendorff.alpha) so the bench can compare the two.

Written for the bench's design (every item rated by the same raters, ASCII rater names); it
leaves out rater pairs with fewer than 2 shared items, which assay lists with a null kappa."""
import csv
import json
import sys
from itertools import combinations

import krippendorff
import numpy as np
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

path, weights, level = sys.argv[1], sys.argv[2], sys.argv[3]
ratings = {}
with open(path, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        ratings[(row["item"], row["rater"])] = float(row["label"])
values = sorted(set(ratings.values()))
index = {v: n for n, v in enumerate(values)}
k = len(values)
items = sorted({i for i, _ in ratings})
raters = sorted({r for _, r in ratings})
pairs = []
for a, b in combinations(raters, 2):
    shared = [i for i in items if (i, a) in ratings and (i, b) in ratings]
    if len(shared) < 2:
        continue
    table = np.zeros((k, k))
    for i in shared:
        table[index[ratings[(i, a)]], index[ratings[(i, b)]]] += 1
    result = cohens_kappa(table, wt=None if weights == "none" else weights)
    pairs.append({"raters": [a, b], "kappa": float(result.kappa), "ase": float(result.std_kappa)})
per_item = {}
for (i, _), v in ratings.items():
    per_item.setdefault(i, []).append(index[v])
counts = [len(v) for v in per_item.values() if len(v) >= 2]
usual = max(set(counts), key=lambda c: (counts.count(c), c))
table = np.array([np.bincount(v, minlength=k) for _, v in sorted(per_item.items()) if len(v) == usual])
matrix = np.full((len(raters), len(items)), np.nan)
column = {i: n for n, i in enumerate(items)}
for (i, r), v in ratings.items():
    matrix[raters.index(r), column[i]] = v if level in ("interval", "ratio") else index[v]
domain = values if level in ("interval", "ratio") else list(range(k))
alpha = krippendorff.alpha(reliability_data=matrix, value_domain=domain, level_of_measurement=level)
print(json.dumps({"pairs": pairs, "fleiss": {"kappa": float(fleiss_kappa(table, method="fleiss"))},
                  "krippendorff": {"alpha": float(alpha)}}))
