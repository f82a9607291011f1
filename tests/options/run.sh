#!/usr/bin/env bash
# Options suite of ftmalloc: the FTMALLOC_OPTIONS parser (every option of
# src/options.def with a good and a bad value, unknown names, empty and huge
# strings, help), what the options do (canary, leak_check, show_reachable,
# abort_on_error, backtrace_depth, alloc_fill, verbosity), log_path (per
# process files with %p across fork, fallback to stderr, symlinks refused),
# exitcode (stdout not lost), suppressions, the tools/ftmalloc launcher, and a
# set-user-ID program that must ignore the options.
# Prints "PASS: options/NAME", "FAIL: options/NAME: reason" or "SKIP: ...".
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT.
set -u
cd "$(dirname "$0")" || exit 1
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=options
. ../lib.sh
launcher=$root/tools/ftmalloc
def=$root/src/options.def
logs=$PWD/build/logs
P=$PWD/build/prog
ulimit -c 0

suite_build "$logs"
for f in "$lib" "$launcher" "$def"; do
	[ -e "$f" ] || { echo "FAIL: options/setup: $f missing"; exit 1; }
done
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# ------------------------------------------------------------------ helpers

# run NAME OPTIONS ARGS...: ARGS under LD_PRELOAD with FTMALLOC_OPTIONS set
# (to "" too); stdout in $logs/NAME.out, stderr in .err, status in .rc.
last=""
run() {
	local name=$1 opts=$2
	shift 2
	last=$name
	printf '%s\n' "FTMALLOC_OPTIONS='$opts' LD_PRELOAD=$lib $*" >"$logs/$name.cmd"
	# In a subshell with stderr closed: no "Aborted" line from bash.
	( timeout -k 5 60 env -u LD_PRELOAD -u FTMALLOC_OPTIONS FTMALLOC_OPTIONS="$opts" LD_PRELOAD="$lib" \
		"$@" >"$logs/$name.out" 2>"$logs/$name.err"; echo $? >"$logs/$name.rc" ) 2>/dev/null
}

# launch NAME ARGS...: tools/ftmalloc ARGS, with no preload or options of ours
# in the environment (other than what ARGS set up with env).
launch() {
	local name=$1
	shift
	last=$name
	printf '%s\n' "$launcher $*" >"$logs/$name.cmd"
	( timeout -k 5 60 env -u LD_PRELOAD -u FTMALLOC_OPTIONS "$@" >"$logs/$name.out" 2>"$logs/$name.err"
	  echo $? >"$logs/$name.rc" ) 2>/dev/null
}

reasons=""
fail() { reasons="${reasons:+$reasons; }$*"; }

verdict() {
	if [ -z "$reasons" ]; then
		echo "PASS: options/$1"
	else
		echo "FAIL: options/$1: $reasons"
		if [ -n "$last" ]; then
			echo "    repro: $(cat "$logs/$last.cmd")"
			head -n 25 "$logs/$last.err" | sed 's/^/    | /'
		fi
	fi
	reasons=""
	last=""
}

out() { cat "$logs/$1.out"; }
rc() { cat "$logs/$1.rc"; }
status() { [ "$(rc "$1")" = "$2" ] || fail "exit status $(rc "$1"), expected $2"; }
stdout_is() { [ "$(out "$1")" = "$2" ] || fail "stdout is '$(out "$1" | head -c 200)', expected '$2'"; }
has() { grep -qF -- "$2" "$logs/$1.err" || fail "stderr has no '$2'"; }
hasnt() { ! grep -qF -- "$2" "$logs/$1.err" || fail "stderr has '$2'"; }
nlines() { grep -c -- "$2" "$logs/$1.err"; }
warnings() { grep -c '^ftmalloc: warning: ' "$logs/$1.err"; }
reports() { grep -c "^ftmalloc: ERROR: $2 " "$logs/$1.err"; }
count() {  # count NAME KIND N: N reports of KIND
	local n
	n=$(reports "$1" "$2")
	[ "$n" = "$3" ] || fail "$n $2 reports, expected $3"
}
one_warning() {  # one_warning NAME TEXT: exactly one warning line, and it holds TEXT
	local n
	n=$(warnings "$1")
	[ "$n" = 1 ] || fail "$n warning lines, expected 1"
	grep '^ftmalloc: warning: ' "$logs/$1.err" | grep -qF -- "$2" || fail "the warning does not name '$2'"
}
no_warning() {
	local n
	n=$(warnings "$1")
	[ "$n" = 0 ] || fail "$n warning lines: $(grep -m1 '^ftmalloc: warning: ' "$logs/$1.err")"
}
file_has() { grep -qF -- "$2" "$1" 2>/dev/null || fail "$(basename "$1") has no '$2'"; }
file_hasnt() { ! grep -qF -- "$2" "$1" 2>/dev/null || fail "$(basename "$1") has '$2'"; }

