#!/usr/bin/env bash
# Death suite of ftmalloc: every row of the table below runs one bug program
# (build/bugs ARGS) under LD_PRELOAD=$FTMALLOC_LIB and checks its report:
#   - the first "ftmalloc: ERROR:" line is in the report format and has the
#     expected KIND, its parenthesis / FUNC match the row (where given);
#   - the expected function is in the "allocated by" section of that report
#     (and in "freed by" / "detected at" where the row names one, with the
#     thread T0 / another thread where the row says @T0 / @Tn);
#   - the program ends as expected: exit 0 (it printed "continued": it went on
#     after the error) or killed by SIGSEGV (the guard-page faults);
#   - memory-leak rows: a "ftmalloc: SUMMARY:" line follows.
# Row 0 is a self-test that must FAIL (a clean program cannot produce the kind
# it expects): it prints PASS only when the check failed. The harness-* checks
# feed canned reports to the checker (check.awk) and need no allocator.
# Prints one "PASS: death/NAME" or "FAIL: death/NAME: reason" line per row,
# followed for failures by the program's stderr (indented, first 40 lines).
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# DEATH_JOBS (parallel runs, default: number of CPUs), DEATH_TIMEOUT (s, default 20),
# DEATH_KEEP=1 keeps every log in build/logs/. DEATH_ONLY=ERE runs only matching rows.
set -u
cd "$(dirname "$0")"
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=death
. ../lib.sh
jobs=${DEATH_JOBS:-$(nproc 2>/dev/null || echo 2)}
tmo=${DEATH_TIMEOUT:-20}
only=${DEATH_ONLY:-}
bin=$here/build/bugs
logs=$here/build/logs
ulimit -c 0

