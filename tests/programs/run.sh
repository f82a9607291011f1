#!/usr/bin/env bash
# Real-programs suite: runs ordinary programs twice on the same generated input,
# once plain and once with LD_PRELOAD=$FTMALLOC_LIB (exported, so every child
# process - make's gcc, python's subprocess, git's helpers, tar's gzip - is
# preloaded too), and checks that
#   - stdout and every file produced under the test's output directory match,
#   - the exit statuses of every program run match and none was killed by a
#     signal or by the 60 s timeout,
#   - the preloaded run's stderr has no line starting with "ftmalloc:" (the
#     allocator's report prefix) and no crash message, and is the same as the
#     plain run's (once the work paths of the two runs are mapped together).
#     Exception: in the tests of programs that really leak at exit (leaky_tests
#     below, checked with valgrind), whole memory-leak reports are set aside
#     and counted on the PASS line; any other report still fails them.
# One line per program: PASS: name: measure | FAIL: name: reason | SKIP: name: reason
#
# Env: FTMALLOC_LIB (library to preload, absolute), FTMALLOC_ROOT (source tree).
#      PROGRAMS_ONLY="ls sort ..." runs only those tests (for debugging).
#      PROGRAMS_KEEP=1 keeps the work directory and prints its path.
#      PROGRAMS_TIME=1 prints the slowest program runs at the end.
#      PROGRAMS_STRICT_LEAKS=1 fails the leaky tests on their leak reports too.
#      FTMALLOC_OPTIONS, if set, reaches the preloaded runs as it is.
# Wall time: about 1-1.5 min on an idle 2-core machine (plain and preloaded runs
# of a test go side by side).
set -u
here=$(cd "$(dirname "$0")" && pwd)
LIB=${FTMALLOC_LIB:-}
export LC_ALL=C TZ=UTC LANG=C
unset LANGUAGE LD_PRELOAD
# run from "make test": the outer make's variables would make the inner
# makes print "Entering directory" lines with the (differing) work paths
unset MAKELEVEL MAKEFLAGS MFLAGS
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
W=$(mktemp -d "${TMPDIR:-/tmp}/ftmalloc-programs.XXXXXX")
if [ "${PROGRAMS_KEEP:-0}" = 1 ]; then
	echo "work directory: $W"
else
	trap 'rm -rf "$W"' EXIT
	trap 'exit 130' INT TERM
fi
IN=$W/in
mkdir -p "$IN"
suite_start=$(date +%s)

# ---------------------------------------------------------------------------
# The list of tests, in order. Each t_NAME runs with cwd = its output directory
# $O (compared between the two runs), a scratch directory $S (not compared), its
# stdout captured (compared), and calls every program under test through X.
tests="ls find sort grep sed awk gawk tar_gzip xz bash python_threads python_heavy
perl gcc gxx make git sqlite3 cp_diff checksums du_wc cut_uniq bc"

# X PROG ARGS...: run a program under test (preloaded in the "pre" mode) with a
# 60 s timeout, recording its exit status.
X() {
	local rc t0=$EPOCHREALTIME
	if [ "$MODE" = pre ]; then
		timeout -k 5 60 env LD_PRELOAD="$LIB" "$@"
	else
		timeout -k 5 60 "$@"
	fi
	rc=$?
	echo "${1##*/} $rc" >>"$STF"
	[ "${PROGRAMS_TIME:-0}" = 1 ] && echo "$MODE $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')s: $*" >>"$W/times"
	return $rc
}
# need PROG...: skip the test (SKIP line) when a program is not installed.
need() {
	local p
	for p; do
		command -v "$p" >/dev/null || { echo "SKIPME $p is not installed (tests/programs/packages.txt lists it)"; return 1; }
	done
}
# measure TEXT: what the PASS line says about the test (taken from the plain run).
measure() { [ "$MODE" = plain ] && printf '%s' "$*" >"$MF"; return 0; }
# lines FILE / bytes FILE
lines() { wc -l <"$1" | tr -d ' '; }
bytes() { wc -c <"$1" | tr -d ' '; }

# ---------------------------------------------------------------------------
t_ls() {
	X ls -laR --time-style=+ /usr/share >ls-share.txt
	X ls -lRSr --time-style=+ /usr/include >ls-include-size.txt
	X ls -1RUa /usr/share/doc | LC_ALL=C sort >ls-doc-unsorted.txt
	measure "ls -laR /usr/share: $(lines ls-share.txt) lines, ls -lRSr /usr/include: $(lines ls-include-size.txt) lines"
}

