#!/usr/bin/env bash
# Leak suite of ftmalloc: each scenario of build/leaky (and build/bigheap)
# runs under LD_PRELOAD=$FTMALLOC_LIB; the leak report it leaves at exit is
# checked: how many memory-leak errors, their sizes and counts, the function
# named in "allocated by", the summary line. Prints one "PASS: leak/NAME" or
# "FAIL: leak/NAME: reason" line per check (with the program's stderr after a
# failure).
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# LEAK_TIMEOUT (s, default 60), LEAK_MAX_SCAN_MS (default 2000).
set -u
cd "$(dirname "$0")"
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=leak
. ../lib.sh
tmo=${LEAK_TIMEOUT:-60}
max_scan_ms=${LEAK_MAX_SCAN_MS:-2000}
logs=build/logs
ulimit -c 0

suite_build "$logs" ROOT="$root"
suite_need_lib

# run NAME OPTIONS PROGRAM ARGS...: stdout in $logs/NAME.out, stderr in .err
last_run=""
run() {
	local name=$1 opts=$2
	shift 2
	last_run=$name
	echo "$opts" >"$logs/$name.opts"
	echo "$*" >"$logs/$name.cmd"
	timeout -k 5 "$tmo" env -u FTMALLOC_LIB FTMALLOC_OPTIONS="$opts" LD_PRELOAD="$lib" \
		"$@" >"$logs/$name.out" 2>"$logs/$name.err"
	echo $? >"$logs/$name.rc"
}

reasons=""
fail() { reasons="${reasons:+$reasons; }$*"; }

verdict() {
	local name=$1
	if [ -z "$reasons" ]; then
		echo "PASS: leak/$name"
	else
		echo "FAIL: leak/$name: $reasons"
		echo "    repro: FTMALLOC_OPTIONS='$(cat "$logs/$last_run.opts")' LD_PRELOAD=$lib $(cat "$logs/$last_run.cmd")"
		if [ -s "$logs/$last_run.err" ]; then
			grep -v '^    #[4-9]\|^    #[1-9][0-9]' "$logs/$last_run.err" | head -n 40 | sed 's/^/    | /'
		else
			echo "    (stderr empty)"
		fi
	fi
	reasons=""
}

err() { cat "$logs/$1.err"; }
nleaks() { grep -c '^ftmalloc: ERROR: memory-leak ' "$logs/$1.err"; }

# exited NAME: the program ended normally
exited() {
	local rc
	rc=$(cat "$logs/$1.rc")
	[ "$rc" = 0 ] || fail "exit status $rc"
}

# has NAME TEXT: a line of stderr contains TEXT (fixed string)
has() { grep -qF -- "$2" "$logs/$1.err" || fail "no line with '$2'"; }
hasnt() { ! grep -qF -- "$2" "$logs/$1.err" || fail "unexpected '$2'"; }

# leak_count NAME N: exactly N memory-leak reports
leak_count() {
	local n
	n=$(nleaks "$1")
	[ "$n" = "$2" ] || fail "$n memory-leak reports, expected $2"
}

# report_k NAME K: the K-th error report, whole
report_k() {
	awk -v k="$2" '
		/^ftmalloc: ERROR: / { n++ }
		n == k && !done { print }
		n == k && /^ftmalloc: end of report/ { done = 1 }
	' "$logs/$1.err"
}

# alloc_by NAME K FUNC: FUNC is a frame of report K's "allocated by" section
alloc_by() {
	report_k "$1" "$2" | awk -v f="$3" '
		/^  allocated by thread/ { on = 1; next }
		/^  [^ ]/ || /^ftmalloc:/ { on = 0 }
		on && $0 ~ (" in " f "[ +]") { found = 1 }
		END { exit !found }
	' || fail "report $2 does not say it was allocated in $3"
}

# in_report NAME K TEXT: report K has a line with TEXT
in_report() {
	report_k "$1" "$2" | grep -qF -- "$3" || fail "report $2 has no '$3'"
}

# summary NAME ERE: the leak summary line, after "leaks: ", matches ERE
summary() {
	grep -qE "^ftmalloc: SUMMARY: leaks: $2\$" "$logs/$1.err" ||
		fail "summary is not 'leaks: $2' but '$(grep '^ftmalloc: SUMMARY: leaks' "$logs/$1.err" | sed 's/.*leaks: //')'"
}

# no_leak_report NAME: no memory-leak report and no leak summary
no_leak_report() {
	leak_count "$1" 0
	! grep -q '^ftmalloc: SUMMARY: leaks' "$logs/$1.err" || fail "a leak summary was printed"
}

P=build/leaky