# ---------------------------------------------------------------- the table
# name | bugs arguments | exit (0, SEGV, 0|SEGV) | KIND (ERE) | parenthesis (ERE)
#      | FUNC (ERE) | allocated by [@T0|@Tn] | freed by [@T0|@Tn] | detected at
# "-" means no check. Sizes: tiny 13, small 1000, large 8192 (end flush with the
# upper guard page) or 5001 (end in the slack before it: canary).
table=$(cat <<'EOF'
selftest-clean-program-must-fail | clean | 0 | heap-buffer-overflow | - | - | alloc_tiny_malloc | - | -

overflow-tiny-malloc | overflow alloc_tiny_malloc | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_malloc@T0 | - | release_block
overflow-small-malloc | overflow alloc_small_malloc | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_malloc@T0 | - | release_block
overflow-large-malloc-guard | overflow alloc_large_malloc | SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_malloc@T0 | - | bug_overflow
overflow-large-malloc-slack | overflow alloc_large_malloc_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^free$ | alloc_large_malloc_slack@T0 | - | release_block
overflow-tiny-calloc | overflow alloc_tiny_calloc | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_calloc | - | release_block
overflow-small-calloc | overflow alloc_small_calloc | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_calloc | - | release_block
overflow-large-calloc-guard | overflow alloc_large_calloc | SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_calloc | - | bug_overflow
overflow-large-calloc-slack | overflow alloc_large_calloc_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^free$ | alloc_large_calloc_slack | - | release_block
overflow-tiny-realloc-grown | overflow alloc_tiny_realloc_grown | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_realloc_grown | - | release_block
overflow-small-realloc-grown | overflow alloc_small_realloc_grown | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_realloc_grown | - | release_block
overflow-small-realloc-grown-from-tiny | overflow alloc_small_realloc_grown_from_tiny | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_realloc_grown_from_tiny | - | release_block
overflow-large-realloc-grown-guard | overflow alloc_large_realloc_grown | SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_realloc_grown | - | bug_overflow
overflow-large-realloc-grown-from-small-guard | overflow alloc_large_realloc_grown_from_small | SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_realloc_grown_from_small | - | bug_overflow
overflow-large-realloc-grown-slack | overflow alloc_large_realloc_grown_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^free$ | alloc_large_realloc_grown_slack | - | release_block
overflow-tiny-realloc-shrunk | overflow alloc_tiny_realloc_shrunk | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_realloc_shrunk | - | release_block
overflow-small-realloc-shrunk | overflow alloc_small_realloc_shrunk | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_realloc_shrunk | - | release_block
overflow-small-realloc-shrunk-from-large | overflow alloc_small_realloc_shrunk_from_large | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_realloc_shrunk_from_large | - | release_block
overflow-large-realloc-shrunk | overflow alloc_large_realloc_shrunk | 0|SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_realloc_shrunk | - | -
overflow-large-realloc-shrunk-slack | overflow alloc_large_realloc_shrunk_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^free$ | alloc_large_realloc_shrunk_slack | - | release_block
overflow-tiny-memalign | overflow alloc_tiny_memalign | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_memalign | - | release_block
overflow-tiny-posix_memalign | overflow alloc_tiny_posix_memalign | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_posix_memalign | - | release_block
overflow-small-aligned_alloc | overflow alloc_small_aligned_alloc | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_aligned_alloc | - | release_block
overflow-small-valloc | overflow alloc_small_valloc | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_valloc | - | release_block
overflow-large-memalign-guard | overflow alloc_large_memalign | SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_memalign | - | bug_overflow
overflow-large-aligned_alloc-64k | overflow alloc_large_aligned_alloc | 0|SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_aligned_alloc | - | -
overflow-large-posix_memalign-slack | overflow alloc_large_posix_memalign_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^free$ | alloc_large_posix_memalign_slack | - | release_block
overflow-tiny-found-at-realloc | overflow_realloc alloc_tiny_malloc | 0 | heap-buffer-overflow | after a 13-byte block | ^realloc$ | alloc_tiny_malloc | - | realloc_again
overflow-small-found-at-realloc | overflow_realloc alloc_small_calloc | 0 | heap-buffer-overflow | after a 1000-byte block | ^realloc$ | alloc_small_calloc | - | realloc_again
overflow-large-slack-found-at-realloc | overflow_realloc alloc_large_malloc_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^realloc$ | alloc_large_malloc_slack | - | realloc_again
overflow-tiny-never-freed-found-at-exit | overflow_kept alloc_tiny_malloc | 0 | heap-buffer-overflow | after a 13-byte block | - | alloc_tiny_malloc | - | -
overflow-small-never-freed-found-at-exit | overflow_kept alloc_small_malloc | 0 | heap-buffer-overflow | after a 1000-byte block | - | alloc_small_malloc | - | -
overflow-large-slack-never-freed-found-at-exit | overflow_kept alloc_large_malloc_slack | 0 | heap-buffer-overflow | after a 5001-byte block | - | alloc_large_malloc_slack | - | -
overflow-tiny-malloc-thread | thread overflow alloc_tiny_malloc | 0 | heap-buffer-overflow | after a 13-byte block | ^free$ | alloc_tiny_malloc@Tn | - | release_block
overflow-small-calloc-thread | thread overflow alloc_small_calloc | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_calloc@Tn | - | release_block
overflow-large-malloc-guard-thread | thread overflow alloc_large_malloc | SEGV | heap-buffer-overflow | after a 8192-byte block | - | alloc_large_malloc@Tn | - | bug_overflow
overflow-large-slack-realloc-thread | thread overflow alloc_large_realloc_grown_slack | 0 | heap-buffer-overflow | after a 5001-byte block | ^free$ | alloc_large_realloc_grown_slack@Tn | - | release_block
overflow-alloc-in-thread-freed-by-main | overflow_alloc_in_thread | 0 | heap-buffer-overflow | after a 1000-byte block | ^free$ | alloc_small_calloc@Tn | - | release_block

underflow-tiny-malloc | underflow alloc_tiny_malloc | 0 | heap-buffer-underflow | before a 13-byte block | ^free$ | alloc_tiny_malloc@T0 | - | release_block
underflow-small-malloc | underflow alloc_small_malloc | 0 | heap-buffer-underflow | before a 1000-byte block | ^free$ | alloc_small_malloc@T0 | - | release_block
underflow-tiny-calloc | underflow alloc_tiny_calloc | 0 | heap-buffer-underflow | before a 13-byte block | ^free$ | alloc_tiny_calloc | - | release_block
underflow-small-realloc-grown | underflow alloc_small_realloc_grown | 0 | heap-buffer-underflow | before a 1000-byte block | ^free$ | alloc_small_realloc_grown | - | release_block
underflow-tiny-realloc-shrunk | underflow alloc_tiny_realloc_shrunk | 0 | heap-buffer-underflow | before a 13-byte block | ^free$ | alloc_tiny_realloc_shrunk | - | release_block
underflow-tiny-memalign | underflow alloc_tiny_memalign | 0 | heap-buffer-underflow | before a 13-byte block | ^free$ | alloc_tiny_memalign | - | release_block
underflow-small-aligned_alloc | underflow alloc_small_aligned_alloc | 0 | heap-buffer-underflow | before a 1000-byte block | ^free$ | alloc_small_aligned_alloc | - | release_block
underflow-large-slack-minus-1 | underflow alloc_large_malloc_slack | 0 | heap-buffer-underflow | before a 5001-byte block | ^free$ | alloc_large_malloc_slack | - | release_block
underflow-large-malloc-guard | underflow_page alloc_large_malloc_slack | SEGV | heap-buffer-underflow | before a 5001-byte block | - | alloc_large_malloc_slack@T0 | - | bug_underflow_page
underflow-large-flush-guard | underflow_page alloc_large_malloc | SEGV | heap-buffer-underflow | before a 8192-byte block | - | alloc_large_malloc | - | bug_underflow_page
underflow-large-calloc-guard | underflow_page alloc_large_calloc_slack | SEGV | heap-buffer-underflow | before a 5001-byte block | - | alloc_large_calloc_slack | - | bug_underflow_page
underflow-large-memalign-guard | underflow_page alloc_large_memalign | SEGV | heap-buffer-underflow | before a 8192-byte block | - | alloc_large_memalign | - | bug_underflow_page
underflow-tiny-malloc-thread | thread underflow alloc_tiny_malloc | 0 | heap-buffer-underflow | before a 13-byte block | ^free$ | alloc_tiny_malloc@Tn | - | release_block
underflow-large-guard-thread | thread underflow_page alloc_large_malloc_slack | SEGV | heap-buffer-underflow | before a 5001-byte block | - | alloc_large_malloc_slack@Tn | - | bug_underflow_page

uaf-tiny-write-found-at-exit | uaf_write alloc_tiny_malloc | 0 | use-after-free | inside a 13-byte block | - | alloc_tiny_malloc@T0 | release_block@T0 | -
uaf-small-write-found-at-exit | uaf_write alloc_small_malloc | 0 | use-after-free | inside a 1000-byte block | - | alloc_small_malloc@T0 | release_block@T0 | -
uaf-tiny-calloc-write-found-at-exit | uaf_write alloc_tiny_calloc | 0 | use-after-free | inside a 13-byte block | - | alloc_tiny_calloc | release_block | -
uaf-tiny-write-found-leaving-quarantine | uaf_write_evict alloc_tiny_malloc | 0 | use-after-free | inside a 13-byte block | - | alloc_tiny_malloc | release_block | -
uaf-small-write-found-leaving-quarantine | uaf_write_evict alloc_small_malloc | 0 | use-after-free | inside a 1000-byte block | - | alloc_small_malloc | release_block | -
uaf-large-read | uaf_read alloc_large_malloc | SEGV | use-after-free | inside a 8192-byte block | - | alloc_large_malloc@T0 | release_block@T0 | bug_uaf_read
uaf-large-write | uaf_write alloc_large_malloc | SEGV | use-after-free | inside a 8192-byte block | - | alloc_large_malloc | release_block | bug_uaf_write
uaf-large-slack-read | uaf_read alloc_large_malloc_slack | SEGV | use-after-free | inside a 5001-byte block | - | alloc_large_malloc_slack | release_block | bug_uaf_read
uaf-large-realloc-grown-write | uaf_write alloc_large_realloc_grown | SEGV | use-after-free | inside a 8192-byte block | - | alloc_large_realloc_grown | release_block | bug_uaf_write
uaf-tiny-write-thread | thread uaf_write alloc_tiny_malloc | 0 | use-after-free | inside a 13-byte block | - | alloc_tiny_malloc@Tn | release_block@Tn | -
uaf-large-read-thread | thread uaf_read alloc_large_malloc | SEGV | use-after-free | inside a 8192-byte block | - | alloc_large_malloc@Tn | release_block@Tn | bug_uaf_read
uaf-tiny-freed-by-thread-written-by-main | uaf_cross_thread_tiny | 0 | use-after-free | inside a 13-byte block | - | alloc_tiny_malloc@Tn | release_block@Tn | -
uaf-large-freed-by-thread-written-by-main | uaf_cross_thread_large | SEGV | use-after-free | inside a 8192-byte block | - | alloc_large_malloc@Tn | release_block@Tn | bug_uaf_cross_thread_large

double-free-tiny | double_free alloc_tiny_malloc | 0 | double-free | a 13-byte block | ^free$ | alloc_tiny_malloc@T0 | release_block@T0 | release_again
double-free-small | double_free alloc_small_malloc | 0 | double-free | a 1000-byte block | ^free$ | alloc_small_malloc@T0 | release_block@T0 | release_again
double-free-large | double_free alloc_large_malloc | 0 | double-free | a 8192-byte block | ^free$ | alloc_large_malloc@T0 | release_block@T0 | release_again
double-free-tiny-calloc | double_free alloc_tiny_calloc | 0 | double-free | a 13-byte block | ^free$ | alloc_tiny_calloc | release_block | release_again
double-free-large-memalign | double_free alloc_large_memalign | 0 | double-free | a 8192-byte block | ^free$ | alloc_large_memalign | release_block | release_again
double-free-tiny-allocs-between | double_free_between alloc_tiny_malloc | 0 | double-free | a 13-byte block | ^free$ | alloc_tiny_malloc | release_block | release_again
double-free-small-allocs-between | double_free_between alloc_small_malloc | 0 | double-free | a 1000-byte block | ^free$ | alloc_small_malloc | release_block | release_again
double-free-large-allocs-between | double_free_between alloc_large_malloc_slack | 0 | double-free | a 5001-byte block | ^free$ | alloc_large_malloc_slack | release_block | release_again
double-free-tiny-after-quarantine | double_free_evict alloc_tiny_malloc | 0 | double-free | a 13-byte block | ^free$ | alloc_tiny_malloc | release_block | release_again
double-free-small-after-quarantine | double_free_evict alloc_small_malloc | 0 | double-free | a 1000-byte block | ^free$ | alloc_small_malloc | release_block | release_again
double-free-large-after-quarantine | double_free_evict alloc_large_malloc | 0 | double-free | a 8192-byte block | ^free$ | alloc_large_malloc | release_block | release_again
double-free-small-thread | thread double_free alloc_small_malloc | 0 | double-free | a 1000-byte block | ^free$ | alloc_small_malloc@Tn | release_block@Tn | release_again
double-free-freed-by-thread-again-by-main | double_free_cross_thread | 0 | double-free | a 1000-byte block | ^free$ | alloc_small_malloc@Tn | release_block@Tn | release_again

invalid-free-stack | free_stack | 0 | invalid-free | - | ^free$ | - | - | release_again
invalid-free-global | free_global | 0 | invalid-free | - | ^free$ | - | - | release_again
invalid-free-misaligned-global | free_misaligned_global | 0 | invalid-free | - | ^free$ | - | - | release_again
invalid-free-misaligned-heap | free_misaligned_heap | 0 | invalid-free | inside a 13-byte block | ^free$ | alloc_tiny_malloc | - | release_again
invalid-free-mmap | free_mmap | 0 | invalid-free | - | ^free$ | - | - | release_again
invalid-free-interior-tiny | free_interior alloc_tiny_malloc | 0 | invalid-free | 5 bytes inside a 13-byte block | ^free$ | alloc_tiny_malloc | - | release_again
invalid-free-interior-small | free_interior alloc_small_malloc | 0 | invalid-free | 5 bytes inside a 1000-byte block | ^free$ | alloc_small_malloc | - | release_again
invalid-free-interior-large | free_interior alloc_large_malloc | 0 | invalid-free | 5 bytes inside a 8192-byte block | ^free$ | alloc_large_malloc | - | release_again
invalid-free-interior-tiny-memalign | free_interior alloc_tiny_memalign | 0 | invalid-free | 5 bytes inside a 13-byte block | ^free$ | alloc_tiny_memalign | - | release_again
invalid-free-interior-thread | thread free_interior alloc_small_calloc | 0 | invalid-free | 5 bytes inside a 1000-byte block | ^free$ | alloc_small_calloc@Tn | - | release_again
realloc-interior-tiny | realloc_interior alloc_tiny_malloc | 0 | invalid-free | 5 bytes inside a 13-byte block | ^realloc$ | alloc_tiny_malloc | - | realloc_again
realloc-interior-small | realloc_interior alloc_small_malloc | 0 | invalid-free | 5 bytes inside a 1000-byte block | ^realloc$ | alloc_small_malloc | - | realloc_again
realloc-interior-large | realloc_interior alloc_large_malloc | 0 | invalid-free | 5 bytes inside a 8192-byte block | ^realloc$ | alloc_large_malloc | - | realloc_again
realloc-stack | realloc_stack | 0 | invalid-free | - | ^realloc$ | - | - | realloc_again

realloc-freed-tiny | realloc_freed alloc_tiny_malloc | 0 | double-free|use-after-free | a 13-byte block | ^realloc$ | alloc_tiny_malloc | release_block | realloc_again
realloc-freed-small | realloc_freed alloc_small_malloc | 0 | double-free|use-after-free | a 1000-byte block | ^realloc$ | alloc_small_malloc | release_block | realloc_again
realloc-freed-large | realloc_freed alloc_large_malloc | 0 | double-free|use-after-free | a 8192-byte block | ^realloc$ | alloc_large_malloc | release_block | realloc_again
realloc-freed-thread | thread realloc_freed alloc_small_calloc | 0 | double-free|use-after-free | a 1000-byte block | ^realloc$ | alloc_small_calloc@Tn | release_block@Tn | realloc_again

usable-size-interior-pointer | usable_interior alloc_tiny_malloc | 0 | invalid-pointer | 5 bytes inside a 13-byte block | ^malloc_usable_size$ | alloc_tiny_malloc | - | usable_again
usable-size-stack-pointer | usable_stack | 0 | invalid-pointer | - | ^malloc_usable_size$ | - | - | usable_again
usable-size-freed-block | usable_freed alloc_small_malloc | 0 | invalid-pointer|use-after-free | a 1000-byte block | ^malloc_usable_size$ | alloc_small_malloc | release_block | usable_again

leak-tiny-malloc | leak alloc_tiny_malloc | 0 | memory-leak | - | - | alloc_tiny_malloc@T0 | - | -
leak-small-malloc | leak alloc_small_malloc | 0 | memory-leak | - | - | alloc_small_malloc@T0 | - | -
leak-large-malloc | leak alloc_large_malloc | 0 | memory-leak | - | - | alloc_large_malloc@T0 | - | -
leak-large-slack-malloc | leak alloc_large_malloc_slack | 0 | memory-leak | - | - | alloc_large_malloc_slack | - | -
leak-tiny-calloc | leak alloc_tiny_calloc | 0 | memory-leak | - | - | alloc_tiny_calloc | - | -
leak-large-calloc | leak alloc_large_calloc | 0 | memory-leak | - | - | alloc_large_calloc | - | -
leak-small-realloc-grown | leak alloc_small_realloc_grown_from_tiny | 0 | memory-leak | - | - | alloc_small_realloc_grown_from_tiny | - | -
leak-large-realloc-grown | leak alloc_large_realloc_grown | 0 | memory-leak | - | - | alloc_large_realloc_grown | - | -
leak-tiny-realloc-shrunk | leak alloc_tiny_realloc_shrunk | 0 | memory-leak | - | - | alloc_tiny_realloc_shrunk | - | -
leak-tiny-memalign | leak alloc_tiny_memalign | 0 | memory-leak | - | - | alloc_tiny_memalign | - | -
leak-tiny-malloc-thread | thread leak alloc_tiny_malloc | 0 | memory-leak | - | - | alloc_tiny_malloc@Tn | - | -
leak-small-calloc-thread | thread leak alloc_small_calloc | 0 | memory-leak | - | - | alloc_small_calloc@Tn | - | -
leak-large-malloc-thread | thread leak alloc_large_malloc | 0 | memory-leak | - | - | alloc_large_malloc@Tn | - | -
leak-stale-copies-on-dead-stack | leak_unscrubbed alloc_small_malloc | 0 | memory-leak | - | - | alloc_small_malloc@T0 | - | -
leak-in-joined-thread-stale-copies-on-its-stack | thread leak_unscrubbed alloc_small_malloc | 0 | memory-leak | - | - | alloc_small_malloc@Tn | - | -
leak-while-another-thread-holds-a-block | leak_with_thread_alive | 0 | memory-leak | - | - | alloc_tiny_malloc@T0 | - | -
EOF
)

