/*
 * internal.h - what the modules of ftmalloc share.
 *
 * Calls flow one way, from the top of this list to the bottom:
 *     api.c      exported malloc family: argument checks, errno, dispatch
 *     show.c     show_alloc_mem(), ftmalloc_get_stats()
 *     init.c     lazy and constructor init, pthread_atfork, lock_all()
 *     zone.c     TINY/SMALL zones of fixed-size slots, one size class each
 *     large.c    LARGE blocks, one mapping each, between guard pages
 *     meta.c     internal memory for descriptors (never the program's)
 *     pagemap.c  address -> region descriptor, lock-free reads
 *     fmt.c      formatter and write(2) output that never allocates
 *     lock.c     futex lock
 *     os.c       the only caller of mmap/munmap/mprotect/madvise
 *
 * Lock order (outer first): the whole-heap check's lock, the stack depot's
 * lock and the orphan quarantine's lock (never held together), the class locks (arena by arena,
 * class by class), the LARGE lock, the meta lock. The report lock is apart:
 * taken by its owner again, never while waiting on another lock. The page
 * map takes no lock.
 * Nothing here calls the libc malloc family or stdio.
 */
#ifndef FT_INTERNAL_H
#define FT_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>

#define FT_EXPORT __attribute__((visibility("default")))

struct report_block;
#define FT_LIKELY(x) __builtin_expect(!!(x), 1)
#define FT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FT_NOINLINE __attribute__((noinline))

#define FT_ALIGN 16            /* every pointer we return is aligned to this */
#define FT_TINY_MAX 127        /* requests 0..127 are TINY */
#define FT_SMALL_MAX 1024      /* requests 128..1024 are SMALL, above is LARGE */
#define FT_MIN_BLOCKS 100      /* slots of the largest class a zone must hold */
#define FT_NARENAS 8           /* threads are spread over this many arenas */
#define FT_REDZONE 16          /* bytes before each slot, when canaries are on
                                  (zone_redzone): 8 of the previous
                                  slot's tail canary, 8 of this slot's head */

/* Platform stubs: the only compile-time switches. */
#if defined(__x86_64__) || defined(__i386__)
static inline void ft_cpu_relax(void) { __builtin_ia32_pause(); }
#elif defined(__aarch64__)
static inline void ft_cpu_relax(void) { __asm__ volatile("yield"); }
#else
static inline void ft_cpu_relax(void) { }
#endif

/* A 64-bit mixer (the splitmix64 finalizer): canary words, injection draws. */
static inline uint64_t ft_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline size_t ft_align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }
static inline uintptr_t ft_align_down(uintptr_t n, size_t a) { return n & ~(uintptr_t)(a - 1); }

/* ---- os.c ---- */
extern size_t os_page;  /* the system page size, set by os_init() */
void os_init(void);
/* Anonymous private mapping of len bytes (page multiple), read-write or
 * PROT_NONE. NULL on failure, errno set (ENOMEM for exhaustion). */
void *os_map(size_t len, bool writable);
/* ENOMEM at vm.max_map_count is no error: pages given back, range unmapped later. */
void os_unmap(void *addr, size_t len);
/* Once per process: "out of memory", a mapping of len bytes refused and the
 * allocation returning NULL - unless a page can still be mapped (the request
 * alone was too big). */
void os_warn_oom(size_t len);
/* In a forked child: its own warnings; the parent's other threads are gone. */
void os_fork_child(void);
int os_protect(void *addr, size_t len, bool writable);
/* Read-only from now on; 0 or the errno. EINVAL, nothing done, unless
 * [addr, addr + len) is whole system pages. */
int os_seal(void *addr, size_t len);
/*
 * Start-up state that is never written again - the options, the canary
 * secret, libunwind's entry points, the SIGSEGV handler we chain to - lives
 * alone in a page of its own, sealed (made read-only) once start-up is done
 * with it: no stray write, ours or the program's, can change it later.
 * FT_SEALED(type) is such a page: a page-aligned object, a whole number of
 * pages long, whose member v is the state; os_seal(&x, sizeof(x)) seals it.
 * On a system whose pages are larger than FT_SEAL_PAGE the object would
 * share its page, and os_seal refuses: the state just stays writable.
 */
#define FT_SEAL_PAGE 4096
#define FT_SEALED(type) \
	union { type v; char page[FT_SEAL_PAGE]; } __attribute__((aligned(FT_SEAL_PAGE)))
void os_name(void *addr, size_t len, const char *name);
uint32_t os_tid(void);  /* kernel thread id, cached per thread */
/* Small per-process thread number, 0 for the first thread that allocates;
 * what reports call "thread T". */
