#!/usr/bin/env bash
# Faults suite of ftmalloc: the allocator under faults it does not cause.
#   - memory exhausted: RLIMIT_AS set after start-up (every kind of request
#     fails cleanly with ENOMEM, one warning, older blocks intact and
#     freeable, all well once the limit is raised, reports still made),
#     vm.max_map_count reached by the program's own mappings (frees that
#     would split a mapping, guard_all blocks the kernel refuses);
#   - fork while other threads keep every internal lock busy (200 forks),
#     with report_signal dumps besides; posix_spawn, system(), vfork+exec
#     from a threaded program; a forked child's leak report names its own
#     block only;
#   - signals: a guard-page fault while other threads hold locks (complete
#     report, death by SIGSEGV); the program's own SIGSEGV handlers,
#     installed before or after ftmalloc's, keep working;
#   - exit paths: exit, return, _exit, quick_exit, abort with threads in
#     malloc; a crash during the exit leak scan; library destructors and exit
#     handlers that allocate and free after ftmalloc's exit report;
#   - output: stderr closed, reopened onto a file, non-blocking and full; a
#     log_path that cannot be opened (not a directory, not writable) or
#     written (/dev/full).
# build/faults (faults.c) runs one scenario per first argument and prints
# "ok NAME" / "bad NAME: why" lines; this script turns them into PASS/FAIL
# lines and checks what only it sees: exit statuses, reports, log files.
# Every program runs under timeout -k 5: a deadlock is a FAIL.
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# FAULTS_TIMEOUT (s per program, default 60), FAULTS_FORKS (default 200),
# FAULTS_GDB=1 (a hung fork child's stacks on stderr). Logs: build/logs/.
set -u
cd "$(dirname "$0")" || exit 2
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=faults
. ../lib.sh
tmo=${FAULTS_TIMEOUT:-60}
forks=${FAULTS_FORKS:-200}
bin=$here/build/faults
logs=$here/build/logs
ulimit -c 0
unset FTMALLOC_OPTIONS

# fail NAME WHY without a log: the last run's stderr
fail_log() { echo "$logs/$last.err"; }

# run NAME OPTIONS PROGRAM ARGS...: under the library with FTMALLOC_OPTIONS,
# stdout and stderr to $logs/NAME.out/.err; sets $status (0, "exit N",
# "signal NAME", "timeout") and $secs
last=none
run() {
	local name=$1 opts=$2 t0 rc
	shift 2
	last=$name
	t0=$(date +%s.%N)
	(
		timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT FTMALLOC_OPTIONS="$opts" \
			LD_PRELOAD="$lib" "$@" >"$logs/$name.out" 2>"$logs/$name.err"
		exit $?
	) 2>/dev/null
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	status_of "$rc"
}

status_of() {
	case $1 in
	0) status=0 ;;
	124|137) status=timeout ;;
	*) if [ "$1" -gt 128 ]; then status="signal $(kill -l $(($1 - 128)) 2>/dev/null)"; else status="exit $1"; fi ;;
	esac
}

