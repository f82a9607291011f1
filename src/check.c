/*
 * check.c - whole-heap checks: every live block's canaries and every
 * quarantined block's poison, at exit and on demand.
 *
 * Zone descriptors and block records are checked for consistency on the
 * way (what a stray write into our own metadata would break): an
 * inconsistent zone is reported as heap-corruption and its blocks are not
 * followed.
 *
 * Damage is copied out (struct finding) while every lock is held and
 * reported after the locks are released: reporting symbolises stacks, which
 * must never run under an allocator lock, and by then the block may be gone.
 * Blocks that another still-running thread allocated (or freed, for the
 * quarantine) are skipped: that thread may be writing the very canary we
 * would read.
 *
 * May call: zone.c, large.c, report.c, os.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <string.h>

#define CHECK_MAX 64

struct findings {
	struct finding f[CHECK_MAX];
	unsigned n, more;
	uint16_t self;
};

/* FT_NO_THREAD: a free is under way. */
static bool busy_elsewhere(const struct findings *fs, uint16_t thread)
{
	return thread == FT_NO_THREAD || (thread != fs->self && os_thread_alive(thread));
}

static void add(struct findings *fs, const struct finding *f)
{
	if (fs->n < CHECK_MAX)
		fs->f[fs->n++] = *f;
	else
		fs->more++;
}

/* Why zone z's descriptor cannot be right, or NULL. */
static const char *zone_insane(const struct zone *z)
{
	if (z->nslots == 0 || z->bump > z->nslots || z->nfree > z->bump)
		return "slot counts out of range";
	if (z->nout != z->bump - z->nfree)
		return "slots out of the zone do not add up";
	if (z->slot_size != zone_class_size(z->cls) || z->stride != z->slot_size + zone_redzone)
		return "slot size does not match the size class";
	for (unsigned i = 0; i < z->nfree; i++)
		if (z->free_idx[i] >= z->bump || z->recs[z->free_idx[i]].state == REC_LIVE)
			return "a free slot is out of range or live";
	for (unsigned i = 0; i < z->bump; i++) {
		const struct rec *r = &z->recs[i];
		if (r->state > REC_QUARANTINED ||
		    (r->state != REC_UNUSED && (size_t)r->align_off * FT_ALIGN + r->size > z->slot_size))
			return "a block record is out of range";
	}
	return NULL;
}

static void check_zone(struct zone *z, void *arg)
{
	struct findings *fs = arg;
	struct finding f;
	const char *why = zone_insane(z);

	if (why) {
		f = (struct finding){ .kind = KIND_HEAP_CORRUPTION, .bad = (uintptr_t)z->base,
		    .corrupt = why };
		add(fs, &f);
		return;
	}
	for (unsigned i = 0; i < z->bump; i++) {
		const struct rec *r = &z->recs[i];
		struct rec was;
		was.state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		memcpy(&was, r, sizeof(was));
		if (was.state == REC_LIVE ? busy_elsewhere(fs, was.alloc_thread)
		    : was.state != REC_QUARANTINED || busy_elsewhere(fs, was.free_thread))
			continue;
		if (!zone_damage(z, i, &f))
			continue;
		/* The slot is ours or a gone thread's, but its block may have
		 * been handed to a thread that is freeing it, or has freed and
		 * allocated it again, while we read it (a thread cache takes no
		 * lock): damage counts only if the record did not change. */
		atomic_thread_fence(memory_order_seq_cst);
		if (memcmp(&was, (const void *)r, sizeof(was)) != 0)
			continue;
		add(fs, &f);
		if (zone_rearm_damage)
			zone_rearm(z, i);
	}
}

static void check_large(struct large *l, void *arg)
{
	struct findings *fs = arg;
	struct finding f;

	if (!busy_elsewhere(fs, l->alloc_thread) && large_check_locked(l, &f))
		add(fs, &f);
}

/* One whole-heap check at a time; the outermost lock of all (it is held
 * while the check takes every other one, and while it reports). */
static struct lock check_lock;

void check_lock_all(void) { lock_take(&check_lock); }
void check_unlock_all(void) { lock_give(&check_lock); }
void check_reset_locks(void) { lock_reset(&check_lock); }

unsigned heap_check_all(const char *when)
{
	static struct findings fs;  /* too big for a thread's stack; callers
	                               are serialised by check_lock */

	if (!opt.canary && !opt.quarantine)
		return 0;
	lock_take(&check_lock);
	fs.n = fs.more = 0;
	fs.self = os_thread_serial();
	ft_lock_all();
	zone_foreach(check_zone, &fs);
	if (opt.canary)
		large_foreach(check_large, &fs);
	ft_unlock_all();
	for (unsigned i = 0; i < fs.n; i++)
		report_finding(&fs.f[i], when, 0);
	unsigned found = fs.n + fs.more;
	if (fs.more) {
		struct fmt_out o;
		report_note_begin(&o, "omitted");
		report_field_str(&o, "of", "damaged blocks");
		report_field_num(&o, "blocks", fs.more);
		if (!report_is_json(&o))
			fmt_printf(&o, "ftmalloc: %u more damaged blocks not reported\n", fs.more);
		report_note_end(&o);
	}
	lock_give(&check_lock);
	return found;
}
