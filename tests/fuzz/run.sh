#!/usr/bin/env bash
# Fuzz suite of ftmalloc: the FTMALLOC_OPTIONS parser and the suppressions
# file parser under libFuzzer (see Makefile for the layout). (That the
# parsed options are read-only afterwards is the wild suite's to check.)
#
#   tests/fuzz/run.sh            CI: each target 20 s from the seed corpus
#   tests/fuzz/run.sh SECONDS    "make fuzz": each target SECONDS, corpus kept
#                                in build/corpus/ from one run to the next
#
# Checks (one line each, "PASS: fuzz/NAME ...", "FAIL: fuzz/NAME: why",
# "SKIP: fuzz/NAME: why"):
#   fuzz/build                    the targets build
#   fuzz/options, fuzz/suppressions   a fuzzing run: executions, or the crash
#                                 and the input that caused it
#   fuzz/NAME-regressions         every input of regressions/NAME/ replayed
#   fuzz/long-inputs              inputs past the fuzzing length limit: a
#                                 70000-byte option value, 100000 separators,
#                                 suppressions over 64 KiB, 1100 rules
#   fuzz/replay-driver            the fallback driver (driver.c) builds and
#                                 runs over the corpus and 2000 mutations
# Without libFuzzer (clang missing or without its fuzzer runtime) the
# fuzzing runs use the driver instead (seeded mutations, no coverage); only
# without any C compiler are they skipped.
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT,
# CLANG (clang), CC (cc).
set -u
cd "$(dirname "$0")" || exit 1
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
CLANG=${CLANG:-clang}
CC=${CC:-cc}
B=build
logs=$B/logs
targets="options suppressions"
ulimit -c 0

