/*
 * api.c - the exported malloc family: argument checks, size arithmetic,
 * errno, and dispatch to zone.c (TINY/SMALL) or large.c (LARGE).
 *
 * Semantics follow glibc: malloc(0) returns a unique pointer, realloc(p, 0)
 * frees and returns NULL, free preserves errno, sizes that overflow give
 * NULL with ENOMEM. A pointer we did not return is never followed: a
 * pointer that is not the start of a live block is reported (invalid-free,
 * double-free for a block freed already, invalid-pointer in
 * malloc_usable_size) and nothing else happens - free returns, realloc
 * returns NULL whatever the size, malloc_usable_size 0, errno unchanged.
 *
 * Besides, on paths it takes anyway (one relaxed load of ft_hooks): the
 * TINY/SMALL requests of guard_all and guard_sample go to guarded mappings
 * of their own (large.c); check_every runs the whole-heap check every N
 * calls; a report_signal that arrived is served by the next call: the heap
 * dump is written from here, never from the signal handler.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ftmalloc.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The malloc family's alignment: FT_ALIGN, or guard_align for a block that
 * ends flush against a guard page. memalign and friends pass theirs. */
#define DEFAULT_ALIGN 0

static __thread unsigned t_calls;   /* check_every: calls not yet added to all_calls */
static __thread unsigned t_sample;  /* guard_sample: allocations to go before the
                                       next guarded one; 0 or 1: this one */
static __thread bool t_in_hooks;    /* this thread is running a hook's work */
static atomic_ulong all_calls;      /* calls of every thread, added in batches */

static bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

/* The calling stack's depot id, or 0 without a call when capture is off. */
static inline uint32_t capture(void)
{
	return opt.backtrace_depth ? bt_capture() : 0;
}

/* The report_signal dump, on the report descriptor. */
static FT_NOINLINE void signal_dump(void)
{
	int fd = report_out_fd();
	struct fmt_out o;

	fmt_init(&o, fd);
	fmt_printf(&o, "ftmalloc: heap dump on %s (report_signal), process %d, thread T%u\n",
	    ft_report_signal_name, (int)getpid(), (unsigned)os_thread_serial());
	fmt_flush(&o);
	show_alloc_mem_ex_fd(fd);
	fmt_puts(&o, "ftmalloc: end of heap dump\n");
	fmt_flush(&o);
}

/* check_every: each thread counts its calls and adds them to all_calls in
 * batches (at most 64, or N); the call whose batch crosses a multiple of N
 * checks the heap. Damage it reports is re-armed, so reported once. */
static void count_call(void)
{
	unsigned every = opt.check_every;
	unsigned batch = every < 64 ? every : 64;

	if (++t_calls < batch)
		return;
	unsigned long n = t_calls;
	unsigned long before = atomic_fetch_add_explicit(&all_calls, n, memory_order_relaxed);
	t_calls = 0;
	if ((before + n) / every == before / every)
		return;
	zone_rearm_damage = true;
	heap_check_all("check_every");
	zone_rearm_damage = false;
}

static FT_NOINLINE void hooks_slow(unsigned hooks)
{
	/* Not inside our own capture: a dump from a malloc that libunwind
	 * makes would unwind again in the middle of its unwinding. */
	if (t_in_hooks || bt_capturing())
		return;
	t_in_hooks = true;
	int saved = errno;
	/* One dump at a time, by one thread: a signal that comes meanwhile
	 * leaves its bit set and is served by a call after this dump. */
	if ((hooks & FT_HOOK_SIGNAL) &&
	    !(atomic_fetch_or_explicit(&ft_hooks, FT_HOOK_DUMPING, memory_order_acquire) & FT_HOOK_DUMPING)) {
		if (atomic_fetch_and_explicit(&ft_hooks, ~FT_HOOK_SIGNAL, memory_order_relaxed) & FT_HOOK_SIGNAL)
			signal_dump();
		atomic_fetch_and_explicit(&ft_hooks, ~FT_HOOK_DUMPING, memory_order_release);
	}
	if (hooks & FT_HOOK_CHECK)
		count_call();
	errno = saved;
	t_in_hooks = false;
}

/* At the top of each malloc family call, before it takes any lock: the
 * hooks, for the allocation to see FT_HOOK_GUARD without another load (0
 * in the very first call, which initialises: that block is not guarded). */
static inline unsigned hooks_run(void)
{
	unsigned hooks = atomic_load_explicit(&ft_hooks, memory_order_relaxed);

	if (FT_UNLIKELY(hooks & (FT_HOOK_SIGNAL | FT_HOOK_CHECK)))
		hooks_slow(hooks);
	return hooks;
}

/* guard_all, or the guard_sample countdown of this thread ran out. */
static bool guard_this(void)
{
	if (opt.guard_all)
		return true;
	if (t_sample > 1) {
		t_sample--;
		return false;
	}
	t_sample = opt.guard_sample;
	return true;
}

/* A TINY/SMALL request in a guarded mapping; NULL (errno kept) when there
 * is no room for one: the zones serve it. */
