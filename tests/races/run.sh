#!/usr/bin/env bash
# Races suite of ftmalloc: regression tests for seven races a bug hunt found
# (threads, fork, signals). Each check runs one program of this directory
# (built with -O0 -g, see ../prog.mk) under LD_PRELOAD=$FTMALLOC_LIB, with
# the options that expose its race, and under timeout -s KILL: a hang is a
# FAIL, and the program's own fork children die with it (they are in its
# process group, and ask for PR_SET_PDEATHSIG). The programs print one line,
# "ok ..." (what they measured, shown in the PASS line) or "bad ...". In
# brackets below: the bug each check guards against (fixed in 7619e2e).
#
#   fork-check-every-children-exit (fork_check, check_every=101): 16 threads
#       allocate and check the heap while the main thread forks 60 times;
#       every child (1000 malloc/free pairs, ten heap checks) exits 0 within
#       5 s of its fork. [check_lock not taken at fork: children hung]
#   concurrent-forks-children-exit (fork_many, max_reports=0, reports to
#       /dev/null): 6 threads fork 600 times each while 2 threads start
#       threads and 4 make invalid frees (both walk the loader's list);
#       every child exits 0 within 3 s of its fork. [children hung in
#       dl_iterate_phdr / libunwind]
#   show-alloc-mem-ex-during-large-realloc (show_resize show): the main
#       thread lists the heap with show_alloc_mem_ex() for 3 s while six
#       threads shrink and grow LARGE blocks in place: exit 0, no report,
#       blocks never moved and kept their bytes. [SIGSEGV in the listing]
#   report-signal-dump-during-large-realloc (show_resize signal,
#       report_signal=USR2): the same with report_signal heap dumps: exit 0,
#       no report, every dump started also ended.
#   check-every-during-inplace-realloc (check_resize, check_every=5000):
#       64 SMALL blocks allocated by the main thread are reallocated in
#       place (16 <-> 1000 bytes) by another thread for 2 s while the main
#       thread's calls check the heap: exit 0, no "ftmalloc: ERROR".
#       [false heap-buffer-overflow]
#   check-every-during-free (check_free, check_every=1024, quarantine=4k,
#       backtrace_depth=0): for 2 s, short-lived threads free blocks the
#       main thread allocated; the main thread stops them with a signal at
#       random points of free() and checks the heap each time: exit 0, no
#       "ftmalloc: ERROR". [false use-after-free]
#   free-only-threads-release-quarantine (freeonly growth, backtrace_depth=0):
#       4000 threads that only free() 10 blocks each: over the last 2000,
#       VmSize grows by at most 16 kB and VmRSS by at most 2 kB per thread
#       (a quarantine=0 run of the same is shown for comparison).
#       [each thread kept its quarantine: ~517 kB of address space]
#   free-only-thread-use-after-free-reported (freeonly uaf,
#       backtrace_depth=0): a byte written into a block freed by a thread
#       that made no other call is reported: exactly one use-after-free,
#       10 bytes inside the 100-byte block, freed by thread T1.
#   report-signal-storm-no-freeze (sigstorm, report_signal=USR2,
#       quarantine=0, backtrace_depth=0): a POSIX timer sends SIGUSR2 every
#       20 us for 3 s (started and deleted by a thread that blocks every
#       signal, so that no dump can stop the storm) while four threads
#       allocate; the program reads its own reports through a pipe and
#       times each heap dump: every dump begun during the storm ends within
#       2 s (it waits 200 ms at most for the other threads to stop: about
#       0.25 s each), at least one is made, every dump started also ended,
#       exit 0, no report. [nanosleep's remainder grew under the storm: a
#       dump lasted as long as the storm and more, the process stood still]
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# RACES_TIMEOUT (s per program, default 30), RACES_ONLY=ERE (only the checks
# whose name matches). Logs: build/logs/NAME.{out,err} (logs over 1 MB are
# cut to their first 2000 lines).
set -u
cd "$(dirname "$0")" || exit 2
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=races
. ../lib.sh
tmo=${RACES_TIMEOUT:-30}
only=${RACES_ONLY:-}
bin=$here/build
logs=$here/build/logs
ulimit -c 0
unset FTMALLOC_OPTIONS

