#!/usr/bin/env bash
# JSON suite of ftmalloc: format=json (every report one JSON object on one
# line, checked field by field: kind, address against block.start + offset,
# threads, frames naming the right functions and lines, the exit summary), no
# other line in JSON mode, strings escaped (a source path with quotes, a
# backslash, control characters and UTF-8), color=always|auto|never and
# NO_COLOR, bad values warned about, and tools/ftmalloc-report on a file of
# many runs. Prints "PASS: json/NAME", "FAIL: json/NAME: reason" or "SKIP: ...".
#
# build/bugs (bugs.c) has one bug per argument; the lines check.py expects in
# the frames are the ones marked "@NAME" in bugs.c. Every JSON line is parsed
# by python3 (check.py) and, when installed, by jq.
#
# Environment: FTMALLOC_LIB (default ../../libft_malloc.so), FTMALLOC_ROOT, CC.
set -u
cd "$(dirname "$0")" || exit 1
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
tool=$root/tools/ftmalloc-report
here=$PWD
logs=$here/build/logs
B=$here/build/bugs
CC=${CC:-cc}
CFLAGS="-O0 -g -fno-builtin -fno-omit-frame-pointer -fno-inline -pthread -std=gnu11"
ulimit -c 0
unset FTMALLOC_OPTIONS NO_COLOR

rm -rf "$logs"
mkdir -p "$logs"
if ! $CC $CFLAGS -o "$B" bugs.c >"$logs/build.log" 2>&1; then
	echo "FAIL: json/build: $CC failed: $(grep -m1 -i error "$logs/build.log")"
	exit 1
fi
for f in "$lib" "$tool"; do
	[ -e "$f" ] || { echo "FAIL: json/setup: $f missing"; exit 1; }
done
command -v python3 >/dev/null || { echo "FAIL: json/setup: python3 missing (tools/install-deps --tests)"; exit 1; }
have_jq=false
command -v jq >/dev/null && have_jq=true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ------------------------------------------------------------------ helpers

# run NAME OPTIONS PROGRAM ARGS...: under LD_PRELOAD with FTMALLOC_OPTIONS;
# stdout in $logs/NAME.out, stderr in .err, status in .rc. Extra environment
# goes in $env (name=value words).
env=""
last=""
run() {
	local name=$1 opts=$2
	shift 2
	last=$name
	printf '%s\n' "$env FTMALLOC_OPTIONS='$opts' LD_PRELOAD=$lib $*" >"$logs/$name.cmd"
	# shellcheck disable=SC2086
	( timeout -k 5 60 env -u LD_PRELOAD -u FTMALLOC_OPTIONS -u NO_COLOR $env FTMALLOC_OPTIONS="$opts" \
		LD_PRELOAD="$lib" "$@" >"$logs/$name.out" 2>"$logs/$name.err"; echo $? >"$logs/$name.rc" ) 2>/dev/null
}

reasons=""
fail() { reasons="${reasons:+$reasons; }$*"; }

verdict() {
	if [ -z "$reasons" ]; then
		echo "PASS: json/$1"
	else
		echo "FAIL: json/$1: $reasons"
		if [ -n "$last" ]; then
			echo "    repro: $(cat "$logs/$last.cmd")"
			cut -c1-300 "$logs/$last.err" | head -n 8 | sed 's/^/    | /'
		fi
	fi
	reasons=""
	last=""
}

rc() { cat "$logs/$1.rc"; }
status() { [ "$(rc "$1")" = "$2" ] || fail "exit status $(rc "$1"), expected $2"; }
has() { grep -qF -- "$2" "$logs/$1.err" || fail "stderr has no '$2'"; }
esc=$(printf '\033')
has_escapes() { grep -q "$esc" "$logs/$1.err" || fail "no color escape in stderr"; }
no_escapes() { ! grep -q "$esc" "$logs/$1.err" || fail "a color escape in stderr"; }

