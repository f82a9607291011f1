#!/usr/bin/env bash
# Wild suite of ftmalloc: hostile input and security (issue 5).
#
# Wild-pointer campaign (build/wild, see wild.c): a seeded program builds a
# realistic heap in a thread of its own, then throws thousands of bad
# pointers at free(), realloc() and malloc_usable_size() - random 64-bit
# values, kernel-half and non-canonical addresses, NULL plus a little, stack,
# globals (the program's, libc's, the allocator's), the program's own
# mappings, any address of any mapping, every offset of zone slots, zone
# heads and tails, free and never-used slot starts, LARGE guard pages and the
# bytes around LARGE blocks, freed LARGE blocks in quarantine, unmapped,
# mapped again by the program or reused by new blocks, and double frees.
# Run with the defaults, guard_all=1, quarantine=0 and canary=0 (always with
# max_reports=0 and check_every=997), each run checks:
#   campaign-X-survives: exit 0 and the program's own checks hold - bad
#       calls return NULL / 0 and leave errno alone, show_alloc_mem() and
#       ftmalloc_get_stats() are the same before and after, every live block
#       keeps its pattern and size, can be reallocated and freed, new
#       allocations work;
#   campaign-X-every-call-reported: the reports, in order, are exactly the
#       expected ones (kind, address, function; compare.awk), nothing else
#       (no heap-corruption, nothing at exit);
#   campaign-X-counts: the exit SUMMARY and show_alloc_mem_ex's "Errors so
#       far" count what was expected, no block shows a damaged canary.
# Semantics checked for a bad pointer: free() does nothing; realloc(p, n),
# any n (0 and sizes above PTRDIFF_MAX too), returns NULL; a pointer that is
# not the start of a live block is an invalid-free, the start of a freed one
# (still known) a double-free; malloc_usable_size() returns 0 with an
# invalid-pointer report; errno is unchanged by all three.
#
# Security (build/secprog, build/libfixedrandom.so):
#   canary-secret-from-getrandom: strace -k shows getrandom(8 bytes) called
#       from libft_malloc at start-up;
#   no-canary-bytes-in-{text,json}-output: a program reads the head and tail
#       canary words of a live TINY block, overflows it, calls
#       show_alloc_mem_ex(), frees it and writes after a free, with
#       verbosity=1: neither the words nor the secret getrandom gave (from
#       strace) appear in its output as hex, in either byte order;
#   canary-differs-between-runs: two runs, two secrets, other canaries;
#   canary-depends-only-on-getrandom: without address randomisation
#       (setarch -R), a getrandom that always gives the same bytes gives the
#       same canaries twice, the real one different canaries;
#   sealed-page-alone: each page of start-up state that ftmalloc seals
#       (FT_SEALED: the options, the canary secret, libunwind's entry
#       points, the SIGSEGV handler it chains to) is a page-aligned object
#       of one page with no other symbol of the library in it (nm);
#   sealed-read-only: in a started process, a forked child and an exec'd
#       program, each of them holds what start-up left, its page is r--p
#       and a write faults (build/sealed, see sealed.c);
#   setgid-program-ignores-FTMALLOC_OPTIONS: a set-group-ID copy run as
#       nobody ignores verbosity=1, a bad option and log_path, while the
#       plain copy (control) obeys them.
#
# Environment: FTMALLOC_LIB, FTMALLOC_ROOT, WILD_SEED (default: from the
# clock; printed in every campaign line), WILD_POINTERS (default 2500),
# WILD_TIMEOUT (s per program, default 60). Logs stay in build/logs/.
set -u
cd "$(dirname "$0")" || exit 2
here=$(pwd)
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=wild
. ../lib.sh
logs=$here/build/logs
tmo=${WILD_TIMEOUT:-60}
seed=${WILD_SEED:-$(( $(date +%s%N | cut -c1-16) % 1000000007 ))}
npointers=${WILD_POINTERS:-2500}
ulimit -c 0
unset FTMALLOC_OPTIONS


rm -rf "$logs"
suite_build "$logs"
suite_need_lib
suite_check_preload "$here/build/secprog"
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# status RC: 0, SEGV, "exit N", "signal X" or timeout
status_of() {
	case $1 in
	0) echo 0 ;;
	124) echo timeout ;;
	139) echo SEGV ;;
	*) if [ "$1" -gt 128 ]; then echo "signal $(kill -l $(($1 - 128)) 2>/dev/null)"; else echo "exit $1"; fi ;;
	esac
}

