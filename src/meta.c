/*
 * meta.c - internal memory for the allocator's own descriptors (zone
 * descriptors with their block records, LARGE descriptors, later the stack
 * depot). It never hands out the program's memory and never calls malloc.
 *
 * Power-of-two bins from 64 B to 64 KiB carved from 1 MiB slabs; bigger
 * requests get their own mapping. Bin memory is never returned to the
 * system, so a stale descriptor pointer can be read without faulting.
 * One lock: the innermost of the allocator's lock order.
 */
#include "internal.h"

#include <string.h>

#define META_MIN_SHIFT 6
#define META_MAX_SHIFT 16
#define META_NBINS (META_MAX_SHIFT - META_MIN_SHIFT + 1)
#define META_SLAB (1u << 20)

struct meta_free_node { struct meta_free_node *next; };

static struct lock meta_lock;
/* In the page map, so that the leak scan never takes our memory for roots. */
static struct region meta_region = { REGION_META };
static struct meta_free_node *meta_bins[META_NBINS];
static char *slab_cur, *slab_end;

static unsigned bin_of(size_t size)
{
	unsigned shift = META_MIN_SHIFT;

	while (((size_t)1 << shift) < size)
		shift++;
	return shift - META_MIN_SHIFT;
}

/* Caller holds meta_lock. */
static void *carve(size_t len)
{
	if (slab_cur == NULL || (size_t)(slab_end - slab_cur) < len) {
		char *s = os_map(META_SLAB, true);
		if (!s)
			return NULL;
		os_name(s, META_SLAB, "ftmalloc:meta");
		pagemap_set(s, META_SLAB, &meta_region);
		slab_cur = s;
		slab_end = s + META_SLAB;
	}
	void *p = slab_cur;
	slab_cur += len;
	return p;
}

void *meta_alloc(size_t size)
{
	if (size > ((size_t)1 << META_MAX_SHIFT)) {
		void *p = os_map(ft_align_up(size, os_page), true);
		if (p) {
			os_name(p, ft_align_up(size, os_page), "ftmalloc:meta");
			pagemap_set(p, ft_align_up(size, os_page), &meta_region);
		}
		return p;
	}
	unsigned b = bin_of(size);
	size_t len = (size_t)1 << (b + META_MIN_SHIFT);
	void *p;

	lock_take(&meta_lock);
	if (meta_bins[b]) {
		p = meta_bins[b];
		meta_bins[b] = meta_bins[b]->next;
		lock_give(&meta_lock);
		memset(p, 0, len);
		return p;
	}
	p = carve(len);  /* fresh slab memory is already zero */
	lock_give(&meta_lock);
	return p;
}

void meta_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size > ((size_t)1 << META_MAX_SHIFT)) {
		pagemap_set(p, ft_align_up(size, os_page), NULL);
		os_unmap(p, ft_align_up(size, os_page));
		return;
	}
	unsigned b = bin_of(size);
	struct meta_free_node *n = p;

	lock_take(&meta_lock);
	n->next = meta_bins[b];
	meta_bins[b] = n;
	lock_give(&meta_lock);
}

void meta_lock_all(void) { lock_take(&meta_lock); }
void meta_unlock_all(void) { lock_give(&meta_lock); }
void meta_reset_locks(void) { lock_reset(&meta_lock); }
