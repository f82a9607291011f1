#!/usr/bin/env bash
# Man page suite of ftmalloc: man/ftmalloc.3 is in step with the code, clean, and
# installed where man(1) finds it. One "PASS: man/NAME" / "FAIL: man/NAME: reason" /
# "SKIP: man/NAME: why" line per check:
#   options-generated         the OPTIONS list is what tools/gen-man-options makes of
#                             src/options.def (its --check)
#   check-catches-*, update-* the checker itself: it fails on a page whose option
#                             description was changed, and on a changed table; --update
#                             repairs the page
#   mandoc-lint, groff-warnings   no warning from "mandoc -T lint -W warning" nor from
#                             "groff -man -ww -z"
#   options-documented, options-in-help, option-types-explained   every option of
#                             options.def is in the page and in the FTMALLOC_OPTIONS=help
#                             output of the built library; every type used is explained
#   page-uses-existing-options   every option the page's text and examples set exists
#   kinds-documented          every kind of FT_KINDS (src/internal.h) has its subsection
#                             under REPORTS
#   quoted/BUG                every line of the man page's example report of BUG still
#                             comes out of tests/man/bugs.c (see quoted.py); and
#   quoted-catches-changed-line   that comparison fails on a line number changed
#   install-copies-page, man-finds-page   "make install PREFIX=tmp" puts the page in
#                             share/man/man3, where "man -w" finds it (SKIP without man-db)
# Environment: FTMALLOC_ROOT (the tree), FTMALLOC_LIB (the built libft_malloc.so), CC.
set -u
cd "$(dirname "$0")" || exit 2
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
SUITE=man
. ../lib.sh
page=$root/man/ftmalloc.3
def=$root/src/options.def
gen=$root/tools/gen-man-options
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset FTMALLOC_OPTIONS DESTDIR
ulimit -c 0


# ---- (a) the generated OPTIONS list, and its checker
if "$gen" --check "$page" >"$tmp/check.out" 2>&1; then
	pass options-generated
else
	fail options-generated "out of date: run 'make man' (tools/gen-man-options --update man/ftmalloc.3)" "$tmp/check.out"
fi

# A copy of the page with the description of the first generated option changed.
awk '
	/^\.\\" BEGIN GENERATED OPTIONS$/ { gen = 1 }
	gen && done == 0 && prev ~ /^\.BI / { print "a description nobody wrote"; done = 1; prev = $0; next }
	{ print; prev = $0 }
	END { exit done ? 0 : 1 }' "$page" >"$tmp/tampered.3" || fail check-catches-changed-description "no option found in the generated part of the page"
if cmp -s "$page" "$tmp/tampered.3"; then
	fail check-catches-changed-description "could not tamper with a copy of the page"
else
	"$gen" --check "$tmp/tampered.3" >"$tmp/tampered.out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q '^-a description nobody wrote' "$tmp/tampered.out"; then
		pass check-catches-changed-description
	else
		fail check-catches-changed-description "--check exited $rc on a page with a changed description, or its diff did not show it" "$tmp/tampered.out"
	fi
	if "$gen" --update "$tmp/tampered.3" >"$tmp/update.out" 2>&1 && cmp -s "$page" "$tmp/tampered.3"; then
		pass update-repairs-page
	else
		fail update-repairs-page "--update did not give back the committed page" "$tmp/update.out"
	fi
fi

# The real page against a table with one description changed.
sed '0,/^OPT(\([a-z_]*\), *\([a-z]*\), *\([^,]*\), *"[^"]*")/s//OPT(\1, \2, \3, "changed in the table only")/' "$def" >"$tmp/options.def"
if cmp -s "$def" "$tmp/options.def"; then
	fail check-catches-changed-table "could not change a copy of options.def"
else
	"$gen" --def "$tmp/options.def" --check "$page" >"$tmp/table.out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q '^+Changed in the table only' "$tmp/table.out"; then
		pass check-catches-changed-table
	else
		fail check-catches-changed-table "--check exited $rc against a changed table, or its diff did not show it" "$tmp/table.out"
	fi
fi

# ---- (b), (c) formatters say nothing
if ! command -v mandoc >/dev/null; then
	fail mandoc-lint "mandoc is not installed (tools/install-deps --tests)"