extern __thread uint32_t os_t_serial_plus1;
uint16_t os_thread_serial_slow(void);
static inline uint16_t os_thread_serial(void)
{
	if (FT_UNLIKELY(os_t_serial_plus1 == 0))
		return os_thread_serial_slow();
	return (uint16_t)(os_t_serial_plus1 - 1);
}
void os_thread_gone(void);               /* the calling thread is exiting */
bool os_thread_alive(uint16_t serial);   /* numbered and not exited */
/* In a forked child: serial was a thread of the parent other than the one
 * that forked (its blocks are the parent's); false in a process not forked. */
bool os_thread_inherited(uint16_t serial);
void os_forget_tid(void);  /* in a forked child: the cached ids are the parent's */
/* Counters of user memory (zones and LARGE maps), kept by their owners. */
extern atomic_size_t os_map_calls, os_unmap_calls, os_mapped_user;

/* ---- options.c ---- */
#define OPT_CTYPE_bool bool
#define OPT_CTYPE_size size_t
#define OPT_CTYPE_uint unsigned
#define OPT_CTYPE_byte uint8_t
#define OPT_CTYPE_str const char *  /* never NULL; "" when unset */
struct ft_options {  /* generated from options.def */
#define OPT(name, type, def, desc) OPT_CTYPE_##type name;
#include "options.def"
#undef OPT
};
extern struct ft_options opt;
void opt_init(void);  /* read FTMALLOC_OPTIONS once; never allocates */
void opt_parse(const char *s, size_t len);  /* "name=value:..." in s[0..len) into opt */
/* opt read-only from here on: once start-up no longer writes it (after
 * hook_options() and report_init()). */
void opt_seal(void);
void opt_help(void);
/* Warn that option name's value is bad, in the parser's words. */
void opt_warn_value(const char *name, const char *value, const char *expected);

/* ---- canary.c ---- */
void canary_init(void);
void canary_fill(void *start, size_t len);
/* First (or last) byte of [start, start + len) that is not its canary; NULL if intact. */
const uint8_t *canary_damage(const void *start, size_t len);
const uint8_t *canary_damage_last(const void *start, size_t len);
/* Bit i set when bytes[i], copied from address at + i, still holds its
 * canary (len <= 64): a report must not print those bytes. */
uint64_t canary_intact_mask(const uint8_t *bytes, uintptr_t at, size_t len);
/* First byte of [start, start + len) that is not fill; NULL if intact. */
const uint8_t *fill_damage(const void *start, size_t len, uint8_t fill);

/* ---- lock.c ---- */
struct lock { atomic_int word; };  /* 0 free, 1 held, 2 held with waiters */
void lock_take_slow(struct lock *l);
void lock_give_slow(struct lock *l);
static inline void lock_take(struct lock *l)
{
	int expect = 0;
	if (!atomic_compare_exchange_strong_explicit(&l->word, &expect, 1,
	    memory_order_acquire, memory_order_relaxed))
		lock_take_slow(l);
}
static inline void lock_give(struct lock *l)
{
	if (atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2)
		lock_give_slow(l);
}
static inline void lock_reset(struct lock *l) { atomic_store(&l->word, 0); }

/* ---- fmt.c ---- */
struct fmt_out {
	int fd;
	uint8_t style;  /* FMT_JSON or FMT_COLOR (report.c sets it), 0: plain text */
	int err;        /* errno of the first write that failed, 0: none */
	size_t len;
	char buf[2048];
};
#define FMT_JSON 1u   /* a report as one JSON object on one line */
#define FMT_COLOR 2u  /* text with ANSI color escapes */
/* SGR parameters for fmt_color. */
#define FMT_SGR_ERROR "1;31"  /* bold red */
#define FMT_SGR_TITLE "1"     /* bold */
#define FMT_SGR_FUNC "36"     /* cyan */
void fmt_init(struct fmt_out *o, int fd);  /* style 0 */
/* "ESC[sgr m" and "ESC[0m", written only when o->style has FMT_COLOR. */
void fmt_color(struct fmt_out *o, const char *sgr);
void fmt_color_end(struct fmt_out *o);
/* s as a JSON string, quotes included ('"', '\\', control characters and
 * every byte above 0x7e escaped, the last as \u00XX); null when s is NULL. */
