#!/usr/bin/env python3
"""ftmalloc benchmark harness.

Runs every workload under every allocator configuration, interleaving the runs
(run 1 of each allocator, then run 2 of each, ...) so that machine noise hits
all of them alike, and prints one table: glibc's median wall time and peak RSS,
then each other allocator's ratio to glibc. The same table (plain and
markdown), the machine description and every raw run go to build/results.txt
(and build/results.json).

This is a benchmark, not a test: it never judges absolute times. It only
fails (exit status 1) if nothing could be measured at all.

Environment:
  FTMALLOC_LIB   path of libft_malloc.so (default: ../../libft_malloc.so)
  BENCH_RUNS=N   runs per workload and allocator, median reported (default 5;
                 1 with BENCH_QUICK)
  BENCH_QUICK=1  smoke run: about a tenth of the work per workload
  BENCH_ONLY=a,b only workloads whose name contains one of these strings
                 (the page-fault line is named "pagefault")
  BENCH_ALLOCS=a,b  only these configurations (glibc, the baseline, is always run)
  To bound the total time when an allocator is pathologically slow:
  BENCH_MAXRATIO=R  kill a run after R times glibc's first run of the workload
                    (at least 10 s), shown as ">R" (default 15)
  BENCH_TIMEOUT=S   and never let one run take more than S seconds (default 60)
  BENCH_SLOW=S      a cell whose first run took more than S seconds and more than
                    S times glibc's is not repeated; shown with '*' (default 3)

Scaling (issue 5: "throughput for 1, 2, 4, 8 threads on the small-object
workload; no lock convoy"): after the table, `bench_alloc scaling` runs the
small-churn loop in 1, 2, 4 and 8 threads for a fixed time once every thread
has filled its live set (start-up, fill and exit are not timed) and the report
gives, per allocator, the total and per-thread throughput and the ratio
per-thread(N) / per-thread(1), next to what perfect scaling gives on this
machine's CPUs (min(N, ncpu) / N). `bench.py --scaling` (make -C tests/bench
scaling) runs only that, in about a minute, and writes build/scaling.txt.
  BENCH_SCALING_MS=ms    length of one timed run (default 1000; 300 with BENCH_QUICK)
  BENCH_SCALING_RUNS=N   runs per cell, median reported (default 3; 1 with BENCH_QUICK)
"""

import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
MEASURE = os.path.join(BUILD, "measure")
FTMALLOC_LIB = os.path.abspath(os.environ.get("FTMALLOC_LIB") or
                               os.path.join(HERE, "..", "..", "libft_malloc.so"))
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# --------------------------------------------------------------------------
# Allocator configurations: (name, LD_PRELOAD value or None, extra environment).
# The first one is the baseline every ratio is computed against. A row whose
# LD_PRELOAD file does not exist is skipped (its column is left out).
CONFIGS = [
    ("glibc", None, {}),
    # The core allocator: every detection feature off.
    ("ft-core", FTMALLOC_LIB, {"FTMALLOC_OPTIONS": "canary=0:quarantine=0:large_quarantine=0:"
                               "backtrace_depth=0:alloc_fill=0:leak_check=0"}),
    # The same, keeping up to 64 MiB of freed LARGE mappings for reuse.
    ("ft-core+cache", FTMALLOC_LIB, {"FTMALLOC_OPTIONS": "canary=0:quarantine=0:large_quarantine=0:"
                                     "backtrace_depth=0:alloc_fill=0:leak_check=0:large_cache=64m"}),
    # Full debug mode: the defaults, exit-time leak check included.
    ("ft-debug", FTMALLOC_LIB, {"FTMALLOC_OPTIONS": ""}),
    ("jemalloc", LIBDIR + "/libjemalloc.so.2", {}),
    ("mimalloc", LIBDIR + "/libmimalloc.so.2", {}),
]

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = int(os.environ.get("BENCH_RUNS") or (1 if QUICK else 5))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT") or 60)
MAXRATIO = float(os.environ.get("BENCH_MAXRATIO") or 15)
SLOW = float(os.environ.get("BENCH_SLOW") or 3)
SCALING_THREADS = (1, 2, 4, 8)
SCALING_MS = int(os.environ.get("BENCH_SCALING_MS") or (300 if QUICK else 1000))
SCALING_RUNS = int(os.environ.get("BENCH_SCALING_RUNS") or (1 if QUICK else 3))
# Configurations the scaling report leaves out (ft-core+cache only differs for LARGE blocks).
SCALING_SKIP = ("ft-core+cache",)
GEN_VERSION = 1  # bump when a generator below changes, to regenerate inputs