# ---------------------------------------------------------- definitely lost
run lost "" $P lost
exited lost
leak_count lost 1
in_report lost 1 "(0 bytes inside a 37-byte block at 0x"
in_report lost 1 ") in exit, thread T0"
in_report lost 1 "  37 bytes in 1 blocks are definitely lost"
alloc_by lost 1 leak_here
hasnt lost "indirectly lost blocks reachable"
summary lost "37 bytes definitely lost in 1 blocks, 0 bytes indirectly lost in 0 blocks, [0-9]+ bytes still reachable in [0-9]+ blocks"
verdict definitely-lost

# ---------------------------------------------------------- indirectly lost
run indirect "" $P indirect
exited indirect
leak_count indirect 1
in_report indirect 1 "  24 bytes in 1 blocks are definitely lost"
in_report indirect 1 "  (and 144 bytes in 3 indirectly lost blocks reachable only from them)"
alloc_by indirect 1 list_head_here
grep -q 'in list_node_here' "$logs/indirect.err" && fail "the indirectly lost nodes have a report of their own"
grep -q '^ftmalloc: SUMMARY: leaks: 24 bytes definitely lost in 1 blocks, 144 bytes indirectly lost in 3 blocks,' "$logs/indirect.err" ||
	fail "summary does not count 24 definite and 144 indirect bytes"
verdict indirectly-lost

run cycle "" $P cycle
exited cycle
leak_count cycle 1
in_report cycle 1 "  32 bytes in 1 blocks are definitely lost"
in_report cycle 1 "  (and 32 bytes in 1 indirectly lost blocks reachable only from them)"
alloc_by cycle 1 cycle_here
verdict lost-cycle-has-one-head

# ---------------------------------------------------------- still reachable
for s in reach-global reach-static reach-tls reach-stack reach-thread interior large-global; do
	run "$s" "" $P "$s"
	exited "$s"
	no_leak_report "$s"
	verdict "$s-not-reported"
done

# With show_reachable the blocks are listed (not as errors) and counted.
run reach-global-shown "show_reachable=1" $P reach-global
exited reach-global-shown
leak_count reach-global-shown 0
awk '/^ftmalloc: reachable: 100 bytes in 1 blocks allocated at:$/ { on = 1; next }
	/^ftmalloc:/ { on = 0 }
	on && / in keep_here / { found = 1 }
	END { exit !found }' "$logs/reach-global-shown.err" ||
	fail "no 'reachable: 100 bytes in 1 blocks' group allocated in keep_here"
grep -q '^ftmalloc: SUMMARY: leaks: 0 bytes definitely lost in 0 blocks, 0 bytes indirectly lost in 0 blocks, [0-9]* bytes still reachable in [0-9]* blocks$' \
	"$logs/reach-global-shown.err" || fail "no summary with nothing lost"
verdict reachable-listed-with-show_reachable

run reach-stack-shown "show_reachable=1" $P reach-stack
exited reach-stack-shown
leak_count reach-stack-shown 0
has reach-stack-shown "ftmalloc: reachable: 200 bytes in 1 blocks allocated at:"
has reach-stack-shown "ftmalloc: reachable: 32 bytes in 1 blocks allocated at:"
verdict reachable-from-main-stack-counted

# ---------------------------------------------------------- grouping
run grouping "" $P grouping
exited grouping
leak_count grouping 2
in_report grouping 1 "  160 bytes in 10 blocks are definitely lost"
alloc_by grouping 1 site_a
in_report grouping 2 "  16 bytes in 1 blocks are definitely lost"
alloc_by grouping 2 site_b
verdict grouping-biggest-first

run grouping-nostack "backtrace_depth=0" $P grouping
exited grouping-nostack
leak_count grouping-nostack 1
in_report grouping-nostack 1 "  176 bytes in 11 blocks are definitely lost"
in_report grouping-nostack 1 "<no stack recorded>"
verdict grouping-without-backtraces

run many "" $P many
exited many
leak_count many 50
has many "ftmalloc: 10 more leak groups ("
summary many "[0-9]+ bytes definitely lost in 60 blocks, 0 bytes indirectly lost in 0 blocks, [0-9]+ bytes still reachable in [0-9]+ blocks"
verdict many-groups-capped

# ---------------------------------------------------------- LARGE
run large-lost "" $P large-lost
exited large-lost
leak_count large-lost 1
in_report large-lost 1 "  100000 bytes in 1 blocks are definitely lost"
alloc_by large-lost 1 large_leak_here
verdict large-lost

run large-lost-noguard "guard=0:large_quarantine=0" $P large-lost
exited large-lost-noguard
leak_count large-lost-noguard 1
in_report large-lost-noguard 1 "  100000 bytes in 1 blocks are definitely lost"
verdict large-lost-without-guards

run large-page-noguard "guard=0:large_quarantine=0" $P large-page-lost
exited large-page-noguard
leak_count large-page-noguard 1
in_report large-page-noguard 1 "  8192 bytes in 1 blocks are definitely lost"
alloc_by large-page-noguard 1 large_page_here
verdict large-lost-starting-at-its-mapping