static FT_NOINLINE void *guarded_alloc(size_t size, size_t align, bool *zeroed, uint32_t stack)
{
	int saved = errno;
	void *p = large_alloc_guarded(size, align, stack, zeroed);

	if (!p)
		errno = saved;
	return p;
}

/* A block of size bytes aligned to align (a power of two >= FT_ALIGN).
 * *zeroed tells whether it reads as zero; otherwise TINY/SMALL blocks are
 * filled with alloc_fill so reads of uninitialised memory stand out. */
static void *heap_alloc_at(size_t size, size_t align, bool *zeroed, uint32_t stack, size_t reserve,
    unsigned hooks)
{
	ft_init();
	if (FT_UNLIKELY(size > PTRDIFF_MAX)) {
		errno = ENOMEM;
		return NULL;
	}
	if (FT_UNLIKELY(inject_armed) && inject_fail(size, stack)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = NULL;
	if (FT_UNLIKELY(hooks & FT_HOOK_GUARD) && size <= FT_SMALL_MAX && align <= FT_SMALL_MAX && guard_this())
		p = guarded_alloc(size, align, zeroed, stack);
	if (p) {
		/* guarded: filled below when not fresh, as a slot would be */
	} else if (align <= FT_ALIGN && size <= FT_SMALL_MAX) {
		p = zone_alloc(size, zeroed, stack);
	} else if (align > FT_ALIGN && align <= FT_SMALL_MAX &&
	    (size ? size : 1) <= FT_SMALL_MAX + FT_ALIGN - align) {
		*zeroed = false;
		p = zone_alloc_aligned(size, align, stack);
	} else {
		return large_alloc(size, align, stack, reserve, zeroed);
	}
	if (p && !*zeroed && opt.alloc_fill)
		memset(p, opt.alloc_fill, size);
	return p;
}

static void *heap_alloc(size_t size, size_t align, bool *zeroed, unsigned hooks)
{
	return heap_alloc_at(size, align, zeroed, capture(), 0, hooks);
}

/* malloc and friends: a TINY/SMALL block gets alloc_fill in every byte, a
 * fresh one too, so a read of memory never written looks the same every
 * time (LARGE blocks are not filled: that would touch all their pages). */
static void *heap_alloc_filled(size_t size, size_t align, unsigned hooks)
{
	bool zeroed;
	void *p = heap_alloc(size, align, &zeroed, hooks);

	if (p && zeroed && opt.alloc_fill && size <= FT_SMALL_MAX && align <= FT_SMALL_MAX)
		memset(p, opt.alloc_fill, size);
	return p;
}

/* Free p on behalf of func, telling what p was. */
static enum lookup heap_free(void *p, uint32_t stack, const char *func)
{
	struct region *r = pagemap_get(p);

	if (!r)
		return LOOKUP_NOT_OURS;
	return r->kind == REGION_ZONE ? zone_free((struct zone *)r, p, stack, func)
	    : large_free(p, stack, func);
}

/* A pointer passed to func is not a live block: say what it is instead.
 * The call then does nothing else: free returns, realloc returns NULL,
 * malloc_usable_size 0, and errno is left as it was (writing the report may
 * open the log file or read symbol tables). */
static FT_NOINLINE void report_bad_pointer(enum report_kind kind, void *p, const char *func, uint32_t stack)
{
	struct report_block blk = {0};
	struct region *r = pagemap_get(p);
	struct fmt_out o;
	int saved = errno;

	if (r && r->kind == REGION_ZONE)
		zone_describe((struct zone *)r, p, &blk);
	else if (r && r->kind == REGION_LARGE)
		large_describe((struct large *)r, p, &blk);
	else if (!r && large_graveyard(p, &blk) && kind == KIND_INVALID_FREE)
		kind = KIND_DOUBLE_FREE;  /* a LARGE block freed and unmapped; for
		                             malloc_usable_size it stays an invalid-pointer */
	report_begin(&o, kind, (uintptr_t)p, &blk, func);
	report_stack(&o, "detected at", stack ? stack : capture());
	report_block_stacks(&o, &blk);
	report_end(&o);
	errno = saved;
}

static void report_lookup(enum lookup how, void *p, const char *func, uint32_t stack)
{
	if (how == LOOKUP_FREED)
		report_bad_pointer(KIND_DOUBLE_FREE, p, func, stack);
	else if (how != LOOKUP_OK)
		report_bad_pointer(KIND_INVALID_FREE, p, func, stack);
}

/* malloc with hooks to run: apart, so that malloc itself needs no frame. */
static FT_NOINLINE void *malloc_hooked(size_t size, unsigned hooks)
{
	hooks_slow(hooks);
	return heap_alloc_filled(size, DEFAULT_ALIGN, hooks);
}

FT_EXPORT void *malloc(size_t size)
{
	unsigned hooks = atomic_load_explicit(&ft_hooks, memory_order_relaxed);

	if (FT_UNLIKELY(hooks & (FT_HOOK_SIGNAL | FT_HOOK_CHECK)))
		return malloc_hooked(size, hooks);
	return heap_alloc_filled(size, DEFAULT_ALIGN, hooks);
}

FT_EXPORT void free(void *ptr)
{
	if (!ptr)
		return;
	int saved = errno;
	hooks_run();
	uint32_t stack = capture();
	enum lookup how = heap_free(ptr, stack, "free");
	if (FT_UNLIKELY(how != LOOKUP_OK))
		report_lookup(how, ptr, "free", stack);  /* the block is left alone */
	errno = saved;
}

FT_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t total;
	bool zeroed;

	unsigned hooks = hooks_run();
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = heap_alloc(total, DEFAULT_ALIGN, &zeroed, hooks);
	if (p && !zeroed)
		memset(p, 0, total);
	return p;
}