def q(full, quick):
    """Pick the full-size or the quick-smoke parameter."""
    return quick if QUICK else full


# --------------------------------------------------------------- inputs

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"]


def gen_c_source(path, nfuncs):
    """Many small functions: what gcc -O2 spends its memory on."""
    rng = random.Random(42)
    out = ["/* generated by tests/bench/bench.py: many small functions */",
           "struct rec { int id; long val; double w; char name[16]; struct rec *next; };",
           "long g_acc;"]
    ops = ["acc += r->val * %d;", "acc ^= (long)(r->w * %d.5);", "acc -= r->name[%d & 15];",
           "if (r->next) r = r->next; else acc += %d;", "acc = (acc << 1) | (%d & 1);",
           "r->val += acc %% %d + 1;", "r->id ^= %d;", "acc += n * %d;"]
    for i in range(nfuncs):
        body = [f"long f{i}(struct rec *r, int n)", "{", "\tlong acc = n;"]
        for _ in range(rng.randint(2, 5)):
            body.append("\t" + rng.choice(ops) % rng.randint(1, 97))
        if rng.random() < 0.3:
            body.append(f"\tfor (int i = 0; i < n; i++)\n\t\tacc += r->name[i & 15] * {rng.randint(1, 9)};")
        if i > 0 and rng.random() < 0.5:
            body.append(f"\tif (acc & {1 << rng.randint(0, 6)})\n\t\tacc += f{rng.randrange(i)}(r, n - 1);")
        body.append("\tg_acc += acc;\n\treturn acc;\n}")
        out.append("\n".join(body))
    with open(path, "w") as f:
        f.write("\n\n".join(out) + "\n")


def gen_sql(path, rows):
    """One INSERT statement per row (parsing them is most of sqlite's malloc traffic)."""
    rng = random.Random(7)
    with open(path, "w") as f:
        f.write("PRAGMA journal_mode=OFF;\nPRAGMA synchronous=OFF;\n"
                "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, val INTEGER, note TEXT);\n"
                "CREATE INDEX t_name ON t(name);\nCREATE INDEX t_val ON t(val);\nBEGIN;\n")
        for _ in range(rows):
            f.write("INSERT INTO t(name, val, note) VALUES('%s-%d', %d, '%s');\n" % (
                rng.choice(WORDS), rng.randrange(10**6), rng.randrange(10**9),
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))))
        f.write("COMMIT;\nSELECT count(*), sum(val) FROM t;\n"
                "SELECT substr(name, 1, 3), count(*) FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 3;\n"
                "SELECT count(*) FROM t WHERE name > 'delta' AND val < 500000000;\n"
                "DELETE FROM t WHERE val % 3 = 0;\nSELECT count(*) FROM t;\n")


def gen_sort_input(path, nbytes):
    rng = random.Random(11)
    n = 0
    with open(path, "w") as f:
        while n < nbytes:
            line = "%s %d %s\n" % (rng.choice(WORDS), rng.randrange(10**9),
                                   rng.choice(WORDS) * rng.randint(1, 4))
            f.write(line)
            n += len(line)


def ensure(name, gen, *args):
    """Generate build/NAME once (deterministic content); reuse it afterwards."""
    path = os.path.join(BUILD, "v%d-%s" % (GEN_VERSION, name))
    if not os.path.exists(path):
        tmp = path + ".tmp"
        gen(tmp, *args)
        os.replace(tmp, path)
    return path


def python_for_workload():
    # The system interpreter, not a pyenv shim (a shell script) or a venv.
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def which(prog):
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        p = os.path.join(d, prog)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


# ------------------------------------------------------------ workloads