t_find() {
	X find /usr/share /usr/include -type f \( -name '*.gz' -o -name '*.h' -o -iname '*readme*' \) \
		-printf '%p %s %m %y\n' | LC_ALL=C sort >files.txt
	X find /usr/include -type d -printf '%d %p %n\n' | LC_ALL=C sort >dirs.txt
	X find /usr/share -type l -printf '%p -> %l\n' | LC_ALL=C sort >links.txt
	X find /usr/include -regextype posix-extended -regex '.*/[a-z]+_[a-z0-9_]+\.h' -size +2k \
		-exec wc -l {} + | LC_ALL=C sort >regex-exec.txt
	measure "find -name/-type/-regex/-printf/-exec: $(($(lines files.txt) + $(lines dirs.txt) + $(lines links.txt) + $(lines regex-exec.txt))) lines"
}

t_sort() {
	X sort "$IN/big.txt" >plain.txt
	X sort -u -t$'\t' -k2,2 "$IN/big.txt" >uniq-key.txt
	X sort -n -t$'\t' -k3,3 -k1,1n "$IN/big.txt" >numeric.txt
	X sort -t$'\t' -k2,2 -k4,4gr --parallel=2 -S 1M -T "$S" "$IN/big.txt" >multikey-merge.txt
	cut -f5 "$IN/big.txt" | X sort -u -r >words-rev.txt
	X sort -m plain.txt plain.txt >merged.txt
	X sort -c plain.txt
	measure "sort/-u/-n/-k/-m of $(bytes "$IN/big.txt") bytes: $(lines numeric.txt) lines, $(lines uniq-key.txt) unique keys"
}

t_grep() {
	X grep -rn -E 'struct [a-z_]+ \{' /usr/include | LC_ALL=C sort >struct.txt
	X grep -rlw -F -e malloc -e free /usr/include | LC_ALL=C sort >malloc-files.txt
	X grep -rci --include='*.h' 'define' /usr/include/linux | LC_ALL=C sort >counts.txt
	X grep -rhoP '\b[A-Z][A-Z0-9_]{6,}\b' /usr/include/linux | LC_ALL=C sort | uniq -c >macros.txt
	X grep -v -E '(ka|lo)[a-z]*-[0-9]+' "$IN/big.txt" | X grep -c . >invert-count.txt
	measure "grep -r over /usr/include: $(lines struct.txt) matches, $(lines macros.txt) distinct macros"
}

t_sed() {
	X sed -E 's/([a-z]+)-([0-9]+)/<\2:\1>/g; /^[0-9]*7\t/d; y/aeiou/AEIOU/' "$IN/big.txt" >subst.txt
	X sed -n -E '/\t-[0-9]{6}\t/{s/^([0-9]+)\t([a-z]+).*$/\2=\1/;p}' "$IN/big.txt" >select.txt
	# The hold space grows to the whole file: realloc growth to ~10 MB.
	X sed -n 'H;${x;s/\n/|/g;s/\t/ /g;p}' "$IN/big.txt" | md5sum >hold.md5
	X sed -e '1~3s/^/# /' -e '$a\end' -e '5,20000{/ka/d}' "$IN/big.txt" >ranges.txt
	measure "sed -E s///g, y, hold space over $(bytes "$IN/big.txt") bytes: $(lines subst.txt) lines"
}

awk_prog='
BEGIN { FS = "\t" }
{
	n[$2]++; sum[$2] += $3
	nw = split($5, w, " ")
	for (i = 1; i <= nw; i++) { wc[w[i]]++; if (length(w[i]) > maxl) { maxl = length(w[i]); longest = w[i] } }
	if ($3 > 0) pos[$1 % 1000] = pos[$1 % 1000] $2 ","
	if (NR % 7 == 0) delete wc[w[1]]
}
END {
	for (k in n) printf "key %s %d %d\n", k, n[k], sum[k]
	for (k in wc) if (wc[k] > 50) printf "word %s %d\n", k, wc[k]
	for (k in pos) printf "pos %s %d\n", k, length(pos[k])
	printf "longest %s %d records %d\n", longest, maxl, NR
}'
t_awk() {
	need awk || return 0
	X awk "$awk_prog" "$IN/big.txt" | LC_ALL=C sort >assoc.txt
	X awk -F'\t' '{ $2 = toupper($2); if (NR % 3 == 0) s = s substr($5, 1, 3) } END { print length(s) } 1' OFS=, "$IN/big.txt" >rewrite.txt
	measure "awk (mawk) associative arrays over $(lines "$IN/big.txt") records: $(lines assoc.txt) entries"
}

