/*
 * large.c - LARGE blocks (requests above FT_SMALL_MAX, and any request whose
 * alignment a slot cannot give): one mapping each, between two PROT_NONE
 * guard pages, the block's end flush against the upper guard (up to the
 * alignment), so the first byte past the block - rounded to 16 - faults:
 *
 *   map: [guard][area: slack ... user block][guard]
 *
 * With guard_side=before the block starts instead at the first byte after
 * the lower guard, so an underflow faults at its first byte (an overflow
 * then damages the tail canary, or faults a page later). guard_align is the
 * alignment of a block placed flush against the upper guard: 16 by default,
 * so up to 15 bytes of slack (canaries) may lie between the block's end and
 * the guard; 1 makes it exact.
 *
 * guard_all and guard_sample put TINY/SMALL requests here too, in slots of
 * their own (large_alloc_guarded). Each live mapping costs the process two
 * of the memory map areas vm.max_map_count allows (65530 by default): past
 * a budget taken from it, guarded allocation fails with ENOMEM and the
 * caller falls back to a zone, before the kernel itself refuses a mapping
 * that a zone or the program would need.
 *
 * A block that realloc grows gets room to grow in place: its area is
 * reserved larger than the block, the part past the block's last page kept
 * PROT_NONE (so it still faults) and opened a page at a time as it grows.
 *
 * The slack on either side of a block carries canaries, checked at free,
 * realloc and exit. A freed block stays PROT_NONE in a quarantine FIFO
 * (opt.large_quarantine bytes), so any later access faults and segv.c
 * reports a use after free. When it leaves it is unmapped - unless the
 * large_cache option asks to keep mappings, read-write and guards in place,
 * for the next LARGE request of about their size: no system call, no page
 * fault, for programs that churn LARGE blocks. A graveyard remembers the last freed blocks, so a
 * second free of an unmapped block is still a double free with its stacks.
 *
 * Descriptors live in meta.c memory under one lock; the page map points
 * every page of a mapping, guards included, at its descriptor, so a fault
 * address finds its block without a lock.
 *
 * May call: report.c, canary.c, meta.c, pagemap.c, os.c, lock.c. Never malloc.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define LQ_MAX 4096                 /* blocks in quarantine, at most */
#define CACHE_MAX 64                /* mappings kept for reuse, at most */
#define GRAVE_MAX 1024
#define SLACK_CANARY 64             /* canary bytes armed on either side of a block */

struct grave {
	uintptr_t user;
	size_t size;
	uint32_t alloc_stack, free_stack;
	uint16_t alloc_thread, free_thread;
};

static struct lock large_lock;
static struct large *large_list;
static size_t large_count;
static struct large *lq_ring[LQ_MAX];  /* quarantined blocks, oldest at lq_head */
static unsigned lq_head, lq_count;
static size_t lq_bytes;                /* resident bytes they hold */
static struct large *cache[CACHE_MAX]; /* oldest first */
static unsigned cache_count;
static size_t cache_bytes;
static struct grave graves[GRAVE_MAX];
static unsigned grave_next;

bool large_side_before;                /* guard_side=before */
static atomic_size_t large_maps;       /* mappings that exist: live, quarantined, cached */
static atomic_size_t map_budget = SIZE_MAX; /* of them, most there may be for guarded allocation */
static size_t max_map_count;           /* vm.max_map_count, for the warning */
static atomic_bool budget_warned;

static char *area_of(const struct large *l)
{
	return l->map + l->guard_len;
}

/* Caller holds large_lock; l is off every list. */
static void unmap_block(struct large *l)
{
	pagemap_set(l->map, l->map_len, NULL);
	os_unmap(l->map, l->map_len);
	atomic_fetch_sub_explicit(&large_maps, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&os_mapped_user, l->map_len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_unmap_calls, 1, memory_order_relaxed);
	l->hdr.kind = 0;
	meta_free(l, sizeof(*l));
}