def workloads():
    """List of (name, argv, stdin path or None, extra env)."""
    ba = os.path.join(BUILD, "bench_alloc")
    w = [
        ("small-churn", [ba, "small-churn", str(q(16_000_000, 1_600_000))], None, {}),
        ("mixed", [ba, "mixed", str(q(8_000_000, 800_000))], None, {}),
        ("large-churn", [ba, "large-churn", str(q(10_000, 1_000))], None, {}),
        ("realloc-growth", [ba, "realloc-growth", str(q(400, 40))], None, {}),
        ("producer-consumer", [ba, "producer-consumer", str(q(4_000_000, 400_000))], None, {}),
    ]
    for t in (1, 2, 4, 8):
        w.append(("threads-%d" % t, [ba, "threads", str(q(16_000_000, 1_600_000)), str(t)], None, {}))

    py = python_for_workload()
    script = os.path.join(HERE, "alloc_heavy.py")
    scale = str(q(1.0, 0.1))
    w.append(("python3", [py, "-S", script, scale], None, {}))
    # Every object through malloc instead of pymalloc's arenas: how Python is
    # run under a debugging allocator or valgrind.
    w.append(("python3-malloc", [py, "-S", script, scale], None, {"PYTHONMALLOC": "malloc"}))

    gcc = which("gcc")
    if gcc:
        n = q(400, 40)
        src = ensure("funcs%d.c" % n, gen_c_source, n)
        w.append(("gcc -O2", [gcc, "-O2", "-c", src, "-o", os.path.join(BUILD, "funcs.o")], None, {}))
    sqlite = which("sqlite3")
    if sqlite:
        rows = q(200_000, 20_000)
        w.append(("sqlite3", [sqlite, ":memory:"], ensure("insert%d.sql" % rows, gen_sql, rows), {}))
    sort = which("sort")
    if sort:
        mb = q(20, 2)
        src = ensure("sort%dM.txt" % mb, gen_sort_input, mb << 20)
        w.append(("sort", [sort, src], None, {"LC_ALL": "C"}))
    return w


# ------------------------------------------------------------ measuring

class Failed(Exception):
    def __init__(self, msg, timed_out=False):
        super().__init__(msg)
        self.timed_out = timed_out


def base_env():
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "FTMALLOC_OPTIONS", "PYTHONMALLOC", "MALLOC_CONF", "MIMALLOC_VERBOSE"):
        env.pop(k, None)
    return env


BASE_ENV = base_env()


def config_env(cfg, extra):
    name, preload, cenv = cfg
    env = dict(BASE_ENV)
    env.update(extra)
    env.update(cenv)
    if preload:
        env["LD_PRELOAD"] = preload
    return env


def run_once(argv, env, stdin_path=None, timeout=TIMEOUT):
    """Run one process tree under build/measure; return (wall s, peak RSS KiB, minor faults)."""
    errpath = os.path.join(BUILD, "last-stderr.txt")
    respath = os.path.join(BUILD, "last-measure.txt")
    env = dict(env)
    # the allocator goes into the command only, not into the launcher
    env["BENCH_LD_PRELOAD"] = env.pop("LD_PRELOAD", "")
    try:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    except OSError as e:
        raise Failed(str(e))
    try:
        with open(errpath, "wb") as err:
            subprocess.run([MEASURE, respath, "%g" % timeout] + argv, env=env, stdin=stdin,
                           stdout=subprocess.DEVNULL, stderr=err, cwd=BUILD, check=True,
                           timeout=timeout + 60)
    except (subprocess.SubprocessError, OSError) as e:
        raise Failed("measure: %s" % e)
    finally:
        if stdin_path:
            stdin.close()
    try:
        with open(respath) as f:
            wall, rss, minflt, code = f.read().split()
    except (OSError, ValueError) as e:
        raise Failed("measure: no result: %s" % e)
    wall, code = float(wall), int(code)
    if code != 0:
        with open(errpath, "rb") as f:
            tail = f.read()[-400:].decode("utf-8", "replace").strip()
        what = ("timed out after %.1fs" % timeout if code == 128 + signal.SIGKILL and wall >= timeout
                else "killed by signal %d" % (code - 128) if code > 128
                else "exit status %d" % code)
        raise Failed(what + (": " + tail.splitlines()[-1] if tail else ""),
                     timed_out=what.startswith("timed out"))
    return wall, int(rss), int(minflt)


