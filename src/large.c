/*
 * large.c - LARGE blocks (requests above FT_SMALL_MAX, and any request whose
 * alignment a slot cannot give): one mapping each, between two PROT_NONE
 * guard pages, the block's end flush against the upper guard (up to the
 * alignment), so the first byte past the block - rounded to 16 - faults:
 *
 *   map: [guard page][slack ... user block][guard page]
 *                    ^data                  ^data + data_len
 *
 * The slack on either side carries canaries, checked at free. A freed block
 * stays mapped PROT_NONE (its pages given back with MADV_DONTNEED) in a FIFO
 * of opt.large_quarantine blocks, so any later access faults and segv.c
 * reports a use after free; it is unmapped when it leaves the FIFO.
 *
 * Descriptors (struct large) live in meta.c memory and are on one list under
 * one lock; the page map points every page of the mapping, guards included,
 * at the descriptor, so a fault address finds its block without a lock.
 *
 * May call: report.c, canary.c, meta.c, pagemap.c, os.c, lock.c. Never malloc.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define LQ_MAX 4096  /* ceiling of opt.large_quarantine */

static struct lock large_lock;
static struct large *large_list;
static size_t large_count;
static struct large *lq_ring[LQ_MAX];  /* quarantined blocks, oldest at lq_head */
static unsigned lq_head, lq_count;

static char *data_start(const struct large *l)
{
	return l->map + l->guard_len;
}