# ---------------------------------------------------------------- campaign

# campaign NAME OPTIONS
campaign() {
	local name=$1 opts="max_reports=0:check_every=997${2:+:$2}" base=$logs/campaign-$1
	local repro="WILD_SEED=$seed WILD_POINTERS=$npointers FTMALLOC_OPTIONS=$opts build/wild $seed $base.expect $npointers"
	timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT FTMALLOC_OPTIONS="$opts" LD_PRELOAD="$lib" \
		"$here/build/wild" "$seed" "$base.expect" "$npointers" >"$base.out" 2>"$base.err"
	local st=$?
	st=$(status_of $st)

	# survives
	if [ "$st" != 0 ] || ! grep -q '^wild: ok$' "$base.out"; then
		{ grep '^wild: FAIL' "$base.out"; tail -n 5 "$base.err"; } >"$base.why"
		fail "campaign-$name-survives" "ended with $st (seed $seed; repro: $repro)" "$base.why"
	else
		pass "campaign-$name-survives ($(grep -o '[0-9]* live blocks intact' "$base.out"), seed $seed)"
	fi

	# every call reported, as expected, in order
	local cmp
	cmp=$(awk -v expect="$base.expect" -f compare.awk "$base.err")
	if [ "${cmp%% *}" = ok ] && [ "${cmp#ok }" -gt 0 ]; then
		pass "campaign-$name-every-call-reported (${cmp#ok } reports, seed $seed)"
	else
		echo "$cmp" >"$base.why"
		fail "campaign-$name-every-call-reported" "reports differ from the expected ones (seed $seed; repro: $repro)" "$base.why"
	fi

	# counts: the summary at exit and show_alloc_mem_ex's errors so far
	local exp eif edf eamb eip sum sdf sif sip stotal other soFar damaged why=""
	exp=$(grep '^wild: expected ' "$base.out")
	eif=$(echo "$exp" | sed -n 's/.* \([0-9]*\) invalid-free .*/\1/p')
	edf=$(echo "$exp" | sed -n 's/.* \([0-9]*\) double-free .*/\1/p')
	eamb=$(echo "$exp" | sed -n 's/.* \([0-9]*\) either .*/\1/p')
	eip=$(echo "$exp" | sed -n 's/.* \([0-9]*\) invalid-pointer$/\1/p')
	sum=$(grep '^ftmalloc: SUMMARY: ' "$base.err" | tail -n 1)
	num() { echo "$sum" | grep -o "[0-9]* $1" | grep -o '^[0-9]*' || echo 0; }
	sdf=$(num double-free) sif=$(num invalid-free) sip=$(num invalid-pointer)
	stotal=$(echo "$sum" | sed -n 's/^ftmalloc: SUMMARY: \([0-9]*\) error.*/\1/p')
	other=$(echo "$sum" | sed 's/^ftmalloc: SUMMARY: [0-9]* errors*:*//' | tr ',' '\n' |
		grep -v -e 'double-free$' -e 'invalid-free$' -e 'invalid-pointer$' | grep -v '^ *$')
	soFar=$(grep '^Errors so far:' "$base.out" | tail -n 1)
	damaged=$(grep -c 'canary DAMAGED' "$base.out")
	if [ -z "$exp" ] || [ -z "$eip" ]; then
		why="no expectation line"
	elif [ -z "$sum" ]; then
		why="no SUMMARY line at exit"
	elif [ -n "$other" ]; then
		why="other kinds in the summary: $(echo $other)"
	elif [ "$sip" != "$eip" ] || [ $((sif + sdf)) != $((eif + edf + eamb)) ] || [ "$sif" -lt "$eif" ] ||
	    [ "$sdf" -lt "$edf" ] || [ "$stotal" != $((eif + edf + eamb + eip)) ]; then
		why="summary '$sum', expected $eif invalid-free + $edf double-free (+ $eamb either) + $eip invalid-pointer"
	elif [ "$soFar" != "Errors so far: $sdf double-free $sif invalid-free $sip invalid-pointer" ]; then
		why="show_alloc_mem_ex says '$soFar', the summary '$sum'"
	elif [ "$damaged" != 0 ]; then
		why="$damaged blocks with a damaged canary in show_alloc_mem_ex"
	fi
	if [ -z "$why" ]; then
		pass "campaign-$name-counts ($sif invalid-free, $sdf double-free, $sip invalid-pointer, seed $seed)"
	else
		fail "campaign-$name-counts" "$why (seed $seed; repro: $repro)"
	fi
}