FT_EXPORT void *realloc(void *ptr, size_t size)
{
	if (!ptr)
		return malloc(size);
	unsigned hooks = hooks_run();
	if (size == 0) {
		uint32_t stack = capture();
		enum lookup how = heap_free(ptr, stack, "realloc");
		if (how != LOOKUP_OK)
			report_lookup(how, ptr, "realloc", stack);
		return NULL;
	}
	struct region *r = pagemap_get(ptr);
	if (!r) {
		report_lookup(LOOKUP_NOT_OURS, ptr, "realloc", 0);
		return NULL;  /* not ours: the program keeps its pointer */
	}
	size_t old = 0;
	enum lookup how;
	/* A size above PTRDIFF_MAX never fits in place: this only looks ptr
	 * up, so that a bad pointer is reported whatever the size. */
	bool in_place = r->kind == REGION_ZONE ? zone_resize((struct zone *)r, ptr, size, &old, &how)
	    : large_resize(ptr, size, &old, &how);
	if (in_place)
		return ptr;
	if (how != LOOKUP_OK) {
		report_lookup(how, ptr, "realloc", 0);
		return NULL;
	}
	if (size > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	/* One stack serves both: where the new block was allocated is where
	 * the old one was freed. */
	uint32_t stack = capture();
	bool zeroed;
	/* A block that grows by realloc is likely to grow again: give a LARGE
	 * one room to do it in place. */
	size_t reserve = size < ((size_t)1 << 28) ? 2 * size : size + ((size_t)1 << 26);
	if (reserve < ((size_t)64 << 10))
		reserve = (size_t)64 << 10;  /* address space only: pages open as it grows */
	void *fresh = heap_alloc_at(size, DEFAULT_ALIGN, &zeroed, stack, size > old ? reserve : 0, hooks);
	if (!fresh)
		return NULL;  /* the old block stays valid, as C requires */
	memcpy(fresh, ptr, old < size ? old : size);
	how = heap_free(ptr, stack, "realloc");
	if (how != LOOKUP_OK)
		report_lookup(how, ptr, "realloc", stack);
	return fresh;
}

FT_EXPORT void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, total);
}

/* memalign()'s glibc rules: alignments below 16 need nothing, one that is
 * not a power of two is rounded up to one, one too large to exist fails. */
static void *aligned(size_t align, size_t size)
{
	unsigned hooks = hooks_run();
	if (align > PTRDIFF_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (!is_pow2(align)) {
		size_t a = FT_ALIGN;
		while (a < align)
			a <<= 1;
		align = a;
	}
	return heap_alloc_filled(size, align < FT_ALIGN ? FT_ALIGN : align, hooks);
}

FT_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	int saved = errno;

	if (!is_pow2(alignment) || alignment % sizeof(void *) != 0)
		return EINVAL;
	void *p = aligned(alignment, size);
	int rc = p ? 0 : errno;
	errno = saved;
	if (!p)
		return rc;
	*memptr = p;
	return 0;
}

/* glibc 2.36 treats aligned_alloc as memalign: no EINVAL for an alignment
 * that is not a power of two, it is rounded up. Programs built against it
 * rely on that, so we do the same. */
FT_EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
	return aligned(alignment, size);
}

FT_EXPORT void *memalign(size_t alignment, size_t size)
{
	return aligned(alignment, size);
}

FT_EXPORT void *valloc(size_t size)
{
	ft_init();
	return aligned(os_page, size);
}

FT_EXPORT void *pvalloc(size_t size)
{
	size_t rounded;

	ft_init();
	if (__builtin_add_overflow(size, os_page - 1, &rounded)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded &= ~(os_page - 1);
	return aligned(os_page, rounded ? rounded : os_page);
}

FT_EXPORT size_t malloc_usable_size(void *ptr)
{
	if (!ptr)
		return 0;
	hooks_run();
	struct region *r = pagemap_get(ptr);
	long n = -1;
	if (r)
		n = r->kind == REGION_ZONE ? zone_usable((struct zone *)r, ptr) : large_usable(ptr);
	if (n < 0) {
		report_bad_pointer(KIND_INVALID_POINTER, ptr, "malloc_usable_size", 0);
		return 0;
	}
	return (size_t)n;
}
