# python3 workload of the programs suite: threads, queues, json, subprocess.
# Usage: python3 threads.py INPUT   (deterministic output)
import hashlib
import json
import queue
import subprocess
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

path = sys.argv[1]
with open(path, encoding="ascii") as f:
    lines = f.read().splitlines()
print("lines", len(lines))

# Worker threads fed through a queue: parse records, build per-key dicts.
chunks = queue.Queue()
results = {}
lock = threading.Lock()


def worker(wid):
    local = {}
    while True:
        item = chunks.get()
        if item is None:
            chunks.task_done()
            break
        start, block = item
        for ln in block:
            i, key, num, flt, text = ln.split("\t")
            d = local.setdefault(key, {"n": 0, "sum": 0, "words": set()})
            d["n"] += 1
            d["sum"] += int(num)
            d["words"].update(text.split()[:2])
        chunks.task_done()
    with lock:
        for k, d in local.items():
            r = results.setdefault(k, {"n": 0, "sum": 0, "words": set()})
            r["n"] += d["n"]
            r["sum"] += d["sum"]
            r["words"] |= d["words"]


threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
for t in threads:
    t.start()
for s in range(0, len(lines), 5000):
    chunks.put((s, lines[s:s + 5000]))
for _ in threads:
    chunks.put(None)
chunks.join()
for t in threads:
    t.join()
print("keys", len(results))
top = sorted(results.items(), key=lambda kv: (-kv[1]["n"], kv[0]))[:15]
for k, d in top:
    print("top", k, d["n"], d["sum"], len(d["words"]))

# JSON round trip of the aggregated structure, and of a big nested document.
doc = {k: {"n": d["n"], "sum": d["sum"], "words": sorted(d["words"])} for k, d in results.items()}
text = json.dumps(doc, sort_keys=True, indent=1)
back = json.loads(text)
assert back == doc
print("json bytes", len(text), hashlib.sha256(text.encode()).hexdigest())
nested = [{"id": i, "tags": [str(j) * (j % 5) for j in range(i % 13)], "sub": {"x": i / 7, "y": [None, True, "s" * (i % 50)]}}
          for i in range(40000)]
enc = json.dumps(nested, separators=(",", ":"))
print("nested", len(enc), zlib.crc32(enc.encode()), len(json.loads(enc)))

# A thread pool hashing and compressing blocks (zlib and hashlib release the GIL).
blocks = ["\n".join(lines[s:s + 2000]).encode() for s in range(0, len(lines), 2000)]


def digest(b):
    return hashlib.sha1(b).hexdigest()[:12], len(zlib.compress(b, 6))


with ThreadPoolExecutor(max_workers=4) as ex:
    digests = list(ex.map(digest, blocks))
print("blocks", len(digests), digests[0], digests[-1], sum(d[1] for d in digests))

# Subprocesses: pipes through sort/wc/the interpreter itself, from several threads.
p = subprocess.run(["sort", "-t", "\t", "-k2,2", "-k1,1n"], input="\n".join(lines[:30000]) + "\n",
                   capture_output=True, text=True, check=True)
print("sort child", len(p.stdout), hashlib.md5(p.stdout.encode()).hexdigest())
p = subprocess.run([sys.executable, "-c", "import sys, json; d = json.load(sys.stdin); print(len(d), sum(v['n'] for v in d.values()))"],
                   input=text, capture_output=True, text=True, check=True)
print("python child", p.stdout.strip())


def run_wc(n):
    r = subprocess.run(["wc", "-c"], input=("x" * n).encode(), capture_output=True, check=True)
    return int(r.stdout)


with ThreadPoolExecutor(max_workers=3) as ex:
    print("wc children", list(ex.map(run_wc, [10, 1000, 100000, 1000000, 7, 65536])))
procs = [subprocess.Popen(["sh", "-c", "echo child $0; exit $(($0 % 3))", str(i)], stdout=subprocess.PIPE) for i in range(8)]
print("popen", [(pr.communicate()[0].decode().strip(), pr.returncode) for pr in procs])
print("done")
