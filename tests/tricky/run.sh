#!/usr/bin/env bash
# Tricky suite of ftmalloc: correct programs that are hard on a debugging
# malloc (zero sizes, huge alignments, fork with threads, libc functions that
# allocate internally, blocks reachable at exit only from a global, a static,
# TLS, a list, an interior pointer, another thread's stack; C++). Each runs
# under LD_PRELOAD=$FTMALLOC_LIB and must
#   - exit 0,
#   - print exactly the expected line on stdout,
#   - print no line starting with "ftmalloc:" on stderr (no false report).
# Prints one "PASS: tricky/NAME" / "FAIL: tricky/NAME: reason" line per program,
# a failure followed by the program's stderr (indented, first 40 lines).
# The harness-* checks feed canned results to the checker and need no allocator.
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# TRICKY_ALLOCATOR=glibc runs the programs without LD_PRELOAD (validates the
# programs themselves), TRICKY_JOBS (default: CPUs), TRICKY_TIMEOUT (s, default 20),
# TRICKY_KEEP=1 keeps every log in build/logs/, TRICKY_ONLY=ERE runs matching rows.
set -u
cd "$(dirname "$0")"
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=tricky
. ../lib.sh
mode=${TRICKY_ALLOCATOR:-ftmalloc}
jobs=${TRICKY_JOBS:-$(nproc 2>/dev/null || echo 2)}
tmo=${TRICKY_TIMEOUT:-20}
only=${TRICKY_ONLY:-}
logs=$here/build/logs
ulimit -c 0

# name | program and arguments (in build/) | the expected stdout (one line)
table=$(cat <<'EOF'
zero-sizes | tricky zero-sizes | zero-sizes: ok
realloc-chains | tricky realloc-chains | realloc-chains: 71 steps ok
usable-size-bytes-all-writable | tricky usable-size | usable-size: 2111 sizes ok
huge-alignment | tricky huge-alignment | huge-alignment: 18 blocks ok
aligned-alloc-many-alignments | tricky aligned-many | aligned-many: 51 alignment/size pairs ok
calloc-zeroed-after-reuse | tricky calloc-zeroed | calloc-zeroed: ok
frees-everything | tricky frees-everything | frees-everything: ok (nonzero)
threads-free-each-others-blocks | tricky cross-thread-free | cross-thread-free: 60000 blocks ok
many-threads-joined-and-detached | tricky many-threads | many-threads: 416 threads ok
tls-destructors | tricky tls-destructors | tls-destructors: 8 destructors ran
fork-in-threaded-program | tricky fork-threads | fork-threads: 20 children ok
fork-in-threaded-program-child-exits | tricky fork-threads-exit | fork-threads-exit: 5 children ok
strdup-asprintf-open_memstream | tricky strings | strings: 772655 chars ok
getline-getdelim | tricky getline | getline: 3000 lines, sizes ok
fopen-fprintf-fclose | tricky stdio | stdio: 522720 bytes read back
qsort-big-array | tricky qsort | qsort: sorted
getaddrinfo-localhost | tricky getaddrinfo | getaddrinfo: loopback found
opendir-readdir-scandir | tricky dirs | dirs: 1040 entries, scandir 50
setlocale-newlocale | tricky locale | locale: 5 wide chars, 3.14
regcomp-regexec | tricky regex | regex: 200 matches
localtime-strftime | tricky time | time: 2009-02-14 00:31:30 CET / Friday 13 February 2009 23:31:30
getpwuid-getpwent | tricky passwd | passwd: uid 0 is root, entries listed
printf-floats | tricky printf-floats | printf-floats: 3.142 6.022141e+23 1e-10 0x1p+0 2.5 | 35 | 1000000000 | 2.718282 | big
setenv-unsetenv | tricky setenv | setenv: value-486
dlopen-dlclose | tricky dlopen | dlopen: 10 ok
backtrace-strerror | tricky execinfo | execinfo: frames, Unknown error 123456
reachable-from-global | tricky global | global: kept by a global
reachable-from-function-static | tricky static-local | static-local: kept by a static
reachable-from-tls | tricky tls | tls: kept by TLS
reachable-linked-list | tricky list | list: 10000 nodes
reachable-hash-table | tricky hash-table | hash-table: 5000 keys
reachable-by-interior-pointer | tricky interior-pointer | interior-pointer: kept by an interior pointer
atexit-frees-global | tricky atexit | atexit: freed at exit
exit-while-thread-holds-block | tricky exit-while-thread-holds | exit-while-thread-holds: ok
exit-while-threads-allocate-40-times | tricky exit-while-threads-allocate | exit-while-threads-allocate: 40 exits ok
cxx-containers-exceptions-threads | cxx | cxx: 1000 strings 36390 chars, map sum 499500, um 2500, caught 1180, 100 tokens, live 0, tsum 8000
EOF
)


status_name() {
	case $1 in
	0) echo "exit 0" ;;
	124) echo "timeout after ${tmo}s" ;;
	*) if [ "$1" -gt 128 ]; then echo "killed by signal $(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
	   else echo "exit $1"; fi ;;
	esac
}