# results NAME [PREFIX]: a PASS or FAIL line for each "ok"/"bad" line the
# program printed (names prefixed with PREFIX); none at all is a FAIL
results() {
	local name=$1 prefix=${2:-} n=0 line check why
	while IFS= read -r line; do
		case $line in
		"ok "*)
			check=${line#ok }
			echo "PASS: faults/$prefix$check"
			n=$((n + 1)) ;;
		"bad "*)
			check=${line#bad }
			why=${check#*: }
			check=${check%%: *}
			fail "$prefix$check" "$why"
			n=$((n + 1)) ;;
		esac
	done <"$logs/$name.out"
	[ "$n" -gt 0 ] || fail "$prefix$name" "no result at all (ended with $status)"
}

# expect NAME WANT: the run ended as WANT
expect() {
	if [ "$status" = "$2" ]; then pass "$1 ($secs s)"; else fail "$1" "ended with $status, expected $2 (after $secs s)"; fi
}

# report_of FILE KIND: the first report of KIND in FILE, from its ERROR line
# to its "end of report"
report_of() {
	awk -v k="ERROR: $2 " 'index($0, k) { on = 1 } on { print } on && /^ftmalloc: end of report/ { exit }' "$1"
}

# section REPORT TITLE: the frames of a report's section ("detected at", ...)
section() {
	awk -v t="  $2" 'index($0, t) == 1 { on = 1; next } on && /^    / { print; next } on { exit }' <<<"$1"
}

# complete_report NAME FILE KIND WHERE DETECT ALLOC: FILE holds a whole report
# of KIND whose first line has WHERE, detected at DETECT, allocated at ALLOC
complete_report() {
	local name=$1 file=$2 kind=$3 where=$4 det=$5 alloc=$6 r why=""
	r=$(report_of "$file" "$kind")
	if [ -z "$r" ]; then
		why="no $kind report"
	else
		grep -q -- "$where" <<<"$r" || why="$why; first line lacks '$where'"
		section "$r" "detected at:" | grep -q " in $det " || why="$why; '$det' not in 'detected at'"
		section "$r" "allocated by thread" | grep -q " in $alloc " || why="$why; '$alloc' not in 'allocated by'"
		tail -n 1 <<<"$r" | grep -q '^ftmalloc: end of report' || why="$why; the report is cut short"
	fi
	if [ -z "$why" ]; then pass "$name"; else fail "$name" "${why#; }" "$file"; fi
}

# count FILE ERE: lines of FILE that match
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }

build() {
	rm -rf "$logs"
	mkdir -p "$logs"
	if ! make -s >"$logs/build.log" 2>&1; then
		echo "FAIL: faults/build: make failed"
		sed 's/^/    /' "$logs/build.log"
		exit 1
	fi
	if [ ! -e "$lib" ]; then
		echo "FAIL: faults/library: $lib does not exist (run make first)"
		exit 1
	fi
}

# ---------------------------------------------------------------- memory

oom_checks() {
	local e
	run oom "" "$bin" oom
	results oom
	e=$logs/oom.err
	if [ "$status" != 0 ]; then
		fail oom-clean-exit "ended with $status"
	elif [ "$(count "$e" '^ftmalloc: warning: out of memory')" != 1 ]; then
		fail oom-one-warning "$(count "$e" '^ftmalloc: warning: out of memory') out-of-memory warnings, expected 1"
	elif grep -v '^ftmalloc: warning: out of memory' "$e" | grep -q '^ftmalloc:'; then
		fail oom-one-warning "more than the warning from ftmalloc (a report at exit?)"
	else
		pass "oom-one-warning-no-report-at-exit"
	fi

	# the same under guard_all: guarded mappings refused too, one warning each
	run oom-guard-all guard_all=1 "$bin" oom
	results oom-guard-all guard-all/
	e=$logs/oom-guard-all.err
	if [ "$status" != 0 ]; then
		fail guard-all/oom-clean-exit "ended with $status"
	elif [ "$(count "$e" '^ftmalloc: warning: out of memory')" -gt 1 ] ||
	    [ "$(count "$e" '^ftmalloc: warning: (guard pages could not|[0-9]+ guarded mappings)')" -gt 1 ] ||
	    grep -v '^ftmalloc: warning: ' "$e" | grep -q '^ftmalloc:'; then
		fail guard-all/oom-warnings-once "a warning repeated, or a report"
	else
		pass "guard-all/oom-warnings-once-no-report"
	fi

	run oom-realloc-reserve "" "$bin" oom-realloc-reserve
	results oom-realloc-reserve
	run oom-quarantine "" "$bin" oom-quarantine
	results oom-quarantine

	# a bug found with the address space full: still a report, with frames
	run oom-report "" "$bin" oom-report
	expect oom-report-program-goes-on 0
	local under after
	under=$(sed -n '/^marker: bug under the limit/,/^marker: limit raised/p' "$logs/oom-report.err")
	after=$(sed -n '/^marker: limit raised/,/^marker: end/p' "$logs/oom-report.err")
	if grep -q 'ERROR: double-free .*40-byte block' <<<"$under" &&
	    [ "$(section "$(report_of <(echo "$under") double-free)" "detected at:" | grep -c '^    #')" -ge 2 ] &&
	    grep -q '^ftmalloc: end of report' <<<"$under"; then
		pass oom-report-with-address-space-full
	else
		fail oom-report-with-address-space-full "no whole double-free report with frames between the markers"
	fi
	local r
	r=$(report_of <(echo "$after") double-free)
	if section "$r" "detected at:" | grep -q ' in oom_release ' &&
	    section "$r" "allocated by thread" | grep -q ' in oom_double_free_site '; then
		pass oom-report-names-back-after-limit-raised
	else
		fail oom-report-names-back-after-limit-raised "the report after the limit was raised lacks function names"
	fi

	run oom-exit-limited "" "$bin" oom-report-exit-limited
	if [ "$status" = "exit 5" ] && ! grep -q 'internal error' "$logs/oom-exit-limited.err"; then
		pass "oom-exit-with-address-space-full ($secs s)"
	else
		fail oom-exit-with-address-space-full "ended with $status, expected exit 5"
	fi
}

