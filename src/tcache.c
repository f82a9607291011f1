/*
 * tcache.c - the TINY/SMALL fast path: a per-thread cache of slots per size
 * class, so that most malloc and free calls take no lock.
 *
 * A cache holds slot references (zone.h's zone_slot_ref), never pointers
 * written into the program's memory: a write after free cannot steer us.
 * It refills from the thread's arena in batches and gives back the older
 * half when full. free() marks the block's record FREED with a compare-and-
 * swap, so two frees of one block can never both succeed, even at once.
 * Slots in a cache count as out of their zone, which is therefore never
 * released under it. A thread's cache is given back when the thread exits.
 *
 * May call: zone.c batch functions, meta.c, os.c. Never malloc.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define TC_SLOTS 15             /* at most, per class: a bin is two cache lines */
#define TC_BYTES 4096           /* and at most this many bytes of slots per class,
                                   so a cache pins few zones and little memory */

/* Slots a bin holds at most, per class: TC_BYTES / class size, 2..TC_SLOTS. */
#define CAP(size) ((uint8_t)((TC_BYTES / (size)) < 2 ? 2 : (TC_BYTES / (size)) > TC_SLOTS ? TC_SLOTS : (TC_BYTES / (size))))
#define CAP_T(i) CAP(16 * ((i) + 1))
#define CAP_S(i) CAP(128 + 16 * (i))
static const uint8_t bin_caps[FT_NCLASSES] = {
	CAP_T(0), CAP_T(1), CAP_T(2), CAP_T(3), CAP_T(4), CAP_T(5), CAP_T(6), CAP_T(7),
#define CAP_S8(i) CAP_S(i), CAP_S(i + 1), CAP_S(i + 2), CAP_S(i + 3), \
	CAP_S(i + 4), CAP_S(i + 5), CAP_S(i + 6), CAP_S(i + 7)
	CAP_S8(0), CAP_S8(8), CAP_S8(16), CAP_S8(24), CAP_S8(32), CAP_S8(40), CAP_S8(48), CAP_S(56),
#undef CAP_S8
};
_Static_assert(FT_NTINY == 8 && FT_NSMALL == 57, "bin_caps lists every class");

static inline unsigned bin_cap(unsigned cls)
{
	return bin_caps[cls];
}

struct tbin {
	uint32_t count;
	uint32_t pad;
	uint64_t ref[TC_SLOTS];
};

struct tcache {
	struct tbin bins[FT_NCLASSES];
};

static __thread struct tcache *t_cache;
static __thread bool t_cache_retired;   /* thread exiting: no cache any more */
static pthread_key_t tc_key;
static bool tc_key_ok;

void tcache_init(void)
{
	tc_key_ok = pthread_key_create(&tc_key, tcache_thread_exit) == 0;
}

static struct tcache *cache_get(void)
{
	if (FT_LIKELY(t_cache != NULL))
		return t_cache;
	if (t_cache_retired)
		return NULL;
	struct tcache *c = meta_alloc(sizeof(*c));
	if (!c)
		return NULL;
	/* Make it resident now, once per thread, rather than a page at a time
	 * inside later allocations. */
	memset(c, 0, sizeof(*c));
	t_cache = c;
	tcache_watch_exit();
	return c;
}

void tcache_watch_exit(void)
{
	/* The key is one of the process's first: setting it allocates nothing. */
	if (tc_key_ok && !t_cache_retired && !pthread_getspecific(tc_key))
		pthread_setspecific(tc_key, (void *)1);
}

void tcache_thread_exit(void *unused)
{
	struct tcache *c = t_cache;

	(void)unused;
	t_cache_retired = true;  /* from here on, nothing is cached or watched */
	os_thread_gone();
	quarantine_thread_exit();  /* its blocks go to the cache first */
	if (!c)
		return;
	t_cache = NULL;
	for (unsigned i = 0; i < FT_NCLASSES; i++)
		zone_give_batch(c->bins[i].ref, c->bins[i].count);
	meta_free(c, sizeof(*c));
}

/* Give a freed slot to the calling thread's cache (or straight back). */
void tcache_put(struct zone *z, unsigned idx)
{
	uint64_t ref = zone_slot_ref(z, idx);
	struct tcache *c = cache_get();

	if (FT_UNLIKELY(c == NULL)) {
		zone_give_batch(&ref, 1);
		return;
	}
	struct tbin *b = &c->bins[z->cls];
	unsigned cap = bin_cap(z->cls);
	if (FT_UNLIKELY(b->count >= cap)) {
		unsigned half = (cap + 1) / 2;
		zone_give_batch(b->ref, half);
		memmove(b->ref, b->ref + half, (b->count - half) * sizeof(b->ref[0]));
		b->count -= half;
	}
	b->ref[b->count++] = ref;
}

void *zone_alloc(size_t size, bool *zeroed, uint32_t stack)
{
	unsigned cls = zone_class_of(size);
	struct tcache *c = cache_get();
	uint64_t ref;

	if (FT_LIKELY(c != NULL)) {
		struct tbin *b = &c->bins[cls];
		if (FT_UNLIKELY(b->count == 0)) {
			b->count = zone_take_batch(cls, b->ref, (bin_cap(cls) + 1) / 2);
			if (b->count == 0) {
				errno = ENOMEM;
				return NULL;
			}
		}
		ref = b->ref[--b->count];
	} else if (zone_take_batch(cls, &ref, 1) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	struct zone *z = zone_ref_zone(ref);
	unsigned idx = zone_ref_idx(ref);
	struct rec *r = &z->recs[idx];
	*zeroed = r->state == REC_UNUSED;
	if (r->state == REC_FREED && opt.canary)
		zone_check_block(z, idx, "malloc", 0);  /* the slot's last tenant */
	zone_rec_set_live(r, size, 0, os_thread_serial());
	r->alloc_stack = stack;
	char *user = zone_slot_user(z, idx);
	if (opt.canary)
		zone_arm_block(z, idx);
	return user;
}

enum lookup zone_free(struct zone *z, void *p, uint32_t stack, const char *func)
{
	unsigned idx;
	enum lookup how = zone_find(z, p, &idx);

	if (how != LOOKUP_OK)
		return how;
	struct rec *r = &z->recs[idx];
	uint8_t expect = REC_LIVE;
	uint8_t next = opt.quarantine ? REC_QUARANTINED : REC_FREED;
	if (!__atomic_compare_exchange_n(&r->state, &expect, next, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return LOOKUP_FREED;
	r->free_thread = os_thread_serial();
	r->free_stack = stack;
	if (opt.canary)
		zone_check_block(z, idx, func, stack);
	if (opt.quarantine) {
		memset(p, opt.free_fill, r->size);
		quarantine_put(z, idx);
		return LOOKUP_OK;
	}
	tcache_put(z, idx);
	return LOOKUP_OK;
}

long zone_usable(struct zone *z, void *p)
{
	unsigned idx;

	if (zone_find(z, p, &idx) != LOOKUP_OK)
		return -1;
	return z->recs[idx].size;
}

bool zone_resize(struct zone *z, void *p, size_t size, size_t *old_size, enum lookup *how)
{
	unsigned idx;

	*how = zone_find(z, p, &idx);
	if (*how != LOOKUP_OK)
		return false;
	struct rec *r = &z->recs[idx];
	*old_size = r->size;
	if (size > z->slot_size - (size_t)r->align_off * FT_ALIGN)
		return false;
	if (opt.canary)
		zone_check_block(z, idx, "realloc", 0);
	zone_set_size(z, idx, size);
	return true;
}