# ------------------------------------------------------------------ helpers

# check STDERR_FILE KIND WHERE API ALLOC FREED DET: empty output when the report is right
check() {
	awk -v kind="$2" -v where="$3" -v api="$4" -v alloc="$5" -v freed="$6" -v det="$7" \
	    -f "$here/check.awk" "$1"
}

# the status as the table spells it
status_name() {
	case $1 in
	0) echo 0 ;;
	124) echo "timeout after ${tmo}s" ;;
	139) echo SEGV ;;
	*) if [ "$1" -gt 128 ]; then echo "signal $(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
	   else echo "exit $1"; fi ;;
	esac
}

# exit_matches WANT GOT: GOT (a status_name) is one of WANT's '|'-separated forms
exit_matches() { [[ "|$1|" == *"|$2|"* ]]; }

# run_row N NAME ARGS EXIT KIND WHERE API ALLOC FREED DET: runs one row, writes
# its result line (and the explanation of a failure) to $logs/N.result
run_row() {
	local n=$1 name=$2 args=$3 want_exit=$4 kind=$5 where=$6 api=$7 alloc=$8 freed=$9 det=${10}
	local out=$logs/$name.out err=$logs/$name.err res=$logs/$n.result
	# shellcheck disable=SC2086
	# (in a subshell that is not exec'd, so that bash's "Segmentation fault"
	# notice goes to /dev/null, not into the suite's output)
	(
		timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT LD_PRELOAD="$lib" \
			"$bin" $args >"$out" 2>"$err"
		exit $?
	) 2>/dev/null
	local rc=$?
	local got reasons
	got=$(status_name $rc)
	reasons=$(check "$err" "$kind" "$where" "$api" "$alloc" "$freed" "$det")
	if ! exit_matches "$want_exit" "$got"; then
		reasons="${reasons:+$reasons; }ended with $got, expected $want_exit"
	elif [ "$got" = 0 ] && ! grep -q '^continued$' "$out"; then
		reasons="${reasons:+$reasons; }exit 0 but the program did not print 'continued'"
	fi
	{
		if [ "$n" = 0 ]; then
			# the self-test: the check must have failed
			if [ -n "$reasons" ]; then
				echo "PASS: death/$name (the check failed as it must: $reasons)"
			else
				echo "FAIL: death/$name: the checker accepted a clean program as '$kind'"
			fi
		elif [ -z "$reasons" ]; then
			echo "PASS: death/$name"
		else
			echo "FAIL: death/$name: $reasons"
			echo "    repro: LD_PRELOAD=$lib $bin $args"
			if [ -s "$err" ]; then
				head -n 40 "$err" | sed 's/^/    | /'
				[ "$(wc -l <"$err")" -gt 40 ] && echo "    | ... ($(wc -l <"$err") lines)"
			else
				echo "    (stderr empty)"
			fi
		fi
	} >"$res"
	if [ -z "$reasons" ] && [ "$n" != 0 ] && [ "${DEATH_KEEP:-0}" != 1 ]; then
		rm -f "$out" "$err"
	fi
}