void *large_alloc(size_t size, size_t align, uint32_t stack)
{
	size_t slack = align > FT_ALIGN ? align : 0;
	size_t guard = opt.guard ? os_page : 0;
	size_t data_len, map_len;

	if (__builtin_add_overflow(size, slack + os_page - 1, &data_len)) {
		errno = ENOMEM;
		return NULL;
	}
	data_len &= ~(os_page - 1);
	if (data_len == 0)
		data_len = os_page;
	if (__builtin_add_overflow(data_len, 2 * guard, &map_len)) {
		errno = ENOMEM;
		return NULL;
	}
	struct large *l = meta_alloc(sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	char *map = os_map(map_len, guard == 0);
	if (!map) {
		meta_free(l, sizeof(*l));
		errno = ENOMEM;
		return NULL;
	}
	if (guard && os_protect(map + guard, data_len, true) != 0) {
		os_unmap(map, map_len);
		meta_free(l, sizeof(*l));
		errno = ENOMEM;
		return NULL;
	}
	os_name(map, map_len, "ftmalloc:large");
	l->hdr.kind = REGION_LARGE;
	l->state = REC_LIVE;
	l->alloc_thread = os_thread_serial();
	l->alloc_stack = stack;
	l->map = map;
	l->map_len = map_len;
	l->guard_len = guard;
	l->data_len = data_len;
	l->size = size;
	l->user = (char *)ft_align_down((uintptr_t)(map + guard + data_len - size),
	    align > FT_ALIGN ? align : FT_ALIGN);
	if (opt.canary)
		large_arm(l);
	pagemap_set(map, map_len, &l->hdr);
	atomic_fetch_add_explicit(&os_mapped_user, map_len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_map_calls, 1, memory_order_relaxed);

	lock_take(&large_lock);
	l->next = large_list;
	if (large_list)
		large_list->prev = l;
	large_list = l;
	large_count++;
	lock_give(&large_lock);
	return l->user;
}

/* Canaries in the slack before and after the block. The slack before may be
 * most of a page; only its last 64 bytes are armed, enough to catch an
 * underflow without touching a page the block does not use. */
void large_arm(struct large *l)
{
	char *front = data_start(l);
	size_t front_len = (size_t)(l->user - front);

	if (front_len > 64) {
		front = l->user - 64;
		front_len = 64;
	}
	canary_fill(front, front_len);
	canary_fill(l->user + l->size, (size_t)(data_start(l) + l->data_len - (l->user + l->size)));
}

struct large *large_at(const void *addr)
{
	struct region *r = pagemap_get(addr);

	return r && r->kind == REGION_LARGE ? (struct large *)r : NULL;
}

void large_describe(struct large *l, const void *p, struct report_block *blk)
{
	(void)p;
	*blk = (struct report_block){ (uintptr_t)l->user, l->size, l->alloc_stack, l->free_stack,
	    l->alloc_thread, l->free_thread, l->state != REC_LIVE };
}

/* Find and lock p's LARGE block; NULL (unlocked) when p is in none. */
static struct large *lock_large_of(const void *p)
{
	lock_take(&large_lock);
	struct large *l = large_at(p);
	if (l)
		return l;
	lock_give(&large_lock);
	return NULL;
}

static enum lookup classify(const struct large *l, const void *p)
{
	if (p != l->user)
		return LOOKUP_INTERIOR;
	return l->state == REC_LIVE ? LOOKUP_OK : LOOKUP_FREED;
}

static void report_damage(struct large *l, enum report_kind kind, const uint8_t *bad, uint32_t stack)
{
	struct report_block blk;
	struct fmt_out o;

	large_describe(l, l->user, &blk);
	blk.freed = false;
	report_begin(&o, kind, (uintptr_t)bad, &blk, "free");
	report_stack(&o, "detected at", stack ? stack : bt_capture());
	report_block_stacks(&o, &blk);
	const uint8_t *from = bad - 16 < (const uint8_t *)data_start(l) ? (const uint8_t *)data_start(l) : bad - 16;
	size_t len = (size_t)((const uint8_t *)data_start(l) + l->data_len - from);
	report_hexdump(&o, from, len < 48 ? len : 48, bad);
	report_end(&o);
}

/* Canary check at free; called without the lock (the block is the caller's). */
static void check_slack(struct large *l, uint32_t stack)
{
	char *end = l->user + l->size;
	const uint8_t *bad = canary_damage(end, (size_t)(data_start(l) + l->data_len - end));

	if (bad)
		report_damage(l, KIND_HEAP_BUFFER_OVERFLOW, bad, stack);
	size_t front_len = (size_t)(l->user - data_start(l));
	if (front_len > 64)
		front_len = 64;
	bad = canary_damage_last(l->user - front_len, front_len);
	if (bad)
		report_damage(l, KIND_HEAP_BUFFER_UNDERFLOW, bad, stack);
}

/* Caller holds large_lock; l is off the live list. */
static void unmap_block(struct large *l)
{
	pagemap_set(l->map, l->map_len, NULL);
	os_unmap(l->map, l->map_len);
	atomic_fetch_sub_explicit(&os_mapped_user, l->map_len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_unmap_calls, 1, memory_order_relaxed);
	l->hdr.kind = 0;
	meta_free(l, sizeof(*l));
}

enum lookup large_free(void *p, uint32_t stack)
{
	struct large *l = lock_large_of(p);

	if (!l)
		return LOOKUP_NOT_OURS;
	enum lookup res = classify(l, p);
	if (res != LOOKUP_OK) {
		lock_give(&large_lock);
		return res;
	}
	if (l->prev)
		l->prev->next = l->next;
	else
		large_list = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->next = l->prev = NULL;
	large_count--;
	l->state = opt.large_quarantine ? REC_QUARANTINED : REC_FREED;
	l->free_thread = os_thread_serial();
	l->free_stack = stack;
	lock_give(&large_lock);

	if (opt.canary)
		check_slack(l, stack);
	unsigned cap = opt.large_quarantine < LQ_MAX ? opt.large_quarantine : LQ_MAX;
	if (cap == 0 || os_protect(data_start(l), l->data_len, false) != 0) {
		lock_take(&large_lock);
		unmap_block(l);
		lock_give(&large_lock);
		return LOOKUP_OK;
	}
	madvise(data_start(l), l->data_len, MADV_DONTNEED);
	lock_take(&large_lock);
	while (lq_count >= cap) {
		unmap_block(lq_ring[lq_head]);
		lq_head = (lq_head + 1) % LQ_MAX;
		lq_count--;
	}
	lq_ring[(lq_head + lq_count) % LQ_MAX] = l;
	lq_count++;
	lock_give(&large_lock);
	return LOOKUP_OK;
}

long large_usable(void *p)
{
	struct large *l = lock_large_of(p);
	long size = -1;

	if (!l)
		return -1;
	if (classify(l, p) == LOOKUP_OK)
		size = (long)l->size;
	lock_give(&large_lock);
	return size;
}

/*
 * Shrinking stays in place; whole pages no longer needed at the end become
 * the new upper guard and are returned to the system. Growing stays in place
 * when the block still fits before the upper guard.
 */
bool large_resize(void *p, size_t size, size_t *old_size, enum lookup *how)
{
	struct large *l = lock_large_of(p);

	if (!l) {
		*how = LOOKUP_NOT_OURS;
		return false;
	}
	*how = classify(l, p);
	if (*how != LOOKUP_OK) {
		lock_give(&large_lock);
		return false;
	}
	*old_size = l->size;
	char *data_end = data_start(l) + l->data_len;
	if (size > (size_t)(data_end - l->user)) {
		lock_give(&large_lock);
		return false;
	}
	if (opt.canary)
		check_slack(l, 0);
	l->size = size;
	char *new_end = (char *)ft_align_up((uintptr_t)l->user + (size ? size : 1), os_page);
	char *map_end = l->map + l->map_len;
	if (l->guard_len && new_end + os_page < map_end && os_protect(new_end, os_page, false) == 0) {
		size_t cut = (size_t)(map_end - (new_end + os_page));
		pagemap_set(new_end + os_page, cut, NULL);
		os_unmap(new_end + os_page, cut);
		atomic_fetch_sub_explicit(&os_mapped_user, cut, memory_order_relaxed);
		l->map_len -= cut;
		l->data_len = (size_t)(new_end - data_start(l));
	}
	if (opt.canary)
		large_arm(l);
	lock_give(&large_lock);
	return true;
}

void large_lock_all(void) { lock_take(&large_lock); }
void large_unlock_all(void) { lock_give(&large_lock); }
void large_reset_locks(void) { lock_reset(&large_lock); }

/* Caller holds large_lock (large_lock_all). */
void large_foreach(void (*fn)(struct large *l, void *arg), void *arg)
{
	for (struct large *l = large_list; l; l = l->next)
		fn(l, arg);
}

/* Caller holds large_lock. */
void large_stats(size_t *count, size_t *live_bytes)
{
	size_t bytes = 0;

	for (struct large *l = large_list; l; l = l->next)
		bytes += l->size;
	*count = large_count;
	*live_bytes = bytes;
}
