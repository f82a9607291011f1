#!/usr/bin/env python3
"""check.py - field by field checks of ftmalloc's JSON reports, for run.sh.

  check.py lines FILE                  every line of FILE is one JSON object
                                       that ftmalloc writes (its schema checked)
  check.py bug NAME FILE SOURCE        the reports of "bugs NAME" in FILE are the
                                       right ones, their frames naming the
                                       functions and the lines of SOURCE marked
                                       "@MARK"
  check.py file FILE SUFFIX            every frame of bugs.c in FILE names a file
                                       ending in SUFFIX (escaping of odd paths)
  check.py tool OUTPUT SOURCE          the output of ftmalloc-report on the
                                       combined file (see run.sh) is right

Prints nothing and exits 0 when all is well; else one reason a line, exit 1.
"""
import json
import re
import sys

HEX = re.compile(r'^0x[0-9a-f]+$')
KINDS = ['heap-buffer-overflow', 'heap-buffer-underflow', 'use-after-free', 'double-free',
         'invalid-free', 'invalid-pointer', 'memory-leak', 'heap-corruption']
FRAME_KEYS = {'pc', 'module', 'offset', 'function', 'file', 'line'}
problems = []


def bad(msg):
    problems.append(msg)


def load(path):
    objs = []
    with open(path, 'rb') as f:
        for no, raw in enumerate(f, 1):
            try:
                line = raw.decode('ascii')  # JSON of ours: every byte above 0x7e escaped
            except UnicodeDecodeError:
                bad('line %d: not ASCII' % no)
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                bad('line %d is not JSON (%s): %.120s' % (no, e, line))
                continue
            if not isinstance(obj, dict):
                bad('line %d: not an object' % no)
                continue
            if not line.endswith('}\n') or line.count('\n') != 1:
                bad('line %d: not one object on one line' % no)
            objs.append(obj)
    return objs


def check_frames(where, frames):
    if frames is None:
        return
    if not isinstance(frames, list):
        bad('%s: frames are no array' % where)
        return
    for i, f in enumerate(frames):
        if not isinstance(f, dict) or set(f) != FRAME_KEYS:
            bad('%s frame %d: keys %s' % (where, i, sorted(f) if isinstance(f, dict) else f))
            continue
        if not isinstance(f['pc'], str) or not HEX.match(f['pc']):
            bad('%s frame %d: pc %r' % (where, i, f['pc']))
        if f['module'] is not None and not (isinstance(f['offset'], str) and HEX.match(f['offset'])):
            bad('%s frame %d: offset %r' % (where, i, f['offset']))
        if not (f['line'] is None or (isinstance(f['line'], int) and f['line'] > 0)):
            bad('%s frame %d: line %r' % (where, i, f['line']))
        if (f['line'] is None) != (f['file'] is None):
            bad('%s frame %d: file %r with line %r' % (where, i, f['file'], f['line']))


