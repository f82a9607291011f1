# python3 heavy-allocation workload of the programs suite: ~1M small objects in
# dicts, lists, sets and tuples, growth and shrinking, deletion, sorting.
# Run with PYTHONMALLOC=malloc so every object comes from malloc.
import gc
import hashlib
import sys


def h(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


# 1M small strings (and as many ints) in a dict, then half deleted, then refilled.
d = {"k%d" % i: i * 3 for i in range(1_000_000)}
print("dict", len(d), d["k999999"], d["k123456"])
for i in range(0, 1_000_000, 2):
    del d["k%d" % i]
print("dict after del", len(d), sum(d.values()))
d.update(("n%d" % i, (i, str(i))) for i in range(100_000))
print("dict update", len(d))
del d
gc.collect()

# Lists of lists grown element by element (realloc growth), sliced, sorted.
rows = []
for i in range(100_000):
    rows.append([i % 97, "r%05d" % (i * 7919 % 100_000), float(i) / 3])
rows.sort(key=lambda r: (r[0], r[1]))
print("rows", len(rows), rows[0], rows[-1][:2])
flat = [x for r in rows[:50_000] for x in r]
print("flat", len(flat), h(flat[:30]))
del rows[::3]
print("rows del", len(rows))
grow = []
for i in range(100_000):
    grow.append(i)
    if i % 1000 == 999:
        grow = grow[500:]
print("grow", len(grow), grow[0], grow[-1])

# Sets and tuples, string building and splitting.
s = set()
for i in range(200_000):
    s.add((i % 5000, i % 7, str(i % 300)))
print("set", len(s))
s2 = {x for x in s if x[1] == 3}
print("set filter", len(s2), sorted(s2)[:2])
big = "".join("%d," % i for i in range(300_000))
parts = big.split(",")
print("string", len(big), len(parts), parts[250_000])
words = [w[::-1] for w in parts if w]
words.sort()
print("words", len(words), words[:3], h(words[-10:]))
b = bytearray()
for i in range(100_000):
    b += bytes((i % 256,)) * (i % 5)
print("bytearray", len(b), hashlib.md5(b).hexdigest())

# Reference cycles collected by the gc.
class Node:
    __slots__ = ("v", "next", "__weakref__")

    def __init__(self, v):
        self.v = v
        self.next = None


for rnd in range(2):
    nodes = [Node(i) for i in range(50_000)]
    for i, n in enumerate(nodes):
        n.next = nodes[(i * 31 + 7) % len(nodes)]
    total = sum(n.next.v for n in nodes)
    del nodes
    print("cycle round", rnd, total, gc.collect() >= 0)
print("done", sys.getrecursionlimit() > 0)