elif mandoc -T lint -W warning "$page" >"$tmp/mandoc.out" 2>&1; [ -s "$tmp/mandoc.out" ]; then
	fail mandoc-lint "mandoc -T lint -W warning complains" "$tmp/mandoc.out"
else
	pass mandoc-lint
fi
if ! command -v groff >/dev/null; then
	fail groff-warnings "groff is not installed (tools/install-deps --tests)"
elif groff -man -ww -z "$page" >"$tmp/groff.out" 2>&1; [ -s "$tmp/groff.out" ]; then
	fail groff-warnings "groff -man -ww -z complains" "$tmp/groff.out"
else
	pass groff-warnings
fi

# ---- (d) every option and every kind documented
# The page as text: roff's \- and \& undone.
sed -e 's/\\-/-/g' -e 's/\\&//g' "$page" >"$tmp/page.txt"
options=$(sed -n 's/^OPT( *\([a-z_0-9]*\) *,.*/\1/p' "$def")
types=$(sed -n 's/^OPT( *[a-z_0-9]* *, *\([a-z_0-9]*\) *,.*/\1/p' "$def" | sort -u)
[ -n "$options" ] || fail options-documented "no OPT(...) line in $def"
missing=""
for o in $options; do
	grep -q "^\.BI $o= " "$tmp/page.txt" || missing="$missing $o"
done
if [ -n "$options" ] && [ -z "$missing" ]; then
	pass options-documented
elif [ -n "$options" ]; then
	fail options-documented "not in the OPTIONS list of the page:$missing"
fi

if [ ! -e "$lib" ]; then
	fail options-in-help "$lib missing: run make first"
else
	LD_PRELOAD=$lib FTMALLOC_OPTIONS=help /bin/true >"$tmp/help.out" 2>&1
	missing=""
	for o in $options; do
		grep -q "^ *$o " "$tmp/help.out" || missing="$missing $o"
	done
	if [ -n "$options" ] && [ -z "$missing" ]; then
		pass options-in-help
	else
		fail options-in-help "not in the FTMALLOC_OPTIONS=help output of $lib:$missing" "$tmp/help.out"
	fi
fi

# Every option the page sets anywhere (FTMALLOC_OPTIONS=a=1:b=2 in the text and
# examples, ".B name=value" in the prose) is one options.def has.
{
	grep -o 'FTMALLOC_OPTIONS[= ][^ ]*' "$tmp/page.txt" | sed 's/^FTMALLOC_OPTIONS[= ]//' | tr ':' '\n' |
		sed -n 's/^\([a-z_0-9]*\)=.*/\1/p'
	sed -n 's/^\.B[IR]\{0,1\} \([a-z_0-9]*\)=.*/\1/p' "$tmp/page.txt"
} | sort -u >"$tmp/used-options"
unknown=""
while read -r o; do
	printf '%s\n' "$options" | grep -qx "$o" || unknown="$unknown $o"
done <"$tmp/used-options"
if [ ! -s "$tmp/used-options" ]; then
	fail page-uses-existing-options "found no option setting in the page: the check is broken"
elif [ -z "$unknown" ]; then
	pass page-uses-existing-options
else
	fail page-uses-existing-options "the page sets options options.def does not have:$unknown"
fi

# The prose of OPTIONS (before the generated list) explains each type used.
sed -n '/^\.SH OPTIONS/,/^\.\\" BEGIN GENERATED OPTIONS/p' "$tmp/page.txt" >"$tmp/options-prose.txt"
missing=""
for t in $types; do
	grep -q "^\.I $t\$" "$tmp/options-prose.txt" || missing="$missing $t"
done
if [ -z "$missing" ]; then
	pass option-types-explained
else
	fail option-types-explained "types of options.def not explained (a line '.I TYPE') before the OPTIONS list:$missing"
fi

kinds=$(sed -n '/^#define FT_KINDS/,/^[^\\]*$/s/.*X([A-Z_]*, *"\([a-z-]*\)").*/\1/p' "$root/src/internal.h")
sed -n '/^\.SH REPORTS/,/^\.SH [^R]/p' "$tmp/page.txt" >"$tmp/reports.txt"
missing=""
for k in $kinds; do
	grep -q "^\.SS $k\$" "$tmp/reports.txt" || missing="$missing $k"
