/*
 * pagemap.c - which region (zone or LARGE block) owns an address.
 *
 * A two-level radix table over 4 KiB pages of a 48-bit address space: the root
 * (in .bss) points to leaves of 2^20 entries mapped on first use. Readers take
 * no lock, so free() of a wild pointer and the fault handler can ask safely;
 * writers own the range they set (they just mapped it or are unmapping it).
 * Leaves are never unmapped.
 */
#include "internal.h"

#define PM_PAGE_SHIFT 12
#define PM_LEAF_BITS 20
#define PM_ADDR_BITS 48
#define PM_ROOT_BITS (PM_ADDR_BITS - PM_PAGE_SHIFT - PM_LEAF_BITS)
#define PM_LEAF_LEN ((size_t)1 << PM_LEAF_BITS)

typedef _Atomic(struct region *) pm_entry;

static _Atomic(pm_entry *) pm_root[(size_t)1 << PM_ROOT_BITS];

static pm_entry *leaf_for(uintptr_t page, bool create)
{
	size_t ri = page >> PM_LEAF_BITS;
	pm_entry *leaf = atomic_load_explicit(&pm_root[ri], memory_order_acquire);

	if (leaf || !create)
		return leaf;
	pm_entry *fresh = os_map(PM_LEAF_LEN * sizeof(pm_entry), true);
	FT_ASSERT(fresh != NULL);
	os_name(fresh, PM_LEAF_LEN * sizeof(pm_entry), "ftmalloc:pagemap");
	if (atomic_compare_exchange_strong(&pm_root[ri], &leaf, fresh))
		return fresh;
	os_unmap(fresh, PM_LEAF_LEN * sizeof(pm_entry));  /* another thread won */
	return leaf;
}

void pagemap_set(void *addr, size_t len, struct region *r)
{
	uintptr_t first = (uintptr_t)addr >> PM_PAGE_SHIFT;
	uintptr_t last = ((uintptr_t)addr + len - 1) >> PM_PAGE_SHIFT;

	FT_ASSERT(((uintptr_t)addr + len - 1) >> PM_ADDR_BITS == 0);
	for (uintptr_t pg = first; pg <= last; pg++) {
		pm_entry *leaf = leaf_for(pg, r != NULL);
		if (leaf)
			atomic_store_explicit(&leaf[pg & (PM_LEAF_LEN - 1)], r, memory_order_release);
	}
}

struct region *pagemap_get(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	if (a >> PM_ADDR_BITS)
		return NULL;
	pm_entry *leaf = leaf_for(a >> PM_PAGE_SHIFT, false);
	if (!leaf)
		return NULL;
	return atomic_load_explicit(&leaf[(a >> PM_PAGE_SHIFT) & (PM_LEAF_LEN - 1)],
	    memory_order_acquire);
}