void fmt_json_str(struct fmt_out *o, const char *s);
void fmt_flush(struct fmt_out *o);
void fmt_putc(struct fmt_out *o, char c);
void fmt_puts(struct fmt_out *o, const char *s);
/* printf subset: %s %c %d %i %u %x %X %p %%, flags '-' '0', a width, a
 * precision for %s (%.200s: at most 200 bytes),
 * length modifiers l ll z. %X prints upper-case hex digits without 0x. */
void fmt_printf(struct fmt_out *o, const char *f, ...) __attribute__((format(printf, 2, 3)));
void fmt_vprintf(struct fmt_out *o, const char *f, va_list ap);
/* A warning on stderr, only the first time for *once (set here; a forked
 * child may clear it to warn again). */
void fmt_warn_once(atomic_bool *once, const char *f, ...) __attribute__((format(printf, 2, 3)));
/* Write all of buf to fd, retrying on EINTR and short writes, waiting a
 * while (poll) for a non-blocking descriptor that is full; nothing when
 * fd < 0 (a suppressed report is formatted, not written). Returns 0, or the
 * errno of the write that failed. */
int fmt_write_all(int fd, const char *buf, size_t len);
/* Text of an errno value for a warning ("No such file or directory"), or
 * NULL when the table has none; never strerror (it may allocate). */
const char *fmt_errno_text(int e);
/* An internal invariant broke: print file:line and abort. */
void fmt_die(const char *file, int line, const char *what) __attribute__((noreturn));
#define FT_ASSERT(c) do { if (FT_UNLIKELY(!(c))) fmt_die(__FILE__, __LINE__, #c); } while (0)

/* ---- pagemap.c ---- */
enum region_kind { REGION_ZONE = 1, REGION_LARGE = 2, REGION_META = 3 /* ours, not the program's */ };
struct region { uint8_t kind; };  /* first member of struct zone and struct large */
void pagemap_set(void *addr, size_t len, struct region *r);  /* r NULL clears */
#define PM_PAGE_SHIFT 12
#define PM_LEAF_BITS 20
#define PM_ADDR_BITS 48
#define PM_ROOT_BITS (PM_ADDR_BITS - PM_PAGE_SHIFT - PM_LEAF_BITS)
#define PM_LEAF_LEN ((size_t)1 << PM_LEAF_BITS)
typedef _Atomic(struct region *) pm_entry;
extern _Atomic(pm_entry *) pm_root[(size_t)1 << PM_ROOT_BITS];
/* The region holding addr, or NULL; no lock, inline: free() asks it first. */
static inline struct region *pagemap_get(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	if (a >> PM_ADDR_BITS)
		return NULL;
	pm_entry *leaf = atomic_load_explicit(
	    &pm_root[a >> (PM_PAGE_SHIFT + PM_LEAF_BITS)], memory_order_acquire);
	if (!leaf)
		return NULL;
	return atomic_load_explicit(&leaf[(a >> PM_PAGE_SHIFT) & (PM_LEAF_LEN - 1)],
	    memory_order_acquire);
}

/* ---- meta.c ---- */
/* Internal memory, zeroed, 16-byte aligned. Never unmapped below 64 KiB, so a
 * stale descriptor pointer reads old bytes, never faults. */
void *meta_alloc(size_t size);
void meta_free(void *p, size_t size);
void meta_lock_all(void);
void meta_unlock_all(void);
void meta_reset_locks(void);

/* ---- block records: what we trust about a TINY/SMALL block ---- */
enum rec_state {
	REC_UNUSED = 0,  /* never handed out since the zone was mapped */
	REC_LIVE,        /* allocated */
	REC_FREED,       /* freed, reusable; stacks kept to recognise a double free */
	REC_QUARANTINED, /* freed, poisoned, held back from reuse (quarantine.c) */
};
struct rec {
	uint32_t alloc_stack;  /* stack depot id of the allocation, 0 = none */
	uint32_t free_stack;   /* stack depot id of the free, 0 = none */
	uint16_t size;         /* requested size */
	uint8_t state;         /* enum rec_state */
	uint8_t align_off;     /* user pointer - slot start, in units of 16 bytes */
	uint16_t alloc_thread; /* os_thread_serial() of the allocating thread */
	uint16_t free_thread;  /* and of the freeing thread */
};
_Static_assert(sizeof(struct rec) == 16, "block record must stay 16 bytes");
/* free_thread of a live block, and of a freed one for the instant between
 * its state change and the freer's number being written. */
#define FT_NO_THREAD 0xffffu

/* ---- zone.c ---- */
#define FT_NTINY 8                                   /* 16, 32, ... 128 */
#define FT_NSMALL ((FT_SMALL_MAX - 128) / 16 + 1)    /* 128, 144, ... 1024 */
#define FT_NCLASSES (FT_NTINY + FT_NSMALL)