/* Caller holds large_lock. A cached mapping whose area fits need bytes
 * without wasting more than as much again; the smallest such. */
static struct large *cache_take(size_t need)
{
	int best = -1;

	for (unsigned i = 0; i < cache_count; i++) {
		size_t a = cache[i]->area_len;
		if (a >= need && a <= 2 * need && (best < 0 || a < cache[best]->area_len))
			best = (int)i;
	}
	if (best < 0)
		return NULL;
	struct large *l = cache[best];
	memmove(&cache[best], &cache[best + 1], (cache_count - (unsigned)best - 1) * sizeof(cache[0]));
	cache_count--;
	cache_bytes -= l->area_len;
	return l;
}

/* Caller holds large_lock; l's area is read-write and l is off the lists. */
static void cache_put(struct large *l)
{
	if (l->area_len > opt.large_cache / 2 || l->data_len != l->area_len ||
	    l->guard_len != (opt.guard ? os_page : 0)) {
		unmap_block(l);
		return;
	}
	while (cache_count && (cache_count == CACHE_MAX || cache_bytes + l->area_len > opt.large_cache)) {
		struct large *old = cache[0];
		memmove(&cache[0], &cache[1], (cache_count - 1) * sizeof(cache[0]));
		cache_count--;
		cache_bytes -= old->area_len;
		unmap_block(old);
	}
	l->state = REC_FREED;
	cache[cache_count++] = l;
	cache_bytes += l->area_len;
}

static struct large *map_block(size_t area_len, size_t rw_len)
{
	size_t guard = opt.guard ? os_page : 0;
	size_t map_len;

	if (__builtin_add_overflow(area_len, 2 * guard, &map_len))
		return NULL;
	struct large *l = meta_alloc(sizeof(*l));
	if (!l)
		return NULL;
	bool all_rw = guard == 0 && rw_len == area_len;
	char *map = os_map(map_len, all_rw);
	if (!map) {
		meta_free(l, sizeof(*l));
		return NULL;
	}
	if (!all_rw && os_protect(map + guard, rw_len, true) != 0) {
		os_unmap(map, map_len);
		meta_free(l, sizeof(*l));
		return NULL;
	}
	os_name(map, map_len, "ftmalloc:large");
	l->map = map;
	l->map_len = map_len;
	l->guard_len = guard;
	l->area_len = area_len;
	l->data_len = rw_len;
	atomic_fetch_add_explicit(&os_mapped_user, map_len, memory_order_relaxed);
	atomic_fetch_add_explicit(&os_map_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&large_maps, 1, memory_order_relaxed);
	return l;
}

/* Alignment of the user pointer: align, or guard_align for 0 (the malloc
 * family's default; the block may end flush against the guard). */
static size_t place_align(size_t align)
{
	if (align == 0)
		return opt.guard_align;
	return align > FT_ALIGN ? align : FT_ALIGN;
}