t_gawk() {
	need gawk || return 0
	X gawk "$awk_prog" "$IN/big.txt" | LC_ALL=C sort >assoc.txt
	X gawk -F'\t' '{ a[$2][$1 % 10] = a[$2][$1 % 10] substr($5, 1, 4) }
		END { PROCINFO["sorted_in"] = "@ind_str_asc"; for (k in a) { t = 0; for (j in a[k]) t += length(a[k][j]); print k, length(a[k]), t } }' "$IN/big.txt" >arrays-of-arrays.txt
	X gawk '{ gsub(/[aeiou]+/, "<&>"); x = gensub(/([0-9]+)\t([a-z]+)/, "\\2_\\1", "g"); print x }' "$IN/big.txt" | md5sum >gsub.md5
	measure "gawk associative arrays, arrays of arrays, gsub: $(lines assoc.txt) + $(lines arrays-of-arrays.txt) entries"
}

tar_opts=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu)
t_tar_gzip() {
	need tar gzip || return 0
	X tar -C /usr/include "${tar_opts[@]}" -czf "$S/inc.tgz" linux asm-generic x86_64-linux-gnu
	md5sum <"$S/inc.tgz" >tgz.md5
	X tar -tvzf "$S/inc.tgz" >listing.txt
	mkdir "$S/x"
	X tar -xzf "$S/inc.tgz" -C "$S/x"
	for d in linux asm-generic x86_64-linux-gnu; do
		X diff -r "/usr/include/$d" "$S/x/$d" && echo "$d identical"
	done
	X gzip -9 -c "$IN/big.txt" >big.gz
	X gzip -dc big.gz | cmp - "$IN/big.txt" && echo "gzip round trip ok"
	X gzip -t big.gz
	measure "tar czf/tvzf/xzf + diff -r of $(lines listing.txt) entries ($(bytes "$S/inc.tgz") bytes .tgz), gzip -9 round trip"
}

t_xz() {
	need xz || return 0
	head -c 3000000 "$IN/big.txt" >"$S/a.txt"
	head -c 1000000 "$IN/big2.txt" >"$S/b.txt"
	X xz -T2 --block-size=512KiB -3 -c "$S/a.txt" >big-mt.xz
	X xz -1e -c "$S/b.txt" >big2.xz
	X xz -T2 -dc big-mt.xz | cmp - "$S/a.txt" && echo "xz -T2 round trip ok"
	X xz -dc big2.xz | cmp - "$S/b.txt" && echo "xz round trip ok"
	X xz -t big-mt.xz big2.xz
	X xz -lvv big-mt.xz | grep -v -e '^ *Name' -e 'big-mt.xz' >list.txt
	measure "xz -T2/-1e compress + decompress of $(bytes "$S/a.txt") bytes -> $(bytes big-mt.xz) bytes"
}

t_bash() {
	X bash "$here/script.bash" "$IN/big.txt" >out.txt
	measure "bash arrays, assoc arrays, string ops, \$( ), subshells, pipes: $(lines out.txt) lines"
}

t_python_threads() {
	need "$PY" || return 0
	X "$PY" "$here/threads.py" "$IN/big.txt" >out.txt
	measure "python3 threads + queue + json + subprocess: $(lines out.txt) lines"
}

t_python_heavy() {
	need "$PY" || return 0
	# PYTHONMALLOC=malloc sends every small object to malloc instead of pymalloc's arenas.
	PYTHONMALLOC=malloc X "$PY" "$here/heavy.py" >out.txt
	measure "python3 (PYTHONMALLOC=malloc) 1M small objects in dicts/lists/sets: $(lines out.txt) lines"
}

t_perl() {
	X perl "$here/script.pl" "$IN/big.txt" >out.txt
	X perl -ne 'print if /(\w)\1/ && !/ka/' "$IN/big.txt" | md5sum >filter.md5
	measure "perl hashes, regexes, sort, closures: $(lines out.txt) lines"
}