struct zone {
	struct region hdr;
	uint8_t cls;          /* size class index */
	uint8_t arena;
	uint8_t is_spare;     /* empty and kept */
	uint8_t in_avail;     /* linked on the class's avail list */
	uint16_t nslots;
	uint16_t bump;        /* slots [bump, nslots) were never handed out */
	uint16_t nfree;       /* entries in free_idx */
	uint16_t nout;        /* slots live or held in a thread cache */
	uint32_t slot_size;   /* usable bytes per slot */
	uint32_t stride;      /* slot_size + the zone's redzone (FT_REDZONE, or 0
	                         when canaries are off) */
	uint32_t stride_inv;  /* 2^32 / stride, rounded up: offset / stride without
	                         a division, exact for any offset in a zone */
	char *base;           /* the mapping */
	size_t map_len;
	size_t meta_len;      /* bytes of this descriptor */
	struct zone *all_next, *all_prev;    /* every zone of the class */
	struct zone *avail_next, *avail_prev; /* zones with a free slot */
	uint16_t *free_idx;   /* stack of freed slot indices */
	struct rec recs[];
};

static inline bool zone_is_tiny_class(unsigned cls) { return cls < FT_NTINY; }
static inline unsigned zone_class_of(size_t size)
{
	if (size <= FT_TINY_MAX)
		return size <= 16 ? 0 : (unsigned)((size - 1) >> 4);
	return FT_NTINY + (unsigned)((ft_align_up(size, 16) - 128) >> 4);
}
static inline size_t zone_class_size(unsigned cls)
{
	return cls < FT_NTINY ? (cls + 1) * 16 : 128 + (cls - FT_NTINY) * 16;
}
static inline char *zone_slot_user(const struct zone *z, unsigned idx)
{
	return z->base + (z->stride - z->slot_size) + (size_t)idx * z->stride;
}

/* A slot for size (<= FT_SMALL_MAX) bytes, through the thread's cache.
 * *zeroed tells whether it reads as zero. */
void *zone_alloc(size_t size, bool *zeroed, uint32_t stack);
/* Redzone of the zones mapped from now on: FT_REDZONE with canaries, 0
 * without (set once, at init, before the first zone). */
extern size_t zone_redzone;

/* A slot as a thread cache holds it: the zone pointer (below 2^48) with the
 * slot index in the top 16 bits. */
static inline uint64_t zone_slot_ref(struct zone *z, unsigned idx)
{
	return (uint64_t)(uintptr_t)z | ((uint64_t)idx << 48);
}
static inline struct zone *zone_ref_zone(uint64_t ref)
{
	return (struct zone *)(uintptr_t)(ref & ((1ULL << 48) - 1));
}
static inline unsigned zone_ref_idx(uint64_t ref) { return (unsigned)(ref >> 48); }
static inline void zone_rec_set_live(struct rec *r, size_t size, size_t off, uint16_t thread)
{
	r->size = (uint16_t)size;
	r->align_off = (uint8_t)(off / FT_ALIGN);
	r->alloc_thread = thread;
	r->alloc_stack = 0;
	r->free_stack = 0;
	r->free_thread = FT_NO_THREAD;  /* the last tenant's would pass for the next freer */
	__atomic_store_n(&r->state, REC_LIVE, __ATOMIC_RELEASE);
}
/* Up to n slots of class cls from the calling thread's arena into out;
 * returns how many (0: out of memory). Takes the class lock. */
unsigned zone_take_batch(unsigned cls, uint64_t *out, unsigned n);
/* Slots back to their zones (any arenas). Takes the class locks in turn. */
void zone_give_batch(const uint64_t *refs, unsigned n);
/* A slot aligned beyond 16 bytes, straight from the zone (no cache). */
void *zone_alloc_aligned(size_t size, size_t align, uint32_t stack);

void tcache_thread_exit(void *unused);  /* flush the calling thread's cache */
void tcache_init(void);
/* The calling thread's exit runs tcache_thread_exit - which also empties its
 * quarantine and marks its serial gone - whatever its first call was (a
 * thread may only ever free). */
void tcache_watch_exit(void);
/* Outcome of looking a pointer up in a zone. */
enum lookup {
	LOOKUP_OK,        /* a live block, *idx set */
	LOOKUP_FREED,     /* the start of a freed block: a double free */
	LOOKUP_INTERIOR,  /* inside a slot but not its start */
	LOOKUP_NOT_OURS,  /* no zone or LARGE block there */
};
/* Where p lies in z, without a lock (p's block, if live, is the caller's);
 * inline: every free asks it. */