# ------------------------------------------------------------------ parser

# Every option of options.def: a good value warns about nothing and the
# program runs; a bad one gives exactly one warning naming the option.
: >"$tmp/empty.supp"
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
good_value() {
	case $2 in
	bool) echo on ;;
	size) echo 64k ;;
	uint) echo 3 ;;
	byte) echo 0x41 ;;
	str) case $1 in
		suppressions) echo "$tmp/empty.supp" ;;
		format) echo json ;;
		color) echo never ;;
		guard_side) echo before ;;
		fail_rate) echo 0 ;;
		fail_site) echo no_such_function_xyz ;;
		report_signal) echo USR2 ;;
		*) echo "$tmp/good-$1.%p" ;;
		esac ;;
	esac
}
bad_value() {
	case $1 in
	bool) echo maybe ;;
	size) echo 12q ;;
	uint) echo -1 ;;
	byte) echo 256 ;;
	str) echo "$long" ;;
	esac
}
noptions=0
while read -r name type; do
	noptions=$((noptions + 1))
	v=$(good_value "$name" "$type")
	run "good-$name" "$name=$v" "$P" clean
	status "good-$name" 0
	stdout_is "good-$name" clean-output
	no_warning "good-$name"
	verdict "parser/good-$name=$(printf '%s' "$v" | sed "s|$tmp|TMP|")"

	v=$(bad_value "$type")
	run "bad-$name" "$name=$v" "$P" clean
	status "bad-$name" 0
	stdout_is "bad-$name" clean-output
	one_warning "bad-$name" "$name="
	verdict "parser/bad-$name=$(printf '%s' "$v" | head -c 12)"
done < <(sed -n 's/^OPT(\([a-z_]*\), *\([a-z]*\),.*/\1 \2/p' "$def")
[ "$noptions" -ge 10 ] || fail "only $noptions options found in $def"
verdict parser/options-def-read

run unknown "nosuch_option=1" "$P" clean
status unknown 0
stdout_is unknown clean-output
one_warning unknown "nosuch_option"
verdict parser/unknown-name

run novalue "canary" "$P" clean
status novalue 0
one_warning novalue "canary"
verdict parser/name-without-value

run empty "" "$P" clean
status empty 0
stdout_is empty clean-output
[ ! -s "$logs/empty.err" ] || fail "stderr not empty"
verdict parser/empty-string

run colons ":::" "$P" clean
status colons 0
[ ! -s "$logs/colons.err" ] || fail "stderr not empty"
verdict parser/only-separators

run huge-name "$(head -c 10240 /dev/zero | tr '\0' 'a')" "$P" clean
status huge-name 0
stdout_is huge-name clean-output
one_warning huge-name "aaaa"
[ "$(wc -c <"$logs/huge-name.err")" -lt 1000 ] || fail "the warning is $(wc -c <"$logs/huge-name.err") bytes long"
verdict parser/10k-unknown-name

many=$(printf 'canary=1:%.0s' $(seq 1 1200))
run huge-list "$many" "$P" clean
status huge-list 0
no_warning huge-list
verdict parser/10k-of-options

run huge-str "log_path=$(head -c 10240 /dev/zero | tr '\0' 'b'):leak_check=0" "$P" leak
status huge-str 0
one_warning huge-str "log_path="
count huge-str memory-leak 0
verdict parser/10k-string-value-refused-rest-parsed

run last-wins "canary=0:canary=1" "$P" overflow
count last-wins heap-buffer-overflow 1
verdict parser/last-setting-wins

# help: the table, every option of options.def in it, and the program runs.
run help "help" "$P" clean
status help 0
stdout_is help clean-output
while read -r name; do
	grep -qE "^  $name +[a-z]+ +default " "$logs/help.err" || fail "help does not list $name"
done < <(sed -n 's/^OPT(\([a-z_]*\),.*/\1/p' "$def")
no_warning help
verdict help-lists-every-option

run help-and-more "help:leak_check=0" "$P" leak
status help-and-more 0
has help-and-more "leak_check"
count help-and-more memory-leak 0
verdict help-then-other-options

# ------------------------------------------------------------------ behaviour

run overflow "" "$P" overflow
count overflow heap-buffer-overflow 1
has overflow "24-byte block"
verdict behaviour/canary-default-reports-overflow

