#!/usr/bin/env bash
# Stress suite: multithreaded, seeded, self-verifying runs of build/stress under
# LD_PRELOAD=$FTMALLOC_LIB, one harness self-check against glibc, and negative
# self-tests proving the checker, the watchdog and the fork watchdog can fail.
# Prints one "PASS: name ..." / "FAIL: name: reason" / "SKIP: name: reason" line per check.
#
# Environment (all optional):
#   FTMALLOC_LIB   the library to preload (default: $FTMALLOC_ROOT/libft_malloc.so)
#   STRESS_SEED    base seed (default 20251125); check k uses STRESS_SEED + k.
#                  "random" picks one (it is printed on every PASS/FAIL line).
#   STRESS_SCALE   percent of the default op counts (default 100); below 100 the
#                  20M-operation floor of stress/total is not checked (SKIP)
#   STRESS_KEEP    1: keep every log in build/logs/ (default: logs of failures only)
# Reproduce a failure with the "repro:" command printed under its FAIL line.
#
# Volume (issue 5): the runs with the default options (every detection on) add
# up to 20.4M operations over 2, 4, 8 and 16 threads, every one with forks;
# then each mode runs on its own: guard_all=1 (2 threads, all guarded, and 16
# threads, past the vm.max_map_count budget so the zone fallback is exercised),
# guard_sample=50, a big quarantine (64 MiB per thread, 256 MiB LARGE), zero
# quarantine, and every check off. stress/total sums what ran and fails if
# the default-option runs did fewer than 20M operations. About 100 s on the
# 2-core build machine when it is otherwise quiet.
set -u
cd "$(dirname "$0")"
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
base_seed=${STRESS_SEED:-20251125}
[ "$base_seed" = random ] && base_seed=$(( (RANDOM << 30) | (RANDOM << 15) | RANDOM ))
scale=${STRESS_SCALE:-100}
bin=$here/build/stress
logs=$here/build/logs

if ! make -s >build.log 2>&1; then
	echo "FAIL: stress/build: make failed: $(grep -m1 -i error build.log)"
	cat build.log
	rm -f build.log
	exit 1
fi
rm -f build.log
rm -rf "$logs"; mkdir -p "$logs"
echo "PASS: stress/build"

have_lib=1
if [ ! -e "$lib" ]; then
	have_lib=0
	libmsg="$lib missing (run make first)"
fi

logname() { tr -c 'A-Za-z0-9._-' '_' <<<"$1" | sed 's/_*$//'; }
ops() { echo $(( $1 * scale / 100 < 1 ? 1 : $1 * scale / 100 )); }
# Watchdog seconds, scaled up (never down) with the op counts.
secs() { echo $(( scale > 100 ? $1 * scale / 100 : $1 )); }
# Totals for stress/total (ftmalloc runs that passed, with the counts they printed).
tot_default=0 tot_modes=0 nruns=0 nfailed=0 threads_seen=" " modes_seen=()
# Each check has a fixed seed: STRESS_SEED + its number, whatever runs or is skipped.
use_seed() { seed=$((base_seed + $1)); }

# Print the lines of a log that explain a failure, indented.
# (everything after the parameter line: our diagnostics and whatever the allocator printed).
explain() {
	grep -v '^stress: seed=' "$1" | head -n 25 | sed 's/^/    /'
}

# preload_failed ALLOC LOG NAME: under ftmalloc, did malloc really come from it?
# (A bad LD_PRELOAD is only a warning for ld.so.) Prints a FAIL line if not.
preload_failed() {
	local head1
	[ "$1" = ftmalloc ] || return 1
	head1=$(grep -m1 '^stress: seed=' "$2")
	[ -n "$head1" ] || return 1
	grep -q 'malloc-from=[^ ]*libft_malloc' <<<"$head1" && return 1
	echo "FAIL: $3: LD_PRELOAD=$lib did not take effect: malloc-from=$(sed 's/.*malloc-from=//' <<<"$head1")"
	head -n 5 "$2" | sed 's/^/    /'
	return 0
}

repro_env() {
	[ "$1" = ftmalloc ] || return 0
	printf 'LD_PRELOAD=$FTMALLOC_LIB '
	[ -n "$run_opts" ] && printf 'FTMALLOC_OPTIONS=%s ' "$run_opts"
	return 0
}

