#!/usr/bin/env bash
# Guard suite of ftmalloc: guard_all (Electric Fence mode), guard_sample,
# guard_side, guard_align, check_every and report_signal. Runs build/guardbugs
# (guardbugs.c: one bug or one correct allocation pattern per argument) under
# LD_PRELOAD=$FTMALLOC_LIB with FTMALLOC_OPTIONS set per check:
#   - bug rows: the program ends as the row says (SEGV: killed at the faulting
#     instruction; 0: it went on and printed "continued") and the first report
#     has the row's kind, parenthesis, function and the allocating / freeing /
#     detecting functions (checked by ../death/check.awk);
#   - clean rows: correct programs (guardbugs clean, some rows of the tricky
#     suite, sort(1)) exit 0 with their usual output and no "ftmalloc:" line;
#   - many live blocks beyond vm.max_map_count under guard_all: no crash, one
#     warning naming vm.max_map_count, all blocks usable;
#   - check_every=1 reports an overflow of a block never freed at the next
#     malloc call, once;
#   - report_signal: a running program sent the signal writes a heap dump (its
#     live blocks, allocation stacks) to stderr or the log_path file and goes
#     on; a burst of signals during a 4-thread malloc loop does no harm;
#   - bad values of the new options warn once and the program runs.
# Prints one "PASS: guard/NAME", "FAIL: guard/NAME: reason" or "SKIP:" line per
# check, a failure followed by the program's stderr (indented, first 30 lines).
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# GUARD_TIMEOUT (s per program, default 20). Logs stay in build/logs/.
set -u
cd "$(dirname "$0")" || exit 2
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=guard
. ../lib.sh
tmo=${GUARD_TIMEOUT:-20}
bin=$here/build/guardbugs
logs=$here/build/logs
checker=$root/tests/death/check.awk
ulimit -c 0
unset FTMALLOC_OPTIONS

# fail NAME WHY without a log: the stderr of the run of that name
fail_log() { echo "$logs/$1.err"; }

# run NAME OPTIONS PROGRAM ARGS...: run under the library with FTMALLOC_OPTIONS,
# stdout and stderr to $logs/NAME.out/.err; sets $status (0, SEGV, "exit N",
# "signal X", "timeout")
run() {
	local name=$1 opts=$2
	shift 2
	(
		timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT FTMALLOC_OPTIONS="$opts" \
			LD_PRELOAD="$lib" "$@" >"$logs/$name.out" 2>"$logs/$name.err"
		exit $?
	) 2>/dev/null
	local rc=$?
	case $rc in
	0) status=0 ;;
	124) status=timeout ;;
	139) status=SEGV ;;
	*) if [ "$rc" -gt 128 ]; then status="signal $(kill -l $((rc - 128)) 2>/dev/null)"; else status="exit $rc"; fi ;;
	esac
}

# no_report NAME: nothing on stderr starts with "ftmalloc:"
no_report() { ! grep -q '^ftmalloc:' "$logs/$1.err"; }