run canary-off "canary=0" "$P" overflow
status canary-off 0
count canary-off heap-buffer-overflow 0
verdict behaviour/canary=0-no-report

run canary-bad "canary=maybe" "$P" overflow
one_warning canary-bad "canary"
count canary-bad heap-buffer-overflow 1
verdict behaviour/canary=maybe-keeps-default

run leak "" "$P" leak
count leak memory-leak 1
has leak "in leak_here"
verdict behaviour/leak-default-reported

run leak-off "leak_check=0" "$P" leak
status leak-off 0
count leak-off memory-leak 0
hasnt leak-off "SUMMARY"
verdict behaviour/leak_check=0-silences-leak

run leak-bad "leak_check=2" "$P" leak
one_warning leak-bad "leak_check"
count leak-bad memory-leak 1
verdict behaviour/leak_check=2-keeps-default

run reachable "show_reachable=1" "$P" clean
has reachable "ftmalloc: reachable: "
verdict behaviour/show_reachable=1-lists-reachable

run abort "abort_on_error=1" "$P" overflow
status abort 134
count abort heap-buffer-overflow 1
! grep -q after-overflow "$logs/abort.out" || fail "the program went on"
verdict behaviour/abort_on_error=1-aborts

run depth0 "backtrace_depth=0" "$P" leak
count depth0 memory-leak 1
has depth0 "<no stack recorded>"
hasnt depth0 "in leak_here"
verdict behaviour/backtrace_depth=0-no-stacks

run depth-bad "backtrace_depth=lots" "$P" leak
one_warning depth-bad "backtrace_depth"
has depth-bad "in leak_here"
verdict behaviour/backtrace_depth=lots-keeps-default

run fill "alloc_fill=0x41:quarantine=0" "$P" fill
stdout_is fill "first byte 0x41"
verdict behaviour/alloc_fill=0x41

run fill-bad "alloc_fill=0x100:quarantine=0" "$P" fill
one_warning fill-bad "alloc_fill"
stdout_is fill-bad "first byte 0xbe"
verdict behaviour/alloc_fill=0x100-keeps-default

# 10^5 double frees: 100 full reports, one notice, the rest counted
run dfloop "" "$P" double-free-loop
stdout_is dfloop "survived"
[ "$(nlines dfloop '^ftmalloc: ERROR: double-free')" = 100 ] || fail "$(nlines dfloop '^ftmalloc: ERROR: double-free') reports printed, expected 100"
[ "$(nlines dfloop 'the rest are only counted (max_reports)')" = 1 ] || fail "no single max_reports notice"
has dfloop "SUMMARY: 100000 errors: 100000 double-free, 99900 not shown (max_reports)"
# and no memory growth: counting a report must not keep anything (anonymous
# RSS, 64 KiB slack for page-granular noise; 32 bytes kept per report would be 3 MiB)
grow=$(sed -n 's/^test: rss growth over the last 99000 double frees: \(-*[0-9]*\) KiB$/\1/p' "$logs/dfloop.err")
[ -n "$grow" ] && [ "$grow" -le 64 ] || fail "RSS grew by '${grow:-?}' KiB over 99000 counted double frees"
verdict behaviour/max_reports-default-100-bounds-a-loop

# reports into a pipe whose reader is gone: no SIGPIPE death, the program goes on
# (--default-signal: the test runner may have left SIGPIPE ignored, which would hide the bug)
rc_pipe=$( (timeout 60 env --default-signal=PIPE -u FTMALLOC_OPTIONS LD_PRELOAD="$lib" "$P" late-double-free \
	2>&1 >"$logs/pipe.out" | true; echo "${PIPESTATUS[0]}") )
[ "$rc_pipe" = 0 ] || fail "exit status $rc_pipe (141: killed by SIGPIPE)"
[ "$(cat "$logs/pipe.out")" = survived ] || fail "stdout '$(cat "$logs/pipe.out")'"
verdict output/reader-of-stderr-gone-no-sigpipe

run dfloop5 "max_reports=5" "$P" double-free-loop
[ "$(nlines dfloop5 '^ftmalloc: ERROR: double-free')" = 5 ] || fail "$(nlines dfloop5 '^ftmalloc: ERROR: double-free') reports printed, expected 5"
has dfloop5 "99995 not shown (max_reports)"
verdict behaviour/max_reports=5

run freefill "free_fill=0x5a" "$P" free-fill
stdout_is freefill "freed byte 0x5a"
hasnt freefill "ftmalloc: ERROR"
verdict behaviour/free_fill=0x5a

run freefill-default "" "$P" free-fill
stdout_is freefill-default "freed byte 0xf5"
verdict behaviour/free_fill-default-0xf5

