/*
 * show.c - show_alloc_mem(), show_alloc_mem_ex() and ftmalloc_get_stats().
 * Blocks of guard_all and guard_sample have mappings of their own: they
 * are listed as LARGE, whatever their size.
 *
 * Both dumps copy what they need (zones, blocks, stack ids, canary status)
 * into a scratch mapping while every lock is held, release the locks, then
 * sort and print; so a slow stdout never stalls other threads, and stacks
 * are symbolised with no allocator lock held.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ftmalloc.h"

#include <string.h>
#include <unistd.h>

struct show_zone {
	uintptr_t base;
	const char *kind;
	size_t first, count;  /* its blocks in the block array */
	size_t slots, out;    /* slots in the zone, slots out of it */
};

struct show_block {
	uintptr_t start;
	size_t size, usable;
	uint32_t alloc_stack;
	uint16_t alloc_thread;
	uint8_t state;
	long damage;          /* offset from start of the first damaged canary
	                         or poison byte; LONG_MIN when intact */
	uint8_t head[16];     /* its first bytes (extended), copied under the
	                         locks: once they are released another thread
	                         may free the block, and a freed LARGE block is
	                         PROT_NONE */
};

#define NO_DAMAGE (-0x7fffffffL - 1)

struct snapshot {
	struct show_zone *zones;
	struct show_block *blocks;
	size_t nzones, nblocks;
	size_t cap_zones, cap_blocks;  /* 0 while counting */
	bool extended;                 /* quarantined blocks and damage too */
};

/* Caller holds every lock: the block at start is mapped. */
static void copy_head(struct show_block *b)
{
	memcpy(b->head, (const void *)b->start, b->size < sizeof(b->head) ? b->size : sizeof(b->head));
}

static long damage_at(struct zone *z, unsigned i, uintptr_t start)
{
	struct finding f;

	return zone_damage(z, i, &f) ? (long)(f.bad - start) : NO_DAMAGE;
}

static void snap_zone(struct zone *z, void *arg)
{
	struct snapshot *s = arg;

	if (z->nout == 0)
		return;
	if (!s->cap_zones) {  /* counting: slots out is an upper bound */
		s->nblocks += z->nout;
		s->nzones++;
		return;
	}
	size_t first = s->nblocks;
	for (unsigned i = 0; i < z->bump; i++) {
		const struct rec *r = &z->recs[i];
		if (r->state != REC_LIVE && !(s->extended && r->state == REC_QUARANTINED))
			continue;
		uintptr_t start = (uintptr_t)zone_slot_user(z, i) + (size_t)r->align_off * FT_ALIGN;
		s->blocks[s->nblocks] = (struct show_block){ start, r->size,
		    z->slot_size - (size_t)r->align_off * FT_ALIGN, r->alloc_stack, r->alloc_thread,
		    r->state, s->extended ? damage_at(z, i, start) : NO_DAMAGE, {0} };
		if (s->extended)
			copy_head(&s->blocks[s->nblocks]);
		s->nblocks++;
	}
	if (s->nblocks == first)
		return;  /* only slots waiting in thread caches */
	s->zones[s->nzones++] = (struct show_zone){ (uintptr_t)z->base,
	    zone_is_tiny_class(z->cls) ? "TINY" : "SMALL", first, s->nblocks - first, z->nslots, z->nout };
}