rm -rf "$logs"
suite_build "$logs"
suite_need_lib
suite_check_preload "$bin/check_free"

# fail NAME WHY without a log: the last run's stderr
last=none
fail_log() { echo "$logs/$last.err"; }

# wanted NAME: the check is to run (RACES_ONLY)
wanted() { [ -z "$only" ] || grep -Eq -- "$only" <<<"$1"; }

# run NAME OPTIONS PROGRAM ARGS...: under the library with FTMALLOC_OPTIONS
# and timeout -s KILL; stdout and stderr to $logs/NAME.out/.err. Sets $status
# (0, "exit N", "signal NAME", "timeout"), $secs and $line (the result line).
run() {
	local name=$1 opts=$2 t0 rc
	shift 2
	last=$name
	t0=$(date +%s.%N)
	(
		timeout -s KILL "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT FTMALLOC_OPTIONS="$opts" \
			LD_PRELOAD="$lib" "$@" >"$logs/$name.out" 2>"$logs/$name.err"
		exit $?
	) 2>/dev/null
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0) status=0 ;;
	124|137) status="timeout ($tmo s)" ;;
	*) if [ "$rc" -gt 128 ]; then status="signal $(kill -l $((rc - 128)) 2>/dev/null)"; else status="exit $rc"; fi ;;
	esac
	line=$(head -n 1 "$logs/$name.out" 2>/dev/null)
}

# cut_log FILE: a log over 1 MB (heap dumps) keeps its first 2000 lines
cut_log() {
	if [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 1048576 ]; then
		head -n 2000 "$1" >"$1.cut"
		echo "... (cut: $(wc -l <"$1") lines in all)" >>"$1.cut"
		mv "$1.cut" "$1"
	fi
}

# count FILE ERE: lines of FILE that match
count() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}

# errors NAME: what the run's stderr holds that a correct program must
# never cause (reports, internal errors), in a few words; empty: nothing
errors() {
	local e=$logs/$1.err n
	n=$(count "$e" '^ftmalloc: ERROR')
	if [ "$n" -gt 0 ]; then
		echo "$n reports, the first: $(grep -m1 '^ftmalloc: ERROR' "$e" | cut -c1-160)"
	elif grep -q 'internal error' "$e"; then
		grep -m1 'internal error' "$e" | cut -c1-160
	fi
}

# clean NAME: the run ended with exit 0 and an "ok" line, and stderr holds
# no report: PASS with the program's line, else FAIL with why
clean() {
	local name=$1 why="" err
	err=$(errors "$name")
	[ "$status" = 0 ] || why="ended with $status after $secs s"
	[ -n "$err" ] && why="${why:+$why; }$err"
	case $line in
	"ok "*) ;;
	"bad "*) why="${why:+$why; }${line#bad }" ;;
	*) [ -z "$why" ] && why="no result line" ;;
	esac
	if [ -z "$why" ]; then
		pass "$name (${line#ok }; $secs s)"
	else
		fail "$name" "$why"
	fi
}

# ---------------------------------------------------------------- fork

if wanted fork-check-every-children-exit; then
	run fork-check-every-children-exit check_every=101 "$bin/fork_check" 60 16 5000
	clean fork-check-every-children-exit
fi

if wanted concurrent-forks-children-exit; then
	run concurrent-forks-children-exit max_reports=0:log_path=/dev/null "$bin/fork_many" 6 600 3000 4
	clean concurrent-forks-children-exit
fi

# ---------------------------------------------------------------- LARGE in place

if wanted show-alloc-mem-ex-during-large-realloc; then
	run show-alloc-mem-ex-during-large-realloc "" "$bin/show_resize" show 3
	clean show-alloc-mem-ex-during-large-realloc
fi

if wanted report-signal-dump-during-large-realloc; then
	n=report-signal-dump-during-large-realloc
	run $n report_signal=USR2 "$bin/show_resize" signal 3
	starts=$(count "$logs/$n.err" '^ftmalloc: heap dump on SIGUSR2')
	ends=$(count "$logs/$n.err" '^ftmalloc: end of heap dump$')
	if [ "$status" = 0 ] && { [ "$starts" = 0 ] || [ "$starts" != "$ends" ]; }; then
		fail $n "$starts dumps started, $ends ended (expected at least one, all whole)"
	else
		line="${line:+$line, }$ends whole dumps"
		clean $n
	fi