run verbose "verbosity=1:canary=0" "$P" clean
status verbose 0
[ "$(nlines verbose '^ftmalloc: options: ')" = 1 ] || fail "no single 'ftmalloc: options:' line"
grep -q '^ftmalloc: options: .*canary=0' "$logs/verbose.err" || fail "the options line does not show canary=0"
while read -r name; do
	grep -q "^ftmalloc: options:.*[ :]$name=" "$logs/verbose.err" || fail "no $name in the options line"
done < <(sed -n 's/^OPT(\([a-z_]*\),.*/\1/p' "$def")
verdict behaviour/verbosity=1-prints-options

# ------------------------------------------------------------------ log_path

rm -f "$tmp"/fork.*
run fork "log_path=$tmp/fork.%p.log" "$P" fork
status fork 0
ppid=$(sed -n 's/^parent \([0-9]*\) .*/\1/p' "$logs/fork.out")
cpid=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$logs/fork.out")
grep -q "child-status 0" "$logs/fork.out" || fail "the child did not exit 0"
[ -n "$ppid" ] && [ -n "$cpid" ] || fail "no pids on stdout"
pf=$tmp/fork.$ppid.log cf=$tmp/fork.$cpid.log
[ -f "$pf" ] || fail "no parent file fork.PID.log"
[ -f "$cf" ] || fail "no child file fork.PID.log"
[ "$(ls "$tmp"/fork.* 2>/dev/null | wc -l)" = 2 ] || fail "$(ls "$tmp"/fork.* | wc -l) files, expected 2"
hasnt fork "ftmalloc: ERROR"
file_has "$pf" "heap-buffer-overflow"
file_has "$pf" "24-byte block"
file_has "$pf" "in parent_bug"
file_hasnt "$pf" "40-byte block"
file_has "$pf" "ftmalloc: SUMMARY: 1 error: 1 heap-buffer-overflow"
file_has "$cf" "heap-buffer-overflow"
file_has "$cf" "40-byte block"
file_has "$cf" "in child_bug"
file_hasnt "$cf" "24-byte block"
file_hasnt "$cf" "in parent_bug"
file_has "$cf" "ftmalloc: SUMMARY: 1 error: 1 heap-buffer-overflow"
verdict log_path/percent-p-one-file-per-process-across-fork

rm -rf "$tmp/quiet" && mkdir "$tmp/quiet"
run log-quiet "log_path=$tmp/quiet/q.%p" sh -c "$P clean; $P clean"
status log-quiet 0
[ -z "$(ls "$tmp/quiet")" ] || fail "processes with nothing to report left files: $(ls "$tmp/quiet" | tr '\n' ' ')"
verdict log_path/no-file-for-a-process-with-no-report

echo "old line" >"$tmp/quiet/shared.log"
run log-quiet-shared "log_path=$tmp/quiet/shared.log" "$P" clean
[ "$(cat "$tmp/quiet/shared.log")" = "old line" ] || fail "an existing file without %p was changed or removed"
verdict log_path/existing-file-kept

rm -f "$tmp/leak.log"
run log-leak "log_path=$tmp/leak.log" "$P" leak
status log-leak 0
[ ! -s "$logs/log-leak.err" ] || fail "stderr not empty: $(head -n1 "$logs/log-leak.err")"
file_has "$tmp/leak.log" "ftmalloc: ERROR: memory-leak"
file_has "$tmp/leak.log" "in leak_here"
file_has "$tmp/leak.log" "ftmalloc: SUMMARY: leaks: 37 bytes definitely lost"
file_has "$tmp/leak.log" "ftmalloc: SUMMARY: 1 error: 1 memory-leak"
perm=$(stat -c %a "$tmp/leak.log" 2>/dev/null)
[ "$perm" = 644 ] || [ "$perm" = "$(printf '%o' $((0644 & ~$(umask))))" ] || fail "file mode $perm"
verdict log_path/leak-report-and-summaries-in-file

run log-append "log_path=$tmp/leak.log" "$P" leak
[ "$(grep -c '^ftmalloc: ERROR: memory-leak' "$tmp/leak.log")" = 2 ] || fail "the second run did not append"
verdict log_path/appends

rm -f "$tmp/pct"*
run log-pct "log_path=$tmp/pct%%.log" "$P" leak
[ -f "$tmp/pct%.log" ] || fail "no file 'pct%.log'"
verdict log_path/percent-percent-is-percent

