#!/usr/bin/env python3
"""quoted.py - do the reports quoted in the man page still come out?

  quoted.py list PAGE               the bug names of the quoted examples, one a line
  quoted.py check PAGE NAME OUTPUT  exit 0 when every line of the example of bug NAME
                                    comes out, in order, in the file OUTPUT (what
                                    "bugs NAME" wrote); else exit 1 and say which not

An example is the .EX ... .EE block after a comment line '.\\" bugs: NAME' in PAGE.
Both sides are normalised: roff escapes undone, hex numbers made 0x?, paths of
bugs.c made relative, hex dump bytes made .., the still-reachable counts made N,
trailing blanks dropped. Lines "..." (frames left out) are skipped, and so are
frames with no source line (C library and loader frames differ between systems).
"Segmentation fault" is what a shell prints for a status of 139: OUTPUT should end
with that line when the program died of SIGSEGV (run.sh adds it).
"""
import re
import sys


def unroff(line):
    line = re.sub(r'\\f[BIRP]', '', line)
    line = line.replace('\\-', '-').replace('\\&', '').replace('\\(aq', "'").replace('\\e', '\\')
    return line


def norm(line):
    line = line.rstrip()
    line = re.sub(r'0x[0-9a-fA-F]+', '0x?', line)
    line = re.sub(r'\S*/(bugs\.c:\d+)', r'\1', line)
    line = re.sub(r'\(\S*/bugs\)', '(bugs)', line)
    line = re.sub(r'\d+ bytes still reachable in \d+ blocks', 'N bytes still reachable in N blocks', line)
    m = re.match(r'^(\s+0x\?:)(.*)$', line)
    if m:  # a hex dump row: keep where the bracket is, not the bytes
        line = m.group(1) + re.sub(r'[0-9a-f]{2}', '..', m.group(2))
    return line


def skipped(line):
    if line.strip() == '...':
        return True
    frame = re.match(r'^\s+#\d+ 0x\? (.*)$', line)
    return bool(frame) and not re.search(r' \S+:\d+$', frame.group(1))


def examples(page):
    ex, name, inside = {}, None, False
    for raw in open(page, encoding='utf-8').read().splitlines():
        m = re.match(r'^\.\\" bugs: (\S+)\s*$', raw)
        if m:
            name = m.group(1)
        elif raw.startswith('.EX') and name:
            inside, ex[name] = True, []
        elif raw.startswith('.EE'):
            inside, name = False, None
        elif inside:
            ex[name].append(unroff(raw))
    return ex


def main(argv):
    if len(argv) == 2 and argv[0] == 'list':
        print('\n'.join(examples(argv[1])))
        return 0
    if len(argv) != 4 or argv[0] != 'check':
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ex = examples(argv[1])
    if argv[2] not in ex:
        print('no example of bug %s in %s' % (argv[2], argv[1]))
        return 1
    want = [norm(l) for l in ex[argv[2]]]
    got = [norm(l) for l in open(argv[3], encoding='utf-8', errors='replace').read().splitlines()]
    at = 0
    for line in want:
        if skipped(line):
            continue
        try:
            at = got.index(line, at) + 1
        except ValueError:
            print('quoted line not in the output (normalised): %r' % line)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
