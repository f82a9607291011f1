#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz: corpus/options/ and corpus/suppressions/.

Run it again after src/options.def or the report kinds change; the files are
kept in git (the fuzzers read them, nothing else runs this).
Options: every option with good values and bad ones, for its type; the
separators, help, unknown names, long values. Suppressions: realistic files
(comments, globs, every kind, "leak", "*"), and malformed ones.
"""
import os
import re

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "src")

GOOD = {
    "bool": ["1", "0", "true", "false", "yes", "no", "on", "off"],
    "size": ["0", "4096", "64k", "1M", "2g", "0x100000", "0X10k", "18446744073709551615"],
    "uint": ["0", "1", "16", "0xff", "4294967295"],
    "byte": ["0", "0xbe", "255", "0x0F"],
}
BAD = {
    "bool": ["2", "maybe", "", "TRUE", " 1"],
    "size": ["k", "0xk", "1t", "1kk", "-1", "18446744073709551616", "17179869184g", "0x", "1 k"],
    "uint": ["4294967296", "-1", "1k", "0x100000000", "", "0xg"],
    "byte": ["256", "0x100", "0x", "-0", "1k"],
}
STR_GOOD = {
    "guard_side": ["after", "before", "BEFORE"],
    "report_signal": ["USR2", "SIGUSR1", "12", "sigrtmin"],
    "log_path": ["/tmp/ft.%p", "/dev/stderr", "ft.log"],
    "format": ["text", "json"],
    "color": ["auto", "always", "never"],
    "suppressions": ["/etc/ftmalloc.supp", "./x.supp"],
    "fail_rate": ["0.01", "1", "0", "1e-3"],
    "fail_site": ["libfoo*", "parse_*", "*"],
}
STR_BAD = {
    "guard_side": ["middle", ""],
    "report_signal": ["KILL", "SEGV", "99"],
    "format": ["xml", ""],
    "color": ["sometimes"],
    "fail_rate": ["2", "-0.5", "abc"],
}


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def options():
    d = os.path.join(here, "corpus", "options")
    os.makedirs(d, exist_ok=True)
    opts = re.findall(r"^OPT\((\w+),\s*(\w+),", open(os.path.join(src, "options.def")).read(), re.M)
    for name, typ in opts:
        if typ == "str":
            good = STR_GOOD.get(name, ["x"])
            bad = STR_BAD.get(name, []) + ["y" * 4096]
        else:
            good, bad = GOOD[typ], BAD[typ]
        write(d, f"{name}-good", ":".join(f"{name}={v}" for v in good))
        for i, v in enumerate(bad):
            write(d, f"{name}-bad-{i}", f"{name}={v}")
        write(d, f"{name}-no-value", name)
    names = [n for n, _ in opts]
    write(d, "empty", "")
    write(d, "help", "help")
    write(d, "help-and-more", "verbosity=1:help:canary=0")
    write(d, "separators", "::canary=0:::guard=1::")
    write(d, "unknown", "no_such_option=1:canary=0:Canary=1:canary =1")
    write(d, "equals", "=1:canary==1:log_path=a=b:=")
    write(d, "core", "canary=0:quarantine=0:large_quarantine=0:backtrace_depth=0:alloc_fill=0:leak_check=0")
    write(d, "debug-ci", "log_path=/tmp/ft.%p:exitcode=99:suppressions=/etc/ft.supp:format=json:color=never:verbosity=1")
    write(d, "guard", "guard_all=1:guard_sample=100:guard_side=before:guard_align=1:check_every=1000")
    write(d, "inject", "fail_after=100:fail_rate=0.01:fail_seed=42:fail_site=parse_*")
    write(d, "every-name", ":".join(f"{n}=" for n in names))
    write(d, "last-wins", "quarantine=1k:quarantine=2k:quarantine=bad:verbosity=0")
    write(d, "str-4095", "log_path=" + "p" * 4095)
    write(d, "str-4096", "log_path=" + "p" * 4096)
    write(d, "many-colons", ":" * 3000)
    write(d, "many-options", ":".join(["canary=1", "quarantine=64k"] * 300))
    write(d, "long-number", "quarantine=" + "0" * 3000 + "1k")
    write(d, "nul-inside", b"canary=0\0:guard=0:log_path=a\0b")
    write(d, "newline-inside", "canary=0\nguard=0:log_path=a\nb")


def suppressions():
    d = os.path.join(here, "corpus", "suppressions")
    os.makedirs(d, exist_ok=True)
    kinds = re.findall(r'X\([A-Z_]+,\s*"([a-z-]+)"\)', open(os.path.join(src, "internal.h")).read())
    write(d, "empty", "")
    write(d, "typical", "# known leaks of libraries we do not own\nmemory-leak:libfontconfig*\n"
          "leak:g_type_*\n\n# a test that frees twice on purpose\ndouble-free:test_double_*\n")
    write(d, "every-kind", "".join(f"{k}:main\n" for k in kinds) + "leak:main\n*:main\n")
    write(d, "globs", "*:*\nleak:?\nleak:lib*.so*\nleak:*alloc*\nleak:[abc]\nleak:\\*\n")
    write(d, "blanks", "  \t memory-leak \t:\t  foo*  \r\n\t\n   # indented comment\n*:bar\r\n")
    write(d, "crlf", "leak:a\r\nleak:b\r\n\r\n#c\r\n")
    write(d, "malformed", "no colon here\nunknown-kind:foo\nleak:\n:foo\nleak :  \n  : \n"
          "Memory-Leak:foo\nleak:foo:bar\n**:x\n#leak:commented\nleak#:x\n")
    write(d, "no-final-newline", "leak:a\nleak:b")
    write(d, "only-comments", "#\n# leak:a\n#*:*\n")
    write(d, "nul-inside", b"leak:a\nleak:b\0c\nleak:d\n")
    write(d, "long-line", "leak:" + "x" * 5000 + "\n*:y\n")
    write(d, "too-many-rules", "".join(f"*:r{i}\n" for i in range(1100)))
    write(d, "many-blank-lines", "\n" * 2000 + "leak:late\n")


options()
suppressions()