maplimit_checks() {
	local max e
	max=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
	if [ "$max" -gt 200000 ]; then
		skip maplimit "vm.max_map_count is $max: too many mappings to fill quickly"
		return
	fi
	run maplimit "" "$bin" maplimit
	results maplimit
	e=$logs/maplimit.err
	if [ "$status" != 0 ]; then
		fail maplimit-no-crash "ended with $status"
	elif grep -q 'internal error' "$e"; then
		fail maplimit-no-crash "$(grep -m1 'internal error' "$e")"
	elif [ "$(count "$e" '^ftmalloc: warning: munmap')" -gt 1 ] || [ "$(count "$e" '^ftmalloc: warning: out of memory')" -gt 1 ] ||
	    grep -v '^ftmalloc: warning: ' "$e" | grep -q '^ftmalloc:'; then
		fail maplimit-warnings-once "a warning repeated, or a report"
	else
		pass "maplimit-no-crash-warnings-once ($secs s)"
	fi

	run maplimit-guard guard_all=1 "$bin" maplimit-guard
	results maplimit-guard
	e=$logs/maplimit-guard.err
	if grep -q '^skip ' "$logs/maplimit-guard.out"; then
		skip maplimit-guard "$(sed -n 's/^skip //p' "$logs/maplimit-guard.out")"
	elif [ "$status" != 0 ] || grep -q 'internal error' "$e"; then
		fail maplimit-guard-all-no-crash "ended with $status"
	elif [ "$(count "$e" '^ftmalloc: warning: (guard pages could not|[0-9]+ guarded mappings)')" != 1 ]; then
		fail maplimit-guard-all-says-so-once "$(count "$e" '^ftmalloc: warning: (guard pages could not|[0-9]+ guarded mappings)') warnings about guard pages, expected 1"
	elif grep -v '^ftmalloc: warning: ' "$e" | grep -q '^ftmalloc:'; then
		fail maplimit-guard-all-says-so-once "a report"
	else
		pass "maplimit-guard-all-no-crash-says-so-once ($secs s)"
	fi
}

# ---------------------------------------------------------------- fork