static inline enum lookup zone_find(struct zone *z, const void *p, unsigned *idxp)
{
	size_t off = (size_t)((const char *)p - z->base);
	unsigned idx = (unsigned)(((uint64_t)off * z->stride_inv) >> 32);

	if (idx >= z->nslots)
		return LOOKUP_INTERIOR;
	struct rec *r = &z->recs[idx];
	const char *start = zone_slot_user(z, idx) + (size_t)r->align_off * FT_ALIGN;
	uint8_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
	*idxp = idx;
	if (p != start || state == REC_UNUSED)
		return LOOKUP_INTERIOR;
	return state == REC_LIVE ? LOOKUP_OK : LOOKUP_FREED;
}
/* z is the zone the page map gives for p. */
enum lookup zone_free(struct zone *z, void *p, uint32_t stack, const char *func);
/* A freed slot to the calling thread's cache. */
void tcache_put(struct zone *z, unsigned idx);
/* Write the canaries of the block now live in slot idx. */
void zone_arm_block(struct zone *z, unsigned idx);
/* The live block in slot idx now has size bytes: its record and canaries
 * rewritten under its class lock, so that a whole-heap check (which holds
 * every class lock) never meets it half done. */
void zone_set_size(struct zone *z, unsigned idx, size_t size);
/* Check the canaries of the block recorded in slot idx (live or freed);
 * report damage as found in func, detected at stack (0: capture here).
 * True when intact. */
bool zone_check_block(struct zone *z, unsigned idx, const char *func, uint32_t stack);
/* Set by a thread running a periodic check (check_every): the check then
 * rewrites the canaries or poison whose damage it reports (zone_rearm,
 * large_check_locked), so it is reported once. */
extern __thread bool zone_rearm_damage;
/* Rewrite slot idx's canaries (live) or poison (quarantined). */
void zone_rearm(struct zone *z, unsigned idx);
/* Check the poison of a quarantined block; report a use after free. */
bool zone_check_poison(struct zone *z, unsigned idx, const char *func);
/* What we know of the block at or around p in z, for a report. */
void zone_describe(struct zone *z, const void *p, struct report_block *blk);

/* ---- quarantine.c ---- */
/* Hold a freed, poisoned slot back from reuse; the oldest ones leave when
 * the thread's quarantine is over opt.quarantine bytes, poison checked. */
void quarantine_put(struct zone *z, unsigned idx);
void quarantine_thread_exit(void);
/* The orphans' lock: taken before the zone locks (its evictions give slots
 * back to zones); only fork takes it with the others. */
void quarantine_lock_all(void);
void quarantine_unlock_all(void);
void quarantine_reset_locks(void);
/* With every lock held: nothing. Quarantines are per thread; check_all
 * walks the records (REC_QUARANTINED) instead. */
/* Requested size of the live block at p, or -1 when p is not one. */
long zone_usable(struct zone *z, void *p);
/* Resize the live block at p in place when its slot allows (true). *old_size
 * is its size; LOOKUP_OK in *how unless p is not a live block. */
bool zone_resize(struct zone *z, void *p, size_t size, size_t *old_size, enum lookup *how);
void zone_lock_all(void);
void zone_unlock_all(void);
void zone_reset_locks(void);
/* With every lock held (zone_lock_all): call fn on each zone. */
void zone_foreach(void (*fn)(struct zone *z, void *arg), void *arg);
void zone_stats(size_t zones[2], size_t live[2], size_t bytes[2], size_t slots[2]);
unsigned zone_slots_for(unsigned cls);

/* ---- large.c ---- */
struct large {
	struct region hdr;
	uint8_t state;        /* enum rec_state */
	uint8_t guarded;      /* a TINY/SMALL request given a mapping of its own
	                         (guard_all, guard_sample): realloc moves it */
	uint16_t alloc_thread, free_thread;
	uint32_t alloc_stack, free_stack;
	char *map;            /* the whole mapping, guard pages included */
	size_t map_len;
	char *user;
	size_t size;          /* requested size */
	size_t guard_len;     /* bytes of each guard: os_page, or 0 when off */
	size_t area_len;      /* bytes between the guards */
	size_t data_len;      /* of them, read-write from the start (the rest:
	                         reserve for realloc, PROT_NONE) */
	struct large *next, *prev;
};
/* With the lock free: the LARGE block whose mapping (guards included)
 * holds addr, as the fault handler needs it; NULL if none. */