# python: every line one JSON object of ours, then the checks of check.py
check() {  # check WHAT ARGS...
	local out
	out=$(python3 check.py "$@" 2>&1) || fail "$(printf '%s' "$out" | head -n 6 | tr '\n' '|')"
}
# Every line parses, with python3 -c and with jq (when installed), and is an
# object with "version":1: no text line slipped into JSON mode.
all_json() {
	local f=$logs/$1.err n
	python3 -c '
import json, sys
for no, line in enumerate(open(sys.argv[1], "rb"), 1):
    obj = json.loads(line)
    assert isinstance(obj, dict) and obj.get("version") == 1, "line %d: %r" % (no, line[:80])
' "$f" 2>"$logs/$1.pyerr" || fail "python3 json.loads: $(tail -n 1 "$logs/$1.pyerr")"
	if $have_jq; then
		n=$(jq -c 'select(.version == 1)' "$f" 2>"$logs/$1.jqerr" | wc -l)
		[ "$n" = "$(wc -l <"$f")" ] || fail "jq reads $n objects of version 1 in $(wc -l <"$f") lines: $(head -c 200 "$logs/$1.jqerr")"
	fi
}

# ------------------------------------------------------------------ one bug per run

for b in overflow large-overflow use-after-free double-free invalid-free leaks thread-double-free clean; do
	run "$b" "format=json" "$B" "$b"
	case $b in
	large-overflow) status "$b" 139 ;;
	*) status "$b" 0 ;;
	esac
	[ -s "$logs/$b.err" ] || [ "$b" = clean ] || fail "no report at all"
	all_json "$b"
	check bug "$b" "$logs/$b.err" bugs.c
	verdict "bug/$b"
done

# The same kinds as text: the first line is still what it was.
run text-double-free "" "$B" double-free
has text-double-free "ftmalloc: ERROR: double-free on address 0x"
has text-double-free "ftmalloc: SUMMARY: 1 error: 1 double-free"
python3 -c 'import json,sys; json.loads(open(sys.argv[1]).readline())' "$logs/text-double-free.err" 2>/dev/null &&
	fail "text mode writes JSON"
verdict format/text-is-default

run json-no-text "format=json:show_reachable=1" "$B" leaks
all_json json-no-text
check bug reachable "$logs/json-no-text.err" bugs.c
grep -q '^ftmalloc' "$logs/json-no-text.err" && fail "a text line in JSON mode"
verdict format/show-reachable-all-json

echo "leak:thread_leak" >"$tmp/leak.supp"
run suppressed "format=json:suppressions=$tmp/leak.supp" "$B" leaks
all_json suppressed
check bug leaks-suppressed "$logs/suppressed.err" bugs.c
verdict format/suppressed-counted-in-summary

run abort "format=json:abort_on_error=1" "$B" double-free
status abort 134
all_json abort
[ "$(wc -l <"$logs/abort.err")" = 1 ] || fail "$(wc -l <"$logs/abort.err") lines, expected the one report"
verdict format/abort-on-error-one-whole-line