# run NAME ALLOC ALARM ARGS...: ALLOC is "ftmalloc" or "glibc". Expects exit 0.
# With run_opts set, ftmalloc runs with FTMALLOC_OPTIONS=$run_opts.
run_opts=
run() {
	local name=$1 alloc=$2 alarm=$3; shift 3
	local log=$logs/$(logname "$name").log pre=() t0 t1 rc
	if [ "$alloc" = ftmalloc ]; then
		[ $have_lib = 1 ] || { echo "SKIP: $name: $libmsg"; return; }
		pre=(env "LD_PRELOAD=$lib")
		[ -n "$run_opts" ] && pre+=("FTMALLOC_OPTIONS=$run_opts")
	fi
	t0=$EPOCHREALTIME
	# The program's own alarm() reports a deadlock; timeout(1) is the backstop.
	timeout -k 5 $((alarm + 30)) "${pre[@]}" "$bin" -a "$alarm" "$@" >"$log" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	# counted as failed until it passes
	[ "$alloc" = ftmalloc ] && nruns=$((nruns + 1)) && nfailed=$((nfailed + 1))
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	local okline first
	okline=$(grep -m1 '^OK:' "$log")
	preload_failed "$alloc" "$log" "$name" && return
	if [ -n "$run_opts" ] && grep -q 'FTMALLOC_OPTIONS ignored' "$log"; then
		echo "FAIL: $name: FTMALLOC_OPTIONS=$run_opts not understood: $(grep -m1 'FTMALLOC_OPTIONS ignored' "$log")"
		return
	fi
	# Our program is clean (no overflow, double free or leak of its own), so any
	# report from the allocator - error or exit summary - is a failure too.
	local ftrep
	ftrep=$(grep -m1 -E '^ftmalloc: (ERROR|SUMMARY)' "$log")
	if [ $rc -eq 0 ] && [ -n "$okline" ] && [ -n "$ftrep" ]; then
		echo "FAIL: $name: the run verified clean but ftmalloc reported: $ftrep (${wall}s, seed $seed, log tests/stress/build/logs/$(logname "$name").log)"
		grep -E -A12 '^ftmalloc: ERROR' "$log" | head -n 30 | sed 's/^/    /'
		echo "    repro: $(repro_env "$alloc")tests/stress/build/stress -a $alarm $*"
		return
	fi
	if [ $rc -eq 0 ] && [ -n "$okline" ]; then
		local tops forks mid
		tops=$(sed -n 's/.* total_ops=\([0-9]*\).*/\1/p' <<<"$okline")
		forks=$(sed -n 's/.* forks=\([0-9]*\).*/\1/p' <<<"$okline")
		mid=$(sed -n 's/.* forks_mid_run=\([0-9]*\).*/\1/p' <<<"$okline")
		local fk=""
		[ "$forks" != 0 ] && fk=", $forks forks ($mid while workers ran)"
		if [ "$forks" != 0 ] && [ "$mid" = 0 ]; then
			echo "FAIL: $name: no fork happened while the worker threads were running (seed $seed)"
			return
		fi
		# A warning from the allocator (e.g. guard_all out of map areas: the zone
		# fallback) is no failure, but worth showing.
		local warn
		warn=$(grep -m1 '^ftmalloc: warning:' "$log" | cut -c20-130)
		[ -n "$warn" ] && warn="; ftmalloc warned: $warn..."
		echo "PASS: $name: $(sed -n 's/.*threads=\([0-9]*\) ops=\([0-9]*\).*/\1 threads x \2 ops/p' <<<"$okline") = $tops ops$fk, ${wall}s wall, seed $seed$warn"
		if [ "$alloc" = ftmalloc ]; then
			nfailed=$((nfailed - 1))
			local nt
			nt=$(sed -n 's/.*threads=\([0-9]*\).*/\1/p' <<<"$okline")
			case "$threads_seen" in *" $nt "*) ;; *) threads_seen="$threads_seen$nt ";; esac
			if [ -z "$run_opts" ]; then
				tot_default=$((tot_default + tops))
			else
				tot_modes=$((tot_modes + tops))
				modes_seen+=("$run_opts")
			fi
		fi
		[ "${STRESS_KEEP:-0}" = 1 ] || rm -f "$log"
		return
	fi
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		first="killed by timeout(1) after $((alarm + 30))s: the program's alarm did not fire"
	else
		first=$(grep -m1 -E '^(CORRUPTION|FAILURE|CRASH|TIMEOUT|ftmalloc: ERROR)' "$log")
		[ -n "$first" ] || first="exit status $rc, no diagnostic (last line: $(tail -n1 "$log"))"
		[ $rc -gt 128 ] && first="$first; killed by signal $((rc - 128))"
	fi
	echo "FAIL: $name: $first (exit $rc, ${wall}s, seed $seed, log tests/stress/build/logs/$(logname "$name").log)"
	explain "$log"
	echo "    repro: $(repro_env "$alloc")tests/stress/build/stress -a $alarm $*"
}