# verdict RC STDOUT_FILE STDERR_FILE EXPECTED_LINE: empty when the run is right
verdict() {
	local rc=$1 out=$2 err=$3 want=$4 r="" got n
	[ "$rc" -eq 0 ] || r="ended with $(status_name "$rc")"
	n=$(grep -c '^ftmalloc:' "$err")
	if [ "$n" -gt 0 ]; then
		r="${r:+$r; }$n 'ftmalloc:' line(s) on stderr, first: $(grep -m1 '^ftmalloc:' "$err" | cut -c1-240)"
	fi
	got=$(cat "$out")
	if [ "$got" != "$want" ]; then
		r="${r:+$r; }stdout '$(printf %s "$got" | head -c 300 | tr '\n' '|')', expected '$want'"
	fi
	printf '%s' "$r"
}

run_row() {
	local n=$1 name=$2 cmd=$3 want=$4
	local out=$logs/$name.out err=$logs/$name.err res=$logs/$n.result
	local pre=()
	[ "$mode" = glibc ] || pre=(LD_PRELOAD="$lib")
	# shellcheck disable=SC2086
	(
		cd "$here/build" &&
		TMPDIR=$here/build/tmp timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT "${pre[@]}" \
			./$cmd >"$out" 2>"$err"
		exit $?
	) 2>/dev/null
	local rc=$? r
	r=$(verdict "$rc" "$out" "$err" "$want")
	{
		if [ -z "$r" ]; then
			echo "PASS: tricky/$name"
		else
			echo "FAIL: tricky/$name: $r"
			echo "    repro: (cd $here/build && LD_PRELOAD=$lib ./$cmd)"
			if [ -s "$err" ]; then
				head -n 40 "$err" | sed 's/^/    | /'
				[ "$(wc -l <"$err")" -gt 40 ] && echo "    | ... ($(wc -l <"$err") lines)"
			fi
		fi
	} >"$res"
	if [ -z "$r" ] && [ "${TRICKY_KEEP:-0}" != 1 ]; then
		rm -f "$out" "$err"
	fi
}

harness_selftests() {
	local d=$logs/harness r
	mkdir -p "$d"
	printf 'line\n' >"$d/out"
	: >"$d/err-empty"
	printf 'some noise\nftmalloc: ERROR: memory-leak on address 0x1 (...) in exit, thread T0\n' >"$d/err-report"
	printf 'xftmalloc: not at line start\n' >"$d/err-other"
	r=$(verdict 0 "$d/out" "$d/err-empty" line)
	[ -z "$r" ] && echo "PASS: tricky/harness-accepts-a-clean-run" || echo "FAIL: tricky/harness-accepts-a-clean-run: $r"
	r=$(verdict 0 "$d/out" "$d/err-other" line)
	[ -z "$r" ] && echo "PASS: tricky/harness-accepts-other-stderr" || echo "FAIL: tricky/harness-accepts-other-stderr: $r"
	r=$(verdict 0 "$d/out" "$d/err-report" line)
	[ -n "$r" ] && echo "PASS: tricky/harness-rejects-an-ftmalloc-line" || echo "FAIL: tricky/harness-rejects-an-ftmalloc-line: accepted"
	r=$(verdict 0 "$d/out" "$d/err-empty" other)
	[ -n "$r" ] && echo "PASS: tricky/harness-rejects-wrong-stdout" || echo "FAIL: tricky/harness-rejects-wrong-stdout: accepted"
	r=$(verdict 139 "$d/out" "$d/err-empty" line)
	[ -n "$r" ] && echo "PASS: tricky/harness-rejects-a-signal" || echo "FAIL: tricky/harness-rejects-a-signal: accepted"
	r=$(verdict 1 "$d/out" "$d/err-empty" line)
	[ -n "$r" ] && echo "PASS: tricky/harness-rejects-exit-1" || echo "FAIL: tricky/harness-rejects-exit-1: accepted"
}

# -------------------------------------------------------------------- main
mkdir -p "$here/build/tmp"
suite_build "$logs"
rm -f "$logs"/*.result "$logs"/*.out "$logs"/*.err

harness_selftests

if [ "$mode" != glibc ]; then
	suite_need_lib
	suite_check_preload "$here/build/tricky" preload-takes-effect
fi

n=0
running=0
while IFS= read -r line; do
	line=$(trim "$line")
	[ -z "$line" ] && continue
	name=$(trim "${line%%|*}")
	rest=${line#*|}
	cmd=$(trim "${rest%%|*}")
	want=$(trim "${rest#*|}")
	n=$((n + 1))
	if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then
		continue
	fi
	run_row "$n" "$name" "$cmd" "$want" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done <<<"$table"
wait
for i in $(seq 1 "$n"); do
	[ -f "$logs/$i.result" ] && cat "$logs/$i.result"
done
# the temporary directories the programs made must all be gone
left=$(ls -A "$here/build/tmp" 2>/dev/null | head -n 3 | tr '\n' ' ')
[ -n "$left" ] && echo "FAIL: tricky/cleanup: left behind in build/tmp: $left"
exit 0