run logfile "format=json:log_path=$tmp/r.%p.log" "$B" leaks
[ -s "$logs/logfile.err" ] && fail "stderr not empty"
set -- "$tmp"/r.*.log
if [ $# = 1 ] && [ -f "$1" ]; then
	cp "$1" "$logs/logfile-log.err"
	all_json logfile-log
	check bug leaks "$logs/logfile-log.err" bugs.c
else
	fail "$# log files"
fi
verdict format/log-path-json

run bad-format "format=xml" "$B" double-free
[ "$(grep -c '^ftmalloc: warning: ' "$logs/bad-format.err")" = 1 ] || fail "not one warning"
has bad-format "'format=xml'"
has bad-format "ftmalloc: ERROR: double-free on address"
verdict format/bad-value-warns-text-stays

run bad-color "color=purple" "$B" double-free
[ "$(grep -c '^ftmalloc: warning: ' "$logs/bad-color.err")" = 1 ] || fail "not one warning"
has bad-color "'color=purple'"
no_escapes bad-color
verdict color/bad-value-warns

# Escaping: the program built from a directory whose name has a quote, a
# backslash, a tab, a control character and UTF-8; its frames name that path.
odd=$(printf 'odd "q" \\ \t\001 \303\251')
mkdir -p "$tmp/$odd"
cp bugs.c "$tmp/$odd/bugs.c"
if (cd "$tmp/$odd" && $CC $CFLAGS -o "$tmp/bugs-odd" bugs.c) >"$logs/odd-build.log" 2>&1; then
	run odd-path "format=json" "$tmp/bugs-odd" double-free
	all_json odd-path
	grep -q $'\t' "$logs/odd-path.err" && fail "a raw tab in the JSON"
	grep -q $'\001' "$logs/odd-path.err" && fail "a raw control character in the JSON"
	LC_ALL=C grep -q $'\303' "$logs/odd-path.err" && fail "a raw non-ASCII byte in the JSON"
	grep -qF '\"q\" \\ \t\u0001 \u00c3\u00a9/bugs.c"' "$logs/odd-path.err" || fail "the escaped path is not in the JSON"
	check file "$logs/odd-path.err" "/$odd/bugs.c"
else
	fail "could not build bugs.c in an odd directory: $(head -n 1 "$logs/odd-build.log")"
fi
verdict format/strings-escaped

# ------------------------------------------------------------------ color

run color-always "color=always" "$B" double-free
has_escapes color-always
has color-always "${esc}[1;31mftmalloc: ERROR: double-free${esc}[0m on address"
has color-always "  ${esc}[1mdetected at:${esc}[0m"
has color-always "in ${esc}[36mdrop_again${esc}[0m "
has color-always "${esc}[1mftmalloc: SUMMARY: 1 error: 1 double-free${esc}[0m"
verdict color/always

run color-never "color=never" "$B" double-free
no_escapes color-never
has color-never "ftmalloc: ERROR: double-free on address"
verdict color/never

run color-auto-file "" "$B" double-free
no_escapes color-auto-file
verdict color/auto-not-a-terminal

env="NO_COLOR=1"
run color-always-no-color "color=always" "$B" double-free
env=""
has_escapes color-always-no-color
verdict color/always-wins-over-NO_COLOR

run color-json "format=json:color=always" "$B" leaks
no_escapes color-json
all_json color-json
verdict color/never-in-json

# auto on a terminal: script(1) gives the program a pseudo-terminal.
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	for nc in "" 1; do
		name=color-auto-tty${nc:+-no-color}
		last=$name
		printf '%s\n' "NO_COLOR=$nc LD_PRELOAD=$lib script -qec '$B double-free' /dev/null" >"$logs/$name.cmd"
		timeout -k 5 60 env -u FTMALLOC_OPTIONS -u NO_COLOR ${nc:+NO_COLOR=$nc} LD_PRELOAD="$lib" \
			script -qec "$B double-free" /dev/null </dev/null >"$logs/$name.err" 2>&1
		if [ -z "$nc" ]; then
			has_escapes "$name"
			has "$name" "${esc}[1;31mftmalloc: ERROR: double-free"
			verdict color/auto-on-a-terminal
		else
			no_escapes "$name"
			has "$name" "ftmalloc: ERROR: double-free"
			verdict color/auto-on-a-terminal-NO_COLOR
		fi
	done
else
	echo "SKIP: json/color/auto-on-a-terminal: no script(1) (bsdutils)"
fi

# ------------------------------------------------------------------ ftmalloc-report

# Every bug's JSON (the SIGSEGV one without a summary), one process with
# several, four lines that are not ours and an empty one.
run all "format=json" "$B" all
all_json all
{
	for b in overflow large-overflow use-after-free double-free invalid-free leaks thread-double-free all; do
		cat "$logs/$b.err"
		[ "$b" = leaks ] && printf 'some program output\n{"not": "ours"}\n[1,2]\n\n{broken\n'
	done
	cat "$logs/clean.err"
} >"$logs/combined.jsonl"
"$tool" "$logs/combined.jsonl" >"$logs/tool.out" 2>"$logs/tool.err"
[ $? = 0 ] || fail "ftmalloc-report exited $?: $(head -n 2 "$logs/tool.err")"
check tool "$logs/tool.out" bugs.c
verdict report-tool/combined-file

"$tool" <"$logs/combined.jsonl" >"$logs/tool-stdin.out" 2>&1
sed 1d "$logs/tool.out" >"$tmp/a"
sed 1d "$logs/tool-stdin.out" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "stdin gives another summary than the file"
verdict report-tool/stdin

split -l 7 "$logs/combined.jsonl" "$tmp/part."
"$tool" "$tmp"/part.* >"$logs/tool-split.out" 2>&1
sed 1d "$logs/tool-split.out" >"$tmp/c"
cmp -s "$tmp/a" "$tmp/c" || fail "the same lines in several files give another summary"
verdict report-tool/several-files

"$tool" --help >"$logs/tool-help.out" 2>&1 || fail "--help exited $?"
grep -q '^usage: ftmalloc-report' "$logs/tool-help.out" || fail "--help has no usage line"
"$tool" --nonsense >/dev/null 2>&1
[ $? = 2 ] || fail "a bad option does not exit 2"
"$tool" "$tmp/no-such-file" >/dev/null 2>&1
[ $? = 2 ] || fail "a missing file does not exit 2"
verdict report-tool/help-and-errors