fi

# ---------------------------------------------------------------- check_every

if wanted check-every-during-inplace-realloc; then
	run check-every-during-inplace-realloc check_every=5000 "$bin/check_resize" 2 64 1000 16
	clean check-every-during-inplace-realloc
fi

if wanted check-every-during-free; then
	run check-every-during-free check_every=1024:quarantine=4k:backtrace_depth=0 "$bin/check_free" 2 4096 16 1024
	clean check-every-during-free
fi

# ---------------------------------------------------------------- free-only threads

# per_thread KIND: kB per thread of VmSize or VmRSS in the result line
per_thread() {
	sed -n 's/.*(\([-0-9.]*\) \/ \([-0-9.]*\) kB per thread).*/\1 \2/p' <<<"$line" |
		awk -v k="$1" '{ print (k == "size" ? $1 : $2) }'
}

if wanted free-only-threads-release-quarantine; then
	n=free-only-threads-release-quarantine
	run $n-control backtrace_depth=0:quarantine=0 "$bin/freeonly" growth 4000
	control=${line#ok 4000 free-only threads: }
	run $n backtrace_depth=0 "$bin/freeonly" growth 4000
	size=$(per_thread size) rss=$(per_thread rss)
	err=$(errors $n)
	if [ "$status" != 0 ] || [ -z "$size" ] || [ -z "$rss" ]; then
		fail $n "ended with $status, result '${line:-none}'"
	elif [ -n "$err" ]; then
		fail $n "$err"
	elif awk -v s="$size" -v r="$rss" 'BEGIN { exit !(s <= 16 && r <= 2) }'; then
		pass "$n (${line#ok }; with quarantine=0: $control)"
	else
		fail $n "${line#ok }: more than 16 kB of VmSize or 2 kB of VmRSS per thread (with quarantine=0: $control)"
	fi
fi

if wanted free-only-thread-use-after-free-reported; then
	n=free-only-thread-use-after-free-reported
	run $n backtrace_depth=0 "$bin/freeonly" uaf
	e=$logs/$n.err
	why=""
	[ "$status" = 0 ] || why="ended with $status"
	[ "${line%% *}" = ok ] || why="${why:+$why; }result '${line:-none}'"
	nuaf=$(count "$e" '^ftmalloc: ERROR: use-after-free ')
	nall=$(count "$e" '^ftmalloc: ERROR')
	if [ "$nuaf" != 1 ] || [ "$nall" != 1 ]; then
		why="${why:+$why; }$nuaf use-after-free reports and $((nall - nuaf)) others, expected one use-after-free"
	else
		grep -q '^ftmalloc: ERROR: use-after-free on address 0x[0-9a-f]* (10 bytes inside a 100-byte block' "$e" ||
			why="${why:+$why; }the report is not of the byte 10 bytes inside the 100-byte block"
		grep -q '^  freed by thread T1' "$e" || why="${why:+$why; }the report does not say 'freed by thread T1'"
	fi
	if [ -z "$why" ]; then
		pass "$n ($(grep -m1 '^ftmalloc: ERROR' "$e" | sed 's/^ftmalloc: ERROR: //; s/ on address 0x[0-9a-f]*//'))"
	else
		fail $n "$why"
	fi
fi

# ---------------------------------------------------------------- signal storm

if wanted report-signal-storm-no-freeze; then
	n=report-signal-storm-no-freeze
	run $n report_signal=USR2:quarantine=0:backtrace_depth=0 "$bin/sigstorm" 3 2000
	starts=$(count "$logs/$n.err" '^ftmalloc: heap dump on SIGUSR2')
	ends=$(count "$logs/$n.err" '^ftmalloc: end of heap dump$')
	if [ "$status" = 0 ] && [ "$starts" != "$ends" ]; then
		fail $n "$starts dumps started, $ends ended"
	else
		clean $n
	fi
fi

for f in "$logs"/*.err; do
	cut_log "$f"
done
exit 0