run log-nodir "log_path=$tmp/no/such/dir/x.log" "$P" overflow
status log-nodir 0
one_warning log-nodir "$tmp/no/such/dir/x.log"
grep '^ftmalloc: warning: ' "$logs/log-nodir.err" | grep -q "No such file or directory" || fail "the warning does not say why"
count log-nodir heap-buffer-overflow 1
has log-nodir "ftmalloc: SUMMARY: 1 error"
verdict log_path/missing-directory-warns-and-uses-stderr

echo "precious" >"$tmp/target"
ln -sf "$tmp/target" "$tmp/link.log"
run log-symlink "log_path=$tmp/link.log" "$P" overflow
one_warning log-symlink "link.log"
count log-symlink heap-buffer-overflow 1
[ "$(cat "$tmp/target")" = precious ] || fail "the symlink's target was written"
verdict log_path/symlink-refused

run log-empty "log_path=" "$P" overflow
no_warning log-empty
count log-empty heap-buffer-overflow 1
verdict log_path/empty-means-stderr

# ------------------------------------------------------------------ exitcode

run exit-leak "exitcode=42" "$P" leak
status exit-leak 42
stdout_is exit-leak leak-output
count exit-leak memory-leak 1
verdict exitcode/leak-gives-exitcode-stdout-kept

run exit-clean "exitcode=42" "$P" clean 3
status exit-clean 3
stdout_is exit-clean clean-output
verdict exitcode/clean-program-keeps-its-status

run exit-clean0 "exitcode=42" "$P" clean
status exit-clean0 0
verdict exitcode/clean-program-exits-0

run exit-own "exitcode=42" "$P" leak 7
status exit-own 42
stdout_is exit-own leak-output
verdict exitcode/overrides-program-status

run exit-overflow "exitcode=9:leak_check=0" "$P" overflow
status exit-overflow 9
grep -q after-overflow "$logs/exit-overflow.out" || fail "stdout lost"
verdict exitcode/any-error-kind

run exit-noleakcheck "exitcode=42:leak_check=0" "$P" leak 5
status exit-noleakcheck 5
verdict exitcode/unreported-leak-is-no-error

run exit-zero "exitcode=0" "$P" leak 6
status exit-zero 6
verdict exitcode/0-keeps-status

# The library's exit handler runs after every destructor, even those of
# libraries that finish after it.
rm -f "$logs/exit-late.out"
( timeout -k 5 60 env FTMALLOC_OPTIONS=exitcode=42 LD_PRELOAD="$lib $PWD/build/late.so" "$P" leak \
	>"$logs/exit-late.out" 2>"$logs/exit-late.err"; echo $? >"$logs/exit-late.rc" ) 2>/dev/null
echo "FTMALLOC_OPTIONS=exitcode=42 LD_PRELOAD='$lib $PWD/build/late.so' $P leak" >"$logs/exit-late.cmd"
last=exit-late
status exit-late 42
# (write(2) in the destructor, then stdio's buffer, as in a plain exit)
stdout_is exit-late "[late-destructor]leak-output"
verdict exitcode/later-destructors-still-run

run exit-cxx "exitcode=42" build/cxx
status exit-cxx 42
stdout_is exit-cxx cout-output
count exit-cxx memory-leak 1
verdict exitcode/cout-buffer-kept

run exit-log "exitcode=42:log_path=$tmp/exitlog.%p" "$P" leak
status exit-log 42
stdout_is exit-log leak-output
verdict exitcode/with-log_path

# ------------------------------------------------------------------ suppressions

printf '# leaks of a known library\n\nmemory-leak:leak_here\n' >"$tmp/leak.supp"
run supp-leak "suppressions=$tmp/leak.supp" "$P" leak
status supp-leak 0
count supp-leak memory-leak 0
no_warning supp-leak
has supp-leak "ftmalloc: SUMMARY: 0 errors, 1 suppressed"
verdict suppressions/leak-suppressed-and-counted

run supp-exit "suppressions=$tmp/leak.supp:exitcode=42" "$P" leak 4
status supp-exit 4
verdict suppressions/suppressed-is-no-error-for-exitcode

run supp-two "suppressions=$tmp/leak.supp" "$P" two-leaks
count supp-two memory-leak 1
has supp-two "in leak_other"
hasnt supp-two "in leak_here"
has supp-two "ftmalloc: SUMMARY: 1 error: 1 memory-leak, 1 suppressed"
verdict suppressions/only-the-matching-report

printf 'leak:*eak_h?re\n' >"$tmp/glob.supp"
run supp-glob "suppressions=$tmp/glob.supp" "$P" leak
count supp-glob memory-leak 0
verdict suppressions/glob-and-leak-alias

