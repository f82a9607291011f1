#!/usr/bin/env bash
# Unit/API suite of ftmalloc: builds the test programs into build/, then runs
# every test in its own process and prints one PASS/FAIL/SKIP line per test.
#
# Environment (set by tests/run.sh):
#   FTMALLOC_LIB   absolute path of libft_malloc.so (default: ../../libft_malloc.so)
#   FTMALLOC_ROOT  the source tree (default: ../..)
# For validating the suite itself against glibc: UNIT_ALLOCATOR=glibc ./run.sh
# (no LD_PRELOAD; ftmalloc-only tests SKIP; the linked programs are not run).
# UNIT_TIMEOUT: seconds allowed to one test (default 30).
set -u
cd "$(dirname "$0")"
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
mode=${UNIT_ALLOCATOR:-ftmalloc}
tmo=${UNIT_TIMEOUT:-30}
export UNIT_ALLOCATOR=$mode

err=$(mktemp)
out=$(mktemp)
trap 'rm -f "$err" "$out"' EXIT

if [ "$mode" = glibc ]; then
	targets=preloaded
	preload=()
else
	if [ ! -e "$lib" ]; then
		echo "FAIL: unit-build: $lib does not exist (run make first)"
		exit 1
	fi
	targets=all
	preload=(env "LD_PRELOAD=$lib")
fi

if ! make -s -C "$here" FTLIBDIR="$(dirname "$lib")" $targets >"$err" 2>&1; then
	echo "FAIL: unit-build: make failed: $(grep -m1 -E 'error|Error' "$err")"
	cat "$err" >&2
	exit 1
fi

# last non-empty line of the test's stderr, for FAIL reasons
stderr_tail() {
	local t
	t=$(grep -v '^[[:space:]]*$' "$err" | tail -n 1 | cut -c1-200)
	[ -n "$t" ] && printf ' (stderr: %s)' "$t"
}

# run_one NAME CMD...: runs one harness test and prints its result line
run_one() {
	local name=$1; shift
	timeout -k 5 "$tmo" "$@" "$name" >"$out" 2>"$err"
	local rc=$?
	local line
	line=$(grep -m1 -E "^(PASS|FAIL|SKIP): $name(:|\$)" "$out")
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "FAIL: $name: timed out after ${tmo}s$(stderr_tail)"
	elif [ -z "$line" ]; then
		if [ $rc -gt 128 ]; then
			echo "FAIL: $name: killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))$(stderr_tail)"
		else
			echo "FAIL: $name: exited with status $rc and no result line$(stderr_tail)"
		fi
	elif [ $rc -ne 0 ] && [ "${line%%:*}" != FAIL ]; then
		echo "FAIL: $name: printed '${line%%:*}' but then exited with status $rc$(stderr_tail)"
	else
		echo "$line"
	fi
}

# run_prog CMD...: every test of a harness program
run_prog() {
	local t
	for t in $("$@" --list); do
		run_one "$t" "$@"
	done
}

# run_standalone NAME EXPECTED_STDOUT CMD...: a start-up program, compared as a whole
run_standalone() {
	local name=$1 expect=$2; shift 2
	timeout -k 5 "$tmo" "$@" >"$out" 2>"$err"
	local rc=$?
	local got
	got=$(cat "$out")
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "FAIL: $name: timed out after ${tmo}s$(stderr_tail)"
	elif [ $rc -ne 0 ]; then
		echo "FAIL: $name: exit status $rc, stdout: $(tr '\n' '|' <"$out" | cut -c1-200)$(stderr_tail)"
	elif [ "$got" != "$expect" ]; then
		echo "FAIL: $name: wrong output: got '$(printf %s "$got" | tr '\n' '|')', want '$(printf %s "$expect" | tr '\n' '|')'"
	else
		echo "PASS: $name"
	fi
}

b=$here/build
# The zone bookkeeping of the core allocator is checked with the detection
# features that hold freed memory back (the two quarantines) off: with them
# on, a freed block's slot is reused, and an emptied zone unmapped, only once
# the block leaves quarantine. The page-fault budgets are the core's, so they
# are measured with every detection feature off; the 1024 x malloc(1024)
# budget is checked in full debug mode (the defaults) as well.
core=(env "FTMALLOC_OPTIONS=quarantine=0:large_quarantine=0")
nodetect=(env "FTMALLOC_OPTIONS=canary=0:quarantine=0:large_quarantine=0:backtrace_depth=0:alloc_fill=0:leak_check=0")
run_prog "${preload[@]}" "$b/api"
if [ "$mode" = glibc ]; then
	echo "SKIP: zones-and-show_alloc_mem: linked with -lft_malloc, not run against glibc"
else
	run_prog "${core[@]}" "$b/zones"
	run_prog "$b/showex"
fi
run_prog "${preload[@]}" "$b/threads"
run_prog "${preload[@]}" "$b/names"
run_prog "${nodetect[@]}" "${preload[@]}" "$b/pagefaults"
run_one pagefaults-1024x1024 "${preload[@]}" "$b/pagefaults" |
	sed -E 's/^(PASS|FAIL|SKIP): pagefaults-1024x1024/\1: pagefaults-1024x1024-debug-mode/'
run_prog "${preload[@]}" "$b/bt_test"

alloc=$mode
run_standalone startup-dlopen "cos(0) = 1.0
missing symbol: NULL with dlerror message
missing library: NULL with dlerror message
reopen: ok
allocator: $alloc" "${preload[@]}" "$b/prog_dlopen"
run_standalone startup-threads-before-any-malloc "threads: 8 ok, 0 bad
allocator: $alloc" "${preload[@]}" "$b/prog_early_threads"
run_standalone startup-threads-in-constructor "constructor threads: ok
allocator: $alloc" "${preload[@]}" "$b/prog_ctor_threads"
run_standalone startup-cxx-string-vector-iostream-exceptions "vector: 1000 strings, 32390 chars
map sum: 672750
caught: 100
bad_alloc: thrown
new huge: bad_alloc
stream: 290 chars
allocator: $alloc" "${preload[@]}" "$b/prog_cxx"
exit 0