t_gcc() {
	need gcc || return 0
	perl "$here/gen_c.pl" single >prog.c
	X gcc -O2 -Wall -pthread -g -fdebug-prefix-map="$PWD"=. -o prog prog.c
	X ./prog >run.txt
	X gcc -O0 -c -o prog0.o prog.c
	X gcc -O0 -pthread -o prog0 prog0.o
	X ./prog0 >run0.txt
	cmp -s run.txt run0.txt && echo "-O0 and -O2 agree"
	measure "gcc -O2 -g / -O0 of $(lines prog.c) lines, binary $(bytes prog) bytes, its run: $(lines run.txt) lines"
}

t_gxx() {
	need g++ || return 0
	X g++ -O1 -std=c++17 -pthread -o prog "$here/prog.cpp"
	X ./prog "$IN/big.txt" >run.txt
	measure "g++ -O1 of STL/iostream/exceptions/threads program, binary $(bytes prog) bytes, its run: $(lines run.txt) lines"
}

t_make() {
	need make gcc ar || return 0
	mkdir proj
	(cd proj && perl "$here/gen_c.pl" project)
	X make -s -j2 -C proj
	X make -s -j2 -C proj check >check.txt
	X make -j2 --no-print-directory -C proj >again.txt
	touch proj/mod3.c proj/alloc.c
	X make -s -j2 -C proj
	X ./proj/app >run.txt
	X make -s -C proj clean
	ls proj >files-after-clean.txt
	measure "make -j2 of $(ls proj/*.c | wc -l) generated C files + ar + link (make -> gcc -> cc1/as/ld), run: $(lines run.txt) lines"
}