# ---------------------------------------------------------- threads
run lost-thread "" $P lost-thread
exited lost-thread
leak_count lost-thread 1
in_report lost-thread 1 "  37 bytes in 1 blocks are definitely lost"
in_report lost-thread 1 "  allocated by thread T1 at:"
alloc_by lost-thread 1 leak_here
verdict lost-in-a-thread

# Threads still allocating and freeing when main exits: none of their blocks
# is lost (they are held at the allocator's door while the scan runs).
churn_bad=0
for i in $(seq 1 20); do
	run churn "" $P churn $((2 + i % 7))
	n=$(nleaks churn)
	if [ "$n" != 0 ]; then
		churn_bad=$((churn_bad + 1))
		cp "$logs/churn.err" "$logs/churn-bad.err"
	fi
done
[ "$churn_bad" = 0 ] || { fail "memory-leak reports in $churn_bad of 20 runs (2 to 8 threads)"; cp "$logs/churn-bad.err" "$logs/churn.err"; }
verdict no-false-leaks-while-threads-allocate

# ---------------------------------------------------------- freed blocks
run freed "" $P freed
exited freed
no_leak_report freed
verdict freed-blocks-never-reported

run freed-noquarantine "quarantine=0:large_quarantine=0" $P freed
exited freed-noquarantine
no_leak_report freed-noquarantine
verdict freed-blocks-never-reported-without-quarantine

# ---------------------------------------------------------- no leaks at all
run none "" $P none
exited none
[ -s "$logs/none.err" ] && fail "stderr not empty"
grep -q '^no leaks here$' "$logs/none.out" || fail "the program did not run to its end"
verdict no-leaks-no-output

run leak-check-off "leak_check=0" $P lost
exited leak-check-off
no_leak_report leak-check-off
verdict leak_check-0-reports-nothing

# ---------------------------------------------------------- show_alloc_mem_ex
run candidates "" $P candidates
exited candidates
awk '/^Leak candidates \(blocks no pointer reaches now\):$/ { on = 1; next }
	on && /^  37 bytes in 1 blocks definitely lost, first at 0x[0-9a-f]+, allocated by thread T0 at:$/ { grp = 1; next }
	grp && / in leak_here / { found = 1 }
	END { exit !found }' "$logs/candidates.out" || fail "show_alloc_mem_ex lists no 37-byte candidate from leak_here"
grep -q '^Leak candidates: 37 bytes definitely lost in 1 blocks, 0 bytes indirectly lost in 0 blocks,' "$logs/candidates.out" ||
	fail "no candidate totals line"
leak_count candidates 1  # only the one at exit: a listing is not an error
verdict candidates-in-show_alloc_mem_ex

# ---------------------------------------------------------- performance
# 1M reachable + 1M lost 32-byte blocks. bigheap prints the time as main
# returns; the exit phase is timed with and without the leak check, the
# difference is the scan (with its report).
exit_ms() {
	local opts=$1 t0 t1
	t0=$(timeout -k 5 "$tmo" env -u FTMALLOC_LIB FTMALLOC_OPTIONS="$opts" LD_PRELOAD="$lib" \
		build/bigheap 2>"$logs/bigheap.err" | sed -n 's/^T0 //p')
	t1=$(date +%s%N)
	[ -n "$t0" ] || { echo -1; return; }
	echo $(( (t1 - t0) / 1000000 ))
}
on_ms=$(exit_ms "")
cp "$logs/bigheap.err" "$logs/perf.err"
last_run=perf
echo "" >"$logs/perf.opts"
echo "build/bigheap" >"$logs/perf.cmd"
off_ms=$(exit_ms "leak_check=0")
if [ "$on_ms" -lt 0 ] || [ "$off_ms" -lt 0 ]; then
	fail "bigheap did not run to its end"
else
	scan_ms=$((on_ms - off_ms))
	echo "leak/perf: exit with leak check ${on_ms} ms, without ${off_ms} ms: scan of 2M blocks ~${scan_ms} ms"
	[ "$scan_ms" -lt "$max_scan_ms" ] || fail "scan took ${scan_ms} ms, limit ${max_scan_ms} ms"
fi
leak_count perf 1
in_report perf 1 "  32000000 bytes in 1000000 blocks are definitely lost"
alloc_by perf 1 dropped_block
grep -q '^ftmalloc: SUMMARY: leaks: 32000000 bytes definitely lost in 1000000 blocks, 0 bytes indirectly lost in 0 blocks, 320[0-9]\{5\} bytes still reachable in 1000[0-9]\{3\} blocks$' \
	"$logs/perf.err" || fail "summary does not count 1M lost and 1M reachable blocks"
verdict perf-1M-blocks-under-2s
