/*
 * inject.c - failure injection, to exercise the program's own out-of-memory
 * paths: fail_after=N makes the N-th allocation and every later one fail,
 * fail_rate=P makes each fail with probability P (a pure function of
 * fail_seed and the allocation's number, so a single-threaded run repeats
 * exactly), fail_site=PATTERN limits both to allocations whose stack has a
 * function or module matching the glob. A failed allocation returns NULL
 * with errno ENOMEM and changes nothing; with verbosity=1 each is logged
 * with its backtrace. Counting starts once the library is initialised, so
 * the dynamic loader and libc start-up are never made to fail.
 *
 * May call: backtrace.c (bt_matches, printing), fmt.c, report.c (its fd).
 */
#define _GNU_SOURCE
#include "internal.h"

static atomic_ulong counted;   /* allocations seen since arming */
static uint32_t rate;          /* fail_rate scaled to 2^32; 0: off */
bool inject_armed;

/* "0", "1", "0.05", ".5": a fraction 0..1 as parts of 2^32, or -1. */
static int64_t parse_fraction(const char *s)
{
	uint64_t num = 0, den = 1;
	bool dot = false, digits = false;

	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*s < '0' || *s > '9' || den > 1000000000ULL)
			return -1;
		num = num * 10 + (uint64_t)(*s - '0');
		digits = true;
		if (dot)
			den *= 10;
	}
	if (!digits || num > den)
		return -1;
	return num == den ? (int64_t)UINT32_MAX : (int64_t)((num << 32) / den);
}

void inject_init(void)
{
	if (opt.fail_rate[0]) {
		int64_t r = parse_fraction(opt.fail_rate);
		if (r < 0)
			opt_warn_value("fail_rate", opt.fail_rate, "a fraction from 0 to 1, e.g. 0.01");
		else
			rate = (uint32_t)r;
	}
	inject_armed = opt.fail_after || rate;
}

bool inject_fail(size_t size, uint32_t stack)
{
	unsigned long n = atomic_fetch_add_explicit(&counted, 1, memory_order_relaxed) + 1;
	bool fail = (opt.fail_after && n >= opt.fail_after) ||
	    (rate && (uint32_t)(ft_mix64(opt.fail_seed ^ ((uint64_t)n << 20)) >> 32) < rate);

	if (fail && opt.fail_site[0])
		fail = stack && bt_matches(stack, opt.fail_site);
	if (fail && opt.verbosity >= 1) {
		struct fmt_out o;
		fmt_init(&o, report_fd);
		fmt_printf(&o, "ftmalloc: injected failure of allocation #%lu (%zu bytes), thread T%u, at:\n",
		    n, size, (unsigned)os_thread_serial());
		if (stack)
			bt_print_id(&o, stack);
		else
			fmt_puts(&o, "    <no stack recorded>\n");
		fmt_flush(&o);
	}
	return fail;
}