# ---------------------------------------------------- the checker's self-tests
# Canned reports: the checker must accept the good one and reject each bad one.
harness_selftests() {
	local d=$logs/harness
	mkdir -p "$d"
	cat >"$d/good" <<'EOF'
some program output
ftmalloc: ERROR: heap-buffer-overflow on address 0x7f0000001d (0 bytes after a 13-byte block at 0x7f00000010) in free, thread T2
  detected at:
    #0 0x55555555 in release_block /x/bugs.c:31
    #1 0x55555556 in bug_overflow /x/bugs.c:200
  allocated by thread T2 at:
    #0 0x55555557 in malloc+0x20 (/x/libft_malloc.so)
    #1 0x55555558 in alloc_tiny_malloc /x/bugs.c:40
  freed by thread T0 at:
    #0 0x55555559 in release_block+0x10 (/x/bugs)
  bytes around 0x7f0000001d:
    0x7f00000010: 78 78 78 78 78 78 78 78 78 78 78 78 78[4f]fd fd
ftmalloc: ---
ftmalloc: ERROR: memory-leak on address 0x1 (1 bytes inside a 2-byte block at 0x1) in exit, thread T0
  allocated by thread T0 at:
    #0 0x1 in other_function /x/bugs.c:1
ftmalloc: SUMMARY: 1 error
EOF
	local cases=(
		# name | expect (ok/bad) | kind | where | api | alloc | freed | det
		"accepts-a-good-report|ok|heap-buffer-overflow|after a 13-byte block|^free\$|alloc_tiny_malloc@Tn|release_block@T0|bug_overflow"
		"accepts-kind-alternatives|ok|double-free|use-after-free|heap-buffer-overflow|-|-|-|-|-"
		"rejects-wrong-kind|bad|double-free|-|-|-|-|-"
		"rejects-kind-prefix|bad|heap-buffer|-|-|-|-|-"
		"rejects-wrong-parenthesis|bad|heap-buffer-overflow|before a 13-byte block|-|-|-|-"
		"rejects-wrong-function|bad|heap-buffer-overflow|-|^realloc\$|-|-|-"
		"rejects-allocator-not-in-allocated-by|bad|heap-buffer-overflow|-|-|alloc_small_malloc|-|-"
		"rejects-allocator-only-in-another-report|bad|heap-buffer-overflow|-|-|other_function|-|-"
		"rejects-allocator-only-in-freed-by|bad|heap-buffer-overflow|-|-|release_block|-|-"
		"rejects-name-prefix|bad|heap-buffer-overflow|-|-|alloc_tiny|-|-"
		"rejects-wrong-allocating-thread|bad|heap-buffer-overflow|-|-|alloc_tiny_malloc@T0|-|-"
		"rejects-wrong-freeing-thread|bad|heap-buffer-overflow|-|-|-|release_block@Tn|-"
		"rejects-freer-not-in-freed-by|bad|heap-buffer-overflow|-|-|-|bug_overflow|-"
		"rejects-detector-not-in-detected-at|bad|heap-buffer-overflow|-|-|-|-|alloc_tiny_malloc"
	)
	local c name expect kind where api alloc freed det r
	for c in "${cases[@]}"; do
		IFS='|' read -r name expect kind where api alloc freed det <<<"$c"
		# "accepts-kind-alternatives": the kind field itself holds a '|'
		if [ "$name" = accepts-kind-alternatives ]; then
			kind="double-free|use-after-free|heap-buffer-overflow" where=- api=- alloc=- freed=- det=-
		fi
		r=$(check "$d/good" "$kind" "$where" "$api" "$alloc" "$freed" "$det")
		if [ "$expect" = ok ] && [ -z "$r" ]; then echo "PASS: death/harness-$name"
		elif [ "$expect" = bad ] && [ -n "$r" ]; then echo "PASS: death/harness-$name"
		else echo "FAIL: death/harness-$name: checker said '${r:-nothing}'"
		fi
	done
	# no report at all, a malformed first line, a leak without summary
	printf 'just output\n' >"$d/none"
	r=$(check "$d/none" heap-buffer-overflow - - - - -)
	[ -n "$r" ] && echo "PASS: death/harness-rejects-no-report" || echo "FAIL: death/harness-rejects-no-report: accepted"
	printf 'ftmalloc: ERROR: double-free at 0x10\n  allocated by thread T0 at:\n    #0 0x1 in f a.c:1\n' >"$d/malformed"
	r=$(check "$d/malformed" double-free - - - - -)
	[ -n "$r" ] && echo "PASS: death/harness-rejects-malformed-line" || echo "FAIL: death/harness-rejects-malformed-line: accepted"
	printf 'ftmalloc: ERROR: memory-leak on address 0x10 (0 bytes inside a 1-byte block at 0x10) in exit, thread T0\n  allocated by thread T0 at:\n    #0 0x1 in f a.c:1\n' >"$d/nosummary"
	r=$(check "$d/nosummary" memory-leak - - f - -)
	[ -n "$r" ] && echo "PASS: death/harness-rejects-leak-without-summary" || echo "FAIL: death/harness-rejects-leak-without-summary: accepted"
	# the exit-status matching used by run_row
	local ok=1
	exit_matches 0 0 && exit_matches SEGV SEGV && exit_matches '0|SEGV' 0 && exit_matches '0|SEGV' SEGV || ok=0
	exit_matches SEGV 0 || exit_matches '0|SEGV' 'exit 1' || exit_matches 0 'signal ABRT' || exit_matches 0 'exit 0' && ok=0
	[ $ok = 1 ] && echo "PASS: death/harness-exit-matching" || echo "FAIL: death/harness-exit-matching: wrong verdict"
}

# -------------------------------------------------------------------- main
suite_build "$logs"
rm -f "$logs"/*.result "$logs"/*.out "$logs"/*.err

harness_selftests

suite_need_lib
suite_check_preload "$bin"

n=-1
running=0
names=()
while IFS= read -r line; do
	line=$(trim "$line")
	[ -z "$line" ] && continue
	# split on " | " (the KIND and exit fields may hold a bare '|')
	IFS=$'\x1f' read -r -a f <<<"${line// | /$'\x1f'}"
	if [ ${#f[@]} -ne 9 ]; then
		echo "FAIL: death/table: row '$line' has ${#f[@]} fields, expected 9"
		continue
	fi
	n=$((n + 1))
	for i in "${!f[@]}"; do f[$i]=$(trim "${f[$i]}"); done
	names[$n]=${f[0]}
	if [ -n "$only" ] && [ "$n" != 0 ] && ! [[ "${f[0]}" =~ $only ]]; then
		continue
	fi
	run_row "$n" "${f[@]}" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done <<<"$table"
wait
for i in $(seq 0 "$n"); do
	[ -f "$logs/$i.result" ] && cat "$logs/$i.result"
done
exit 0
