/*
 * zone.c - TINY and SMALL blocks.
 *
 * A zone is one mapping cut into equal slots of one size class (16-byte
 * steps: TINY 16..128 for requests 0..127, SMALL 128..1024 for 128..1024),
 * big enough for FT_MIN_BLOCKS slots of its kind's largest class. Each slot
 * is preceded by a FT_REDZONE-byte gap that keeps neighbours apart:
 *
 *   base: [8 tail|8 head][slot 0 ....][8 tail|8 head][slot 1 ....] ... [8 tail]
 *
 * All that we trust about a slot is in its out-of-line record (struct rec)
 * in the zone descriptor, which lives in meta.c memory, never in the zone.
 *
 * Threads are spread over FT_NARENAS arenas; each (arena, class) pair has its
 * own lock, zone list and list of zones with a free slot, so threads working
 * in different arenas or classes never contend. Slots leave a zone in
 * batches to a thread's cache (tcache.c) and come back in batches; a zone
 * none of whose slots is out is kept as the class's one spare or returned
 * to the system.
 *
 * May call: meta.c, pagemap.c, os.c, lock.c. Never malloc.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <string.h>

struct class_heap {
	struct lock lock;
	uint32_t nzones;
	uint32_t nempty;       /* empty zones kept: 0 or 1 */
	struct zone *all;      /* every zone of this class in this arena */
	struct zone *avail;    /* zones with at least one free slot */
};

/* Page aligned and packed: one arena's heads share a page or two, so the
 * first allocations of a process touch few pages. */
static struct class_heap heaps[FT_NARENAS][FT_NCLASSES] __attribute__((aligned(4096)));

/*
 * A TINY zone holds at least FT_MIN_BLOCKS slots of 128 bytes (16 KiB);
 * a SMALL zone at least 106 slots of 1024 bytes (27 pages): a few more than
 * the minimum, so that 1024 blocks of 1 KiB fill 10 zones, not 11, while the
 * zone's descriptor (records and free list) still fits a 2 KiB meta bin.
 */
#define FT_SMALL_ZONE_SLOTS 106
_Static_assert(FT_SMALL_ZONE_SLOTS >= FT_MIN_BLOCKS, "a zone holds at least 100 blocks");

size_t zone_redzone = FT_REDZONE;
__thread bool zone_rearm_damage;

static size_t zone_len_for(unsigned cls)
{
	size_t widest = (zone_is_tiny_class(cls) ? 128 : FT_SMALL_MAX) + zone_redzone;
	size_t slots = zone_is_tiny_class(cls) ? FT_MIN_BLOCKS : FT_SMALL_ZONE_SLOTS;

	return ft_align_up(slots * widest + zone_redzone / 2, os_page);
}

unsigned zone_slots_for(unsigned cls)
{
	return (unsigned)((zone_len_for(cls) - zone_redzone / 2) /
	    (zone_class_size(cls) + zone_redzone));
}

static void avail_link(struct class_heap *h, struct zone *z)
{
	z->avail_prev = NULL;
	z->avail_next = h->avail;
	if (h->avail)
		h->avail->avail_prev = z;
	h->avail = z;
	z->in_avail = 1;
}

static void avail_unlink(struct class_heap *h, struct zone *z)
{
	if (z->avail_prev)
		z->avail_prev->avail_next = z->avail_next;
	else
		h->avail = z->avail_next;
	if (z->avail_next)
		z->avail_next->avail_prev = z->avail_prev;
	z->avail_next = z->avail_prev = NULL;
	z->in_avail = 0;
}

/* Caller holds h->lock. */
static struct zone *zone_new(struct class_heap *h, unsigned cls, unsigned arena)
{
	size_t len = zone_len_for(cls);
	unsigned n = zone_slots_for(cls);
	size_t mlen = sizeof(struct zone) + n * sizeof(struct rec) + n * sizeof(uint16_t);
	struct zone *z = meta_alloc(mlen);