# fork_logs NAME DIR: every child's log has exactly its own double free,
# whole, naming child_site; the parent's log no error but the double frees
fork_logs() {
	local name=$1 d=$2 ppid f pid nbad=0 first="" exits=0 r
	ppid=$(sed -n 's/^pid //p' "$logs/$name.out")
	for pid in $(sed -n 's/^child //p' "$logs/$name.out"); do
		f=$d/log.$pid
		r=$(report_of "$f" double-free 2>/dev/null)
		if [ ! -s "$f" ] || [ "$(count "$f" '^ftmalloc: ERROR')" != 1 ] ||
		    ! section "$r" "allocated by thread" | grep -q ' in child_site ' ||
		    ! section "$r" "detected at:" | grep -q ' in child_release ' ||
		    ! tail -n 1 <<<"$r" | grep -q 'end of report'; then
			nbad=$((nbad + 1))
			[ -z "$first" ] && first=$f
		fi
		if grep -q '^ftmalloc: SUMMARY' "$f" 2>/dev/null; then
			exits=$((exits + 1))
			grep -qx 'ftmalloc: SUMMARY: 1 error: 1 double-free' "$f" || { nbad=$((nbad + 1)); [ -z "$first" ] && first=$f; }
		fi
	done
	if [ "$nbad" = 0 ]; then
		pass "$name-each-child-reports-its-own-bug-only ($exits children through exit)"
	else
		fail "$name-each-child-reports-its-own-bug-only" "$nbad child logs wrong (first: $first)" "$first"
	fi
	if grep '^ftmalloc: ERROR' "$d/log.$ppid" | grep -vq 'ERROR: double-free'; then
		fail "$name-parent-no-false-report" "the parent reported more than its double frees" "$d/log.$ppid"
	else
		pass "$name-parent-no-false-report"
	fi
}

fork_checks() {
	local d
	d=$logs/fork-storm.d
	mkdir -p "$d"
	# zone, aligned, large, depot, threads, report and show hammers
	run fork-storm "log_path=$d/log.%p" "$bin" fork-storm "$forks" 0x7f 100
	results fork-storm
	expect fork-storm-parent-exits-0 0
	fork_logs fork-storm "$d"

	d=$logs/fork-signals.d
	mkdir -p "$d"
	# zone, aligned, large, threads and report_signal every 10 ms
	run fork-signals "log_path=$d/log.%p:report_signal=USR2:quarantine=64k" "$bin" fork-storm 60 0x97
	results fork-signals report-signal/
	expect report-signal/fork-storm-parent-exits-0 0
	fork_logs fork-signals "$d"
	local ppid starts ends
	ppid=$(sed -n 's/^pid //p' "$logs/fork-signals.out")
	starts=$(count "$d/log.$ppid" '^ftmalloc: heap dump on SIGUSR2')
	ends=$(count "$d/log.$ppid" '^ftmalloc: end of heap dump$')
	if [ "${starts:-0}" -ge 1 ] && [ "$starts" = "$ends" ]; then
		pass "report-signal/dumps-whole-during-fork-storm ($starts dumps)"
	else
		fail report-signal/dumps-whole-during-fork-storm "${starts:-0} dumps started, ${ends:-0} ended" "$d/log.$ppid"
	fi
	if [ "$(grep -l 'heap dump' "$d"/log.* 2>/dev/null | grep -vc "log.$ppid$")" = 0 ]; then
		pass report-signal/no-dump-in-forked-children
	else
		fail report-signal/no-dump-in-forked-children "a child wrote a dump of a signal sent to its parent" \
		    "$(grep -l 'heap dump' "$d"/log.* | grep -v "log.$ppid$" | head -n 1)"
	fi

	run spawn "" "$bin" spawn 15
	results spawn
	expect spawn-parent-exits-0 0

	# a forked child loses a block: its report, in its file, names it alone
	local fmt cpid cf pf
	for fmt in text json; do
		d=$logs/fork-leak-$fmt.d
		mkdir -p "$d"
		run fork-leak-$fmt "log_path=$d/log.%p:format=$fmt" "$bin" fork-leak
		results fork-leak-$fmt "$fmt/"
		cpid=$(sed -n 's/^child //p' "$logs/fork-leak-$fmt.out")
		cf=$d/log.$cpid
		pf=$(ls "$d"/log.* 2>/dev/null | grep -v "log.$cpid$" | head -n 1)
		local why=""
		[ -s "$cf" ] || why="no log file for the child $cpid"
		if [ -z "$why" ]; then
			grep -q 'child_leak_site' "$cf" || why="the child's leak (child_leak_site) is not reported"
			grep -q '333' "$cf" || why="$why; not its 333 bytes"
			grep -Eq 'parent_thread_site|parent_global_site' "$cf" && why="$why; the parent's blocks are reported by the child"
			if [ "$fmt" = json ] && ! grep '"kind":"memory-leak"' "$cf" | grep -q "\"pid\":$cpid[,}]"; then
				why="$why; the JSON leak object lacks the child's pid $cpid"
			fi
		fi
		[ -n "$pf" ] && grep -q 'child_leak_site' "$pf" && why="$why; the parent reports the child's block"
		if [ -z "$why" ]; then pass "$fmt/fork-leak-child-reports-its-own-leak"; else fail "$fmt/fork-leak-child-reports-its-own-leak" "${why#; }" "$cf"; fi
	done
}