# ---------------------------------------------------------------- bug rows
# name | options | guardbugs arguments | exit | KIND | parenthesis | FUNC | allocated by | freed by | detected at
bug_rows=$(cat <<'EOF'
guard-all-tiny-overflow-read | guard_all=1 | overflow_read 16 16 | SEGV | heap-buffer-overflow | 0 bytes after a 16-byte block | READ access | alloc_tiny_malloc@T0 | - | bug_overflow_read
guard-all-tiny-overflow-write | guard_all=1 | overflow_write 32 32 | SEGV | heap-buffer-overflow | 0 bytes after a 32-byte block | WRITE access | alloc_tiny_malloc@T0 | - | bug_overflow_write
guard-all-tiny-overflow-read-past-slack | guard_all=1 | overflow_read 13 16 | SEGV | heap-buffer-overflow | 3 bytes after a 13-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-all-tiny-overflow-write-in-slack-canary | guard_all=1 | overflow_flip 13 13 | 0 | heap-buffer-overflow | 0 bytes after a 13-byte block | ^free$ | alloc_tiny_malloc | - | release_block
guard-all-small-overflow-read | guard_all=1 | overflow_read 1000 1008 | SEGV | heap-buffer-overflow | 8 bytes after a 1000-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-all-zero-size-read | guard_all=1 | overflow_read 0 16 | SEGV | heap-buffer-overflow | 16 bytes after a 0-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-align-1-tiny-overflow-read | guard_all=1:guard_align=1 | overflow_read 13 13 | SEGV | heap-buffer-overflow | 0 bytes after a 13-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-align-0-is-exact | guard_all=1:guard_align=0 | overflow_read 13 13 | SEGV | heap-buffer-overflow | 0 bytes after a 13-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-align-1-tiny-overflow-write | guard_all=1:guard_align=1 | overflow_write 7 7 | SEGV | heap-buffer-overflow | 0 bytes after a 7-byte block | WRITE access | alloc_tiny_malloc | - | bug_overflow_write
guard-side-before-tiny-underflow-read | guard_all=1:guard_side=before | underflow_read | SEGV | heap-buffer-underflow | 1 bytes before a 13-byte block | READ access | alloc_tiny_malloc@T0 | - | bug_underflow_read
guard-side-before-tiny-underflow-write | guard_all=1:guard_side=before | underflow_write | SEGV | heap-buffer-underflow | 1 bytes before a 13-byte block | WRITE access | alloc_tiny_malloc | - | bug_underflow_write
guard-side-before-tiny-overflow-canary | guard_all=1:guard_side=before | overflow_flip 13 13 | 0 | heap-buffer-overflow | 0 bytes after a 13-byte block | ^free$ | alloc_tiny_malloc | - | release_block
guard-side-before-large-underflow-read | guard_side=before | underflow_read_large | SEGV | heap-buffer-underflow | 1 bytes before a 5001-byte block | READ access | alloc_large_malloc | - | bug_underflow_read
guard-all-tiny-uaf-read | guard_all=1 | uaf_read | SEGV | use-after-free | 0 bytes inside a 13-byte block | READ access | alloc_tiny_malloc@T0 | release_block@T0 | bug_uaf_read
guard-all-tiny-calloc-uaf-write | guard_all=1 | uaf_write_calloc | SEGV | use-after-free | 0 bytes inside a 13-byte block | WRITE access | alloc_tiny_calloc | release_block | bug_uaf_write
guard-sample-1-like-guard-all | guard_sample=1 | overflow_read 16 16 | SEGV | heap-buffer-overflow | 0 bytes after a 16-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-sample-1-uaf-read | guard_sample=1 | uaf_read | SEGV | use-after-free | 0 bytes inside a 13-byte block | READ access | alloc_tiny_malloc | release_block | bug_uaf_read
guard-sample-3-catches-one-of-30 | guard_sample=3 | sample_overflow 30 | SEGV | heap-buffer-overflow | 0 bytes after a 16-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
guard-sample-100-catches-in-100k-loop | guard_sample=100 | sample_overflow 100000 | SEGV | heap-buffer-overflow | 0 bytes after a 16-byte block | READ access | alloc_tiny_malloc | - | bug_overflow_read
check-every-1-overflow-of-live-block | check_every=1 | check_every | 0 | heap-buffer-overflow | 0 bytes after a 13-byte block | ^check_every$ | alloc_tiny_malloc@T0 | - | check_every
EOF
)


bug_row() {
	local name=$1 opts=$2 args=$3 want=$4 kind=$5 where=$6 api=$7 alloc=$8 freed=$9 det=${10}
	# shellcheck disable=SC2086
	run "$name" "$opts" "$bin" $args
	local reasons
	reasons=$(awk -v kind="$kind" -v where="$where" -v api="$api" -v alloc="$alloc" \
		-v freed="$freed" -v det="$det" -f "$checker" "$logs/$name.err")
	if [ "$status" != "$want" ]; then
		reasons="${reasons:+$reasons; }ended with $status, expected $want"
	elif [ "$status" = 0 ] && ! grep -q '^continued$' "$logs/$name.out"; then
		reasons="${reasons:+$reasons; }exit 0 but no 'continued'"
	fi
	if [ -z "$reasons" ]; then pass "$name"; else fail "$name" "$reasons (FTMALLOC_OPTIONS=$opts $bin $args)"; fi
}

# ---------------------------------------------------------------- checks
build() {
	rm -rf "$logs"
	suite_build "$logs"
	suite_need_lib
}