	if (!z)
		return NULL;
	char *base = os_map(len, true);
	if (!base) {
		meta_free(z, mlen);
		return NULL;
	}
	os_name(base, len, zone_is_tiny_class(cls) ? "ftmalloc:tiny" : "ftmalloc:small");
	atomic_fetch_add_explicit(&os_mapped_user, len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_map_calls, 1, memory_order_relaxed);
	z->hdr.kind = REGION_ZONE;
	z->cls = (uint8_t)cls;
	z->arena = (uint8_t)arena;
	z->nslots = (uint16_t)n;
	z->slot_size = (uint32_t)zone_class_size(cls);
	z->stride = z->slot_size + (uint32_t)zone_redzone;
	z->stride_inv = (uint32_t)((1ULL << 32) / z->stride + 1);
	z->base = base;
	z->map_len = len;
	z->meta_len = mlen;
	z->free_idx = (uint16_t *)&z->recs[n];
	z->all_next = h->all;
	if (h->all)
		h->all->all_prev = z;
	h->all = z;
	h->nzones++;
	avail_link(h, z);
	pagemap_set(base, len, &z->hdr);
	return z;
}

/* Caller holds h->lock. A new zone; out of memory when the request fails
 * without it (last), the LARGE blocks held in quarantine or cache are let go
 * first (the LARGE lock comes after the class locks), then NULL with one
 * warning. */
static struct zone *zone_grow(struct class_heap *h, unsigned cls, unsigned arena, bool last)
{
	struct zone *z = zone_new(h, cls, arena);

	if (FT_UNLIKELY(!z) && last) {
		if (large_release_held())
			z = zone_new(h, cls, arena);
		if (!z)
			os_warn_oom(zone_len_for(cls));
	}
	return z;
}

/* Caller holds h->lock; z is empty. */
static void zone_release(struct class_heap *h, struct zone *z)
{
	if (z->in_avail)
		avail_unlink(h, z);
	if (z->all_prev)
		z->all_prev->all_next = z->all_next;
	else
		h->all = z->all_next;
	if (z->all_next)
		z->all_next->all_prev = z->all_prev;
	h->nzones--;
	pagemap_set(z->base, z->map_len, NULL);
	os_unmap(z->base, z->map_len);
	atomic_fetch_sub_explicit(&os_mapped_user, z->map_len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_unmap_calls, 1, memory_order_relaxed);
	z->hdr.kind = 0;
	meta_free(z, z->meta_len);
}

/* Caller holds h->lock. Move the slot out of z, to the caller. */
static unsigned take_slot(struct class_heap *h, struct zone *z, bool *zeroed)
{
	unsigned idx;

	if (z->nfree) {
		idx = z->free_idx[--z->nfree];
		*zeroed = false;
	} else {
		idx = z->bump++;
		*zeroed = true;  /* never used since mmap */
	}
	if (z->is_spare) {
		z->is_spare = 0;
		h->nempty--;
	}
	z->nout++;
	if (z->nfree == 0 && z->bump == z->nslots)
		avail_unlink(h, z);
	return idx;
}

/* Caller holds h->lock. The slot comes back to z (freed or never used). */
static void return_slot(struct class_heap *h, struct zone *z, unsigned idx)
{
	z->free_idx[z->nfree++] = (uint16_t)idx;
	z->nout--;
	if (!z->in_avail)
		avail_link(h, z);
	if (z->nout == 0) {
		if (h->nempty > 0) {
			zone_release(h, z);
		} else {
			z->is_spare = 1;
			h->nempty++;
		}
	}
}

unsigned zone_take_batch(unsigned cls, uint64_t *out, unsigned n)
{
	unsigned arena = os_thread_serial() % FT_NARENAS;
	struct class_heap *h = &heaps[arena][cls];
	unsigned got = 0;
	bool zeroed;

	lock_take(&h->lock);
	while (got < n) {
		struct zone *z = h->avail;
		if (!z && !(z = zone_grow(h, cls, arena, got == 0)))
			break;
		while (got < n && z->in_avail)
			out[got++] = zone_slot_ref(z, take_slot(h, z, &zeroed));
	}
	lock_give(&h->lock);
	return got;
}

void zone_give_batch(const uint64_t *refs, unsigned n)
{
	struct class_heap *held = NULL;

	for (unsigned i = 0; i < n; i++) {
		struct zone *z = zone_ref_zone(refs[i]);
		struct class_heap *h = &heaps[z->arena][z->cls];
		if (h != held) {
			if (held)
				lock_give(&held->lock);
			lock_take(&h->lock);
			held = h;
		}
		return_slot(h, z, zone_ref_idx(refs[i]));
	}
	if (held)
		lock_give(&held->lock);
}

