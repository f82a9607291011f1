# tests/lib.sh - what the suites' run.sh scripts share. Source it after
# setting SUITE (the prefix of the suite's check names) and lib (the library
# under test); it reads nothing else of the caller.
#
#   suite_build LOGDIR [MAKE ARGS...]   build the suite's programs (make -s);
#                                       on failure print FAIL SUITE/build with
#                                       the first error and the log, exit 1
#   suite_need_lib                      FAIL SUITE/library and exit 1 when
#                                       $lib does not exist
#   preload_from BIN                    where malloc comes from when BIN runs
#                                       under LD_PRELOAD=$lib (BIN's "allocator"
#                                       command prints the dladdr name)
#   suite_check_preload BIN [PASSNAME]  FAIL SUITE/preload and exit 1 unless
#                                       malloc comes from libft_malloc (ld.so
#                                       only warns when LD_PRELOAD cannot load);
#                                       with PASSNAME, print a PASS line too
#   trim STRING                         STRING without leading/trailing blanks
#   pass NAME                           "PASS: SUITE/NAME"
#   skip NAME WHY                       "SKIP: SUITE/NAME: WHY"
#   fail NAME WHY [LOG]                 "FAIL: SUITE/NAME: WHY", then the first
#                                       30 lines of LOG, indented; without LOG,
#                                       of the file the suite's own
#                                       "fail_log NAME" prints, if it has one

suite_build() {
	local logdir=$1
	shift
	mkdir -p "$logdir"
	if ! make -s "$@" >"$logdir/build.log" 2>&1; then
		echo "FAIL: $SUITE/build: make failed: $(grep -m1 -iE 'error' "$logdir/build.log")"
		sed 's/^/    /' "$logdir/build.log"
		exit 1
	fi
}

suite_need_lib() {
	if [ ! -e "$lib" ]; then
		echo "FAIL: $SUITE/library: $lib does not exist (run make first)"
		exit 1
	fi
}

preload_from() {
	LD_PRELOAD=$lib "$1" allocator 2>/dev/null
}

suite_check_preload() {
	local from
	from=$(preload_from "$1")
	case $from in
	*libft_malloc*) [ -n "${2:-}" ] && echo "PASS: $SUITE/$2" ;;
	*) echo "FAIL: $SUITE/preload: under LD_PRELOAD=$lib, malloc comes from '${from:-?}'"; exit 1 ;;
	esac
	return 0
}

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

pass() { echo "PASS: $SUITE/$1"; }
skip() { echo "SKIP: $SUITE/$1: $2"; }
fail() {
	echo "FAIL: $SUITE/$1: $2"
	local f=${3:-}
	[ -z "$f" ] && declare -F fail_log >/dev/null && f=$(fail_log "$1")
	if [ -n "$f" ] && [ -s "$f" ]; then
		grep -v '^\.\.\.\.' "$f" | head -n 30 | sed 's/^/    | /'
	fi
	return 0
}