def check_report(r, where):
    for key, typ in (('address', str), ('function', str), ('thread', int), ('pid', int)):
        if not isinstance(r.get(key), typ):
            bad('%s: %s is %r' % (where, key, r.get(key)))
    if not HEX.match(str(r.get('address'))):
        bad('%s: address %r' % (where, r.get('address')))
    if r['kind'] not in KINDS:
        bad('%s: kind %r' % (where, r['kind']))
    blk = r.get('block', 'missing')
    if blk is not None:
        if not isinstance(blk, dict) or set(blk) != {'start', 'size', 'offset', 'relation'}:
            bad('%s: block %r' % (where, blk))
            return
        start, size, off = int(blk['start'], 16), blk['size'], blk['offset']
        if int(r['address'], 16) != start + off:
            bad('%s: address %s is not block.start %s + offset %d' % (where, r['address'], blk['start'], off))
        rel = 'before' if off < 0 else 'after' if off >= size and not (off == 0 and size == 0) else 'inside'
        if blk['relation'] != rel:
            bad('%s: relation %r for offset %d in %d bytes' % (where, blk['relation'], off, size))
    check_frames(where + ' detected_at', r.get('detected_at'))
    for key in ('freed_by', 'allocated_by'):
        s = r.get(key)
        if s is None:
            continue
        if not isinstance(s, dict) or set(s) != {'thread', 'frames'} or not isinstance(s['thread'], int):
            bad('%s: %s %r' % (where, key, s))
            continue
        check_frames('%s %s' % (where, key), s['frames'])
    if 'bytes_at' in r:
        b = r.get('bytes')
        if not (isinstance(b, str) and re.match(r'^([0-9a-f]{2}|--)+$', b)):
            bad('%s: bytes %r' % (where, b))
        else:
            at, addr = int(r['bytes_at'], 16), int(r['address'], 16)
            if not at <= addr < at + len(b) // 2:
                bad('%s: address %s not in the %d bytes at %s' % (where, r['address'], len(b) // 2, r['bytes_at']))


def check_summary(s, where):
    if not isinstance(s.get('counts'), dict) or sorted(s['counts']) != sorted(KINDS):
        bad('%s: counts %r' % (where, s.get('counts')))
        return
    if s.get('errors') != sum(s['counts'].values()):
        bad('%s: errors %r is not the sum of the counts' % (where, s.get('errors')))
    if not isinstance(s.get('suppressed'), int):
        bad('%s: suppressed %r' % (where, s.get('suppressed')))
    leaks = s.get('leaks')
    keys = {'%s_%s' % (a, b) for a in ('definitely_lost', 'indirectly_lost', 'still_reachable')
            for b in ('bytes', 'blocks')}
    if leaks is not None and (not isinstance(leaks, dict) or set(leaks) != keys):
        bad('%s: leaks %r' % (where, leaks))


def lines(path):
    objs = load(path)
    for i, o in enumerate(objs, 1):
        where = 'object %d (%s)' % (i, o.get('kind'))
        if o.get('version') != 1 or not isinstance(o.get('kind'), str) or not isinstance(o.get('pid'), int):
            bad('%s: no version 1, kind and pid' % where)
        elif o['kind'] == 'summary':
            check_summary(o, where)
        elif 'address' in o:
            check_report(o, where)
    return objs


# ---- the bugs

marks = {}


def read_marks(source):
    for no, line in enumerate(open(source, encoding='utf-8'), 1):
        for m in re.findall(r'@(\w+)', line):
            marks[m] = no


def frame_is(where, frame, function, mark):
    if not isinstance(frame, dict):
        bad('%s: no frame' % where)
        return
    if frame.get('function') != function:
        bad('%s: function %r, expected %r' % (where, frame.get('function'), function))
    if not (frame.get('file') or '').endswith('/bugs.c'):
        bad('%s: file %r' % (where, frame.get('file')))
    if mark and frame.get('line') != marks[mark]:
        bad('%s: line %r, expected %d (@%s)' % (where, frame.get('line'), marks[mark], mark))


def stack(r, key):
    s = r.get(key)
    frames = s.get('frames') if isinstance(s, dict) else s
    return frames or [None]


def expect(r, where, **fields):
    for k, v in fields.items():
        got = r
        for part in k.split('__'):
            got = got.get(part) if isinstance(got, dict) else None
        if got != v:
            bad('%s: %s is %r, expected %r' % (where, k.replace('__', '.'), got, v))


def one_report(objs, kind):
    reps = [o for o in objs if o.get('kind') == kind]
    if len(reps) != 1:
        bad('%d %s reports, expected 1' % (len(reps), kind))
        return None
    return reps[0]


def summary(objs, counts, suppressed=0, leaks=None):
    sums = [o for o in objs if o.get('kind') == 'summary']
    if len(sums) != 1:
        bad('%d summaries, expected 1' % len(sums))
        return
    if objs[-1] is not sums[0]:
        bad('the summary is not the last object')
    s = sums[0]
    want = {k: counts.get(k, 0) for k in KINDS}
    if s.get('counts') != want:
        bad('summary counts %r, expected %r' % (s.get('counts'), want))
    if s.get('suppressed') != suppressed:
        bad('summary suppressed %r, expected %d' % (s.get('suppressed'), suppressed))
    for k, v in (leaks or {}).items():
        if (s.get('leaks') or {}).get(k) != v:
            bad('summary leaks.%s is %r, expected %r' % (k, (s.get('leaks') or {}).get(k), v))


def bug(name, path, source):
    read_marks(source)
    objs = lines(path)
    if name == 'clean':
        if objs:
            bad('%d objects from a clean run' % len(objs))
        return
    if name == 'overflow':
        r = one_report(objs, 'heap-buffer-overflow')
        if r:
            expect(r, 'report', function='free', thread=0, block__size=13, block__offset=13,
                   block__relation='after')
            frame_is('detected_at #0', stack(r, 'detected_at')[0], 'drop', 'drop')
            frame_is('detected_at #1', stack(r, 'detected_at')[1:2] and stack(r, 'detected_at')[1], 'overflow', None)
            frame_is('allocated_by #0', stack(r, 'allocated_by')[0], 'make_tiny', 'alloc_tiny')
            frame_is('allocated_by #1', stack(r, 'allocated_by')[1:2] and stack(r, 'allocated_by')[1], 'overflow', None)
            expect(r, 'report', allocated_by__thread=0)
            if 'bytes' not in r or 'bytes_at' not in r:
                bad('no bytes/bytes_at in a canary report')
        summary(objs, {'heap-buffer-overflow': 1}, leaks={'definitely_lost_blocks': 0})
    elif name == 'large-overflow':
        r = one_report(objs, 'heap-buffer-overflow')
        if r:
            expect(r, 'report', function='WRITE access', access='WRITE', page='guard', signal='SIGSEGV',
                   thread=0, block__size=4096, block__offset=4096, block__relation='after')
            frame_is('detected_at #0', stack(r, 'detected_at')[0], 'large_overflow', 'large_write')
            frame_is('allocated_by #0', stack(r, 'allocated_by')[0], 'make_large', 'alloc_large')
            if 'freed_by' in r:
                bad('a live block has a freed_by')
        if any(o.get('kind') == 'summary' for o in objs):
            bad('a summary from a process killed by SIGSEGV')
    elif name == 'use-after-free':
        r = one_report(objs, 'use-after-free')
        if r:
            expect(r, 'report', function='exit', thread=0, block__size=13, block__offset=3,
                   block__relation='inside', freed_by__thread=0, allocated_by__thread=0)
            frame_is('freed_by #0', stack(r, 'freed_by')[0], 'drop', 'drop')
            frame_is('allocated_by #0', stack(r, 'allocated_by')[0], 'make_tiny', 'alloc_tiny')
            if 'bytes' not in r:
                bad('no bytes in a poison report')
        summary(objs, {'use-after-free': 1})
    elif name == 'double-free':
        r = one_report(objs, 'double-free')
        if r:
            expect(r, 'report', function='free', thread=0, block__size=200, block__offset=0,
                   block__relation='inside', freed_by__thread=0)
            frame_is('detected_at #0', stack(r, 'detected_at')[0], 'drop_again', 'drop_again')
            frame_is('freed_by #0', stack(r, 'freed_by')[0], 'drop', 'drop')
            frame_is('allocated_by #0', stack(r, 'allocated_by')[0], 'make_small', 'alloc_small')
        summary(objs, {'double-free': 1})
    elif name == 'invalid-free':
        r = one_report(objs, 'invalid-free')
        if r:
            expect(r, 'report', function='free', thread=0, block__size=13, block__offset=8,
                   block__relation='inside')
            frame_is('detected_at #0', stack(r, 'detected_at')[0], 'drop', 'drop')
            frame_is('detected_at #1', stack(r, 'detected_at')[1:2] and stack(r, 'detected_at')[1], 'invalid_free', None)
            frame_is('allocated_by #0', stack(r, 'allocated_by')[0], 'make_tiny', 'alloc_tiny')
        summary(objs, {'invalid-free': 1})
    elif name == 'thread-double-free':
        r = one_report(objs, 'double-free')
        if r:
            expect(r, 'report', thread=1, freed_by__thread=1, allocated_by__thread=0)
            frame_is('detected_at #0', stack(r, 'detected_at')[0], 'drop_again', 'drop_again')
            frame_is('detected_at #1', stack(r, 'detected_at')[1:2] and stack(r, 'detected_at')[1], 'thread_double_free', None)
            frame_is('allocated_by #0', stack(r, 'allocated_by')[0], 'make_small', 'alloc_small')
        summary(objs, {'double-free': 1})
    elif name in ('leaks', 'leaks-suppressed'):
        reps = [o for o in objs if o.get('kind') == 'memory-leak']
        want = 1 if name == 'leaks-suppressed' else 2
        if len(reps) != want:
            bad('%d memory-leak reports, expected %d' % (len(reps), want))
            return
        r = reps[0]
        expect(r, 'list leak', function='exit', thread=0, bytes=48, blocks=1, indirect_bytes=144,
               indirect_blocks=3, block__size=48, block__offset=0, allocated_by__thread=0)
        if 'detected_at' in r or 'freed_by' in r:
            bad('a leak report with detected_at or freed_by')
        frame_is('list leak allocated_by #0', stack(r, 'allocated_by')[0], 'push', 'alloc_node')
        frame_is('list leak allocated_by #1', stack(r, 'allocated_by')[1:2] and stack(r, 'allocated_by')[1], 'lose_list', None)
        if name == 'leaks':
            r = reps[1]
            expect(r, 'thread leak', bytes=77, blocks=1, indirect_bytes=0, indirect_blocks=0,
                   block__size=77, allocated_by__thread=1)
            frame_is('thread leak allocated_by #0', stack(r, 'allocated_by')[0], 'thread_leak', 'alloc_thread')
            summary(objs, {'memory-leak': 2}, leaks={'definitely_lost_bytes': 125, 'definitely_lost_blocks': 2,
                                                     'indirectly_lost_bytes': 144, 'indirectly_lost_blocks': 3})
        else:
            summary(objs, {'memory-leak': 1}, suppressed=1,
                    leaks={'definitely_lost_bytes': 125, 'definitely_lost_blocks': 2})
    elif name == 'reachable':
        reach = [o for o in objs if o.get('kind') == 'still-reachable']
        if not reach:
            bad('no still-reachable object with show_reachable=1')
        for o in reach:
            if not isinstance(o.get('bytes'), int) or not isinstance(o.get('blocks'), int) or \
                    not isinstance(o.get('allocated_by'), dict):
                bad('still-reachable object %r' % o)
                break
            check_frames('still-reachable', o['allocated_by'].get('frames'))
        s = [o for o in objs if o.get('kind') == 'summary']
        if len(s) != 1 or sum(o['bytes'] for o in reach) != (s[0].get('leaks') or {}).get('still_reachable_bytes'):
            bad('the still-reachable bytes do not add up to the summary')
    else:
        bad('no check for bug %s' % name)


def file_suffix(path, suffix):
    objs = lines(path)
    seen = 0
    for o in objs:
        for key in ('detected_at', 'freed_by', 'allocated_by'):
            for f in stack(o, key):
                if isinstance(f, dict) and f.get('file') and 'bugs' in f.get('module', ''):
                    seen += 1
                    name = f['file'].encode('latin-1').decode('utf-8')
                    if not name.endswith(suffix):
                        bad('file %r (%r decoded) does not end with %r' % (f['file'], name, suffix))
    if not seen:
        bad('no frame of the program with a file')


def tool(path):
    out = open(path, encoding='utf-8').read().split('\n')

    def section(title):
        if title not in out:
            bad('no section %r' % title)
            return []
        i = out.index(title) + 1
        j = i
        while j < len(out) and out[j].startswith(' '):
            j += 1
        return out[i:j]

    kinds = [l.split() for l in section('Errors by kind:')]
    want = [['3', 'double-free'], ['3', 'heap-buffer-overflow'], ['2', 'invalid-free'], ['1', 'use-after-free']]
    if [k[:2] for k in kinds[:4]] != want:
        bad('errors by kind %r, expected %r first' % (kinds, want))
    if len(kinds) != 5 or kinds[4][:2] != ['4', 'memory-leak']:
        bad('errors by kind: no "4 memory-leak" last: %r' % kinds)
    sites = [re.sub(r'/\S*/', '', l).split() for l in section('Error sites (kind at the top program frame), most frequent first:')]
    want = [['3', 'double-free', 'at', 'drop_again', 'bugs.c:%d' % marks['drop_again']],
            ['2', 'heap-buffer-overflow', 'at', 'drop', 'bugs.c:%d' % marks['drop']],
            ['2', 'invalid-free', 'at', 'drop', 'bugs.c:%d' % marks['drop']],
            ['1', 'heap-buffer-overflow', 'at', 'large_overflow', 'bugs.c:%d' % marks['large_write']]]
    if sites[:4] != want:
        bad('error sites %r, expected %r first' % (sites, want))
    if len(sites) != 5 or sites[4][:3] != ['1', 'use-after-free', 'at']:
        bad('error sites: no use-after-free last: %r' % sites)
    leaks = [l for l in section('Leaks by allocation site, biggest first:') if not l.startswith('      ')]
    want = ['  96 bytes in 2 blocks definitely lost, 288 bytes in 6 blocks indirectly '
            '(2 reports from 2 different stacks, the first shown), allocated at:',
            '  154 bytes in 2 blocks definitely lost (2 reports), allocated at:']
    if leaks != want:
        bad('leak sites %r, expected %r' % (leaks, want))
    frames = [l.strip() for l in section('Leaks by allocation site, biggest first:') if l.startswith('      ')]
    if not frames or not re.match(r'^push \S*/bugs\.c:%d$' % marks['alloc_node'], frames[0]):
        bad('the biggest leak site is not push at bugs.c:%d: %r' % (marks['alloc_node'], frames[:1]))
    totals = '\n'.join(section('Totals:'))
    for text in ('exit summaries: 7 processes: 12 errors', '1 process reported without an exit summary',
                 'leaks: 250 bytes definitely lost in 4 blocks, 288 bytes indirectly lost in 6 blocks',
                 '4 lines skipped: not ftmalloc JSON'):
        if text not in totals:
            bad('totals lack %r: %r' % (text, totals))


def main(argv):
    if len(argv) == 2 and argv[0] == 'lines':
        lines(argv[1])
    elif len(argv) == 4 and argv[0] == 'bug':
        bug(argv[1], argv[2], argv[3])
    elif len(argv) == 3 and argv[0] == 'file':
        file_suffix(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == 'tool':
        read_marks(argv[2])
        tool(argv[1])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for p in problems[:12]:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