void *zone_alloc_aligned(size_t size, size_t align, uint32_t stack)
{
	/* The block may start up to align - 16 bytes into its slot; a zero-size
	 * one still needs a byte of slot after that. */
	unsigned cls = zone_class_of((size ? size : 1) + align - FT_ALIGN);
	uint16_t thread = os_thread_serial();
	unsigned arena = thread % FT_NARENAS;
	struct class_heap *h = &heaps[arena][cls];
	bool zeroed;

	lock_take(&h->lock);
	struct zone *z = h->avail;
	if (FT_UNLIKELY(!z) && !(z = zone_grow(h, cls, arena, true))) {
		lock_give(&h->lock);
		errno = ENOMEM;
		return NULL;
	}
	unsigned idx = take_slot(h, z, &zeroed);
	lock_give(&h->lock);
	char *user = zone_slot_user(z, idx);
	size_t off = -(uintptr_t)user & (align - 1);
	zone_rec_set_live(&z->recs[idx], size, off, thread);
	z->recs[idx].alloc_stack = stack;
	if (opt.canary)
		zone_arm_block(z, idx);
	return user + off;
}

/*
 * Canary layout of slot idx (see the top of this file): the head canary is
 * the 8 bytes before the slot plus any alignment padding, the tail canary
 * runs from the end of the requested size to 8 bytes past the slot.
 */
struct slot_span {
	char *user;
	char *head;
	size_t head_len;
	char *tail;
	size_t tail_len;
};

static struct slot_span span_of(const struct zone *z, unsigned idx)
{
	const struct rec *r = &z->recs[idx];
	char *su = zone_slot_user(z, idx);
	char *user = su + (size_t)r->align_off * FT_ALIGN;
	char *tail = user + r->size;

	size_t half = (z->stride - z->slot_size) / 2;  /* 0 when canaries are off */

	return (struct slot_span){ user, su - half, (size_t)(user - (su - half)),
	    tail, (size_t)(su + z->slot_size + half - tail) };
}

void zone_set_size(struct zone *z, unsigned idx, size_t size)
{
	if (!opt.canary) {  /* nothing a check reads changes with the size */
		z->recs[idx].size = (uint16_t)size;
		return;
	}
	struct class_heap *h = &heaps[z->arena][z->cls];
	lock_take(&h->lock);
	z->recs[idx].size = (uint16_t)size;
	zone_arm_block(z, idx);
	lock_give(&h->lock);
}

void zone_arm_block(struct zone *z, unsigned idx)
{
	struct slot_span sp = span_of(z, idx);

	canary_fill(sp.head, sp.head_len);
	canary_fill(sp.tail, sp.tail_len);
}

void zone_describe(struct zone *z, const void *p, struct report_block *blk)
{
	size_t off = (size_t)((const char *)p - z->base);
	unsigned idx = (unsigned)(off / z->stride);

	*blk = (struct report_block){0};
	if (idx >= z->nslots)
		idx = z->nslots - 1;
	const struct rec *r = &z->recs[idx];
	uint8_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
	if (state == REC_UNUSED)
		return;
	blk->start = (uintptr_t)span_of(z, idx).user;
	blk->size = r->size;
	blk->alloc_stack = r->alloc_stack;
	blk->alloc_thread = r->alloc_thread;
	blk->free_stack = r->free_stack;
	blk->free_thread = r->free_thread;
	blk->freed = state != REC_LIVE;
}

/* Copy out what a report of damage at bad in slot idx needs. */
static void zone_finding(struct zone *z, unsigned idx, const uint8_t *bad,
    enum report_kind kind, struct finding *f)
{
	struct slot_span sp = span_of(z, idx);
	uintptr_t lo = (uintptr_t)sp.head, hi = (uintptr_t)sp.tail + sp.tail_len;
	uintptr_t from = ft_align_down((uintptr_t)bad, 16) - 16;

	zone_describe(z, sp.user, &f->blk);
	f->kind = kind;
	f->bad = (uintptr_t)bad;
	f->corrupt = NULL;
	if (from < lo)
		from = lo;
	f->bytes_len = hi - from < sizeof(f->bytes) ? hi - from : sizeof(f->bytes);
	f->bytes_at = from;
	memcpy(f->bytes, (const void *)from, f->bytes_len);
}

