/*
 * show.c - show_alloc_mem() and ftmalloc_get_stats().
 *
 * show_alloc_mem() copies what it needs (zone bases, block addresses and
 * sizes) into a scratch mapping while every lock is held, releases the locks,
 * then sorts and prints; so a slow stdout never stalls other threads.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ftmalloc.h"

#include <unistd.h>

struct show_zone {
	uintptr_t base;
	const char *kind;
	size_t first, count;  /* its blocks in the block array */
};

struct show_block {
	uintptr_t start;
	size_t size;
};

struct snapshot {
	struct show_zone *zones;
	struct show_block *blocks;
	size_t nzones, nblocks;
	size_t cap_zones, cap_blocks;  /* 0 while counting */
};

static void snap_zone(struct zone *z, void *arg)
{
	struct snapshot *s = arg;

	if (z->nout == 0)
		return;
	if (!s->cap_zones) {  /* counting: slots out is an upper bound of live */
		s->nblocks += z->nout;
		s->nzones++;
		return;
	}
	size_t first = s->nblocks;
	for (unsigned i = 0; i < z->bump; i++) {
		const struct rec *r = &z->recs[i];
		if (r->state != REC_LIVE)
			continue;
		s->blocks[s->nblocks++] = (struct show_block){
		    (uintptr_t)zone_slot_user(z, i) + (size_t)r->align_off * FT_ALIGN, r->size };
	}
	if (s->nblocks == first)
		return;  /* only slots waiting in thread caches */
	s->zones[s->nzones++] = (struct show_zone){ (uintptr_t)z->base,
	    zone_is_tiny_class(z->cls) ? "TINY" : "SMALL", first, s->nblocks - first };
}

static void snap_large(struct large *l, void *arg)
{
	struct snapshot *s = arg;

	if (s->cap_zones) {
		s->zones[s->nzones] = (struct show_zone){ (uintptr_t)l->map, "LARGE", s->nblocks, 1 };
		s->blocks[s->nblocks] = (struct show_block){ (uintptr_t)l->user, l->size };
	}
	s->nzones++;
	s->nblocks++;
}

/* Shell sort by base address: no recursion, no allocation. */
static void sort_zones(struct show_zone *z, size_t n)
{
	for (size_t gap = n / 2; gap > 0; gap /= 2)
		for (size_t i = gap; i < n; i++) {
			struct show_zone t = z[i];
			size_t j = i;
			for (; j >= gap && z[j - gap].base > t.base; j -= gap)
				z[j] = z[j - gap];
			z[j] = t;
		}
}

FT_EXPORT void show_alloc_mem(void)
{
	struct snapshot s = {0};
	void *scratch = NULL;
	size_t scratch_len = 0;

	ft_init();
	/* Count, map room, then copy under the locks: the counts can only have
	 * grown while unlocked, so size the room generously and retry if short. */
	for (;;) {
		ft_lock_all();
		s.nzones = s.nblocks = 0;
		if (s.cap_zones) {
			zone_foreach(snap_zone, &s);
			large_foreach(snap_large, &s);
			ft_unlock_all();
			break;
		}
		zone_foreach(snap_zone, &s);
		large_foreach(snap_large, &s);
		ft_unlock_all();
		s.cap_zones = s.nzones * 2 + 64;
		s.cap_blocks = s.nblocks * 2 + 1024;
		scratch_len = ft_align_up(s.cap_zones * sizeof(struct show_zone) +
		    s.cap_blocks * sizeof(struct show_block), os_page);
		scratch = os_map(scratch_len, true);
		if (!scratch)
			return;
		s.blocks = scratch;
		s.zones = (struct show_zone *)(s.blocks + s.cap_blocks);
		ft_lock_all();
		size_t zones = 0, blocks = 0;
		struct snapshot count = {0};
		zone_foreach(snap_zone, &count);
		large_foreach(snap_large, &count);
		zones = count.nzones;
		blocks = count.nblocks;
		if (zones <= s.cap_zones && blocks <= s.cap_blocks) {
			s.nzones = s.nblocks = 0;
			zone_foreach(snap_zone, &s);
			large_foreach(snap_large, &s);
			ft_unlock_all();
			break;
		}
		ft_unlock_all();
		os_unmap(scratch, scratch_len);
		s.cap_zones = 0;
	}

	sort_zones(s.zones, s.nzones);
	struct fmt_out o;
	size_t total = 0;
	fmt_init(&o, STDOUT_FILENO);
	for (size_t i = 0; i < s.nzones; i++) {
		const struct show_zone *z = &s.zones[i];
		fmt_printf(&o, "%s : 0x%lX\n", z->kind, (unsigned long)z->base);
		for (size_t b = z->first; b < z->first + z->count; b++) {
			const struct show_block *blk = &s.blocks[b];
			fmt_printf(&o, "0x%lX - 0x%lX : %zu bytes\n", (unsigned long)blk->start,
			    (unsigned long)(blk->start + blk->size), blk->size);
			total += blk->size;
		}
	}
	fmt_printf(&o, "Total : %zu bytes\n", total);
	fmt_flush(&o);
	if (scratch)
		os_unmap(scratch, scratch_len);
}

FT_EXPORT void ftmalloc_get_stats(struct ftmalloc_stats *st)
{
	size_t zones[2], live[2], bytes[2], slots[2], nlarge, large_bytes;

	ft_init();
	ft_lock_all();
	zone_stats(zones, live, bytes, slots);
	large_stats(&nlarge, &large_bytes);
	ft_unlock_all();
	*st = (struct ftmalloc_stats){0};
	for (int k = 0; k < 2; k++) {
		st->zones[k] = zones[k];
		st->live_blocks[k] = live[k];
		st->live_bytes[k] = bytes[k];
		st->zone_slots[k] = slots[k];
	}
	st->zones[FTMALLOC_LARGE] = nlarge;
	st->live_blocks[FTMALLOC_LARGE] = nlarge;
	st->live_bytes[FTMALLOC_LARGE] = large_bytes;
	st->mapped_bytes = atomic_load(&os_mapped_user);
	st->mmap_calls = atomic_load(&os_map_calls);
	st->munmap_calls = atomic_load(&os_unmap_calls);
}