bug_rows_run() {
	local line f i
	while IFS= read -r line; do
		line=$(trim "$line")
		[ -z "$line" ] && continue
		IFS=$'\x1f' read -r -a f <<<"${line// | /$'\x1f'}"
		for i in "${!f[@]}"; do f[i]=$(trim "${f[i]}"); done
		if [ ${#f[@]} -ne 10 ]; then
			echo "FAIL: guard/table: row '${f[0]}' has ${#f[@]} fields, expected 10"
			continue
		fi
		bug_row "${f[@]}"
	done <<<"$bug_rows"
}

# check_every: reported between the two markers (at the next malloc, not at
# exit), and once (the damage is re-armed, so neither later checks nor the
# exit check report it again).
check_every_timing() {
	local name=check-every-1-reports-at-next-malloc-once err
	err=$logs/check-every-1-overflow-of-live-block.err
	local before after report n
	before=$(grep -n '^marker: before the next malloc' "$err" | cut -d: -f1)
	after=$(grep -n '^marker: after the next malloc' "$err" | cut -d: -f1)
	report=$(grep -n '^ftmalloc: ERROR: ' "$err" | head -n1 | cut -d: -f1)
	n=$(grep -c '^ftmalloc: ERROR: ' "$err")
	if [ -z "$before" ] || [ -z "$after" ] || [ -z "$report" ]; then
		fail "$name" "markers or report missing"
	elif [ "$report" -lt "$before" ] || [ "$report" -gt "$after" ]; then
		fail "$name" "report on line $report, not between the markers (lines $before and $after)"
	elif [ "$n" -ne 1 ]; then
		fail "$name" "$n reports, expected 1"
	else
		pass "$name"
	fi
}

# guard_sample=0 control: the same loop of one-byte overflow reads is silent
# (the reads land in the canaries), so the rows above caught sampled blocks.
sample_control() {
	local name=guard-sample-0-control-loop-is-silent
	run "$name" "" "$bin" sample_overflow 100000
	if [ "$status" = 0 ] && grep -q '^continued$' "$logs/$name.out" && no_report "$name"; then
		pass "$name"
	else
		fail "$name" "ended with $status, or a report"
	fi
}

# clean NAME OPTIONS EXPECTED PROGRAM ARGS...: exit 0, stdout is EXPECTED, no report
clean() {
	local name=$1 opts=$2 want=$3
	shift 3
	run "$name" "$opts" "$@"
	local got
	got=$(cat "$logs/$name.out")
	if [ "$status" != 0 ]; then
		fail "$name" "ended with $status (FTMALLOC_OPTIONS=$opts $*)"
	elif [ "$got" != "$want" ]; then
		fail "$name" "stdout '$got', expected '$want' (FTMALLOC_OPTIONS=$opts $*)"
	elif ! no_report "$name"; then
		fail "$name" "ftmalloc wrote to stderr (FTMALLOC_OPTIONS=$opts $*)"
	else
		pass "$name"
	fi
}

clean_rows() {
	clean clean-default "" "ok: clean" "$bin" clean
	clean clean-guard-all guard_all=1 "ok: clean" "$bin" clean
	clean clean-guard-all-side-before guard_all=1:guard_side=before "ok: clean" "$bin" clean
	clean clean-guard-side-before guard_side=before "ok: clean" "$bin" clean
	# the leak scan at exit must not read past a block flush with its guard
	clean clean-guard-all-align-1 guard_all=1:guard_align=1 "ok: clean" "$bin" clean unaligned
	clean clean-guard-all-no-quarantines guard_all=1:quarantine=0:large_quarantine=0 "ok: clean" "$bin" clean
	clean clean-guard-all-large-cache guard_all=1:large_cache=4m "ok: clean" "$bin" clean
	clean clean-guard-sample-1 guard_sample=1 "ok: clean" "$bin" clean
	clean clean-guard-sample-7 guard_sample=7 "ok: clean" "$bin" clean
	clean clean-check-every-1 check_every=1 "ok: clean" "$bin" clean
	clean clean-guard-all-check-every-1 guard_all=1:check_every=1 "ok: clean" "$bin" clean
	clean clean-report-signal-never-sent report_signal=USR2 "ok: clean" "$bin" clean
}

# Rows of the tricky suite (correct programs hard on a malloc) under guard_all.
tricky_rows() {
	local tricky=$root/tests/tricky row name args want
	if ! make -s -C "$tricky" >"$logs/tricky-build.log" 2>&1; then
		skip tricky-under-guard-all "the tricky suite's programs do not build"
		return
	fi
	for name in zero-sizes realloc-chains usable-size-bytes-all-writable huge-alignment \
	    aligned-alloc-many-alignments calloc-zeroed-after-reuse threads-free-each-others-blocks \
	    fork-in-threaded-program strdup-asprintf-open_memstream getline-getdelim qsort-big-array \
	    regcomp-regexec dlopen-dlclose; do
		row=$(grep -m1 "^$name | " "$tricky/run.sh")
		if [ -z "$row" ]; then
			skip "tricky-$name-guard-all" "no such row in tests/tricky/run.sh"
			continue
		fi
		args=$(trim "$(echo "$row" | awk -F' [|] ' '{print $2}')")
		want=$(trim "$(echo "$row" | awk -F' [|] ' '{for (i = 3; i <= NF; i++) printf "%s%s", (i > 3 ? " | " : ""), $i}')")
		# shellcheck disable=SC2086
		(cd "$tricky/build" && clean "tricky-$name-guard-all" guard_all=1 "$want" ./$args)
	done
}

# sort(1) of 20000 numbers: same output under guard_all and guard_sample.
real_program() {
	local name=sort-guard-all sort
	sort=$(command -v sort) || { skip "$name" "no sort"; return; }
	seq 1 20000 | awk '{ print ($1 * 7919) % 20011 }' >"$logs/numbers"
	"$sort" -n "$logs/numbers" >"$logs/sorted.plain"
	for o in guard_all=1 guard_sample=3; do
		name=sort-${o%%=*}
		run "$name" "$o" "$sort" -n "$logs/numbers"
		if [ "$status" = 0 ] && cmp -s "$logs/$name.out" "$logs/sorted.plain" && no_report "$name"; then
			pass "$name"
		else
			fail "$name" "ended with $status, output differs or a report"
		fi
	done
}

# More live blocks than vm.max_map_count allows guarded mappings.
many_blocks() {
	local name=guard-all-beyond-max-map-count max n start secs warns
	max=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
	if [ "$max" -gt 400000 ]; then
		skip "$name" "vm.max_map_count is $max: too many blocks to test quickly"
		return
	fi
	n=$((max * 6 / 10))
	[ "$n" -lt 70000 ] && n=70000
	start=$(date +%s)
	run "$name" guard_all=1 "$bin" many "$n"
	secs=$(($(date +%s) - start))
	warns=$(grep -c 'vm.max_map_count' "$logs/$name.err")
	if [ "$status" = timeout ]; then
		skip "$name" "slower than ${tmo}s on this machine"
	elif [ "$status" != 0 ] || [ "$(cat "$logs/$name.out")" != "ok: many $n" ]; then
		fail "$name" "ended with $status: $(cat "$logs/$name.out")"
	elif [ "$warns" -ne 1 ]; then
		fail "$name" "$warns warnings naming vm.max_map_count, expected 1"
	elif grep -v 'vm.max_map_count' "$logs/$name.err" | grep -q '^ftmalloc:'; then
		fail "$name" "a report besides the warning"
	else
		pass "$name ($n blocks, ${secs}s)"
	fi
}

# Bad values of the new options: one warning each, naming the option; the
# program runs with the default.
bad_values() {
	local spec name opts what
	for spec in "guard_side=middle|guard_side" "guard_align=8192|guard_align" "guard_align=99999|guard_align" \
	    "report_signal=SEGV|report_signal" "report_signal=KILL|report_signal" \
	    "report_signal=NOSUCH|report_signal"; do
		opts=${spec%%|*} what=${spec#*|}
		name=bad-value-${opts//=/-}
		run "$name" "$opts" "$bin" clean
		if [ "$status" = 0 ] && [ "$(grep -c "^ftmalloc: warning: bad value for option '$what=" "$logs/$name.err")" = 1 ] &&
		    [ "$(grep -c '^ftmalloc:' "$logs/$name.err")" = 1 ] && grep -q '^ok: clean$' "$logs/$name.out"; then
			pass "$name"
		else
			fail "$name" "ended with $status, or not exactly one warning naming $what"
		fi
	done
}

# wait_for FILE ERE [SECONDS]: true once a line of FILE matches
wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# first_log DIR: the first log.* file in DIR, if any
first_log() {
	local f
	for f in "$1"/log.*; do
		[ -e "$f" ] && { echo "$f"; return; }
	done
}

# signal_dump NAME OPTIONS SIGNAL DUMPFILE(err|log): the program is sent the
# signal once it is ready; the dump must appear where asked, with its blocks.
signal_dump() {
	local name=$1 opts=$2 sig=$3 where=$4 d pid rc dump
	d=$(mktemp -d "$logs/$name.XXXXXX")
	opts=${opts//@DIR@/$d}
	env -u FTMALLOC_LIB -u FTMALLOC_ROOT FTMALLOC_OPTIONS="$opts" LD_PRELOAD="$lib" \
		"$bin" signal_wait "$d" >"$logs/$name.out" 2>"$logs/$name.err" &
	pid=$!
	if ! wait_for "$logs/$name.out" '^ready$'; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "$name" "the program never got ready"
		return
	fi
	kill "-$sig" "$pid"
	if [ "$where" = log ]; then dump=$(first_log "$d"); else dump=$logs/$name.err; fi
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$dump" ] && break
		sleep 0.2
		dump=$(first_log "$d")
	done
	wait_for "${dump:-/nonexistent}" '^ftmalloc: end of heap dump$'
	touch "$d/stop"
	wait "$pid"
	rc=$?
	local missing=""
	for want in "^ftmalloc: heap dump on SIG$sig \\(report_signal\\), process $pid, thread T0$" \
	    ' : 77 bytes$' ' : 555 bytes$' 'in alloc_for_dump .*guardbugs.c:' '^ftmalloc: end of heap dump$'; do
		grep -Eq "$want" "${dump:-/nonexistent}" 2>/dev/null || missing="$missing '$want'"
	done
	if [ "$rc" != 0 ] || ! grep -q '^continued$' "$logs/$name.out"; then
		fail "$name" "the program did not go on after the dump (status $rc)"
	elif [ -n "$missing" ]; then
		fail "$name" "the dump ($where) lacks:$missing"
	elif grep -q '^ftmalloc: ERROR' "$logs/$name.err" "${dump:-/nonexistent}"; then
		fail "$name" "an error report"
	elif [ "$where" = log ] && grep -q 'heap dump' "$logs/$name.err"; then
		fail "$name" "the dump went to stderr, not to the log_path file"
	else
		pass "$name"
	fi
}

# A burst of signals while 4 threads churn the heap (guard_sample too): the
# program's content checks hold, every dump is complete, exit 0.
signal_storm() {
	local name=report-signal-burst-during-malloc-loop d pid rc starts ends
	d=$(mktemp -d "$logs/$name.XXXXXX")
	env -u FTMALLOC_LIB -u FTMALLOC_ROOT FTMALLOC_OPTIONS=report_signal=USR2:guard_sample=5 \
		LD_PRELOAD="$lib" "$bin" signal_storm "$d" >"$logs/$name.out" 2>"$logs/$name.err" &
	pid=$!
	if ! wait_for "$logs/$name.out" '^ready$'; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "$name" "the program never got ready"
		return
	fi
	for _ in $(seq 1 25); do
		kill -USR2 "$pid" 2>/dev/null
		sleep 0.04
	done
	wait_for "$logs/$name.err" '^ftmalloc: end of heap dump$'
	sleep 0.3
	touch "$d/stop"
	wait "$pid"
	rc=$?
	starts=$(grep -c '^ftmalloc: heap dump on SIGUSR2' "$logs/$name.err")
	ends=$(grep -c '^ftmalloc: end of heap dump$' "$logs/$name.err")
	if [ "$rc" != 0 ] || [ "$(cat "$logs/$name.out")" != "$(printf 'ready\nok: storm ran')" ]; then
		fail "$name" "status $rc, stdout: $(tr '\n' ' ' <"$logs/$name.out")"
	elif [ "$starts" -lt 1 ] || [ "$starts" != "$ends" ]; then
		fail "$name" "$starts dumps started, $ends ended"
	elif grep -q '^ftmalloc: ERROR' "$logs/$name.err"; then
		fail "$name" "an error report"
	else
		pass "$name ($starts dumps)"
	fi
}

build
bug_rows_run
check_every_timing
sample_control
clean_rows
tricky_rows
real_program
many_blocks
bad_values
signal_dump report-signal-dump-to-stderr report_signal=USR2 USR2 err
signal_dump report-signal-dump-to-log-path "report_signal=SIGUSR1:log_path=@DIR@/log.%p" USR1 log
signal_dump report-signal-by-number report_signal=12 USR2 err
signal_storm
exit 0