# ---------------------------------------------------------------- signals

signal_checks() {
	local w
	for w in main worker; do
		run segv-$w "" "$bin" segv-threads-$w
		results segv-$w
		complete_report "guard-fault-in-$w-complete-report" "$logs/segv-$w.err" heap-buffer-overflow \
		    "32 bytes after a 8192-byte block at .* in READ access" fault_read_site overflow_site
	done

	run segv-not-ours "" "$bin" segv-not-ours
	if [ "$status" = "signal SEGV" ] && ! grep -q '^ftmalloc: ERROR' "$logs/segv-not-ours.err"; then
		pass segv-not-ours-default-action-no-report
	else
		fail segv-not-ours-default-action-no-report "ended with $status, or a report"
	fi

	local c
	for c in chain-before-fix chain-before-longjmp chain-before-plain chain-after-fix chain-after-longjmp; do
		run $c "" "$bin" $c
		results $c
		expect $c-exits-0 0
	done
	run chain-after-chains-back "" "$bin" chain-after-chains-back
	results chain-after-chains-back
	expect chain-after-chains-back-guard-fault-dies-of-sigsegv "signal SEGV"
	complete_report chain-after-chains-back-guard-fault-reported "$logs/chain-after-chains-back.err" \
	    heap-buffer-overflow "READ access" fault_read_site overflow_site
	run chain-before-guard "" "$bin" chain-before-guard
	results chain-before-guard
	expect chain-before-guard-program-goes-on 0
	complete_report chain-before-guard-fault-reported-first "$logs/chain-before-guard.err" \
	    heap-buffer-overflow "READ access" fault_read_site overflow_site
}

# ---------------------------------------------------------------- exits