static void *alloc_block(size_t size, size_t align, uint32_t stack, size_t reserve, bool *zeroed,
    bool guarded)
{
	size_t slack = align > os_page ? align : 0;  /* mmap gives page alignment */
	size_t need, area;

	if (__builtin_add_overflow(size, slack + os_page - 1, &need)) {
		errno = ENOMEM;
		return NULL;
	}
	need &= ~(os_page - 1);
	if (need == 0)
		need = os_page;
	area = need;
	if (reserve > size && reserve - size < PTRDIFF_MAX - need)
		area = ft_align_up(need + (reserve - size), os_page);

	struct large *l = NULL;
	*zeroed = true;
	if (area == need) {
		lock_take(&large_lock);
		l = cache_take(need);
		lock_give(&large_lock);
	}
	if (l) {
		*zeroed = false;
		area = l->area_len;
		need = area;
	} else {
		l = map_block(area, need);
		if (!l && area > need) {
			/* No address space for room to grow: the block alone. */
			area = need;
			l = map_block(area, need);
		}
		/* Out of memory: what quarantine and cache hold goes first (a
		 * guarded block falls back to a zone instead). */
		if (!l && !guarded && large_release_held())
			l = map_block(area, need);
		if (!l) {
			if (!guarded)
				os_warn_oom(area + 2 * (opt.guard ? os_page : 0));
			errno = ENOMEM;
			return NULL;
		}
	}
	l->hdr.kind = REGION_LARGE;
	l->state = REC_LIVE;
	l->guarded = guarded;
	l->alloc_thread = os_thread_serial();
	l->alloc_stack = stack;
	l->free_stack = 0;
	l->size = size;
	if (area == need && !large_side_before)  /* flush against the upper guard;
	                                            a zero-size block still
	                                            starts inside its area */
		l->user = (char *)ft_align_down((uintptr_t)(area_of(l) + area - (size ? size : 1)),
		    place_align(align));
	else  /* against the lower guard, or room to grow after it */
		l->user = (char *)ft_align_up((uintptr_t)area_of(l), place_align(align));
	if (!*zeroed && l->user - area_of(l) >= (ptrdiff_t)(16 * os_page)) {
		/* A reused mapping bigger than needed: give back the pages in
		 * front of the block, which nothing will touch. */
		size_t drop = ft_align_down((uintptr_t)(l->user - SLACK_CANARY), os_page) - (uintptr_t)area_of(l);
		madvise(area_of(l), drop, MADV_DONTNEED);
	}
	if (opt.canary)
		large_arm(l);
	pagemap_set(l->map, l->map_len, &l->hdr);

	lock_take(&large_lock);
	l->next = large_list;
	l->prev = NULL;
	if (large_list)
		large_list->prev = l;
	large_list = l;
	large_count++;
	lock_give(&large_lock);
	return l->user;
}

void *large_alloc(size_t size, size_t align, uint32_t stack, size_t reserve, bool *zeroed)
{
	return alloc_block(size, align, stack, reserve, zeroed, false);
}

void large_set_map_budget(size_t max_maps)
{
	max_map_count = max_maps;
	/* Two areas a guarded block (its guards merge with their neighbours'),
	 * an eighth of them left to the zones and the program. */
	atomic_store(&map_budget, (max_maps - max_maps / 8) / 2);
}

/* One line, the first time guarded allocation runs out of map areas. */
static void warn_budget(size_t maps)
{
	fmt_warn_once(&budget_warned, "ftmalloc: warning: %zu guarded mappings use up the memory map areas "
	    "vm.max_map_count allows (%zu): further blocks come from the zones, unguarded, "
	    "until some are freed\n", maps, max_map_count);
}

/* One line, the first time the kernel refuses a guarded block's mapping
 * (or its guard) before the budget says stop; the same once-flag: guards
 * that cannot be placed are said to be missing once. */
static void warn_refused(size_t size, size_t maps)
{
	fmt_warn_once(&budget_warned, "ftmalloc: warning: guard pages could not be placed for a %zu-byte block "
	    "(the kernel refused its mapping, %zu guarded mappings exist): it and later blocks "
	    "that cannot be guarded come from the zones, unguarded\n", size, maps);
}

void *large_alloc_guarded(size_t size, size_t align, uint32_t stack, bool *zeroed)
{
	size_t maps = atomic_load_explicit(&large_maps, memory_order_relaxed);

	if (maps >= atomic_load_explicit(&map_budget, memory_order_relaxed)) {
		warn_budget(maps);
		errno = ENOMEM;
		return NULL;
	}
	void *p = alloc_block(size, align, stack, 0, zeroed, true);
	if (!p) {
		/* The kernel said no before the budget did (the program maps
		 * much itself, or its address space is limited): stop short of
		 * this from now on. */
		if (maps > 64)
			atomic_store_explicit(&map_budget, maps - maps / 8, memory_order_relaxed);
		warn_refused(size, maps);
		errno = ENOMEM;
	}
	return p;
}

