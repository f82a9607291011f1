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


_Atomic(pm_entry *) pm_root[(size_t)1 << PM_ROOT_BITS];

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

