#!/usr/bin/env bash
# make soak (not part of make test): build/soak under LD_PRELOAD=$FTMALLOC_LIB with
# the default options (every detection on) for SOAK_SECONDS (default 600): a steady
# workload whose RSS must stay flat after the warm-up (see soak.c for the bound and
# why). Fails as well on any ftmalloc report (error or exit summary: the program is
# clean) and on a missing preload. Prints one PASS:/FAIL: soak line; exit 0 or 1.
#
# Environment (all optional):
#   FTMALLOC_LIB     the library (default: $FTMALLOC_ROOT/libft_malloc.so)
#   SOAK_SECONDS     duration (default 600)
#   SOAK_THREADS     worker threads (default 4)
#   SOAK_SEED        seed (default: picked and printed)
#   SOAK_ARGS        more soak options, e.g. "-l 4096 -r 0 -b 8"
#   FTMALLOC_OPTIONS passed through (default: none, i.e. the defaults)
# The log is kept in build/soak.log.
set -u
cd "$(dirname "$0")"
root=${FTMALLOC_ROOT:-$(cd ../.. && pwd)}
lib=${FTMALLOC_LIB:-$root/libft_malloc.so}
secs=${SOAK_SECONDS:-600}
threads=${SOAK_THREADS:-4}
seed=${SOAK_SEED:-$(( (RANDOM << 30) | (RANDOM << 15) | RANDOM ))}
log=build/soak.log

make -s build/soak || { echo "FAIL: soak: build failed"; exit 1; }
[ -e "$lib" ] || { echo "FAIL: soak: $lib missing (run make at the top first)"; exit 1; }

# shellcheck disable=SC2086
cmd=(build/soak -d "$secs" -t "$threads" -s "$seed" ${SOAK_ARGS:-})
echo "soak: LD_PRELOAD=$lib ${FTMALLOC_OPTIONS:+FTMALLOC_OPTIONS=$FTMALLOC_OPTIONS }${cmd[*]}"
timeout -k 10 $((secs + 300)) env LD_PRELOAD="$lib" "${cmd[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
from=$(grep -m1 -o 'malloc-from=[^ ]*' "$log" | cut -d= -f2)
if [ -z "$from" ] || [ "$(readlink -f "$from")" != "$(readlink -f "$lib")" ]; then
	echo "FAIL: soak: LD_PRELOAD=$lib did not take effect: malloc comes from ${from:-?}"
	exit 1
fi
rep=$(grep -m1 -E '^ftmalloc: (ERROR|SUMMARY)' "$log")
if [ -n "$rep" ]; then
	echo "FAIL: soak: ftmalloc reported: $rep (seed $seed, log tests/stress/$log)"
	grep -E -A12 '^ftmalloc: ERROR' "$log" | head -n 30 | sed 's/^/    /'
	exit 1
fi
if [ "$rc" -ne 0 ]; then
	grep -q '^FAIL: soak' "$log" || echo "FAIL: soak: exit status $rc (seed $seed, log tests/stress/$log)"
	echo "    repro: SOAK_SEED=$seed SOAK_SECONDS=$secs SOAK_THREADS=$threads make soak"
	exit 1
fi
exit 0