t_git() {
	need git || return 0
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY XDG_CONFIG_HOME
	export HOME=$S GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=t@example.org \
		GIT_COMMITTER_NAME=Test GIT_COMMITTER_EMAIL=t@example.org
	local r=$S/repo i
	X git init -q -b main "$r"
	X git -C "$r" config gc.autoDetach false
	X git -C "$r" config maintenance.auto false
	mkdir -p "$r/src" "$r/doc"
	cp /usr/include/linux/*.h "$r/src/"
	head -c 500000 "$IN/big.txt" >"$r/doc/data.txt"
	for i in 1 2 3 4 5; do
		export GIT_AUTHOR_DATE="2020-01-0$i 12:00:00 +0000" GIT_COMMITTER_DATE="2020-01-0$i 12:00:00 +0000"
		if [ "$i" -gt 1 ]; then
			sed -i -e "s/define/define$i/" "$r"/src/[a-m]*.h
			sed -n "${i}~7p" "$IN/big2.txt" | head -n 4000 >"$r/doc/part$i.txt"
			X git -C "$r" rm -q -f "src/$(ls "$r/src" | sed -n "$((i * 40))p")"
		fi
		X git -C "$r" add -A
		X git -C "$r" commit -q -m "commit $i"
		[ "$i" = 3 ] && X git -C "$r" tag -a v3 -m "tag v3"
	done
	X git -C "$r" log --stat --format='%H %an %ad %s' >log.txt
	X git -C "$r" diff HEAD~3 HEAD >diff.txt
	X git -C "$r" diff --stat v3 HEAD~1 >diffstat.txt
	X git -C "$r" gc -q
	X git -C "$r" fsck --full --no-progress >fsck.txt
	X git -C "$r" count-objects -v | grep -E '^(count|in-pack|packs|prune-packable|garbage):' >objects.txt
	X git -C "$r" log -p --format='%H' v3 >log-p.txt
	X git -C "$r" grep -n -e 'struct' --and -e 'int' HEAD~2 >grep.txt
	X git -C "$r" blame -s HEAD~1 -- src/ethtool.h >blame.txt
	X git -C "$r" archive --format=tar HEAD | tar -tf - >archive.txt
	measure "git init/add/commit x5/tag/log/diff/gc/fsck/grep/blame/archive: $(lines log.txt) log lines, $(lines diff.txt) diff lines"
}

t_sqlite3() {
	need sqlite3 || return 0
	local db=$S/t.db
	X sqlite3 "$db" <<-EOF
		CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, city TEXT, age INTEGER, score REAL, tag TEXT);
		.mode csv
		.import $IN/rows.csv people
	EOF
	X sqlite3 "$db" <"$here/queries.sql" >queries.txt
	X sqlite3 "$db" .dump | md5sum >dump.md5
	measure "sqlite3 $(sqlite3 "$db" 'select count(*) from people') rows, indexes, joins, window functions: $(lines queries.txt) result lines"
}

t_cp_diff() {
	X cp -r /usr/include/linux "$S/copy"
	X cp -a /usr/include/x86_64-linux-gnu "$S/copy2"
	X diff -r /usr/include/linux "$S/copy" && echo "cp -r identical"
	X diff -r /usr/include/x86_64-linux-gnu "$S/copy2" && echo "cp -a identical"
	X diff "$IN/big.txt" "$IN/big2.txt" >normal.diff
	X diff -u "$IN/big.txt" "$IN/big2.txt" | tail -n +3 >unified.diff
	X diff -y -W 200 --suppress-common-lines "$IN/big.txt" "$IN/big2.txt" >side.diff
	X cmp "$IN/big.txt" "$IN/big2.txt" >cmp.txt
	measure "cp -r/-a + diff -r of /usr/include/linux; diff/-u/-y of multi-MB files: $(lines normal.diff) diff lines"
}

t_checksums() {
	need b2sum || return 0
	find /usr/include/linux /usr/share/doc -type f | LC_ALL=C sort >"$S/list"
	X xargs -d '\n' md5sum <"$S/list" >md5.txt
	X xargs -d '\n' -n 200 -P 2 sha256sum <"$S/list" | LC_ALL=C sort >sha256.txt
	X sha512sum "$IN/big.txt" "$IN/big2.txt" "$IN/rows.csv" >sha512.txt
	X md5sum -c --quiet md5.txt
	X b2sum "$IN/big.txt" >b2.txt
	measure "md5sum/sha256sum/sha512sum/b2sum of $(lines "$S/list") files via xargs"
}

t_du_wc() {
	X du -a /usr/include | LC_ALL=C sort -k2 >du-a.txt
	X du -sb --apparent-size /usr/share/doc /usr/include >du-sb.txt
	X du -h --max-depth=2 /usr/share | LC_ALL=C sort -k2 >du-h.txt
	X wc -lwmc "$IN/big.txt" "$IN/big2.txt" "$IN/rows.csv" >wc.txt
	find /usr/include/linux -name '*.h' -print0 | LC_ALL=C sort -z | X wc -l --files0-from=- >wc-files.txt
	measure "du -a/-sb/-h + wc -lwmc: $(lines du-a.txt) du entries, $(lines wc-files.txt) files counted"
}

t_cut_uniq() {
	X cut -f2 "$IN/big.txt" | X sort | X uniq -c | X sort -k1,1nr -k2 >keys.txt
	X cut -d, -f3,6 "$IN/rows.csv" | X sort | X uniq -c -d >city-tag.txt
	X cut -c1-12 --complement "$IN/big2.txt" | X uniq -u | X tr -s 'a-z' 'A-Z' | md5sum >complement.md5
	X tr -cs 'a-z' '\n' <"$IN/big.txt" | X sort | X uniq -c | X sort -rn | X sed -n 1,100p >top-words.txt
	measure "cut | sort | uniq -c pipelines: $(lines keys.txt) keys, $(lines city-tag.txt) city/tag pairs"
}

t_bc() {
	need bc || return 0
	X bc -l <<-'EOF' >bc.txt
		scale = 600
		4 * a(1)
		e(1)
		l(2)
		sqrt(2)
		define f(n) { if (n < 2) return 1; return n * f(n - 1); }
		f(900)
		x = 2 ^ 5000; x % 1000000007
	EOF
	measure "bc -l arbitrary precision (pi, e, 900!): $(bytes bc.txt) bytes"
}

# ---------------------------------------------------------------------------
# Running one test in one mode, and comparing the two modes.
run_mode() { # NAME MODE
	local name=$1
	MODE=$2
	local base=$W/t/$name
	O=$base/$MODE S=$base/$MODE.scratch STF=$base/$MODE.status MF=$base/measure
	mkdir -p "$O" "$S"
	: >"$STF"
	(cd "$O" && "t_$name") >"$base/$MODE.stdout" 2>"$base/$MODE.stderr" </dev/null
}

# Programs that really leak memory at exit, so that the allocator's leak check
# (on by default) reports them. Checked with valgrind --leak-check=full, which
# reports the same blocks "definitely lost": perl (perl_destruct at level 0
# frees the interpreter, not its stacks: Perl_tmps_grow_p), ld/collect2 (libbfd
# xcalloc), cc1/cc1plus (xstrdup), git (commit, gc's children, fsck: strdup and
# buffers it never frees). In these tests, and only there, whole memory-leak
# reports are taken out of the preloaded stderr before it is checked (and the
# PASS line counts them); any other report, or a leak report in any other test,
# fails. PROGRAMS_STRICT_LEAKS=1 tolerates none.
leaky_tests="perl gcc gxx make git"
leak_re='^ftmalloc: ERROR: memory-leak on address 0x[0-9a-f]+ .* in exit, thread T[0-9]+$|^  allocated by thread T[0-9]+ at:$|^  [0-9]+ bytes in [0-9]+ blocks are definitely lost$|^  \(and [0-9]+ bytes in [0-9]+ indirectly lost blocks reachable only from them\)$|^    #[0-9]+ 0x[0-9a-f]+( |$)|^ftmalloc: end of report$|^ftmalloc: SUMMARY: leaks: |^ftmalloc: SUMMARY: [0-9]+ errors?: [0-9]+ memory-leak$'

crash_re='Segmentation fault|core dumped|Aborted|Bus error|Illegal instruction|double free|free\(\): invalid|corrupted|malloc\(\)|realloc\(\): invalid|munmap_chunk|Fatal Python error|stack smashing|cannot be preloaded|Killed'

check() { # NAME
	local name=$1 base=$W/t/$1 why="" t0 t1 p
	t0=$(date +%s.%N)
	run_mode "$name" plain &
	p=$!
	run_mode "$name" pre
	wait "$p"
	t1=$(date +%s.%N)
	if grep -q '^SKIPME ' "$base/plain.stdout"; then
		echo "SKIP: $name: $(sed -n 's/^SKIPME //p' "$base/plain.stdout" | head -n 1)"
		return
	fi
	local bad err=$base/pre.stderr leaks=""
	if [[ " $leaky_tests " == *" $name "* ]] && [ "${PROGRAMS_STRICT_LEAKS:-0}" != 1 ]; then
		err=$base/pre.stderr.noleaks
		grep -v -E "$leak_re" "$base/pre.stderr" >"$err"
		leaks=$(grep -c '^ftmalloc: ERROR: memory-leak ' "$base/pre.stderr")
	fi
	bad=$(grep -m 3 '^ftmalloc:' "$err")
	[ -n "$bad" ] && why="allocator report on stderr: $(echo "$bad" | tr '\n' ' ')"
	if [ -z "$why" ]; then
		bad=$(awk '$2 == 124 || $2 == 137 || $2 >= 128 || $2 == 125 || $2 == 126 || $2 == 127' "$base/pre.status" | head -n 3)
		[ -n "$bad" ] && why="preloaded program crashed/timed out (program status): $(echo "$bad" | tr '\n' ' ')"
	fi
	if [ -z "$why" ]; then
		bad=$(grep -m 3 -E "$crash_re" "$err")
		[ -n "$bad" ] && why="crash message on preloaded stderr: $(echo "$bad" | tr '\n' ' ')"
	fi
	if [ -z "$why" ]; then
		bad=$(awk '$2 == 124 || $2 >= 125' "$base/plain.status" | head -n 3)
		[ -n "$bad" ] && why="plain run failed too (harness problem?): $(echo "$bad" | tr '\n' ' ') $(head -c 300 "$base/plain.stderr" | tr '\n' ' ')"
	fi
	if [ -z "$why" ] && ! cmp -s <(LC_ALL=C sort "$base/plain.status") <(LC_ALL=C sort "$base/pre.status"); then
		why="exit statuses differ (plain vs preloaded): $(diff <(LC_ALL=C sort "$base/plain.status") <(LC_ALL=C sort "$base/pre.status") | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
	fi
	if [ -z "$why" ] && ! cmp -s "$base/plain.stdout" "$base/pre.stdout"; then
		why="stdout differs: $(diff "$base/plain.stdout" "$base/pre.stdout" | head -n 4 | tr '\n' ' ')"
	fi
	if [ -z "$why" ] && ! diff -q "$base/plain.stderr" <(sed "s#$base/pre#$base/plain#g" "$err") >/dev/null; then
		why="stderr differs (pre paths mapped to plain): $(diff "$base/plain.stderr" <(sed "s#$base/pre#$base/plain#g" "$err") | head -n 4 | cut -c1-200 | tr '\n' ' ')"
	fi
	if [ -z "$why" ]; then
		bad=$(diff -rq "$base/plain" "$base/pre" 2>&1 | head -n 3)
		[ -n "$bad" ] && why="output files differ: $(echo "$bad" | sed "s#$base/##g" | tr '\n' ' ')"
	fi
	if [ -z "$why" ] && [ ! -s "$base/plain.status" ]; then
		why="no program was run (test bug)"
	fi
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ -n "$why" ]; then
		nfail=$((nfail + 1))
		echo "FAIL: $name: $why"
		if [ -s "$err" ]; then
			echo "  preloaded stderr (first lines):"
			head -n 5 "$err" | cut -c1-200 | sed 's/^/    /'
		fi
	else
		[ "${leaks:-0}" -gt 0 ] && leaks=", $leaks leak reports at exit (a program known to leak)" || leaks=""
		echo "PASS: $name: $(cat "$base/measure" 2>/dev/null) [${secs}s$leaks]"
	fi
	[ "${PROGRAMS_KEEP:-0}" = 1 ] || rm -rf "$base"
}

# ---------------------------------------------------------------------------
# The preload must actually happen, in the program and in its children.
preload_ok=1
if [ -z "$LIB" ]; then
	echo "FAIL: programs-preload: FTMALLOC_LIB is not set"
	preload_ok=0
elif [ ! -f "$LIB" ]; then
	echo "FAIL: programs-preload: $LIB does not exist"
	preload_ok=0
else
	libname=$(basename "$(readlink -f "$LIB")")
	maps=$(LD_PRELOAD=$LIB cat /proc/self/maps 2>"$W/preload.err")
	if ! grep -E '^[0-9a-f]+-[0-9a-f]+ ' <<<"$maps" | grep -qF "/$libname"; then
		echo "FAIL: programs-preload: LD_PRELOAD=$LIB cat /proc/self/maps does not map $libname: $(head -n 3 "$W/preload.err" | cut -c1-200 | tr '\n' ' ')"
		preload_ok=0
	else
		# Children: bash -> python3 subprocess -> make -> sh -> cat, each must map it.
		kids=$(LD_PRELOAD=$LIB timeout 60 bash -c '
			grep -c "$1" /proc/$$/maps
			"$2" -c "import subprocess,sys; print(subprocess.run([\"grep\", \"-c\", sys.argv[1], \"/proc/self/maps\"], capture_output=True, text=True).stdout.strip())" "$1"
			printf "all:\n\t@grep -c %s /proc/self/maps\n" "$1" | make -s -f -
			sh -c "grep -c $1 /proc/self/maps"' _ "/$libname" "$PY" 2>"$W/preload.err")
		n=0
		for c in $kids; do case $c in '' | *[!0-9]*) ;; 0) ;; *) n=$((n + 1)) ;; esac; done
		if [ "$n" -ne 4 ]; then
			echo "FAIL: programs-preload: children do not inherit the preload (bash, python subprocess, make, sh): $(echo "$kids" | tr '\n' ' ') $(head -n 3 "$W/preload.err" | cut -c1-200 | tr '\n' ' ')"
			preload_ok=0
		else
			echo "PASS: programs-preload: $libname mapped in cat, bash, python3's subprocess, make's recipe shell, sh"
		fi
	fi
fi

if [ "$preload_ok" = 0 ]; then
	for t in $tests; do echo "FAIL: $t: not run: the preload does not work"; done
	exit 1
fi

perl "$here/gen_input.pl" "$IN" || { echo "FAIL: programs-input: could not generate the input"; exit 1; }

nfail=0
for t in $tests; do
	if [ -n "${PROGRAMS_ONLY:-}" ] && [[ " $PROGRAMS_ONLY " != *" $t "* ]]; then continue; fi
	check "$t"
done
echo "programs suite wall time: $(($(date +%s) - suite_start))s"
[ "${PROGRAMS_TIME:-0}" = 1 ] && [ -f "$W/times" ] && sort -k2,2rn "$W/times" | sed -n 1,40p
[ "$nfail" -eq 0 ]
