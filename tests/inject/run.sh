#!/usr/bin/env bash
# Failure injection (fail_after, fail_rate, fail_seed, fail_site, logging):
# a program that checks every malloc result runs with each, and what failed
# is compared with what the options ask. Prints PASS:/FAIL: lines.
set -u
cd "$(dirname "$0")"
lib=${FTMALLOC_LIB:-$(cd ../.. && pwd)/libft_malloc.so}
make -s build/prog >/dev/null 2>&1 || { echo "FAIL: inject/build: make failed"; exit 1; }
P=./build/prog

# run OPTIONS ARGS...: the program's stdout (stderr in $err)
err=$(mktemp)
trap 'rm -f "$err"' EXIT
run() {
	local o=$1
	shift
	timeout 30 env FTMALLOC_OPTIONS="leak_check=0:$o" LD_PRELOAD="$lib" "$P" "$@" 2>"$err"
}
check() {  # check NAME CONDITION-RESULT WHY
	if [ "$2" = ok ]; then echo "PASS: inject/$1"; else echo "FAIL: inject/$1: $3"; fi
}

# off by default: nothing fails
got=$(run "" pattern 300)
[ "$got" = "$(printf '.%.0s' $(seq 300))" ] && r=ok || r=no
check off-by-default $r "failures without the options: $got"

# fail_after=N: from the N-th allocation on every one fails, none before; the
# program's own allocations may start after a few of libc's, so the first
# failure is at or before its N-th allocation
got=$(run "fail_after=50" pattern 200)
first=$(expr index "$got" x)
if [ "$first" -ge 1 ] && [ "$first" -le 50 ] && [[ ${got:0:first-1} != *x* ]] &&
	[[ ${got:first-1} != *.* ]] && [[ $got != *'?'* ]]; then r=ok; else r=no; fi
check fail_after=50 $r "pattern $got"

# ENOMEM and NULL, and a failed realloc leaves the old block as it was
got=$(run "fail_after=2" realloc)
[ "$got" = "realloc failed, old block intact" ] && r=ok || r=no
check fail_after-realloc-keeps-old-block $r "'$got'"

# fail_rate=0.5: about half of 2000, the same failures again with the same
# seed, other failures with another seed
a=$(run "fail_rate=0.5:fail_seed=7" pattern 2000)
b=$(run "fail_rate=0.5:fail_seed=7" pattern 2000)
c=$(run "fail_rate=0.5:fail_seed=8" pattern 2000)
nx=$(tr -cd x <<<"$a" | wc -c)
[ "$nx" -ge 700 ] && [ "$nx" -le 1300 ] && r=ok || r=no
check fail_rate=0.5-about-half $r "$nx of 2000 failed"
[ "$a" = "$b" ] && r=ok || r=no
check fail_seed-reproducible $r "two runs with seed 7 differ"
[ "$a" != "$c" ] && r=ok || r=no
check fail_seed-changes-pattern $r "seeds 7 and 8 gave the same failures"
got=$(run "fail_rate=0" pattern 500)
[[ $got != *x* ]] && r=ok || r=no
check fail_rate=0-nothing $r "failures at rate 0"
got=$(run "fail_rate=1" pattern 100)
[[ ${got:50} != *.* ]] && r=ok || r=no
check fail_rate=1-everything $r "successes at rate 1: $got"

# a bad rate: one warning naming it, nothing injected
got=$(run "fail_rate=1.5" pattern 100)
[ "$(grep -c "fail_rate=1.5" "$err")" = 1 ] && [[ $got != *x* ]] && r=ok || r=no
check fail_rate=1.5-warns-and-stays-off $r "stderr: $(head -c 200 "$err")"

# fail_site: only the allocations made in alloc_b fail
got=$(run "fail_after=1:fail_site=alloc_b" sites 100)
[ "$got" = "a failed 0, b failed 100" ] && r=ok || r=no
check fail_site-only-matching-stack $r "'$got'"

# verbosity=1 logs each injected failure with its stack
got=$(run "fail_after=1:fail_site=alloc_b:verbosity=1" sites 3)
n=$(grep -c "^ftmalloc: injected failure of allocation" "$err")
[ "$n" = 3 ] && grep -q "in alloc_b" "$err" && r=ok || r=no
check verbosity-logs-each-failure-with-stack $r "$n log lines; stderr: $(head -c 300 "$err")"
exit 0