/* The first canary damage of slot idx's block, and its kind. */
static const uint8_t *canary_hit(struct zone *z, unsigned idx, enum report_kind *kind)
{
	struct slot_span sp = span_of(z, idx);
	const uint8_t *bad = canary_damage(sp.tail, sp.tail_len);

	*kind = KIND_HEAP_BUFFER_OVERFLOW;
	if (bad)
		return bad;
	*kind = KIND_HEAP_BUFFER_UNDERFLOW;
	return canary_damage_last(sp.head, sp.head_len);
}

bool zone_damage(struct zone *z, unsigned idx, struct finding *f)
{
	struct slot_span sp = span_of(z, idx);
	const uint8_t *bad;
	enum report_kind kind;

	if (z->recs[idx].state == REC_QUARANTINED &&
	    (bad = fill_damage(sp.user, z->recs[idx].size, opt.free_fill))) {
		zone_finding(z, idx, bad, KIND_USE_AFTER_FREE, f);
		return true;
	}
	if (!opt.canary || !(bad = canary_hit(z, idx, &kind)))
		return false;
	zone_finding(z, idx, bad, kind, f);
	return true;
}

void zone_rearm(struct zone *z, unsigned idx)
{
	if (z->recs[idx].state == REC_QUARANTINED)
		memset(span_of(z, idx).user, opt.free_fill, z->recs[idx].size);
	if (opt.canary)
		zone_arm_block(z, idx);
}

bool zone_check_block(struct zone *z, unsigned idx, const char *func, uint32_t stack)
{
	enum report_kind kind;
	const uint8_t *bad = canary_hit(z, idx, &kind);
	struct finding f;

	if (!bad)
		return true;
	zone_finding(z, idx, bad, kind, &f);
	report_finding(&f, func, stack);
	zone_arm_block(z, idx);  /* one report per damage */
	return false;
}

bool zone_check_poison(struct zone *z, unsigned idx, const char *func)
{
	struct slot_span sp = span_of(z, idx);
	const uint8_t *bad = fill_damage(sp.user, z->recs[idx].size, opt.free_fill);
	struct finding f;

	if (!bad)
		return true;
	zone_finding(z, idx, bad, KIND_USE_AFTER_FREE, &f);
	report_finding(&f, func, 0);
	memset(sp.user, opt.free_fill, z->recs[idx].size);
	return false;
}

void zone_lock_all(void)
{
	for (unsigned a = 0; a < FT_NARENAS; a++)
		for (unsigned c = 0; c < FT_NCLASSES; c++)
			lock_take(&heaps[a][c].lock);
}

void zone_unlock_all(void)
{
	for (unsigned a = 0; a < FT_NARENAS; a++)
		for (unsigned c = 0; c < FT_NCLASSES; c++)
			lock_give(&heaps[a][c].lock);
}

void zone_reset_locks(void)
{
	for (unsigned a = 0; a < FT_NARENAS; a++)
		for (unsigned c = 0; c < FT_NCLASSES; c++)
			lock_reset(&heaps[a][c].lock);
}

void zone_foreach(void (*fn)(struct zone *z, void *arg), void *arg)
{
	for (unsigned a = 0; a < FT_NARENAS; a++)
		for (unsigned c = 0; c < FT_NCLASSES; c++)
			for (struct zone *z = heaps[a][c].all; z; z = z->all_next)
				fn(z, arg);
}

struct zone_tally {
	size_t zones[2], live[2], bytes[2];
};

static void tally_zone(struct zone *z, void *arg)
{
	struct zone_tally *t = arg;
	int k = zone_is_tiny_class(z->cls) ? 0 : 1;

	t->zones[k]++;
	for (unsigned i = 0; i < z->bump; i++)
		if (z->recs[i].state == REC_LIVE) {
			t->live[k]++;
			t->bytes[k] += z->recs[i].size;
		}
}

/* Caller holds every lock (zone_lock_all). */
void zone_stats(size_t zones[2], size_t live[2], size_t bytes[2], size_t slots[2])
{
	struct zone_tally t = {0};

	zone_foreach(tally_zone, &t);
	for (int k = 0; k < 2; k++) {
		zones[k] = t.zones[k];
		live[k] = t.live[k];
		bytes[k] = t.bytes[k];
	}
	slots[0] = zone_slots_for(FT_NTINY - 1);
	slots[1] = zone_slots_for(FT_NCLASSES - 1);
}