bool large_release_held(void)
{
	bool any;

	lock_take(&large_lock);
	any = lq_count || cache_count;
	while (lq_count) {
		struct large *old = lq_ring[lq_head];
		lq_head = (lq_head + 1) % LQ_MAX;
		lq_count--;
		unmap_block(old);
	}
	lq_bytes = 0;
	while (cache_count)
		unmap_block(cache[--cache_count]);
	cache_bytes = 0;
	lock_give(&large_lock);
	return any;
}

/* Canaries in the slack on either side of the block, SLACK_CANARY bytes
 * at most: enough to catch a small overflow or underflow, without touching
 * pages the block does not use (beyond them are the guard pages). */
static size_t tail_len(const struct large *l)
{
	size_t n = (size_t)(area_of(l) + l->data_len - (l->user + l->size));

	return n < SLACK_CANARY ? n : SLACK_CANARY;
}

static size_t front_len(const struct large *l)
{
	size_t n = (size_t)(l->user - area_of(l));

	return n < SLACK_CANARY ? n : SLACK_CANARY;
}

void large_arm(struct large *l)
{
	canary_fill(l->user - front_len(l), front_len(l));
	canary_fill(l->user + l->size, tail_len(l));
}

/* The first damaged canary byte of l's slack and its kind; NULL if intact. */
static const uint8_t *slack_damage(const struct large *l, enum report_kind *kind)
{
	const uint8_t *bad = canary_damage(l->user + l->size, tail_len(l));

	*kind = KIND_HEAP_BUFFER_OVERFLOW;
	if (bad)
		return bad;
	*kind = KIND_HEAP_BUFFER_UNDERFLOW;
	return canary_damage_last(l->user - front_len(l), front_len(l));
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

bool large_graveyard(const void *p, struct report_block *blk)
{
	bool found = false;

	lock_take(&large_lock);
	for (unsigned i = 0; i < GRAVE_MAX && !found; i++) {
		const struct grave *g = &graves[(grave_next + GRAVE_MAX - 1 - i) % GRAVE_MAX];
		if (g->user && g->user == (uintptr_t)p) {
			*blk = (struct report_block){ g->user, g->size, g->alloc_stack, g->free_stack,
			    g->alloc_thread, g->free_thread, true };
			found = true;
		}
	}
	lock_give(&large_lock);
	return found && large_at(p) == NULL;
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

/* A damage finding, copied so it can be reported with no lock held and
 * after the block is gone. */
void large_finding(const struct large *l, const uint8_t *bad, enum report_kind kind,
    struct finding *f)
{
	large_describe((struct large *)l, l->user, &f->blk);
	f->blk.freed = false;
	f->kind = kind;
	f->bad = (uintptr_t)bad;
	f->corrupt = NULL;
	uintptr_t lo = (uintptr_t)area_of(l), hi = lo + l->data_len;
	uintptr_t from = ft_align_down((uintptr_t)bad, 16) - 16;
	if (from < lo)
		from = lo;
	size_t len = hi - from < sizeof(f->bytes) ? hi - from : sizeof(f->bytes);
	memcpy(f->bytes, (const void *)from, len);
	f->bytes_at = from;
	f->bytes_len = len;
}

/* Canary check of a block the caller owns (free, realloc): no lock. */
static void check_slack(struct large *l, const char *func, uint32_t stack)
{
	enum report_kind kind;
	const uint8_t *bad = slack_damage(l, &kind);

	if (!bad)
		return;
	struct finding f;
	large_finding(l, bad, kind, &f);
	report_finding(&f, func, stack);
	large_arm(l);  /* one report per damage */
}

enum lookup large_free(void *p, uint32_t stack, const char *func)
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
	l->state = REC_QUARANTINED;
	l->free_thread = os_thread_serial();
	l->free_stack = stack;
	graves[grave_next] = (struct grave){ (uintptr_t)l->user, l->size, l->alloc_stack, stack,
	    l->alloc_thread, l->free_thread };
	grave_next = (grave_next + 1) % GRAVE_MAX;
	lock_give(&large_lock);

	if (opt.canary)
		check_slack(l, func, stack);
	if (opt.large_quarantine == 0 || os_protect(area_of(l), l->data_len, false) != 0) {
		lock_take(&large_lock);
		cache_put(l);
		lock_give(&large_lock);
		return LOOKUP_OK;
	}
	/* Big blocks give their pages back now and are unmapped when they
	 * leave; the others stay resident, for the cache. */
	bool resident = l->area_len <= opt.large_quarantine / 4;
	if (!resident)
		madvise(area_of(l), l->data_len, MADV_DONTNEED);
	lock_take(&large_lock);
	while (lq_count && (lq_count == LQ_MAX ||
	    (resident && lq_bytes + l->area_len > opt.large_quarantine))) {
		struct large *old = lq_ring[lq_head];
		lq_head = (lq_head + 1) % LQ_MAX;
		lq_count--;
		if (old->area_len <= opt.large_quarantine / 4) {
			lq_bytes -= old->area_len;
			if (os_protect(area_of(old), old->data_len, true) == 0) {
				cache_put(old);
				continue;
			}
		}
		unmap_block(old);
	}
	lq_ring[(lq_head + lq_count) % LQ_MAX] = l;
	lq_count++;
	if (resident)
		lq_bytes += l->area_len;
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

/* Caller holds large_lock; large_resize's work. */
static bool resize_locked(struct large *l, size_t size)
{
	char *rw_end = area_of(l) + l->data_len;
	char *new_end = (char *)ft_align_up((uintptr_t)l->user + (size ? size : 1), os_page);
	if (new_end > rw_end) {
		if (os_protect(rw_end, (size_t)(new_end - rw_end), true) != 0)
			return false;  /* out of memory for page tables: move instead */
		l->data_len = (size_t)(new_end - area_of(l));
	} else if (new_end < rw_end && l->guard_len) {
		madvise(new_end, (size_t)(rw_end - new_end), MADV_DONTNEED);
		if (os_protect(new_end, (size_t)(rw_end - new_end), false) == 0)
			l->data_len = (size_t)(new_end - area_of(l));
	}
	l->size = size;
	if (opt.canary)
		large_arm(l);
	return true;
}

/*
 * In place when the block fits its area: growing opens pages of the
 * reserve; shrinking by a page or more closes the pages no longer used
 * (PROT_NONE, given back) but keeps them as reserve.
 */
bool large_resize(void *p, size_t size, size_t *old_size, enum lookup *how)
{
	struct large *l = lock_large_of(p);

	if (!l) {
		*how = LOOKUP_NOT_OURS;
		return false;
	}
	*how = classify(l, p);
	*old_size = l->size;
	/* A guarded TINY/SMALL block moves, to stay flush against its guard. */
	if (*how != LOOKUP_OK || size > (size_t)(area_of(l) + l->area_len - l->user) ||
	    (l->guarded && size != l->size)) {
		lock_give(&large_lock);
		return false;
	}
	lock_give(&large_lock);  /* the block is the caller's from here */

	if (opt.canary)
		check_slack(l, "realloc", 0);  /* may report: not under the lock */
	/* What a whole-heap check or a heap dump reads of the block (its size,
	 * its readable pages, its canaries) changes under the lock: they hold
	 * it, and never meet the block half resized. */
	lock_take(&large_lock);
	bool done = resize_locked(l, size);
	lock_give(&large_lock);
	return done;
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

/* Caller holds large_lock: the damage finding of live block l, if any. */
bool large_check_locked(const struct large *l, struct finding *f)
{
	enum report_kind kind;
	const uint8_t *bad = slack_damage(l, &kind);

	if (!bad)
		return false;
	large_finding(l, bad, kind, f);
	if (zone_rearm_damage)
		large_arm((struct large *)l);  /* reported once */
	return true;
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