struct large *large_at(const void *addr);
void large_arm(struct large *l);  /* canaries in the block's slack */
/* reserve > size: room to grow in place by realloc. *zeroed: fresh pages.
 * align: of the user pointer, a power of two; 0 for the malloc family's
 * default (16, or guard_align when the block ends flush against its guard). */
void *large_alloc(size_t size, size_t align, uint32_t stack, size_t reserve, bool *zeroed);
/* The same for a TINY/SMALL request (guard_all, guard_sample), no reserve.
 * NULL with ENOMEM when the memory map areas are nearly used up (a warning,
 * once): the caller falls back to a zone. */
void *large_alloc_guarded(size_t size, size_t align, uint32_t stack, bool *zeroed);
/* vm.max_map_count: sets how many mappings guarded allocation may use. */
void large_set_map_budget(size_t max_maps);
/* Out of memory: unmap the quarantined and cached LARGE mappings; true when
 * there were any (worth trying again). Takes the LARGE lock. */
bool large_release_held(void);
extern bool large_side_before;  /* guard_side=before (set at init) */
/* p was a LARGE block freed and unmapped lately: *blk says which. */
bool large_graveyard(const void *p, struct report_block *blk);
struct finding;
bool large_check_locked(const struct large *l, struct finding *f);
enum lookup large_free(void *p, uint32_t stack, const char *func);
void large_describe(struct large *l, const void *p, struct report_block *blk);
long large_usable(void *p);
bool large_resize(void *p, size_t size, size_t *old_size, enum lookup *how);
void large_lock_all(void);
void large_unlock_all(void);
void large_reset_locks(void);
void large_foreach(void (*fn)(struct large *l, void *arg), void *arg);
void large_stats(size_t *count, size_t *live_bytes);

/* ---- backtrace.c: capture, stack depot, symbolisation ---- */
#define BT_MAX_DEPTH 64
/* Load libunwind (dlopen, RTLD_LOCAL: its _Unwind_* and backtrace symbols
 * must not interpose the program's) and find our own text range. Called from
 * the library constructor, never with an allocator lock held. */
void bt_init(void);
void bt_set_depth(unsigned depth);  /* 0 turns capture off; default 16 */
/* Capture the calling thread's stack, our own frames dropped, intern it in
 * the depot and return its id (0: none - capture off, not loaded yet, or
 * re-entered). Never calls malloc; call it with no allocator lock held. */
uint32_t bt_capture(void);
/* Same from a signal handler's ucontext (the faulting thread's stack).
 * Async-signal-safe as far as libunwind allows; not interned: pcs filled. */
unsigned bt_capture_context(void *ucontext, uintptr_t *pcs, unsigned max);
/* The frames of a depot id; returns how many (0 for id 0). */
unsigned bt_get(uint32_t id, uintptr_t *pcs, unsigned max);
/* What is known of one return address. Strings point into buf or into
 * read-only memory of the module; any may be NULL / 0 when unknown. */
struct bt_sym {
	const char *module;     /* path of the object */
	uintptr_t module_off;   /* pc - its load base */
	const char *function;   /* symbol name */
	uintptr_t function_off; /* pc - symbol address */
	const char *file;       /* source file, with debug info */
	unsigned line;
};
void bt_symbolize(uintptr_t pc, struct bt_sym *sym, char *buf, size_t buflen);
/* Print frames, one a line: "    #N 0xADDR in FUNCTION FILE:LINE", or
 * "    #N 0xADDR in FUNCTION+0xOFF (MODULE)" when no line is known, or
 * "    #N 0xADDR (MODULE+0xOFF)" when no symbol is. */
void bt_print(struct fmt_out *o, const uintptr_t *pcs, unsigned n);
void bt_print_id(struct fmt_out *o, uint32_t id);
/* With FMT_JSON in o->style, bt_print writes the frames as one JSON array
 * instead: [{"pc":"0x..","module":..,"offset":"0x..","function":..,
 * "file":..,"line":..}, ...], null for what is unknown. */
void bt_print_json(struct fmt_out *o, const uintptr_t *pcs, unsigned n);
/* True when any frame of stack id's function or module name matches glob
 * (for suppressions). */
bool bt_matches(uint32_t id, const char *glob);
/* Fork: bt_lock_all also waits until no thread is inside the dynamic
 * loader on our behalf (see bt_loader_enter) and holds new entries back;
 * bt_unlock_all and bt_reset_locks (the child) let them in again. */
/* True while this thread is inside a capture (libunwind may call malloc):
 * the hooks then wait for a later call. */