static void snap_large(struct large *l, void *arg)
{
	struct snapshot *s = arg;

	if (s->cap_zones) {
		s->zones[s->nzones] = (struct show_zone){ (uintptr_t)l->map, "LARGE", s->nblocks, 1, 1, 1 };
		struct finding f;
		s->blocks[s->nblocks] = (struct show_block){ (uintptr_t)l->user, l->size,
		    l->data_len - (size_t)(l->user - (l->map + l->guard_len)), l->alloc_stack,
		    l->alloc_thread, l->state,
		    /* canary=0: the slack was never armed, there is nothing to check */
		    s->extended && opt.canary && large_check_locked(l, &f) ?
		    (long)(f.bad - (uintptr_t)l->user) : NO_DAMAGE,
		    {0} };
		if (s->extended)
			copy_head(&s->blocks[s->nblocks]);
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

static void walk(struct snapshot *s)
{
	s->nzones = s->nblocks = 0;
	zone_foreach(snap_zone, s);
	large_foreach(snap_large, s);
}

/* Fill s; returns the scratch mapping to give back (NULL on failure). */
static void *take_snapshot(struct snapshot *s, size_t *scratch_len)
{
	for (;;) {
		struct snapshot count = { .extended = s->extended };
		ft_lock_all();
		walk(&count);
		ft_unlock_all();
		s->cap_zones = count.nzones * 2 + 64;
		s->cap_blocks = count.nblocks * 2 + 1024;
		*scratch_len = ft_align_up(s->cap_zones * sizeof(struct show_zone) +
		    s->cap_blocks * sizeof(struct show_block), os_page);
		void *scratch = os_map(*scratch_len, true);
		if (!scratch)
			return NULL;
		s->blocks = scratch;
		s->zones = (struct show_zone *)(s->blocks + s->cap_blocks);
		ft_lock_all();
		walk(&count);
		if (count.nzones <= s->cap_zones && count.nblocks <= s->cap_blocks) {
			walk(s);
			ft_unlock_all();
			sort_zones(s->zones, s->nzones);
			return scratch;
		}
		ft_unlock_all();  /* grew meanwhile: again, bigger */
		os_unmap(scratch, *scratch_len);
	}
}

FT_EXPORT void show_alloc_mem(void)
{
	struct snapshot s = { .extended = false };
	size_t scratch_len;
	struct fmt_out o;
	size_t total = 0;

	ft_init();
	void *scratch = take_snapshot(&s, &scratch_len);
	if (!scratch)
		return;
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
	os_unmap(scratch, scratch_len);
}

static void hex_line(struct fmt_out *o, const struct show_block *blk)
{
	const uint8_t *p = blk->head;
	size_t size = blk->size, n = size < sizeof(blk->head) ? size : sizeof(blk->head);

	fmt_puts(o, "      data:");
	for (size_t i = 0; i < n; i++)
		fmt_printf(o, " %02x", p[i]);
	fmt_puts(o, n < size ? " ...  |" : "  |");
	for (size_t i = 0; i < n; i++)
		fmt_putc(o, p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.');
	fmt_puts(o, "|\n");
}

void show_alloc_mem_ex_fd(int fd)
{
	struct snapshot s = { .extended = true };
	size_t scratch_len, total = 0, nlive = 0, nquar = 0;
	struct fmt_out o;

	ft_init();
	void *scratch = take_snapshot(&s, &scratch_len);
	if (!scratch)
		return;
	fmt_init(&o, fd);
	for (size_t i = 0; i < s.nzones; i++) {
		const struct show_zone *z = &s.zones[i];
		fmt_printf(&o, "%s : 0x%lX", z->kind, (unsigned long)z->base);
		if (z->kind[0] != 'L')
			fmt_printf(&o, "   (%zu of %zu slots in use)", z->out, z->slots);
		fmt_putc(&o, '\n');
		for (size_t b = z->first; b < z->first + z->count; b++) {
			const struct show_block *blk = &s.blocks[b];
			bool live = blk->state == REC_LIVE;
			fmt_printf(&o, "0x%lX - 0x%lX : %zu bytes\n", (unsigned long)blk->start,
			    (unsigned long)(blk->start + blk->size), blk->size);
			fmt_printf(&o, "      %-11s usable %-7zu canary ", live ? "live" : "quarantined", blk->usable);
			if (blk->damage == NO_DAMAGE)
				fmt_puts(&o, "intact");
			else
				fmt_printf(&o, "DAMAGED at offset %ld", blk->damage);
			fmt_printf(&o, "   thread T%u\n", (unsigned)blk->alloc_thread);
			hex_line(&o, blk);
			fmt_puts(&o, "      allocated at:\n");
			if (blk->alloc_stack)
				bt_print_id(&o, blk->alloc_stack);
			else
				fmt_puts(&o, "    <no stack recorded>\n");
			if (live) {
				total += blk->size;
				nlive++;
			} else {
				nquar++;
			}
		}
	}
	fmt_printf(&o, "Total : %zu bytes in %zu live blocks (%zu blocks in quarantine)\n", total, nlive, nquar);
	fmt_puts(&o, "Errors so far:");
	unsigned long errors = 0;
	for (int k = 0; k < KIND_COUNT; k++) {
		unsigned long n = report_count(k);
		if (n)
			fmt_printf(&o, " %lu %s", n, report_kind_name(k));
		errors += n;
	}
	fmt_puts(&o, errors ? "\n" : " none\n");
	fmt_flush(&o);
	os_unmap(scratch, scratch_len);
	leak_candidates(fd);
}

FT_EXPORT void show_alloc_mem_ex(void)
{
	show_alloc_mem_ex_fd(STDOUT_FILENO);
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