done
if [ -z "$kinds" ]; then
	fail kinds-documented "no kind found in FT_KINDS of src/internal.h"
elif [ -z "$missing" ]; then
	pass kinds-documented
else
	fail kinds-documented "kinds without a '.SS KIND' subsection under REPORTS:$missing"
fi

# ---- the quoted reports are real
mkdir -p build
if ! ${CC:-cc} -g -O0 -o build/bugs bugs.c >"$tmp/cc.out" 2>&1; then
	fail quoted-build "cannot build tests/man/bugs.c" "$tmp/cc.out"
elif [ ! -e "$lib" ]; then
	fail quoted-run "$lib missing: run make first"
else
	for bug in $(python3 quoted.py list "$page"); do
		# A one-byte overflow stores a value the canary byte has by chance once in
		# 256 runs (see CAVEATS): three runs, one must show every quoted line.
		ok=0
		for _ in 1 2 3; do
			# (the braces keep bash's own "Segmentation fault" line out of the log)
			{ ( cd build && LD_PRELOAD=$lib exec timeout 30 ./bugs "$bug" ) >"$tmp/bug.out" 2>&1; } 2>/dev/null
			rc=$?
			[ "$rc" -eq 139 ] && echo "Segmentation fault" >>"$tmp/bug.out"
			if python3 quoted.py check "$page" "$bug" "$tmp/bug.out" >"$tmp/quoted.out" 2>&1; then
				ok=1
				break
			fi
		done
		if [ "$ok" -eq 1 ]; then
			pass "quoted/$bug"
		else
			{
				cat "$tmp/quoted.out"
				echo "--- output of 'bugs $bug' (exit status $rc):"
				cat "$tmp/bug.out"
			} >"$tmp/quoted.why"
			fail "quoted/$bug" "$(head -n 1 "$tmp/quoted.out")" "$tmp/quoted.why"
		fi
	done
	# The comparison itself: a quoted line number one off must not pass.
	{ ( cd build && LD_PRELOAD=$lib exec ./bugs double-free ) >"$tmp/df.out" 2>&1; } 2>/dev/null
	sed 's/^\(    #0 0x[0-9a-f]* in release .*bugs\.c:\)\([0-9]*\)$/\1999/' "$page" >"$tmp/shifted.3"
	if cmp -s "$page" "$tmp/shifted.3"; then
		fail quoted-catches-changed-line "no '#0 ... in release bugs.c:N' line to change in the double-free example"
	elif ! python3 quoted.py check "$page" double-free "$tmp/df.out" >/dev/null 2>&1; then
		fail quoted-catches-changed-line "the double-free example does not match its own output" "$tmp/df.out"
	elif python3 quoted.py check "$tmp/shifted.3" double-free "$tmp/df.out" >/dev/null 2>&1; then
		fail quoted-catches-changed-line "a quoted line with a wrong line number passed"
	else
		pass quoted-catches-changed-line
	fi
fi

# ---- (e) installed where man finds it
prefix=$tmp/prefix
if ! make -C "$root" install PREFIX="$prefix" >"$tmp/install.out" 2>&1; then
	fail install-copies-page "make install PREFIX=$prefix failed" "$tmp/install.out"
elif ! cmp -s "$page" "$prefix/share/man/man3/ftmalloc.3"; then
	fail install-copies-page "make install did not put man/ftmalloc.3 in share/man/man3" "$tmp/install.out"
else
	pass install-copies-page
	if ! command -v man >/dev/null || ! man --version 2>/dev/null | grep -q '^man '; then
		skip man-finds-page "man-db is not installed; the page is in place"
	else
		found=$(MANPATH=$prefix/share/man man -w ftmalloc 2>"$tmp/man.err")
		if [ "$found" = "$prefix/share/man/man3/ftmalloc.3" ]; then
			pass man-finds-page
		else
			fail man-finds-page "MANPATH=$prefix/share/man man -w ftmalloc gave '$found'" "$tmp/man.err"
		fi
	fi
fi
exit 0