bool bt_capturing(void);
void bt_lock_all(void);
void bt_unlock_all(void);
void bt_reset_locks(void);
/* Around every call that may take the loader's lock (dl_iterate_phdr,
 * libunwind): glibc's fork does not reset that lock in the child, so a fork
 * while another thread holds it would hang the child's first backtrace.
 * False when a fork is being prepared and did not end within max_wait_us:
 * the caller goes on without the loader (no stack, no names). */
bool bt_loader_enter(unsigned max_wait_us);
void bt_loader_leave(void);

/* ---- report.c: the one writer of error reports ---- */
#define FT_KINDS(X) \
	X(HEAP_BUFFER_OVERFLOW, "heap-buffer-overflow") \
	X(HEAP_BUFFER_UNDERFLOW, "heap-buffer-underflow") \
	X(USE_AFTER_FREE, "use-after-free") \
	X(DOUBLE_FREE, "double-free") \
	X(INVALID_FREE, "invalid-free") \
	X(INVALID_POINTER, "invalid-pointer") \
	X(MEMORY_LEAK, "memory-leak") \
	X(HEAP_CORRUPTION, "heap-corruption")
enum report_kind {
#define FT_KIND_ENUM(id, name) KIND_##id,
	FT_KINDS(FT_KIND_ENUM)
#undef FT_KIND_ENUM
	KIND_COUNT
};
const char *report_kind_name(enum report_kind k);
/* The block an error is about, as far as we know it. */
struct report_block {
	uintptr_t start;        /* 0: the address is in no block we know */
	size_t size;
	uint32_t alloc_stack, free_stack;
	uint16_t alloc_thread, free_thread;
	bool freed;             /* print the "freed by" section */
};
/* Start a report: takes the report lock, opens o on the report fd and writes
 * the first line "ftmalloc: ERROR: KIND on address 0x... (N bytes
 * after|before|inside a SIZE-byte block at 0x...) in FUNC, thread T".
 * Counts the error for the exit summary. */
void report_begin(struct fmt_out *o, enum report_kind kind, uintptr_t addr,
    const struct report_block *blk, const char *func);
/* "  TITLE:" then the frames of a depot id (or "    <no stack recorded>"). */
void report_stack(struct fmt_out *o, const char *title, uint32_t id);
/* The same with a thread: "  allocated by thread T3 at:". */
void report_thread_stack(struct fmt_out *o, const char *what, uint16_t thread, uint32_t id);
/* Damage found in a block, copied out (bytes around it included) so it can
 * be reported with no lock held, even after the block is gone. */
struct finding {
	enum report_kind kind;
	struct report_block blk;
	uintptr_t bad;          /* first damaged byte */
	uintptr_t bytes_at;     /* address of bytes[0] */
	size_t bytes_len;
	uint8_t bytes[64];
	const char *corrupt;    /* heap-corruption: what is inconsistent */
};
/* A whole report of a finding: detected at stack (0: here), in func. */
void report_finding(const struct finding *f, const char *func, uint32_t stack);
/* Closing line, flush, release the report lock; aborts when asked to. */
void report_end(struct fmt_out *o);
/* Errors reported so far, per kind, and in all. */
unsigned long report_count(enum report_kind k);
unsigned long report_total(void);
/* "freed by" (when blk->freed) and "allocated by" sections of blk. */
void report_block_stacks(struct fmt_out *o, const struct report_block *blk);
void report_summary(void);      /* "ftmalloc: SUMMARY: N errors: ..." at exit */
void report_lock_reset(void);   /* in a forked child: the lock, and counts from zero */
/* Where reports go: the file of opt.log_path (opened at the first call in
 * each process, %p expanded to its pid), or stderr. Takes the report lock. */
int report_out_fd(void);
#define report_fd (report_out_fd())  /* the old name, still used by leak.c */
/* At exit, after the summary: remove the log file if it is this process's
 * own (%p in log_path, created by it) and empty. */
void report_log_done(void);
/* Reports printed and suppressed so far. */
unsigned long report_suppressed_total(void);
/* Check opt.format and opt.color (a bad value warns and becomes the
 * default) and read NO_COLOR; constructor time. Before it, reports are
 * text without color. */
void report_init(void);
/* How reports written to fd look: FMT_JSON (format=json), FMT_COLOR
 * (color=always, or auto with fd a terminal and NO_COLOR unset) or 0. */
unsigned report_style(int fd);
/* A section of frames already captured: report_stack's output for pcs. */
void report_pcs(struct fmt_out *o, const char *title, const uintptr_t *pcs, unsigned n);
/* Inside a report (or a note): true when it is JSON. Callers then add
 * their facts as fields and write their text lines only when false. */