exit_checks() {
	local how want leak
	for how in "exit|exit 3|1" "return|exit 7|1" "_exit|exit 9|0" "quick_exit|exit 4|0" "abort|signal ABRT|0"; do
		IFS='|' read -r how want leak <<<"$how"
		run exit-$how "" "$bin" exit-threads "$how"
		if [ "$status" != "$want" ]; then
			fail "exit-threads-$how" "ended with $status, expected $want (after $secs s)"
		elif [ "$leak" = 1 ] && [ "$(count "$logs/exit-$how.err" '^ftmalloc: ERROR: memory-leak')" != 1 ]; then
			fail "exit-threads-$how" "not one leak report"
		elif [ "$leak" = 1 ] && ! grep -q ' in exit_leak_site ' "$logs/exit-$how.err"; then
			fail "exit-threads-$how" "the leak report does not name exit_leak_site"
		elif [ "$leak" = 0 ] && grep -q '^ftmalloc:' "$logs/exit-$how.err"; then
			fail "exit-threads-$how" "a report, though exit handlers do not run"
		else
			pass "exit-threads-$how ($secs s)"
		fi
	done

	local kind
	for kind in null guard; do
		run exit-scan-$kind "" "$bin" exit-scan-crash $kind
		if [ "$status" != "signal SEGV" ] && [ "$status" != 0 ]; then
			fail "crash-during-exit-leak-scan-$kind" "ended with $status (after $secs s)"
		elif ! grep -q '^marker: faulting now' "$logs/exit-scan-$kind.err"; then
			fail "crash-during-exit-leak-scan-$kind" "the fault never came"
		elif [ "$kind" = guard ] && [ "$status" = "signal SEGV" ] &&
		    [ -z "$(report_of "$logs/exit-scan-$kind.err" heap-buffer-overflow | grep 'end of report')" ]; then
			fail "crash-during-exit-leak-scan-$kind" "died without a whole report of the guard fault"
		else
			pass "crash-during-exit-leak-scan-$kind (ended with $status, $secs s)"
		fi
	done

	# library destructors and exit handlers after the exit report
	local e=$logs/postexit.err why=""
	run postexit "" "$here/build/postexit"
	[ "$status" = 0 ] || why="ended with $status"
	for m in "post destructor" "post destructor done" "late exit handler" "late exit handler done"; do
		grep -qx "marker: $m" "$e" || why="$why; no '$m' marker"
	done
	local sline mline
	sline=$(grep -n '^ftmalloc: SUMMARY: 1 error' "$e" | head -n 1 | cut -d: -f1)
	mline=$(grep -n '^marker: post destructor$' "$e" | cut -d: -f1)
	if [ -z "$sline" ] || [ -z "$mline" ] || [ "$sline" -gt "$mline" ]; then
		why="$why; the library destructor did not run after the exit report"
	elif [ -n "$mline" ] && tail -n +"$mline" "$e" | grep -q '^ftmalloc:'; then
		why="$why; ftmalloc wrote after the exit report"
	fi
	grep -q ' in postexit_leak_site ' "$e" || why="$why; the program's own leak is not reported"
	[ "$(count "$e" '^ftmalloc: ERROR')" = 1 ] || why="$why; $(count "$e" '^ftmalloc: ERROR') reports, expected 1"
	if [ -z "$why" ]; then pass post-report-destructors-allocate-and-free; else fail post-report-destructors-allocate-and-free "${why#; }"; fi
	run postexit-code exitcode=23 "$here/build/postexit"
	if [ "$status" = "exit 23" ] && grep -qx 'marker: late exit handler done' "$logs/postexit-code.err"; then
		pass post-report-destructors-with-exitcode
	else
		fail post-report-destructors-with-exitcode "ended with $status (expected exit 23), or the late handlers did not run"
	fi
}

# ---------------------------------------------------------------- output

# out_ok NAME: the program went on ("continued") and exited 6
out_ok() { [ "$status" = "exit 6" ] && grep -q '^continued$' "$logs/$1.out"; }