def check_preload(configs):
    """Warn when LD_PRELOAD did not replace malloc (as seen from bench_alloc)."""
    ba = os.path.join(BUILD, "bench_alloc")
    for cfg in configs:
        env = config_env(cfg, {})
        try:
            out = subprocess.run([ba, "whoami"], env=env, capture_output=True, timeout=30, text=True)
            got = out.stdout.strip()
        except Exception as e:  # noqa: BLE001 - report anything
            got = "error: %s" % e
        want = os.path.realpath(cfg[1]) if cfg[1] else None
        ok = (os.path.realpath(got) == want) if want else ("libc.so" in got)
        if not ok:
            log("warning: %s: malloc comes from %r, expected %s" % (cfg[0], got, want or "libc"))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt_num(x, digits):
    """A number, '-' for none, or a string as is (">12": timed out at 12x glibc)."""
    return "-" if x is None else x if isinstance(x, str) else "%.*f" % (digits, x)


def fmt_cell(x, width, digits):
    return fmt_num(x, digits).rjust(width)


def measure(configs, wl):
    """results[workload][config] = {"times": [...], "rss": [...], "error": str|None}"""
    results = {}
    for name, argv, stdin, extra in wl:
        if not os.path.exists(MEASURE) or (stdin and not os.path.exists(stdin)):
            log("%s is gone (make clean during the run?): stopping here" % BUILD)
            break
        cell = {c[0]: {"times": [], "rss": [], "error": None, "capped": False,
                        "timeout": None} for c in configs}
        results[name] = cell
        start = time.perf_counter()
        if stdin or not argv[0].endswith("bench_alloc"):
            # untimed warm-up of a real program (page cache, .pyc files)
            try:
                run_once(argv, config_env(configs[0], extra), stdin)
            except (Failed, OSError):
                pass
        base = cell[configs[0][0]]
        for r in range(RUNS):
            # rotate the order so that no allocator is always first after a switch
            order = configs[r % len(configs):] + configs[:r % len(configs)]
            for cfg in order:
                c = cell[cfg[0]]
                if c["error"] or c["capped"] or c["timeout"]:
                    continue
                # glibc runs first in round 1: its time bounds the others
                limit = TIMEOUT
                if cfg is not configs[0] and base["times"]:
                    limit = min(TIMEOUT, max(10.0, MAXRATIO * base["times"][0]))
                try:
                    wall, rss, _ = run_once(argv, config_env(cfg, extra), stdin, timeout=limit)
                except Failed as e:
                    if e.timed_out and not c["times"]:
                        c["timeout"] = limit  # shown as "> limit / glibc's median"
                        log("  %s / %s: %s" % (name, cfg[0], e))
                    elif e.timed_out:
                        c["capped"] = True  # keep the runs that finished
                        log("  %s / %s: %s, not repeated" % (name, cfg[0], e))
                    else:
                        c["error"] = str(e)
                        log("  %s / %s: FAILED: %s" % (name, cfg[0], e))
                    continue
                c["times"].append(wall)
                c["rss"].append(rss)
                if (r + 1 < RUNS and cfg is not configs[0] and base["times"]
                        and wall > SLOW and wall > SLOW * base["times"][0]):
                    c["capped"] = True
                    log("  %s / %s: %.1fs, over %gs and %g x glibc: not repeated" % (
                        name, cfg[0], wall, SLOW, SLOW))
        parts = []
        for cfg in configs:
            c = cell[cfg[0]]
            parts.append("%s %s" % (cfg[0], ">%.0fs" % c["timeout"] if c["timeout"]
                                    else "FAIL" if c["error"] or not c["times"]
                                    else "%.3fs" % statistics.median(c["times"])))
        log("%-18s %s   (%.0fs)" % (name, "  ".join(parts), time.perf_counter() - start))
    return results