printf 'memory-leak:prog\n' >"$tmp/module.supp"
run supp-module "suppressions=$tmp/module.supp" "$P" two-leaks
count supp-module memory-leak 0
has supp-module "2 suppressed"
verdict suppressions/module-name

printf 'heap-buffer-overflow:leak_here\n' >"$tmp/kind.supp"
run supp-kind "suppressions=$tmp/kind.supp" "$P" leak
count supp-kind memory-leak 1
verdict suppressions/other-kind-not-suppressed

printf 'heap-buffer-overflow:overflow_here\n' >"$tmp/ovf.supp"
run supp-ovf "suppressions=$tmp/ovf.supp:abort_on_error=1" "$P" overflow
status supp-ovf 0
grep -q after-overflow "$logs/supp-ovf.out" || fail "the program did not go on"
count supp-ovf heap-buffer-overflow 0
hasnt supp-ovf "end of report"
verdict suppressions/suppressed-report-does-not-abort

printf '*:overflow_here\n' >"$tmp/any.supp"
run supp-any "suppressions=$tmp/any.supp" "$P" overflow
count supp-any heap-buffer-overflow 0
verdict suppressions/any-kind

printf '# comment\n\nbogus line\n   # indented comment\nno-such-kind:foo\nmemory-leak:\nmemory-leak : leak_here \n' >"$tmp/bad.supp"
run supp-bad "suppressions=$tmp/bad.supp" "$P" leak
status supp-bad 0
[ "$(warnings supp-bad)" = 3 ] || fail "$(warnings supp-bad) warning lines, expected 3"
for l in 3 5 6; do
	grep '^ftmalloc: warning: ' "$logs/supp-bad.err" | grep -qF "'$tmp/bad.supp' line $l:" ||
		fail "no warning naming the file and line $l"
done
count supp-bad memory-leak 0
verdict suppressions/malformed-lines-warn-with-line-numbers

run supp-missing "suppressions=$tmp/nonexistent.supp" "$P" leak
one_warning supp-missing "$tmp/nonexistent.supp"
count supp-missing memory-leak 1
verdict suppressions/missing-file-warns

run supp-used "suppressions=$tmp/leak.supp:verbosity=1" "$P" leak
has supp-used "ftmalloc: suppressed 1 by $tmp/leak.supp:3 memory-leak:leak_here"
verdict suppressions/verbosity-lists-used-rules

run supp-log "suppressions=$tmp/leak.supp:log_path=$tmp/supp-%p.log" "$P" two-leaks
cat "$tmp"/supp-*.log >"$tmp/supp-all" 2>/dev/null
file_has "$tmp/supp-all" "in leak_other"
file_hasnt "$tmp/supp-all" "in leak_here"
verdict suppressions/with-log_path

# ------------------------------------------------------------------ launcher

# The library under test (FTMALLOC_LIB may not be the tree's); how the
# launcher finds its own is checked apart.
FT=("$launcher" --library "$lib")
cc -shared -fPIC -o build/empty.so -x c /dev/null 2>/dev/null || fail "cannot build build/empty.so"
[ -z "$reasons" ] || verdict launcher/setup

launch l-version "${FT[@]}" --version
status l-version 0
stdout_is l-version "ftmalloc 0.1.0"
verdict launcher/version

launch l-help "${FT[@]}" --help
status l-help 0
for f in --log-path --exitcode --suppressions --no-leak-check --show-reachable --abort-on-error \
	--json --color --guard-all --guard-sample \
	--backtrace-depth --quarantine --option --help --version; do
	grep -qe "^  $f" "$logs/l-help.out" || fail "--help does not list $f"
done
verdict launcher/help-lists-flags

launch l-noprog "$launcher"
status l-noprog 2
grep -q "no program" "$logs/l-noprog.err" || fail "no message"
verdict launcher/no-program-is-usage-error

launch l-badflag "${FT[@]}" --frobnicate "$P" clean
status l-badflag 2
grep -q "frobnicate" "$logs/l-badflag.err" || fail "the message does not name the flag"
verdict launcher/unknown-flag

launch l-badnum "${FT[@]}" --exitcode 300 "$P" clean
status l-badnum 2
verdict launcher/exitcode-out-of-range

launch l-status "${FT[@]}" "$P" clean 7
status l-status 7
stdout_is l-status clean-output
verdict launcher/exit-status-passed-through

launch l-sh "${FT[@]}" -- sh -c 'exit 3'
status l-sh 3
verdict launcher/exit-status-of-a-shell

launch l-notfound "${FT[@]}" "$tmp/no-such-program"
status l-notfound 127
verdict launcher/missing-program-127