output_checks() {
	run out-closed "" "$bin" out stderr-closed
	if out_ok out-closed; then pass stderr-closed-program-goes-on; else fail stderr-closed-program-goes-on "ended with $status"; fi

	local f=$logs/reopened.txt
	run out-reopened "" "$bin" out stderr-reopened "$f"
	if ! out_ok out-reopened; then
		fail stderr-reopened-onto-file "ended with $status"
	elif [ -z "$(report_of "$f" double-free | grep 'end of report')" ] || ! grep -q 'ERROR: memory-leak' "$f"; then
		fail stderr-reopened-onto-file "the reports are not in the file now on fd 2" "$f"
	else
		pass stderr-reopened-onto-file
	fi

	# stderr a pipe, made non-blocking and filled by the program; its
	# reader starts a second later
	(
		timeout -k 5 "$tmo" env FTMALLOC_OPTIONS= LD_PRELOAD="$lib" "$bin" out stderr-nonblocking-full \
			2>&1 >"$logs/out-nonblock.out" | (sleep 1; cat) >"$logs/out-nonblock.err"
		exit "${PIPESTATUS[0]}"
	) 2>/dev/null
	status_of $?
	last=out-nonblock
	if ! out_ok out-nonblock; then
		fail stderr-nonblocking-full-pipe "ended with $status"
	elif [ -z "$(report_of "$logs/out-nonblock.err" double-free | grep 'end of report')" ] ||
	    ! grep -q '^ftmalloc: SUMMARY: 2 errors' "$logs/out-nonblock.err"; then
		fail stderr-nonblocking-full-pipe "reports lost or cut short in a full non-blocking pipe"
	else
		pass stderr-nonblocking-full-pipe-reports-whole
	fi

	# the same pipe's reader stuck: the program must not wait for it long
	# (2 s for the first report, then not at all)
	rm -f "$logs/out-stuck.out"
	(
		timeout -k 5 "$tmo" env FTMALLOC_OPTIONS= LD_PRELOAD="$lib" "$bin" out stderr-nonblocking-full \
			2>&1 >"$logs/out-stuck.out" | (sleep 4; cat >/dev/null)
	) 2>/dev/null &
	local waiter=$! t
	for t in $(seq 1 35); do
		grep -q '^continued$' "$logs/out-stuck.out" 2>/dev/null && break
		sleep 0.1
	done
	if grep -q '^continued$' "$logs/out-stuck.out" 2>/dev/null; then
		pass "stderr-nonblocking-stuck-reader-no-hang (went on after about $((t / 10)).$((t % 10)) s)"
	else
		fail stderr-nonblocking-stuck-reader-no-hang "the program still waited for its stderr after 3.5 s" /dev/null
	fi
	wait "$waiter"

	# log_path whose directory is a file
	touch "$logs/plainfile"
	run out-notdir "log_path=$logs/plainfile/x.%p" "$bin" out-log
	if out_ok out-notdir && grep -q "^ftmalloc: warning: log_path '$logs/plainfile/x.[0-9]*' cannot be opened: Not a directory; reports go to stderr" "$logs/out-notdir.err" &&
	    grep -q 'ERROR: double-free' "$logs/out-notdir.err"; then
		pass log_path-directory-is-a-file-warns
	else
		fail log_path-directory-is-a-file-warns "ended with $status, or no warning / report on stderr"
	fi

	# log_path in a directory the user may not write: as nobody
	local ro=$logs/readonly
	if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
		skip log_path-directory-not-writable "needs root, setpriv and a nobody user"
	else
		mkdir -p "$ro" && chmod 755 "$ro"
		last=out-readonly
		(
			timeout -k 5 "$tmo" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
				env FTMALLOC_OPTIONS="log_path=$ro/x.%p" LD_PRELOAD="$lib" "$bin" out-log \
				>"$logs/out-readonly.out" 2>"$logs/out-readonly.err"
			exit $?
		) 2>/dev/null
		status_of $?
		if grep -q 'ld.so\|Permission denied$\|cannot execute' "$logs/out-readonly.err" && ! grep -q '^ftmalloc' "$logs/out-readonly.err"; then
			skip log_path-directory-not-writable "nobody cannot run the test program here"
		elif out_ok out-readonly && grep -q "cannot be opened: Permission denied; reports go to stderr" "$logs/out-readonly.err" &&
		    grep -q 'ERROR: double-free' "$logs/out-readonly.err" && [ -z "$(ls -A "$ro")" ]; then
			pass log_path-directory-not-writable-warns
		else
			fail log_path-directory-not-writable-warns "ended with $status, or no warning / report on stderr"
		fi
	fi

	# log_path that opens but cannot be written
	if [ -w /dev/full ]; then
		run out-full "log_path=/dev/full" "$bin" out-log
		if out_ok out-full && [ "$(count "$logs/out-full.err" "^ftmalloc: warning: log_path '/dev/full' cannot be written")" = 1 ] &&
		    grep -q 'ERROR: memory-leak' "$logs/out-full.err"; then
			pass log_path-cannot-be-written-warns-once-then-stderr
		else
			fail log_path-cannot-be-written-warns-once-then-stderr "ended with $status, or no single warning, or the later reports not on stderr"
		fi
	else
		skip log_path-cannot-be-written "no /dev/full"
	fi
}

start=$(date +%s)
build
oom_checks
maplimit_checks
fork_checks
signal_checks
exit_checks
output_checks
echo "faults: $(($(date +%s) - start))s"
exit 0