# expect_fail NAME ALLOC ALARM WANT_RC PATTERN ARGS...: the run must exit WANT_RC
# and print PATTERN (negative self-tests of the harness).
expect_fail() {
	local name=$1 alloc=$2 alarm=$3 want=$4 pat=$5; shift 5
	local log=$logs/$(logname "$name").log pre=() rc
	if [ "$alloc" = ftmalloc ]; then
		[ $have_lib = 1 ] || { echo "SKIP: $name: $libmsg"; return; }
		pre=(env "LD_PRELOAD=$lib")
	fi
	local t0=$EPOCHREALTIME
	timeout -k 5 $((alarm + 30)) "${pre[@]}" "$bin" -a "$alarm" "$@" >"$log" 2>&1
	rc=$?
	local wall
	wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	preload_failed "$alloc" "$log" "$name" && return
	if [ $rc -ne "$want" ]; then
		echo "FAIL: $name: expected exit $want, got $rc (${wall}s, log tests/stress/build/logs/$(logname "$name").log)"
		explain "$log"
		return
	fi
	if ! grep -qE "$pat" "$log"; then
		echo "FAIL: $name: exit $rc but no line matching /$pat/ (log tests/stress/build/logs/$(logname "$name").log)"
		explain "$log"
		return
	fi
	echo "PASS: $name: failed as it must (exit $rc, ${wall}s): $(grep -m1 -E "$pat" "$log" | cut -c1-150)"
	[ "${STRESS_KEEP:-0}" = 1 ] || rm -f "$log"
}

