/*
 * check.c - whole-heap checks: every live block's canaries and every
 * quarantined block's poison, at exit and on demand (show_alloc_mem_ex).
 *
 * Damage is collected while every lock is held, into a fixed list, and
 * reported after the locks are released: reporting symbolises stacks, which
 * must never run under an allocator lock.
 *
 * May call: zone.c, large.c, report.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#define CHECK_MAX 64

struct finding {
	struct zone *z;
	unsigned idx;
	bool poison;  /* quarantined block whose poison changed */
};

struct findings {
	struct finding f[CHECK_MAX];
	unsigned n, more;
};

static void check_zone(struct zone *z, void *arg)
{
	struct findings *fs = arg;

	for (unsigned i = 0; i < z->bump; i++) {
		const struct rec *r = &z->recs[i];
		bool poison = r->state == REC_QUARANTINED;
		if (r->state != REC_LIVE && !poison)
			continue;
		if (!zone_block_damaged(z, i, poison))
			continue;
		if (fs->n < CHECK_MAX)
			fs->f[fs->n++] = (struct finding){ z, i, poison };
		else
			fs->more++;
	}
}

unsigned heap_check_all(const char *when)
{
	struct findings fs = { .n = 0 };

	if (!opt.canary && !opt.quarantine)
		return 0;
	ft_lock_all();
	zone_foreach(check_zone, &fs);
	ft_unlock_all();
	/* The zones cannot go away under us: a zone with a live or quarantined
	 * block is never released. A block may have been freed meanwhile by
	 * another thread; checking it again is harmless. */
	for (unsigned i = 0; i < fs.n; i++) {
		if (fs.f[i].poison)
			zone_check_poison(fs.f[i].z, fs.f[i].idx, when);
		else
			zone_check_block(fs.f[i].z, fs.f[i].idx, when, 0);
	}
	if (fs.more) {
		struct fmt_out o;
		fmt_init(&o, report_fd);
		fmt_printf(&o, "ftmalloc: %u more damaged blocks not reported\n", fs.more);
		fmt_flush(&o);
	}
	return fs.n + fs.more;
}
