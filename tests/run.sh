#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, N failed[, N skipped]".
#
# A suite is a directory tests/NAME/ with an executable run.sh. It builds what it
# needs and prints one line per check:
#     PASS: name
#     FAIL: name: what went wrong
#     SKIP: name: why
# Anything else it prints is shown as is. FTMALLOC_LIB (absolute path of the built
# libft_malloc.so) and FTMALLOC_ROOT (the source tree) are exported to it.
# Usage: tests/run.sh [suite...]   (default: all suites, in the order below)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export FTMALLOC_ROOT="$root"
export FTMALLOC_LIB="$root/libft_malloc.so"
[ -e "$FTMALLOC_LIB" ] || { echo "run.sh: $FTMALLOC_LIB missing: run make first" >&2; exit 2; }

default_order="unit death tricky stress programs options tools"
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
	for s in $default_order; do [ -x "$here/$s/run.sh" ] && suites+=("$s"); done
	for d in "$here"/*/; do
		s=$(basename "$d")
		case " $default_order " in *" $s "*) continue;; esac
		[ -x "$d/run.sh" ] && suites+=("$s")
	done
fi

pass=0 fail=0 skip=0
failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for s in "${suites[@]}"; do
	echo "=== suite $s"
	start=$(date +%s)
	( cd "$here/$s" && ./run.sh ) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS: ' "$log"); f=$(grep -c '^FAIL: ' "$log"); k=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $s: suite exited with status $rc"
		f=1
	fi
	while IFS= read -r line; do failed+=("$line"); done < <(grep '^FAIL: ' "$log")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	echo "=== suite $s: $p passed, $f failed, $k skipped ($(( $(date +%s) - start ))s)"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "--- failures:"
	printf '%s\n' "${failed[@]}"
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