# Self-tests: the checks above can fail. compare.awk against a run's own
# expectations with one kind changed, one report missing; the program with a
# byte of a live block changed after the campaign.
selftests() {
	local base=$logs/campaign-default r1 r2
	if [ ! -s "$base.expect" ]; then
		fail selftest-compare-detects-mismatch "no expectations from the default campaign"
	else
		sed '5s/^[a-z|-]* /heap-corruption /' "$base.expect" >"$logs/selftest-kind.expect"
		r1=$(awk -v expect="$logs/selftest-kind.expect" -f compare.awk "$base.err" | tail -n 1)
		awk '/^ftmalloc: ERROR: / && ++n == 7 { next } { print }' "$base.err" >"$logs/selftest-missing.err"
		r2=$(awk -v expect="$base.expect" -f compare.awk "$logs/selftest-missing.err" | tail -n 1)
		if [ "${r1%% *}" = mismatch ] && [ "${r2%% *}" = mismatch ]; then
			pass selftest-compare-detects-mismatch
		else
			fail selftest-compare-detects-mismatch "a changed kind gave '$r1', a missing report '$r2'"
		fi
	fi
	timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT WILD_SELFTEST=1 FTMALLOC_OPTIONS=max_reports=0 \
		LD_PRELOAD="$lib" "$here/build/wild" "$seed" "$logs/selftest.expect" 300 >"$logs/selftest.out" 2>"$logs/selftest.err"
	local st=$?
	st=$(status_of $st)
	if [ "$st" = "exit 1" ] && grep -q '^wild: FAIL: block .* lost its pattern' "$logs/selftest.out"; then
		pass selftest-damaged-block-detected
	else
		fail selftest-damaged-block-detected "ended with $st without a 'lost its pattern' failure (seed $seed)" "$logs/selftest.out"
	fi
}

campaign default ""
selftests
campaign guard-all "guard_all=1"
campaign no-quarantine "quarantine=0"
campaign no-canary "canary=0"

# ---------------------------------------------------------------- security