def measure_pagefaults(configs):
    """Median minor faults of 'pagefault 1' minus median of 'pagefault 0'."""
    pf = os.path.join(BUILD, "pagefault")
    runs = max(RUNS, 3)
    samples = {c[0]: {"0": [], "1": []} for c in configs}
    errors = {}
    for _ in range(runs):
        for cfg in configs:
            for arg in ("0", "1"):
                if cfg[0] in errors:
                    continue
                try:
                    samples[cfg[0]][arg].append(run_once([pf, arg], config_env(cfg, {}))[2])
                except Failed as e:
                    errors[cfg[0]] = str(e)
                    log("  pagefault / %s: FAILED: %s" % (cfg[0], e))
    out = {}
    for cfg in configs:
        s = samples[cfg[0]]
        if cfg[0] in errors or not s["0"] or not s["1"]:
            out[cfg[0]] = None
        else:
            out[cfg[0]] = {"without": statistics.median(s["0"]), "with": statistics.median(s["1"]),
                           "diff": statistics.median(s["1"]) - statistics.median(s["0"])}
    log("pagefault          " + "  ".join(
        "%s %s" % (k, "FAIL" if v is None else "%+d" % v["diff"]) for k, v in out.items()))
    return out, errors


def ncpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def measure_scaling(configs):
    """sc[config][nthreads] = [(total ops/s, slowest thread ops/s, fastest thread ops/s,
    CPUs used), ...]"""
    ba = os.path.join(BUILD, "bench_alloc")
    sc = {c[0]: {n: [] for n in SCALING_THREADS} for c in configs}
    errors = {}
    start = time.perf_counter()
    for r in range(SCALING_RUNS):
        for n in SCALING_THREADS:
            # rotate the order so that no allocator is always first after a switch
            k = (r + n) % len(configs)
            for cfg in configs[k:] + configs[:k]:
                if cfg[0] in errors:
                    continue
                try:
                    out = subprocess.run([ba, "scaling", str(SCALING_MS), str(n)],
                                         env=config_env(cfg, {}), capture_output=True, text=True,
                                         timeout=SCALING_MS / 1000 * 20 + 60, cwd=BUILD)
                    f = dict(kv.split("=", 1) for kv in out.stdout.split() if "=" in kv)
                    if out.returncode != 0 or "ops" not in f:
                        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
                        raise Failed("exit status %d: %s" % (out.returncode, tail))
                    sec = float(f["seconds"])
                    sc[cfg[0]][n].append((int(f["ops"]) / sec, int(f["min"]) / sec,
                                          int(f["max"]) / sec, float(f["cpu"]) / sec))
                except (Failed, OSError, ValueError, subprocess.SubprocessError) as e:
                    errors[cfg[0]] = str(e)
                    log("  scaling / %s: FAILED: %s" % (cfg[0], e))
    for cfg in configs:
        cells = sc[cfg[0]]
        log("scaling %-14s %s" % (cfg[0], "FAIL" if cfg[0] in errors else "  ".join(
            "%dt %.2fM/s" % (n, statistics.median(x[0] for x in cells[n]) / 1e6)
            for n in SCALING_THREADS if cells[n])))
    log("scaling: %.0fs" % (time.perf_counter() - start))
    return sc, errors