if [ $# -ge 1 ]; then
	secs=$1
	long=1
else
	secs=${FUZZ_CI_SECONDS:-20}
	long=0
fi
mkdir -p "$logs"

nfail=0
pass() { echo "PASS: fuzz/$*"; }
fail() { echo "FAIL: fuzz/$*"; nfail=$((nfail + 1)); }

# Show an input: its first 160 bytes, escaped.
show() {
	if command -v python3 >/dev/null; then
		python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(repr(d[:160])[1:] + ("... (%d bytes)" % len(d) if len(d) > 160 else ""))' "$1"
	else
		head -c 160 "$1" | od -An -c | tr -s ' \n' ' '
		echo
	fi
}

# The first line of a log that says why a run failed.
why() {
	grep -m1 -E 'fuzz: invariant broken|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|ERROR: libFuzzer|^driver:|Segmentation|Aborted' "$1" || tail -n 1 "$1"
}

# ------------------------------------------------------------ which engine

engine=none
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$B/probe.c"
printf 'int main(void) { return 0; }\n' >"$B/probe-main.c"
if command -v "$CLANG" >/dev/null &&
	"$CLANG" -fsanitize=fuzzer,address,undefined "$B/probe.c" -o "$B/probe" >"$logs/probe.log" 2>&1; then
	engine=libfuzzer
fi
# The driver's compiler: clang, else cc; with the sanitizers when they link.
rcc=""
for c in "$CLANG" "$CC"; do
	command -v "$c" >/dev/null && { rcc=$c; break; }
done
rsan=""
if [ -n "$rcc" ] && "$rcc" -fsanitize=address,undefined "$B/probe-main.c" -o "$B/probe-main" >>"$logs/probe.log" 2>&1; then
	rsan="-fsanitize=address,undefined -fno-sanitize-recover=all"
fi
if [ "$engine" = none ] && [ -n "$rcc" ]; then
	engine=replay
	if command -v "$CLANG" >/dev/null; then
		echo "note: $CLANG cannot link -fsanitize=fuzzer ($(grep -m1 -i error "$logs/probe.log")): the driver runs seeded mutations instead"
	else
		echo "note: $CLANG missing: the driver runs seeded mutations instead ($rcc)"
	fi
fi
if [ "$engine" = none ]; then
	for t in $targets; do echo "SKIP: fuzz/$t: no C compiler (clang or cc)"; done
	exit 0
fi

# ------------------------------------------------------------ build

if [ "$engine" = libfuzzer ]; then
	what=fuzzers bin=fuzz
else
	what=replay bin=replay
fi
if ! make -s "$what" REPLAY_CC="$rcc" REPLAY_SAN="$rsan" >"$logs/build.log" 2>&1; then
	fail "build: make $what failed: $(grep -m1 -iE 'error|undefined' "$logs/build.log")"
	exit 1
fi
pass "build ($engine)"

# ------------------------------------------------------------ fuzzing runs

maxlen_options=4200  # past OPT_STR_MAX (4096); longer ones: long-inputs
maxlen_suppressions=8192  # room for 1100 short rules; longer: long-inputs
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# fuzz NAME: one run of SECS seconds in the background; log in $logs/NAME.log.
fuzz() {
	local t=$1 work art maxlen
	eval "maxlen=\$maxlen_$t"
	art=$B/artifacts/$t
	rm -rf "$art"
	mkdir -p "$art"
	if [ "$long" = 1 ]; then
		work=$B/corpus/$t
	else
		work=$B/ci/$t
		rm -rf "$work"
	fi
	mkdir -p "$work"
	# In a subshell with stderr closed: no "Aborted" line from bash.
	if [ "$engine" = libfuzzer ]; then
		( "$B/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -dict="$B/$t.dict" \
			-max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" \
			"$work" "corpus/$t" >"$logs/$t.log" 2>&1; echo $? >"$logs/$t.rc" ) 2>/dev/null
	else
		local seed=$(( $(date +%s) % 100000 ))
		echo "driver seed $seed" >"$logs/$t.log"
		( "$B/replay_$t" -runs=1000000000 -max_total_time="$secs" -seed="$seed" -dict="$B/$t.dict" \
			-max_len="$maxlen" -artifact_prefix="$art/" "corpus/$t" >>"$logs/$t.log" 2>&1
		  echo $? >"$logs/$t.rc" ) 2>/dev/null
	fi
}

start=$(date +%s)
for t in $targets; do fuzz "$t" & done
wait
elapsed=$(( $(date +%s) - start ))
for t in $targets; do
	rc=$(cat "$logs/$t.rc")
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n 1)
	crash=$(find "$B/artifacts/$t" -type f | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$crash" ] && [ -n "$n" ]; then
		pass "$t: $n executions in ${secs}s ($engine), no crash"
	elif [ -n "$crash" ]; then
		fail "$t: $(why "$logs/$t.log"); input $PWD/$crash: $(show "$crash") (log $PWD/$logs/$t.log; fix, then copy the input into regressions/$t/)"
	else
		fail "$t: exit status $rc, $(why "$logs/$t.log") (log $PWD/$logs/$t.log)"
	fi
done
[ "$long" = 1 ] && echo "fuzzing took ${elapsed}s; corpus kept in $PWD/$B/corpus/"

# ------------------------------------------------------------ replays

# replay NAME FILE...: the target once on each file; on a failure, $msg says
# which and why.
msg=""
replay() {
	local t=$1 f
	shift
	for f in "$@"; do
		if ! ( "$B/${bin}_$t" "$f" >"$logs/replay.log" 2>&1; r=$?; exit $r ) 2>/dev/null; then
			msg="$(why "$logs/replay.log") on $PWD/$f: $(show "$f")"
			return 1
		fi
	done
}

for t in $targets; do
	files=()
	for f in "regressions/$t"/*; do [ -f "$f" ] && files+=("$f"); done
	# no check (it could not fail) until a crash has given this target an input
	if [ ${#files[@]} -eq 0 ]; then
		continue
	elif replay "$t" "${files[@]}"; then
		pass "$t-regressions: ${#files[@]} inputs"
	else
		fail "$t-regressions: $msg"
	fi
done

gen=$B/long
rm -rf "$gen"
mkdir -p "$gen/options" "$gen/suppressions"
{ printf 'log_path='; head -c 70000 /dev/zero | tr '\0' x; } >"$gen/options/value-70000"
{ printf 'log_path='; head -c 4095 /dev/zero | tr '\0' x; printf ':canary=0'; } >"$gen/options/value-4095"
head -c 100000 /dev/zero | tr '\0' : >"$gen/options/separators-100000"
for i in $(seq 1 3000); do printf 'quarantine=%dk:' "$i"; done >"$gen/options/options-3000"
for i in $(seq 1 7000); do printf 'leak:pattern_%05d\n' "$i"; done >"$gen/suppressions/over-64k"
head -c 70000 /dev/zero | tr '\0' x >"$gen/suppressions/one-line-over-64k"
{ for i in $(seq 1 4095); do printf 'leak:%010d\n' "$i"; done; printf '#%14s\n' x; } >"$gen/suppressions/exactly-64k"
for i in $(seq 1 1100); do printf '*:r%d\n' "$i"; done >"$gen/suppressions/rules-1100"
if [ "$(wc -c <"$gen/suppressions/exactly-64k")" -ne 65536 ]; then
	fail "long-inputs: exactly-64k is $(wc -c <"$gen/suppressions/exactly-64k") bytes"
elif replay options "$gen"/options/* && replay suppressions "$gen"/suppressions/*; then
	pass "long-inputs: $(ls "$gen"/*/ | grep -c .) inputs up to 100000 bytes"
else
	fail "long-inputs: $msg"
fi

# The fallback driver must keep working where libFuzzer is the engine.
if [ "$engine" = libfuzzer ]; then
	if ! make -s replay REPLAY_CC="$rcc" REPLAY_SAN="$rsan" >"$logs/replay-build.log" 2>&1; then
		fail "replay-driver: make replay failed: $(grep -m1 -iE 'error|undefined' "$logs/replay-build.log")"
	else
		ok=1 total=0
		for t in $targets; do
			dirs=("corpus/$t")
			[ -d "regressions/$t" ] && dirs+=("regressions/$t")
			if ! ( "$B/replay_$t" -runs=2000 -seed=1 -dict="$B/$t.dict" -artifact_prefix="$B/artifacts/$t/replay-" \
				"${dirs[@]}" >"$logs/replay-$t.log" 2>&1; r=$?; exit $r ) 2>/dev/null; then
				fail "replay-driver: $t: $(why "$logs/replay-$t.log")"
				ok=0
				break
			fi
			total=$(( total + $(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/replay-$t.log") ))
		done
		[ "$ok" = 1 ] && pass "replay-driver: $total executions"
	fi
fi

[ "$nfail" -eq 0 ]
