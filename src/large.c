/*
 * large.c - LARGE blocks (requests above FT_SMALL_MAX, and any request whose
 * alignment a slot cannot give): one mapping each, between two PROT_NONE
 * guard pages, the block's end flush against the upper guard (up to the
 * alignment), so the first byte past the block - rounded to 16 - faults:
 *
 *   map: [guard page][slack ... user block][guard page]
 *                    ^data                  ^data + data_len
 *
 * Descriptors (struct large) live in meta.c memory and are on one list under
 * one lock; the page map points every page of the mapping, guards included,
 * at the descriptor, so a fault address finds its block without a lock.
 *
 * May call: meta.c, pagemap.c, os.c, lock.c. Never malloc.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <string.h>

static struct lock large_lock;
static struct large *large_list;
static size_t large_count;

static char *data_start(const struct large *l)
{
	return l->map + os_page;
}

void *large_alloc(size_t size, size_t align)
{
	size_t slack = align > FT_ALIGN ? align : 0;
	size_t data_len, map_len;

	if (__builtin_add_overflow(size, slack + os_page - 1, &data_len)) {
		errno = ENOMEM;
		return NULL;
	}
	data_len &= ~(os_page - 1);
	if (data_len == 0)
		data_len = os_page;
	if (__builtin_add_overflow(data_len, 2 * os_page, &map_len)) {
		errno = ENOMEM;
		return NULL;
	}
	struct large *l = meta_alloc(sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	char *map = os_map(map_len, false);
	if (!map) {
		meta_free(l, sizeof(*l));
		errno = ENOMEM;
		return NULL;
	}
	if (os_protect(map + os_page, data_len, true) != 0) {
		os_unmap(map, map_len);
		meta_free(l, sizeof(*l));
		errno = ENOMEM;
		return NULL;
	}
	os_name(map, map_len, "ftmalloc:large");
	l->hdr.kind = REGION_LARGE;
	l->state = REC_LIVE;
	l->alloc_thread = os_thread_serial();
	l->map = map;
	l->map_len = map_len;
	l->data_len = data_len;
	l->size = size;
	l->user = (char *)ft_align_down((uintptr_t)(map + os_page + data_len - size),
	    align > FT_ALIGN ? align : FT_ALIGN);
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

/* Find and lock p's LARGE block; NULL (unlocked) when p is in none. */
static struct large *lock_large_of(const void *p)
{
	lock_take(&large_lock);
	struct region *r = pagemap_get(p);
	if (r && r->kind == REGION_LARGE)
		return (struct large *)r;
	lock_give(&large_lock);
	return NULL;
}

static enum lookup classify(const struct large *l, const void *p)
{
	if (p != l->user)
		return LOOKUP_INTERIOR;
	return l->state == REC_LIVE ? LOOKUP_OK : LOOKUP_FREED;
}

enum lookup large_free(void *p)
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
	large_count--;
	l->state = REC_FREED;
	l->free_thread = os_thread_serial();
	/* Clear the page map before the kernel can hand the range to another
	 * mapping, and while we still hold the lock a second free would take. */
	pagemap_set(l->map, l->map_len, NULL);
	lock_give(&large_lock);
	os_unmap(l->map, l->map_len);
	atomic_fetch_sub_explicit(&os_mapped_user, l->map_len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_unmap_calls, 1, memory_order_relaxed);
	l->hdr.kind = 0;
	meta_free(l, sizeof(*l));
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
	l->size = size;
	char *new_end = (char *)ft_align_up((uintptr_t)l->user + (size ? size : 1), os_page);
	char *map_end = l->map + l->map_len;
	if (new_end + os_page < map_end && os_protect(new_end, os_page, false) == 0) {
		size_t cut = (size_t)(map_end - (new_end + os_page));
		pagemap_set(new_end + os_page, cut, NULL);
		os_unmap(new_end + os_page, cut);
		atomic_fetch_sub_explicit(&os_mapped_user, cut, memory_order_relaxed);
		l->map_len -= cut;
		l->data_len = (size_t)(new_end - data_start(l));
	}
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