def scaling_rows(sc, errors):
    """(config, n, total, per-thread, ratio, ideal, slowest/fastest, CPUs used, ops per CPU-s)"""
    rows = []
    cpus = ncpus()
    for name, cells in sc.items():
        if name in errors or not cells[SCALING_THREADS[0]]:
            continue
        one = statistics.median(x[0] for x in cells[SCALING_THREADS[0]])
        for n in SCALING_THREADS:
            if not cells[n]:
                continue
            i = sorted(range(len(cells[n])), key=lambda j: cells[n][j][0])[len(cells[n]) // 2]
            total, lo, hi, used = cells[n][i]  # the median run
            rows.append((name, n, total, total / n, total / n / one, min(n, cpus) / n,
                         lo / hi if hi else 0, used, total / used if used else 0))
    return rows


def scaling_lines(sc, errors, markdown=False):
    if sc is None:
        return []
    rows = scaling_rows(sc, errors)
    title = ("small-object scaling: small-churn (10k live blocks of 8..512 B per thread) in N threads, "
             "%.1f s per run once every thread has filled its live set, median of %d run(s); "
             "%d CPUs, so perfect scaling gives per-thread(N)/per-thread(1) = min(N, %d)/N"
             % (SCALING_MS / 1000, SCALING_RUNS, ncpus(), ncpus()))
    out = [title + ":",
           "CPUs used: CPU time the process got / wall time (below min(N, %d): the threads waited, "
           "for a lock or for other programs on the machine); ops per CPU-second: the cost of an "
           "operation, whatever the machine's load" % ncpus(), ""]
    if markdown:
        out += ["| allocator | threads | total ops/s | per-thread ops/s | per-thread(N)/per-thread(1) "
                "| perfect scaling | slowest/fastest thread | CPUs used | ops per CPU-s |",
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
        out += ["| %s | %d | %.2fM | %.2fM | %.2f | %.2f | %.2f | %.2f | %.2fM |" % (
            name, n, t / 1e6, p / 1e6, r, i, f, u, e / 1e6) for name, n, t, p, r, i, f, u, e in rows]
    else:
        fmt = "%-14s %7s %12s %12s %11s %9s %16s %6s %10s"
        out.append(fmt % ("allocator", "threads", "total", "per-thread", "per-thread", "perfect",
                          "slowest/fastest", "CPUs", "ops per"))
        out.append(fmt % ("", "", "ops/s", "ops/s", "ratio", "scaling", "thread", "used", "CPU-s"))
        prev = None
        for name, n, t, p, r, i, f, u, e in rows:
            if prev is not None and name != prev:
                out.append("")
            prev = name
            out.append("%-14s %7d %11.2fM %11.2fM %11.2f %9.2f %16.2f %6.2f %9.2fM" % (
                name, n, t / 1e6, p / 1e6, r, i, f, u, e / 1e6))
    out += ["  failed: %s: %s" % kv for kv in errors.items()]
    return out


# ------------------------------------------------------------ reporting

def summarize(configs, results):
    """rows: (workload, glibc_s, glibc_mb, [(t_ratio, rss_ratio) or None per other config])"""
    base = configs[0][0]
    rows = []
    for wname, cell in results.items():
        b = cell[base]
        bt = statistics.median(b["times"]) if b["times"] and not b["error"] else None
        bm = statistics.median(b["rss"]) / 1024 if b["rss"] and not b["error"] else None
        ratios = []
        for cfg in configs[1:]:
            c = cell[cfg[0]]
            if c["timeout"] and bt is not None:
                ratios.append((">%.0f" % (c["timeout"] / bt), None, False))
            elif c["error"] or not c["times"]:
                ratios.append(None)
            elif bt is None:
                ratios.append((None, None, c["capped"]))
            else:
                # time: median of the per-round ratios (round i of every allocator ran
                # back to back, so load changes during the benchmark cancel out);
                # RSS hardly varies: ratio of the medians
                n = min(len(c["times"]), len(b["times"]))
                tr = statistics.median(c["times"][i] / b["times"][i] for i in range(n))
                ratios.append((tr, statistics.median(c["rss"]) / 1024 / bm, c["capped"]))
        rows.append((wname, bt, bm, ratios, b["capped"]))
    return rows


def table_plain(configs, rows):
    others = [c[0] for c in configs[1:]]
    w0 = max([len("workload")] + [len(r[0]) for r in rows]) + 2
    cw = [max(len(n) + 2, 10) for n in others]
    head = "workload".ljust(w0) + "glibc s".rjust(9) + "glibc MB".rjust(10) + " "
    for n, w in zip(others, cw):
        head += "|" + (n + " t").rjust(w) + "rss".rjust(6) + " "
    lines = [head.rstrip()]
    for wname, bt, bm, ratios, bcap in rows:
        line = wname.ljust(w0) + fmt_cell(bt, 9, 3) + fmt_cell(bm, 10, 1) + ("*" if bcap else " ")
        for r, w in zip(ratios, cw):
            if r is None:
                line += "|" + "FAIL".rjust(w) + "".rjust(6) + " "
            else:
                line += "|" + fmt_cell(r[0], w, 2) + fmt_cell(r[1], 6, 2) + ("*" if r[2] else " ")
        lines.append(line.rstrip())
    return lines


def table_markdown(configs, rows):
    others = [c[0] for c in configs[1:]]
    head = "| workload | glibc s | glibc MB |" + "".join(" %s time | %s RSS |" % (n, n) for n in others)
    sep = "|---|--:|--:|" + "--:|--:|" * len(others)
    lines = [head, sep]
    for wname, bt, bm, ratios, bcap in rows:
        star = "\\*" if bcap else ""
        line = "| %s | %s%s | %s%s |" % (wname, fmt_num(bt, 3), star, fmt_num(bm, 1), star)
        for r in ratios:
            if r is None:
                line += " FAIL | FAIL |"
            else:
                star = "\\*" if r[2] else ""
                line += " %s%s | %s%s |" % (fmt_num(r[0], 2), star, fmt_num(r[1], 2), star)
        lines.append(line)
    return lines


def pagefault_lines(configs, pf, markdown=False):
    if pf is None:
        return []
    cells = []
    for cfg in configs:
        v = pf.get(cfg[0])
        cells.append((cfg[0], "FAIL" if v is None else "%d" % v["diff"]))
    title = ("minor page faults of 1024 x malloc(1024) + 1 byte written, whole process, "
             "minus the same program without the mallocs (ftmalloc target: <= 272)")
    if markdown:
        return [title + ":", "", "| " + " | ".join(n for n, _ in cells) + " |",
                "|" + "--:|" * len(cells), "| " + " | ".join(v for _, v in cells) + " |"]
    return [title + ":", "  " + "   ".join("%s %s" % c for c in cells)]


def machine_lines():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            mem = "%.1f GiB" % (int(f.readline().split()[1]) / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        mem = "?"
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else "?"
    pkgs = "?"
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}, ",
                              "libjemalloc2", "libmimalloc2.0"], capture_output=True, text=True)
        pkgs = out.stdout.strip().rstrip(",") or "?"
    except OSError:
        pass
    return ["machine: nproc %s, CPU %s, %s RAM, kernel %s %s, %s" % (
                ncpu, model, mem, platform.system(), platform.release(), platform.machine()),
            "software: %s; %s; python workload %s" % (libc, pkgs, python_for_workload())]


