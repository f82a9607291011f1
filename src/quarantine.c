/*
 * quarantine.c - freed TINY/SMALL blocks wait here, poisoned with free_fill,
 * before their slot can be reused; a write after free shows as a changed
 * poison byte when the block leaves (or at exit, by check.c).
 *
 * One FIFO per thread, bounded by opt.quarantine bytes of slots, so free()
 * takes no lock. When a thread exits, its blocks move to one shared FIFO of
 * orphans (same bound, under a lock), so a write after free into a block
 * freed by a finished thread is still caught.
 * Entries are slot references, never pointers into the program's memory.
 *
 * May call: zone.c (poison check), tcache.c (tcache_put), meta.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#define Q_CAP 65536u

struct qring {
	size_t bytes;
	unsigned head, count;
	uint64_t ref[Q_CAP];
};

static __thread struct qring *t_quar;
static __thread bool t_quar_retired;
static struct qring *orphans;  /* under orphan_lock */
static struct lock orphan_lock;

/* The block leaves quarantine: poison checked, slot reusable. */
static void release(uint64_t ref)
{
	struct zone *z = zone_ref_zone(ref);
	unsigned idx = zone_ref_idx(ref);

	zone_check_poison(z, idx, "free");
	__atomic_store_n(&z->recs[idx].state, REC_FREED, __ATOMIC_RELEASE);
	tcache_put(z, idx);
}

static void evict_oldest(struct qring *q)
{
	uint64_t ref = q->ref[q->head];

	q->head = (q->head + 1) % Q_CAP;
	q->count--;
	q->bytes -= zone_ref_zone(ref)->slot_size;
	release(ref);
}

static void push(struct qring *q, uint64_t ref)
{
	size_t size = zone_ref_zone(ref)->slot_size;

	while (q->count && (q->bytes + size > opt.quarantine || q->count == Q_CAP))
		evict_oldest(q);
	q->ref[(q->head + q->count) % Q_CAP] = ref;
	q->count++;
	q->bytes += size;
}

void quarantine_put(struct zone *z, unsigned idx)
{
	struct qring *q = t_quar;

	if (FT_UNLIKELY(q == NULL)) {
		if (t_quar_retired || (q = meta_alloc(sizeof(*q))) == NULL) {
			release(zone_slot_ref(z, idx));
			return;
		}
		t_quar = q;  /* emptied at exit: numbering the freer (zone_free) watched its exit */
	}
	push(q, zone_slot_ref(z, idx));
}

void quarantine_thread_exit(void)
{
	struct qring *q = t_quar;

	t_quar_retired = true;  /* a free in a later destructor is not held */
	if (!q)
		return;
	t_quar = NULL;
	lock_take(&orphan_lock);
	if (!orphans)
		orphans = meta_alloc(sizeof(*orphans));
	while (q->count) {
		uint64_t ref = q->ref[q->head];
		q->head = (q->head + 1) % Q_CAP;
		q->count--;
		if (orphans)
			push(orphans, ref);
		else
			release(ref);
	}
	lock_give(&orphan_lock);
	meta_free(q, sizeof(*q));
}

void quarantine_lock_all(void) { lock_take(&orphan_lock); }
void quarantine_unlock_all(void) { lock_give(&orphan_lock); }
void quarantine_reset_locks(void) { lock_reset(&orphan_lock); }
