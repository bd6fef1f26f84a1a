"""Writes the generated ratings file of bench/ratings.sh and bench/csv-libraries.sh:
ROWS rows of `item,rater,label`, 3 of 50 raters per item, labels 1-5 around a per-item base.
Usage: python3 bench/lib/ratings-csv.py ROWS PATH"""
import random
import sys

random.seed(1)
n, path = int(sys.argv[1]), sys.argv[2]
raters = [f"r{i:02d}" for i in range(50)]
with open(path, "w") as f:
    f.write("item,rater,label\n")
    written, item = 0, 0
    while written < n:
        item += 1
        base = random.randint(1, 5)
        for r in random.sample(raters, 3):
            f.write(f"it{item:07d},{r},{min(5, max(1, base + random.choice([-1, 0, 0, 1])))}\n")
            written += 1
            if written >= n:
                break