# ---- negative self-tests: the harness must be able to fail -------------------
# -X corrupts one byte of a live block at mid-run; the verifier must catch that
# very byte (same block address, size and offset) and exit 1.
corrupt_check() {
	local name=$1 alloc=$2
	use_seed "$3"
	local log=$logs/$(logname "$name").log pre=() rc
	if [ "$alloc" = ftmalloc ]; then
		[ $have_lib = 1 ] || { echo "SKIP: $name: $libmsg"; return; }
		pre=(env "LD_PRELOAD=$lib")
	fi
	timeout -k 5 90 "${pre[@]}" "$bin" -a 60 -t 4 -n 60000 -s "$seed" -X >"$log" 2>&1
	rc=$?
	preload_failed "$alloc" "$log" "$name" && return
	local sel cor want
	sel=$(grep -m1 '^SELFTEST: corrupting' "$log")
	cor=$(grep -m1 '^CORRUPTION: ' "$log")
	# "block=0x... size=N at offset M" -> "block=0x... size=N ... offset M"
	want=$(sed -n 's/.*\(block=0x[0-9a-f]* size=[0-9]*\) at offset \([0-9]*\).*/\1 \2/p' <<<"$sel")
	local blk=${want% *} off=${want##* }
	if [ $rc -ne 1 ] || [ -z "$sel" ] || [ -z "$cor" ]; then
		echo "FAIL: $name: deliberate corruption not reported (exit $rc, seed $seed, log tests/stress/build/logs/$(logname "$name").log)"
		explain "$log"
		return
	fi
	if grep -q '^ftmalloc: ERROR' "$log"; then
		echo "FAIL: $name: ftmalloc reported an error although only user bytes were changed: $(grep -m1 '^ftmalloc: ERROR' "$log")"
		return
	fi
	if ! grep -q "$blk" <<<"$cor" || ! grep -q "first bad byte at offset $off:" <<<"$cor"; then
		echo "FAIL: $name: reported the wrong place: corrupted $blk offset $off, report: $cor"
		return
	fi
	echo "PASS: $name: deliberate 1-byte corruption caught (exit 1): $blk offset $off, op $(sed 's/.*op=\([^ ]*\).*/\1/' <<<"$cor")"
	[ "${STRESS_KEEP:-0}" = 1 ] || rm -f "$log"
}

# ---- harness self-check against glibc (no LD_PRELOAD) --------------------------
use_seed 1
run "HARNESS-SELFCHECK glibc (no preload) 4t-fork" glibc 120 \
	-t 4 -n "$(ops 1000000)" -s "$seed" -f
corrupt_check "selftest-corrupt (glibc)" glibc 2
use_seed 3
expect_fail "selftest-hang-detected (glibc)" glibc 2 2 '^TIMEOUT: .*per-thread progress' \
	-t 4 -n 100000 -s "$seed" -H
use_seed 4
expect_fail "selftest-fork-hang-detected (glibc)" glibc 60 1 'fork child 0 .*exited with status 4' \
	-t 2 -n 200000 -s "$seed" -C -c 2 -F 1

# ---- ftmalloc -----------------------------------------------------------------
corrupt_check "selftest-corrupt (ftmalloc)" ftmalloc 5
# Default options (every detection on): 10M + 4M + 3.2M + 3.2M = 20.4M ops.
use_seed 6
run "ftmalloc 4t-fork" ftmalloc "$(secs 400)" -t 4 -n "$(ops 2500000)" -s "$seed" -f
use_seed 7
run "ftmalloc 2t-fork" ftmalloc "$(secs 250)" -t 2 -n "$(ops 2000000)" -s "$seed" -f
use_seed 8
run "ftmalloc 8t-fork" ftmalloc "$(secs 250)" -t 8 -n "$(ops 400000)" -s "$seed" -f
use_seed 9
run "ftmalloc 16t-fork" ftmalloc "$(secs 250)" -t 16 -n "$(ops 200000)" -s "$seed" -f

# ---- ftmalloc modes --------------------------------------------------------------
# guard_all: every block in a mapping of its own (~15x slower). 2 threads stay
# under the map budget taken from vm.max_map_count; 16 threads x ~3,000 live
# blocks go past it (with the default 65530), so blocks also come from the
# zones (the fallback, announced by a warning the PASS line shows) and back.
use_seed 11
run_opts=guard_all=1
run "ftmalloc 2t-fork guard_all ($run_opts)" ftmalloc "$(secs 150)" -t 2 -n "$(ops 150000)" -s "$seed" -f
use_seed 12
run "ftmalloc 16t-fork guard_all ($run_opts)" ftmalloc "$(secs 150)" \
	-t 16 -n "$(ops 20000)" -s "$seed" -f
use_seed 13
run_opts=guard_sample=50
run "ftmalloc 8t-fork guard_sample ($run_opts)" ftmalloc "$(secs 150)" -t 8 -n "$(ops 150000)" -s "$seed" -f
# Big quarantine: freed blocks wait long (64 MiB per thread, 256 MiB of LARGE).
use_seed 14
run_opts=quarantine=64m:large_quarantine=256m
run "ftmalloc 4t-fork big-quarantine ($run_opts)" ftmalloc "$(secs 150)" -t 4 -n "$(ops 300000)" -s "$seed" -f
# Zero quarantine: freed slots and mappings are reused at once.
use_seed 15
run_opts=quarantine=0:large_quarantine=0
run "ftmalloc 16t-fork zero-quarantine ($run_opts)" ftmalloc "$(secs 150)" -t 16 -n "$(ops 60000)" -s "$seed" -f
# The other code paths: no guard pages, canaries, quarantines or backtraces
# (immediate reuse of freed slots and mappings).
use_seed 10
run_opts=guard=0:canary=0:quarantine=0:large_quarantine=0:backtrace_depth=0
run "ftmalloc 4t-fork all-checks-off ($run_opts)" ftmalloc "$(secs 100)" -t 4 -n "$(ops 400000)" -s "$seed" -f
run_opts=

# ---- the total -------------------------------------------------------------------
floor=20000000
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
mode_list=$(printf '%s\n' "${modes_seen[@]}" | awk 'NF && !seen[$0]++' | paste -sd, | sed 's/,/, /g')
threads=$(tr ' ' '\n' <<<"$threads_seen" | grep . | sort -n | paste -sd/)
summary="$(commas $((tot_default + tot_modes))) ops under ftmalloc in $((nruns - nfailed)) runs: $(commas "$tot_default") with the default options (detection on) + $(commas "$tot_modes") in modes ($mode_list); threads ${threads:-none}; base seed $base_seed"
if [ $have_lib = 0 ]; then
	echo "SKIP: stress/total: $libmsg"
elif [ $nfailed -gt 0 ]; then
	echo "FAIL: stress/total: $nfailed of $nruns ftmalloc runs failed (see above); $summary"
elif [ "$scale" -lt 100 ]; then
	echo "SKIP: stress/total: STRESS_SCALE=$scale, the $(commas $floor)-op floor is not checked; $summary"
elif [ $tot_default -lt $floor ]; then
	echo "FAIL: stress/total: only $(commas "$tot_default") ops with the default options, below the $(commas $floor) floor; $summary"
else
	echo "PASS: stress/total: $summary"
fi
exit 0