launch l-exit "${FT[@]}" --exitcode 42 -- "$P" leak
status l-exit 42
stdout_is l-exit leak-output
count l-exit memory-leak 1
verdict launcher/exitcode

launch l-exit-eq "${FT[@]}" --exitcode=42 "$P" leak
status l-exit-eq 42
verdict launcher/flag=value-form

launch l-noleak "${FT[@]}" --no-leak-check "$P" leak
status l-noleak 0
count l-noleak memory-leak 0
verdict launcher/no-leak-check

# --json: every stderr line one JSON object, the overflow among them
launch l-json "${FT[@]}" --json "$P" overflow
python3 -c 'import json, sys
kinds = [json.loads(l)["kind"] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if "heap-buffer-overflow" in kinds else 1)' "$logs/l-json.err" 2>/dev/null ||
	fail "stderr is not JSON Lines with a heap-buffer-overflow object"
verdict launcher/json

# --color always: escape sequences in the report; --color never: none
launch l-color "${FT[@]}" --color always "$P" overflow
grep -q $'\033\[' "$logs/l-color.err" || fail "--color always wrote no escape sequence"
launch l-nocolor "${FT[@]}" --color never "$P" overflow
grep -q $'\033\[' "$logs/l-nocolor.err" && fail "--color never wrote escape sequences"
verdict launcher/color

# --guard-all / --guard-sample 1: the one-byte overflow of a TINY block is a
# fault at the write (SIGSEGV, 139 from the shell's view), found at once
for g in "--guard-all" "--guard-sample 1"; do
	# shellcheck disable=SC2086
	launch l-guard "${FT[@]}" $g --option guard_align=1 "$P" overflow
	[ "$(rc l-guard)" -gt 128 ] || fail "$g: exit status $(rc l-guard), expected death by a signal"
	grep -q "heap-buffer-overflow.*access" "$logs/l-guard.err" || fail "$g: no fault report"
done
verdict launcher/guard-all-and-guard-sample

launch l-reach "${FT[@]}" --show-reachable "$P" clean
has l-reach "ftmalloc: reachable: "
verdict launcher/show-reachable

launch l-abort "${FT[@]}" --abort-on-error "$P" overflow
status l-abort 134
verdict launcher/abort-on-error

launch l-depth "${FT[@]}" --backtrace-depth 0 "$P" leak
has l-depth "<no stack recorded>"
verdict launcher/backtrace-depth

launch l-quar "${FT[@]}" --quarantine 0 --option canary=0 -- sh -c 'echo "$FTMALLOC_OPTIONS"'
stdout_is l-quar "quarantine=0:canary=0"
verdict launcher/quarantine-and-option-build-FTMALLOC_OPTIONS

launch l-option "${FT[@]}" --option canary=0 "$P" overflow
count l-option heap-buffer-overflow 0
verdict launcher/option-generic

launch l-supp "${FT[@]}" --suppressions "$tmp/leak.supp" "$P" leak
count l-supp memory-leak 0
has l-supp "1 suppressed"
verdict launcher/suppressions

rm -rf "$tmp/lcwd" && mkdir -p "$tmp/lcwd"
(cd "$tmp/lcwd" && launch l-log "${FT[@]}" --log-path rel.%p.log -- "$P" spawn)
status l-log 0
n=$(ls "$tmp"/lcwd/rel.*.log 2>/dev/null | wc -l)
[ "$n" = 1 ] || fail "$n log files in the working directory, expected 1 (the child's; the program reports nothing)"
cat "$tmp"/lcwd/rel.*.log 2>/dev/null | grep -q "in leak_here" || fail "the child's leak is in no file"
verdict launcher/log-path-relative-made-absolute-child-has-own-file

launch l-child "${FT[@]}" --exitcode 42 -- "$P" spawn
status l-child 0
grep -q "child-status 42" "$logs/l-child.out" || fail "the child program did not exit 42: $(out l-child)"
count l-child memory-leak 1
verdict launcher/child-process-covered

launch l-envopts env FTMALLOC_OPTIONS=leak_check=0 "${FT[@]}" "$P" leak
count l-envopts memory-leak 0
verdict launcher/existing-FTMALLOC_OPTIONS-kept

launch l-envwins env FTMALLOC_OPTIONS=canary=0 "${FT[@]}" --option canary=1 "$P" overflow
count l-envwins heap-buffer-overflow 1
verdict launcher/flags-override-existing-FTMALLOC_OPTIONS

launch l-preload env LD_PRELOAD="$PWD/build/empty.so" "${FT[@]}" -- sh -c 'echo "$LD_PRELOAD"'
libabs=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
stdout_is l-preload "$libabs $PWD/build/empty.so"
verdict launcher/existing-LD_PRELOAD-kept-after-ours

