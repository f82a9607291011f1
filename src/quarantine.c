/*
 * quarantine.c - freed TINY/SMALL blocks wait here, poisoned with free_fill,
 * before their slot can be reused; a write after free shows as a changed
 * poison byte when the block leaves (or at exit, by check.c).
 *
 * One FIFO per thread, bounded by opt.quarantine bytes of slots, so free()
 * takes no lock; a thread's quarantine drains when the thread exits.
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

void quarantine_put(struct zone *z, unsigned idx)
{
	struct qring *q = t_quar;
	size_t size = z->slot_size;

	if (FT_UNLIKELY(q == NULL)) {
		if (t_quar_retired || (q = meta_alloc(sizeof(*q))) == NULL) {
			release(zone_slot_ref(z, idx));
			return;
		}
		t_quar = q;
	}
	while (q->count && (q->bytes + size > opt.quarantine || q->count == Q_CAP))
		evict_oldest(q);
	q->ref[(q->head + q->count) % Q_CAP] = zone_slot_ref(z, idx);
	q->count++;
	q->bytes += size;
}

void quarantine_thread_exit(void)
{
	struct qring *q = t_quar;

	if (!q)
		return;
	t_quar_retired = true;
	while (q->count)
		evict_oldest(q);
	t_quar = NULL;
	meta_free(q, sizeof(*q));
}