# le HEX16: the 8 bytes of a 64-bit value in memory order (little-endian)
le() { echo "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)/\8\7\6\5\4\3\2\1/'; }

have_strace=""
stack_ok=""
if command -v strace >/dev/null; then
	have_strace=1
	strace -k -e trace=getrandom -o /dev/null true >/dev/null 2>&1 && stack_ok=1
fi

# secrun NAME OPTIONS: secprog canary under strace (when there is one);
# $logs/NAME.{out,err,words,strace}; sets secret (hex of the 64-bit value,
# empty when unknown) and words (the two canary words)
secret="" words=""
secrun() {
	local name=$1 opts=$2 pre=()
	[ -n "$have_strace" ] && pre=(strace -f -xx ${stack_ok:+-k} -e trace=getrandom -o "$logs/$name.strace")
	timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT "${pre[@]}" env FTMALLOC_OPTIONS="$opts" \
		LD_PRELOAD="$lib" "$here/build/secprog" canary "$logs/$name.words" >"$logs/$name.out" 2>"$logs/$name.err"
	words=$(awk '{print $2}' "$logs/$name.words" 2>/dev/null | tr '\n' ' ')
	secret=""
	if [ -n "$have_strace" ]; then
		# the getrandom of 8 bytes whose stack is in libft_malloc (or the
		# first one of 8 bytes when stacks are not available)
		local raw
		raw=$(awk -v stacks="$stack_ok" '
			/getrandom\("/ && /, 8, / { cand = $0; sub(/.*getrandom\("/, "", cand); sub(/".*/, "", cand);
				if (!stacks && !found) { found = cand } next }
			/^ > / && /libft_malloc/ && cand != "" && !found { found = cand }
			!/^ > / { if (!/getrandom/) cand = "" }
			END { print found }' "$logs/$name.strace" | tr -d '\\x')
		[ ${#raw} = 16 ] && secret=$(le "$raw")  # as a number: bytes reversed
	fi
}

# leaks NAME: the needles (words, secret, secret|1; both byte orders) found
# in the output, blanks, brackets and newlines removed so that the bytes of a
# hex dump are found too
leaks() {
	local name=$1 flat w found=""
	flat=$(cat "$logs/$name.out" "$logs/$name.err" | tr -d ' \t\n[]' | tr 'A-F' 'a-f')
	local needles=($words)
	if [ -n "$secret" ]; then
		needles+=("$secret" "$(printf '%016x' $((0x$secret | 1)))")
	fi
	for w in "${needles[@]}"; do
		case $flat in *"$w"*) found="$found $w" ;; esac
		case $flat in *"$(le "$w")"*) found="$found $(le "$w")(memory order)" ;; esac
	done
	echo "$found"
}

secrun sec-text "verbosity=1"
text_secret=$secret text_words=$words
if [ -z "$have_strace" ]; then
	skip security/canary-secret-from-getrandom "no strace"
elif [ -z "$stack_ok" ]; then
	skip security/canary-secret-from-getrandom "this strace cannot show stacks (-k): cannot tell whose getrandom"
elif [ -z "$secret" ]; then
	fail security/canary-secret-from-getrandom "no getrandom of 8 bytes from libft_malloc at start-up" "$logs/sec-text.strace"
else
	pass "security/canary-secret-from-getrandom (called from $(grep -A3 'getrandom(' "$logs/sec-text.strace" | grep -o 'libft_malloc[^(]*([a-z_]*' | head -n1 | sed 's/.*(//'))"
fi

secprog_ran() {  # secprog_ran NAME: the run made its reports and wrote its words
	[ "$(echo $words | wc -w)" = 2 ] && grep -q 'heap-buffer-overflow' "$logs/$1.err" &&
		grep -q 'use-after-free' "$logs/$1.err" && grep -q 'canary DAMAGED' "$logs/$1.out"
}

check_leaks() {  # check_leaks NAME CHECKNAME
	local found
	if ! secprog_ran "$1"; then
		fail "$2" "secprog did not run as expected" "$logs/$1.err"
		return
	fi
	found=$(leaks "$1")
	if [ -n "$found" ]; then
		{ grep -h -A4 'bytes around it' "$logs/$1.err"; grep -h -o '"bytes":"[^"]*","bytes_at":"[^"]*"' "$logs/$1.err"; } \
			>"$logs/$1.why"
		fail "$2" "the output holds canary bytes or the secret as hex:$found (words: $words; secret: ${secret:-unknown})" \
			"$logs/$1.why"
	else
		pass "$2 (words${secret:+ and secret} looked for in both byte orders)"
	fi
}
words=$text_words secret=$text_secret
check_leaks sec-text security/no-canary-bytes-in-text-output
secrun sec-json "verbosity=1:format=json"
check_leaks sec-json security/no-canary-bytes-in-json-output

if [ -z "$text_words" ] || [ -z "$words" ]; then
	fail security/canary-differs-between-runs "no canary words read"
elif [ "$text_words" = "$words" ]; then
	fail security/canary-differs-between-runs "two runs, the same canary words: $words"
elif [ -n "$text_secret" ] && [ "$text_secret" = "$secret" ]; then
	fail security/canary-differs-between-runs "two runs, the same secret $secret"
else
	pass "security/canary-differs-between-runs${secret:+ (secrets $text_secret, $secret)}"
fi

# Without address randomisation: the same getrandom bytes give the same
# canaries; real getrandom bytes give others.
norand() {  # norand NAME PRELOAD: words of one run under setarch -R
	timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT LD_PRELOAD="$2" \
		setarch "$(uname -m)" -R "$here/build/secprog" canary "$logs/$1.words" >/dev/null 2>"$logs/$1.err"
	cat "$logs/$1.words" 2>/dev/null | tr '\n' ' '
}
if ! command -v setarch >/dev/null || ! setarch "$(uname -m)" -R true 2>/dev/null; then
	skip security/canary-depends-only-on-getrandom "setarch -R (no address randomisation) not available"
else
	fixed="$here/build/libfixedrandom.so $lib"
	f1=$(norand norand-fixed-1 "$fixed") f2=$(norand norand-fixed-2 "$fixed")
	r1=$(norand norand-real-1 "$lib") r2=$(norand norand-real-2 "$lib")
	addrs() { echo "$1" | awk '{print $3, $6}'; }
	if [ -z "$f1" ] || [ -z "$r1" ]; then
		fail security/canary-depends-only-on-getrandom "secprog did not run" "$logs/norand-fixed-1.err"
	elif [ "$(addrs "$f1")" != "$(addrs "$f2")" ] || [ "$(addrs "$r1")" != "$(addrs "$r2")" ]; then
		skip security/canary-depends-only-on-getrandom "setarch -R did not fix the addresses ($(addrs "$f1") / $(addrs "$f2"))"
	elif [ "$f1" != "$f2" ]; then
		fail security/canary-depends-only-on-getrandom "the same getrandom bytes, other canaries: '$f1' / '$f2'"
	elif [ "$r1" = "$r2" ]; then
		fail security/canary-depends-only-on-getrandom "real getrandom, the same canaries twice: '$r1'"
	else
		pass security/canary-depends-only-on-getrandom
	fi
fi

# ------------------------------------------------------------------ sealed

sealed_pages="opt_page canary_secret bt_setup_page segv_setup_page"
sealed_checks() {
	local real name addr size args="" why=""
	if ! command -v nm >/dev/null; then
		skip security/sealed "nm missing (binutils)"
		return
	fi
	real=$(readlink -f "$lib")
	nm -S "$real" >"$logs/nm.txt" 2>&1
	for name in $sealed_pages; do
		addr=$(awk -v n="$name" '$NF == n && NF == 4 { print $1 }' "$logs/nm.txt" | head -n 1)
		size=$(awk -v n="$name" '$NF == n && NF == 4 { print $2 }' "$logs/nm.txt" | head -n 1)
		if [ -z "$addr" ]; then
			why="$why; no symbol $name"
			continue
		fi
		args="$args $name=$addr"
		if [ $(( 16#$addr % 4096 )) -ne 0 ] || [ $(( 16#$size )) -ne 4096 ]; then
			why="$why; $name at 0x$addr is 0x$size bytes: not one whole page"
			continue
		fi
		# Any other symbol in that page (opt is an alias of opt_page).
		local others
		others=$(awk -v lo=$(( 16#$addr )) -v n="$name" '
			function hex(s,  i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
			NF >= 3 && $1 ~ /^[0-9a-f]+$/ { a = hex($1); if (a >= lo && a < lo + 4096 && $NF != n && !(n == "opt_page" && $NF == "opt")) printf " %s", $NF }' "$logs/nm.txt")
		[ -n "$others" ] && why="$why; the page of $name also holds:$others"
	done
	if [ -n "$why" ]; then
		fail security/sealed-page-alone "${why#; }"
	else
		pass "security/sealed-page-alone ($(echo $sealed_pages | wc -w) pages:$args)"
	fi
	[ -n "$args" ] || return
	# shellcheck disable=SC2086
	timeout -k 5 "$tmo" env -u FTMALLOC_LIB -u FTMALLOC_ROOT \
		FTMALLOC_OPTIONS='quarantine=12345:alloc_fill=0x42:backtrace_depth=7:format=bogus:guard_side=bogus:guard_align=99999' \
		LD_PRELOAD="$lib" "$here/build/sealed" $args >"$logs/sealed.out" 2>"$logs/sealed.err"
	local rc=$? want=$(( 3 * $(echo $sealed_pages | wc -w) ))
	local got
	got=$(grep -c '^ok: ' "$logs/sealed.out")
	if [ "$rc" -eq 0 ] && [ "$got" -eq "$want" ] && ! grep -q '^bad: ' "$logs/sealed.out"; then
		pass "security/sealed-read-only (r--p, a write faults: $got checks in a process, a fork and an exec)"
	else
		fail security/sealed-read-only "$(status_of $rc), $got of $want ok: $(grep -m1 '^bad: ' "$logs/sealed.out")" "$logs/sealed.out"
	fi
}
sealed_checks

# ------------------------------------------------------------------ setgid

# A copy of secprog linked with the library (LD_PRELOAD is not honoured in
# secure mode), group root, mode 2755, run as nobody: FTMALLOC_OPTIONS must be
# ignored - no "ftmalloc: options:" line (verbosity=1), no warning for the
# unknown option, no log file (log_path): the report goes to stderr. The
# plain copy, run the same way, obeys them all.
setgid_checks() {
	local sd=$tmp/setgid name out err
	mkdir -p "$sd/logs" && chmod 755 "$sd" && chmod 777 "$sd/logs"
	cp "$(readlink -f "$lib")" "$sd/libft_malloc.so" && chmod 755 "$sd/libft_malloc.so"
	if [ "$(id -u)" != 0 ]; then
		skip security/setgid "not root: cannot make a set-group-ID program"
		return
	elif ! command -v setpriv >/dev/null; then
		skip security/setgid "no setpriv"
		return
	elif ! cc -O0 -g -o "$sd/prog" secprog.c -L"$sd" -lft_malloc -Wl,-rpath,"$sd" -ldl 2>"$logs/setgid-build.log"; then
		fail security/setgid-build "cannot link secprog with -lft_malloc" "$logs/setgid-build.log"
		return
	fi
	cp "$sd/prog" "$sd/prog-plain"
	chown root:root "$sd/prog" "$sd/prog-plain" && chmod 2755 "$sd/prog" && chmod 755 "$sd/prog-plain"
	local opts="verbosity=1:no_such_option=1:log_path=$sd/logs/log.%p"
	for name in plain setgid; do
		out=$logs/setgid-$name.out err=$logs/setgid-$name.err
		rm -f "$sd"/logs/log.*
		[ $name = plain ] && prog=$sd/prog-plain || prog=$sd/prog
		timeout -k 5 "$tmo" setpriv --reuid=65534 --regid=65534 --clear-groups \
			env -u LD_PRELOAD FTMALLOC_OPTIONS="$opts" "$prog" secure >"$out" 2>"$err"
		cat "$sd"/logs/log.* >"$logs/setgid-$name.log" 2>/dev/null
	done
	out=$logs/setgid-plain.out err=$logs/setgid-plain.err
	local why=""
	if ! grep -q '^AT_SECURE=0$' "$out"; then
		skip security/setgid "cannot run a program as nobody with setpriv: $(head -n1 "$err")"
		return
	fi
	grep -q '^ftmalloc: options: ' "$err" || why="$why; no 'ftmalloc: options:' line (verbosity=1)"
	grep -q "^ftmalloc: warning: unknown option 'no_such_option'" "$err" || why="$why; no warning for no_such_option"
	grep -q '^ftmalloc: ERROR: heap-buffer-overflow' "$logs/setgid-plain.log" || why="$why; no report in the log_path file"
	! grep -q '^ftmalloc: ERROR' "$err" || why="$why; the report went to stderr"
	if [ -n "$why" ]; then
		fail security/setgid-control-plain-copy-obeys-FTMALLOC_OPTIONS "${why#; }" "$err"
		return
	fi
	pass security/setgid-control-plain-copy-obeys-FTMALLOC_OPTIONS
	out=$logs/setgid-setgid.out err=$logs/setgid-setgid.err
	if ! grep -q '^AT_SECURE=1$' "$out"; then
		skip security/setgid "the kernel did not run the copy set-group-ID ($(head -n1 "$out"); nosuid mount or no_new_privs?)"
		return
	fi
	! grep -q '^ftmalloc: options: ' "$err" || why="$why; verbosity=1 obeyed"
	! grep -q 'no_such_option' "$err" || why="$why; the bad option was parsed"
	[ ! -s "$logs/setgid-setgid.log" ] || why="$why; a log file was written"
	[ "$(grep -c '^ftmalloc: ERROR: heap-buffer-overflow' "$err")" = 1 ] || why="$why; no report on stderr"
	if [ -n "$why" ]; then
		fail security/setgid-program-ignores-FTMALLOC_OPTIONS "${why#; }" "$err"
	else
		pass security/setgid-program-ignores-FTMALLOC_OPTIONS
	fi
}
setgid_checks
exit 0