def main():
    scaling_only = "--scaling" in sys.argv[1:]
    os.makedirs(BUILD, exist_ok=True)
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    pick = [s for s in os.environ.get("BENCH_ALLOCS", "").split(",") if s]
    t_start = time.perf_counter()

    configs, skipped = [], []
    for cfg in CONFIGS:
        if cfg is not CONFIGS[0] and pick and cfg[0] not in pick:
            continue
        if cfg[1] and not os.path.exists(cfg[1]):
            skipped.append("%s (%s not found)" % (cfg[0], cfg[1]))
            continue
        configs.append(cfg)
    for s in skipped:
        log("skipping %s" % s)
    if scaling_only:
        log("scaling: %s; %d run(s) of %d ms each%s" % (
            ", ".join(c[0] for c in configs if c[0] not in SCALING_SKIP), SCALING_RUNS,
            SCALING_MS, " (BENCH_QUICK)" if QUICK else ""))
    else:
        log("configurations: %s; %d run(s) each%s" % (
            ", ".join(c[0] for c in configs), RUNS, " (BENCH_QUICK)" if QUICK else ""))
    check_preload(configs)

    if scaling_only:
        sc, sc_errors = measure_scaling([c for c in configs if c[0] not in SCALING_SKIP])
        os.makedirs(BUILD, exist_ok=True)
        tail = machine_lines() + ["benchmark wall time: %.0f s" % (time.perf_counter() - t_start)]
        print("\n".join([""] + scaling_lines(sc, sc_errors) + [""] + tail))
        with open(os.path.join(BUILD, "scaling.txt"), "w") as f:
            f.write("\n".join(["ftmalloc benchmark, scaling (tests/bench), %s" % time.strftime(
                "%Y-%m-%d %H:%M"), ""] + scaling_lines(sc, sc_errors) + [""] + tail +
                ["", "Markdown:", ""] + scaling_lines(sc, sc_errors, True) + [""]) + "\n")
        log("results written to %s" % os.path.join(BUILD, "scaling.txt"))
        return 0 if any(v for cells in sc.values() for v in cells.values()) else 1

    wl = [w for w in workloads() if not only or any(s in w[0] for s in only)]
    results = measure(configs, wl)
    pf, pf_errors = (measure_pagefaults(configs)
                     if (not only or any(s in "pagefault" for s in only)) and os.path.exists(MEASURE)
                     else (None, {}))
    sc, sc_errors = (measure_scaling([c for c in configs if c[0] not in SCALING_SKIP])
                     if not only or any(s in "scaling" for s in only) else (None, {}))
    os.makedirs(BUILD, exist_ok=True)  # for the results, even if it was removed meanwhile
    elapsed = time.perf_counter() - t_start

    rows = summarize(configs, results)
    info = ["glibc: median of %d run(s); runs interleaved across allocators%s; other columns: "
            "ratio to glibc (lower is better), time: median of the per-run ratios, "
            "peak RSS: ratio of the medians" % (
                RUNS, ", BENCH_QUICK (reduced sizes)" if QUICK else "")]
    if any(v["timeout"] for cell in results.values() for v in cell.values()):
        info.append(">N: killed when it had run N times as long as glibc (BENCH_MAXRATIO=%g, BENCH_TIMEOUT=%gs)"
                    % (MAXRATIO, TIMEOUT))
    if any(v["capped"] for cell in results.values() for v in cell.values()):
        info.append("*: a single run (it took more than %gs and %g times glibc: BENCH_SLOW)" % (SLOW, SLOW))
    if skipped:
        info.append("skipped: " + "; ".join(skipped))
    fails = ["%s / %s: %s" % (w, c, cell[c]["error"])
             for w, cell in results.items() for c in cell if cell[c]["error"]]
    fails += ["pagefault / %s: %s" % kv for kv in pf_errors.items()]
    tail = machine_lines() + ["benchmark wall time: %.0f s" % elapsed]

    plain = table_plain(configs, rows)
    pfl = pagefault_lines(configs, pf)
    scl = scaling_lines(sc, sc_errors)
    out = ["", *plain, ""] + (pfl + [""] if pfl else []) + (scl + [""] if scl else []) + info + \
          (["failures:"] + ["  " + f for f in fails] if fails else []) + tail
    print("\n".join(out))

    md = table_markdown(configs, rows)
    raw = []
    for w, cell in results.items():
        for c, v in cell.items():
            raw.append("  %-18s %-14s times %s  rss_MB %s%s" % (
                w, c, " ".join("%.3f" % t for t in v["times"]),
                " ".join("%.1f" % (k / 1024) for k in v["rss"]),
                "  ERROR " + v["error"] if v["error"] else
                "  TIMEOUT after %.1fs" % v["timeout"] if v["timeout"] else ""))
    if pf:
        for c, v in pf.items():
            if v:
                raw.append("  %-18s %-14s minflt without %d with %d" % ("pagefault", c, v["without"], v["with"]))
    with open(os.path.join(BUILD, "results.txt"), "w") as f:
        f.write("\n".join(["ftmalloc benchmark (tests/bench), %s" % time.strftime("%Y-%m-%d %H:%M"), ""]
                          + plain + [""] + pagefault_lines(configs, pf) + [""]
                          + (scl + [""] if scl else []) + info + tail
                          + (["failures:"] + ["  " + x for x in fails] if fails else [])
                          + ["", "Markdown:", ""] + md + [""] + pagefault_lines(configs, pf, True)
                          + [""] + scaling_lines(sc, sc_errors, True)
                          + ["", "* " + "; ".join(info), "* " + tail[0], "* " + tail[1],
                             "", "Raw runs (seconds, MB):"] + raw) + "\n")
    with open(os.path.join(BUILD, "results.json"), "w") as f:
        json.dump({"configs": [list(c[:2]) + [c[2]] for c in configs], "runs": RUNS, "quick": QUICK,
                   "results": results, "pagefaults": pf, "machine": machine_lines(),
                   "scaling": {"ms": SCALING_MS, "runs": SCALING_RUNS,
                               "ops_per_s": sc, "errors": sc_errors} if sc is not None else None,
                   "elapsed_s": elapsed}, f, indent=1)
    log("results written to %s" % os.path.join(BUILD, "results.txt"))
    measured = (any(v["times"] for cell in results.values() for v in cell.values()) or bool(pf)
                or any(v for cells in (sc or {}).values() for v in cells.values()))
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
