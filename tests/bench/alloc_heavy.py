"""Allocation-heavy Python workload for the ftmalloc benchmark.

Builds ~1.2M small objects (dicts, tuples, strings, floats), indexes them in
a dict, sorts, joins strings, throws half away and rebuilds. Deterministic.
Usage: python3 alloc_heavy.py [scale]   (scale 1.0 = full size)
"""
import random
import sys

scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
n = int(100_000 * scale)
rng = random.Random(1234)
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"]

# records: a dict, a few strings and floats, and a tuple each
recs = []
for i in range(n):
    name = "%s-%s-%d" % (rng.choice(words), rng.choice(words), i)
    recs.append({"id": i, "name": name, "score": rng.random(),
                 "tags": [rng.choice(words) for _ in range(rng.randint(0, 4))],
                 "pos": (rng.random(), rng.random())})

index = {r["name"]: r for r in recs}
by_score = sorted(recs, key=lambda r: r["score"])
by_name = sorted(index)

# string building: joins of many small pieces
chunks = []
for r in by_score[: n // 2]:
    chunks.append("%d:%s:%.6f;" % (r["id"], r["name"], r["score"]))
blob = "".join(chunks)
lines = ",".join(t for r in recs for t in r["tags"]).split(",")

# churn: drop half, rebuild with different shapes
for r in recs[::2]:
    del index[r["name"]]
recs = recs[1::2]
groups = {}
for r in recs:
    for t in r["tags"] or ["none"]:
        groups.setdefault(t, []).append(r["id"])
pairs = sorted(((len(v), k) for k, v in groups.items()), reverse=True)
more = [[i, str(i), float(i)] for i in range(n)]
more.sort(key=lambda x: x[1])

print(len(index), len(by_name), len(blob), len(lines), pairs[0], len(more))