static inline bool report_is_json(const struct fmt_out *o) { return o->style & FMT_JSON; }
/* ,"key":"value" / ,"key":N into a JSON report or note; nothing in text. */
void report_field_str(struct fmt_out *o, const char *key, const char *value);
void report_field_num(struct fmt_out *o, const char *key, unsigned long long n);
/* Lines on the report fd that are no error report (the leak summary,
 * "N more ... not shown"): begin takes the report lock and opens o,
 * styled; in JSON it opens an object {"version":1,"kind":KIND,"pid":N
 * that end closes ("}\n"); in text the caller writes its lines between. */
void report_note_begin(struct fmt_out *o, const char *kind);
void report_note_end(struct fmt_out *o);
/* The leak check's totals at exit, for the JSON summary. */
struct leak_totals {
	size_t def_bytes, def_blocks, ind_bytes, ind_blocks, reach_bytes, reach_blocks;
};
void report_leak_totals(const struct leak_totals *t, bool listed_reachable);

/* ---- suppress.c: reports the user asked not to see ---- */
/* Read opt.suppressions (constructor time, after bt_init); warns about
 * lines it cannot use. Never allocates. */
void suppress_init(void);
/* The rules of a suppressions file's content buf[0..len), replacing any;
 * returns how many. What suppress_init runs on the file. */
unsigned suppress_parse(const char *buf, size_t len);
/* True when a rule of the suppressions file matches a report of kind about
 * blk: a function or module of its allocation stack (or of its freeing stack
 * when freed; of the calling stack when blk is no heap block) matches the
 * rule's glob. Call it with no allocator lock held. */
bool suppress_match(enum report_kind kind, const struct report_block *blk);
/* "ftmalloc: suppressed N by FILE:LINE RULE" for each rule that matched. */
void suppress_print_used(struct fmt_out *o);

/* ---- leak.c: reachability scan at exit ---- */
/* Scan roots (writable segments of loaded objects, the calling thread's
 * stack and registers, TLS), classify every live block as definitely lost,
 * indirectly lost or still reachable, and report the lost ones grouped by
 * allocation stack, largest first, then a summary line. show_reachable
 * lists reachable groups too. Takes every allocator lock while scanning. */
void leak_check(bool show_reachable);
/* show_alloc_mem_ex's tail: the blocks a leak scan would report now, as a
 * listing on fd, not as errors. */
void leak_candidates(int fd);

/* The damage of slot idx's block (live: canaries; quarantined: poison
 * first), copied into *f; false when intact. Reports and repairs nothing. */
bool zone_damage(struct zone *z, unsigned idx, struct finding *f);

/* ---- inject.c ---- */
extern bool inject_armed;  /* fail_after or fail_rate set, start-up done */
void inject_init(void);    /* constructor time, after bt_init */
/* Should this allocation fail (and be logged)? Only when inject_armed. */
bool inject_fail(size_t size, uint32_t stack);

/* ---- check.c ---- */
/* Check every live block's canaries and quarantined block's poison, report
 * damage as found in `when`; returns the number of damaged blocks. */
unsigned heap_check_all(const char *when);
void check_lock_all(void);     /* fork: the check's lock, first of all */
void check_unlock_all(void);
void check_reset_locks(void);

/* ---- segv.c ---- */
void segv_init(void);  /* install the fault handler (constructor time) */

/* ---- show.c ---- */
/* show_alloc_mem_ex() written to fd (the report_signal dump: the report fd). */
void show_alloc_mem_ex_fd(int fd);

/* ---- init.c ---- */
extern atomic_int ft_ready;
/* What the malloc family must do besides its work, one relaxed load on its
 * paths: FT_HOOK_SIGNAL (the report_signal arrived: dump, then clear it),
 * FT_HOOK_CHECK (check_every is on), FT_HOOK_GUARD (guard_all or
 * guard_sample is on). Set at init; the signal bit by the signal handler. */
extern atomic_uint ft_hooks;
#define FT_HOOK_SIGNAL 1u
#define FT_HOOK_CHECK 2u
#define FT_HOOK_GUARD 4u
#define FT_HOOK_DUMPING 8u  /* a thread is writing that dump (one at a time;
                               cleared in a forked child) */
extern char ft_report_signal_name[16];  /* "SIGUSR2", for the dump's header */
void ft_init_slow(void);
static inline void ft_init(void)
{
	if (FT_UNLIKELY(!atomic_load_explicit(&ft_ready, memory_order_acquire)))
		ft_init_slow();
}
void ft_lock_all(void);
void ft_unlock_all(void);

#endif