launch l-nodup env LD_PRELOAD="$libabs" "${FT[@]}" -- sh -c 'echo "$LD_PRELOAD"'
stdout_is l-nodup "$libabs"
verdict launcher/library-not-preloaded-twice

launch l-find "$launcher" -- sh -c 'echo "$LD_PRELOAD"'
status l-find 0
stdout_is l-find "$root/libft_malloc.so"
verdict launcher/finds-the-library-of-its-source-tree

# An installed layout: PREFIX/bin/ftmalloc finds PREFIX/lib/libft_malloc.so,
# through a symlink to the script too.
mkdir -p "$tmp/prefix/bin" "$tmp/prefix/lib" "$tmp/elsewhere"
cp "$launcher" "$tmp/prefix/bin/ftmalloc"
cp "$(readlink -f "$lib")" "$tmp/prefix/lib/libft_malloc.so"
ln -sf "$tmp/prefix/bin/ftmalloc" "$tmp/elsewhere/ftm"
launch l-prefix "$tmp/elsewhere/ftm" --exitcode 42 -- sh -c 'echo "$LD_PRELOAD"; '"$P"' leak >/dev/null'
status l-prefix 42
stdout_is l-prefix "$tmp/prefix/lib/libft_malloc.so"
verdict launcher/install-prefix-layout

# ------------------------------------------------------------------ set-user-ID

# A copy of the program linked with the library (LD_PRELOAD would not even
# load it in secure mode), owned by root, mode 4755, run as nobody with
# log_path set: the options must be ignored, the report go to stderr.
suid_skip=""
sd=$tmp/suid
mkdir -p "$sd/logs" && chmod 755 "$sd" && chmod 777 "$sd/logs"
cp "$(readlink -f "$lib")" "$sd/libft_malloc.so"
chmod 755 "$sd/libft_malloc.so"
if [ "$(id -u)" != 0 ]; then
	suid_skip="not root: cannot make a set-user-ID root program"
elif ! command -v setpriv >/dev/null; then
	suid_skip="no setpriv"
elif ! cc -O0 -g -fno-builtin -fno-omit-frame-pointer -rdynamic -o "$sd/prog" prog.c \
	-L"$sd" -lft_malloc -Wl,-rpath,"$sd" 2>"$logs/suid-build.log"; then
	suid_skip="cannot link a program with -lft_malloc: $(head -n1 "$logs/suid-build.log")"
else
	cp "$sd/prog" "$sd/prog-plain"
	chown root:root "$sd/prog" && chmod 4755 "$sd/prog" && chmod 755 "$sd/prog-plain"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	# Control: the same program, not set-user-ID, as nobody, does use log_path.
	last=suid-plain
	echo "setpriv nobody FTMALLOC_OPTIONS=log_path=$sd/logs/plain.%p $sd/prog-plain secure" >"$logs/suid-plain.cmd"
	as_nobody env FTMALLOC_OPTIONS="log_path=$sd/logs/plain.%p" "$sd/prog-plain" secure \
		>"$logs/suid-plain.out" 2>"$logs/suid-plain.err"
	if ! grep -q '^AT_SECURE=0' "$logs/suid-plain.out"; then
		suid_skip="cannot run a program as nobody with setpriv: $(head -n1 "$logs/suid-plain.err")"
	else
		ls "$sd"/logs/plain.* >/dev/null 2>&1 || fail "control: the plain program did not write its log"
		verdict setuid/control-plain-program-uses-log_path
		last=suid
		echo "setpriv nobody FTMALLOC_OPTIONS=log_path=$sd/logs/suid.%p $sd/prog secure" >"$logs/suid.cmd"
		as_nobody env FTMALLOC_OPTIONS="log_path=$sd/logs/suid.%p:verbosity=1" "$sd/prog" secure \
			>"$logs/suid.out" 2>"$logs/suid.err"
		if ! grep -q '^AT_SECURE=1' "$logs/suid.out"; then
			suid_skip="the kernel did not run the copy set-user-ID ($(head -n1 "$logs/suid.out"); nosuid mount or no_new_privs?)"
		else
			! ls "$sd"/logs/suid.* >/dev/null 2>&1 || fail "a log file was written: $(ls "$sd"/logs/suid.*)"
			count suid heap-buffer-overflow 1
			hasnt suid "ftmalloc: options:"
			verdict setuid/set-user-ID-program-ignores-log_path
		fi
	fi
fi
[ -z "$suid_skip" ] || echo "SKIP: options/setuid: $suid_skip"
exit 0
