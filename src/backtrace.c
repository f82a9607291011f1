/*
 * backtrace.c - call stacks: capture with libunwind, intern them in the stack
 * depot, print them (names and file:line come from symbolize.c).
 *
 * libunwind is dlopen()ed with RTLD_LOCAL, never linked: its _Unwind_* and
 * backtrace symbols must not interpose the program's C++ unwinder or glibc's
 * backtrace(). Until bt_init() has loaded it, or when it cannot be loaded,
 * every capture answers 0 ("no stack").
 *
 * The depot is grow-only: a stack, once interned, keeps its 32-bit id and its
 * frames for the life of the process. Lookups of a known stack take no lock
 * (chains are published with release stores and never unlinked); only the
 * insertion of a new stack takes depot_lock, a leaf lock: nothing else is
 * taken while it is held (storage comes straight from os_map). Storage grows
 * with the number of distinct stacks only.
 *
 * Nothing here calls malloc. libunwind may (a thread's first capture sets up
 * its dynamic TLS); a capture entered again on the same thread answers 0.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <libunwind.h>
#include <link.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#define BT_DEFAULT_DEPTH 16
#define BT_NBUCKETS (1u << 14)          /* hash chains; 128 KiB, made resident at init */
#define BT_CHUNK (256u << 10)           /* stack records are carved from these */
#define BT_PAGE_IDS 8192u               /* ids per page of the id -> stack table */
#define BT_NPAGES 2048u                 /* so at most 16M distinct stacks */
#define BT_OWN_MAX 24                   /* most frames of ours we expect on top */

#define BT_STR2(x) #x
#define BT_STR(x) BT_STR2(x)            /* unw_step -> "_ULx86_64_step" */

/* One interned stack. Immutable once published, never freed. */
struct bt_stack {
	struct bt_stack *next;  /* hash chain; read without a lock */
	uint32_t id;
	uint32_t hash;
	uint32_t n;
	uint32_t pad;
	uintptr_t pcs[];
};

typedef int (*unw_backtrace_fn)(void **, int);
typedef int (*unw_init_local2_fn)(unw_cursor_t *, unw_context_t *, int);
typedef int (*unw_step_fn)(unw_cursor_t *);
typedef int (*unw_get_reg_fn)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
typedef int (*unw_getcontext_fn)(unw_context_t *);

/* What bt_init() sets up, never written again: sealed (FT_SEALED) once it
 * is done, so a stray write cannot redirect a call into libunwind. */
struct bt_setup {
	unw_backtrace_fn backtrace;     /* published last, with release */
	unw_init_local2_fn init_local2;
	unw_step_fn step;
	unw_get_reg_fn get_reg;
	unw_getcontext_fn getcontext;
	/* Text ranges whose frames are dropped from the top of a stack. */
	uintptr_t own_lo, own_hi, unw_lo, unw_hi;
	struct bt_stack **buckets;      /* the depot's BT_NBUCKETS chain heads */
	pthread_key_t exit_first_key, exit_last_key;  /* see below */
	bool exit_keys;                 /* both created */
};
static FT_SEALED(struct bt_setup) bt_setup_page;
static struct bt_setup *const setup = &bt_setup_page.v;

static unsigned bt_depth = BT_DEFAULT_DEPTH;
static unsigned own_frames = 4;         /* our frames seen on top, at most */
static __thread bool t_capturing;

bool bt_capturing(void)
{
	return t_capturing;
}

/*
 * libunwind's fast unw_backtrace keeps a cache per thread, allocated from a
 * pool under a mutex, and given back to the pool by a thread-specific data
 * destructor when the thread exits - outside any call of ours, so the gate
 * below cannot hold it back. A fork while an exiting thread holds that
 * mutex leaves it held for good in the child, where any thread's first
 * unw_backtrace would hang. So a thread's exit is watched from the first of
 * its destructor rounds (a key created before libunwind's) to the last (a
 * key created after it, that asks for every round); a child forked while
 * one was in that window (the count in its copy of memory is not zero)
 * unwinds with unw_step, which needs no such pool, in every thread that had
 * no cache of its own before the fork.
 */
static atomic_uint exiting;             /* threads in that window */
static bool child_slow;                 /* unw_step for threads without a cache */
static __thread bool t_has_cache;       /* unw_backtrace ran in this thread */
static __thread unsigned t_exit_rounds;

static struct lock depot_lock;
static struct bt_stack **id_pages[BT_NPAGES];
static uint32_t next_id = 1;            /* under depot_lock; 0 means "none" */
static char *chunk_cur, *chunk_end;     /* under depot_lock */

static void exit_first(void *unused)
{
	(void)unused;
	atomic_fetch_add(&exiting, 1);
}

static void exit_last(void *unused)
{
	(void)unused;
	if (++t_exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) {
		pthread_setspecific(setup->exit_last_key, (void *)1);  /* and the next round */
		return;
	}
	atomic_fetch_sub(&exiting, 1);
}

/* The slow way, without libunwind's per-thread cache. */
static unsigned unwind_steps(uintptr_t *raw, unsigned want)
{
	unw_context_t uc;
	unw_cursor_t cursor;
	unsigned n = 0;

	if (!setup->getcontext || !setup->init_local2 || setup->getcontext(&uc) != 0 || setup->init_local2(&cursor, &uc, 0) != 0)
		return 0;
	while (n < want) {
		unw_word_t ip;
		if (setup->get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		raw[n++] = (uintptr_t)ip;
		if (setup->step(&cursor) <= 0)
			break;
	}
	return n;
}

/* Up to want frames into raw; how many came. libunwind probes memory with
 * syscalls that may fail: errno is the program's and is kept. */
static unsigned unwind(unw_backtrace_fn fn, uintptr_t *raw, unsigned want)
{
	int saved = errno;
	int n;

	/* No wait: a capture may run with the orphan quarantine's lock held. */
	if (!bt_loader_enter(0))
		return 0;
	t_capturing = true;
	if (FT_UNLIKELY(child_slow) && !t_has_cache) {
		n = (int)unwind_steps(raw, want);
	} else {
		n = fn((void **)raw, (int)want);
		if (FT_UNLIKELY(!t_has_cache)) {
			/* libunwind made this thread's cache: watch its exit. */
			t_has_cache = true;
			if (setup->exit_keys) {
				pthread_setspecific(setup->exit_first_key, (void *)1);
				pthread_setspecific(setup->exit_last_key, (void *)1);
			}
		}
	}
	t_capturing = false;
	bt_loader_leave();
	errno = saved;
	return n > 0 ? (unsigned)n : 0;
}

/* ---- start-up ---- */

struct text_find {
	uintptr_t addr;
	uintptr_t lo, hi;
};

static int text_find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct text_find *tf = arg;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && tf->addr >= lo && tf->addr < lo + ph->p_memsz) {
			tf->lo = lo;
			tf->hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* The loaded segment holding addr, as [*lo, *hi); empty when none does. */
static void text_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	struct text_find tf = { addr, 0, 0 };

	if (bt_loader_enter(1000000)) {
		dl_iterate_phdr(text_find_cb, &tf);
		bt_loader_leave();
	}
	*lo = tf.lo;
	*hi = tf.hi;
}

static void *unw_sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p)
		dlerror();  /* leave no pending error for the program to find */
	return p;
}

/* bt_init's work: fills *setup, as far as it can go. */
static void bt_load(void)
{
	text_range((uintptr_t)&text_range, &setup->own_lo, &setup->own_hi);
	if (__atomic_load_n(&bt_depth, __ATOMIC_RELAXED) == 0)
		return;  /* backtrace_depth=0: no libunwind, no depot, their memory saved */
	setup->buckets = os_map(BT_NBUCKETS * sizeof(*setup->buckets), true);
	if (!setup->buckets)
		return;
	os_name(setup->buckets, BT_NBUCKETS * sizeof(*setup->buckets), "ftmalloc:stacks");
	/* Resident now, once: a new stack then costs no page fault of its own
	 * (its chain head is a random page), which keeps the allocator's cost
	 * per allocation flat. */
	memset((void *)setup->buckets, 0, BT_NBUCKETS * sizeof(*setup->buckets));
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		dlerror();
		return;
	}
	unw_backtrace_fn bt = (unw_backtrace_fn)unw_sym(h, "unw_backtrace");
	setup->init_local2 = (unw_init_local2_fn)unw_sym(h, BT_STR(unw_init_local2));
	setup->step = (unw_step_fn)unw_sym(h, BT_STR(unw_step));
	setup->get_reg = (unw_get_reg_fn)unw_sym(h, BT_STR(unw_get_reg));
	setup->getcontext = (unw_getcontext_fn)unw_sym(h, BT_STR(unw_tdep_getcontext));
	if (!setup->init_local2 || !setup->step || !setup->get_reg)
		setup->init_local2 = NULL;
	if (!bt)
		return;
	text_range((uintptr_t)bt, &setup->unw_lo, &setup->unw_hi);
	/* The exit watch's keys on either side of libunwind's, which its
	 * first unw_backtrace creates (just below). */
	bool first = pthread_key_create(&setup->exit_first_key, exit_first) == 0;
	/* A thread's first unwind allocates libunwind's TLS block (glibc's
	 * __tls_get_addr calls malloc) and its trace cache: do it now for this
	 * thread, so that the program's first malloc is not charged for it. */
	uintptr_t one[1];
	unwind(bt, one, 1);
	if (first && pthread_key_create(&setup->exit_last_key, exit_last) == 0) {
		setup->exit_keys = true;
		pthread_setspecific(setup->exit_first_key, (void *)1);
		pthread_setspecific(setup->exit_last_key, (void *)1);
	}
	__atomic_store_n(&setup->backtrace, bt, __ATOMIC_RELEASE);
}

void bt_init(void)
{
	static int started;

	if (__atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
		return;
	bt_load();
	os_seal(&bt_setup_page, sizeof(bt_setup_page));  /* a refusal only loses the protection */
}

void bt_set_depth(unsigned depth)
{
	__atomic_store_n(&bt_depth, depth > BT_MAX_DEPTH ? BT_MAX_DEPTH : depth, __ATOMIC_RELAXED);
}

/* ---- the depot ---- */

/* Two independent multiply chains, so the loop is not one long dependency
 * (it runs on every malloc and free); a final mix brings high bits down. */
static uint32_t hash_pcs(const uintptr_t *pcs, unsigned n)
{
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ n, b = 0xc2b2ae3d27d4eb4fULL;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2) {
		a = (a ^ (uint64_t)pcs[i]) * 0xff51afd7ed558ccdULL;
		b = (b ^ (uint64_t)pcs[i + 1]) * 0xc4ceb9fe1a85ec53ULL;
	}
	if (i < n)
		a = (a ^ (uint64_t)pcs[i]) * 0xff51afd7ed558ccdULL;
	a ^= (b >> 32) | (b << 32);
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdULL;
	a ^= a >> 29;
	return (uint32_t)a;
}

static struct bt_stack *chain_find(struct bt_stack *s, const uintptr_t *pcs, unsigned n, uint32_t h)
{
	for (; s; s = __atomic_load_n(&s->next, __ATOMIC_ACQUIRE)) {
		if (s->hash == h && s->n == n && memcmp(s->pcs, pcs, n * sizeof(*pcs)) == 0)
			return s;
	}
	return NULL;
}

/* Room for a record of len bytes. Caller holds depot_lock. */
static void *depot_carve(size_t len)
{
	if ((size_t)(chunk_end - chunk_cur) < len) {
		char *c = os_map(BT_CHUNK, true);
		if (!c)
			return NULL;
		os_name(c, BT_CHUNK, "ftmalloc:stacks");
		chunk_cur = c;
		chunk_end = c + BT_CHUNK;
	}
	void *p = chunk_cur;
	chunk_cur += len;
	return p;
}

/* The id table's slot for id, its page mapped if need be. Caller holds depot_lock. */
static struct bt_stack **id_slot(uint32_t id)
{
	uint32_t page = id / BT_PAGE_IDS;

	if (page >= BT_NPAGES)
		return NULL;
	if (!id_pages[page]) {
		struct bt_stack **p = os_map(BT_PAGE_IDS * sizeof(*p), true);
		if (!p)
			return NULL;
		os_name(p, BT_PAGE_IDS * sizeof(*p), "ftmalloc:stacks");
		__atomic_store_n(&id_pages[page], p, __ATOMIC_RELEASE);
	}
	return &id_pages[page][id % BT_PAGE_IDS];
}

/* A new record at the head of *head. Caller holds depot_lock. */
static struct bt_stack *depot_add(struct bt_stack **head, const uintptr_t *pcs, unsigned n, uint32_t h)
{
	struct bt_stack **slot = id_slot(next_id);
	struct bt_stack *s = slot ? depot_carve(sizeof(*s) + n * sizeof(*pcs)) : NULL;

	if (!s)
		return NULL;
	s->id = next_id++;
	s->hash = h;
	s->n = n;
	memcpy(s->pcs, pcs, n * sizeof(*pcs));
	s->next = *head;
	__atomic_store_n(slot, s, __ATOMIC_RELEASE);
	__atomic_store_n(head, s, __ATOMIC_RELEASE);
	return s;
}

static uint32_t depot_intern(const uintptr_t *pcs, unsigned n)
{
	uint32_t h = hash_pcs(pcs, n);
	struct bt_stack **head = &setup->buckets[h & (BT_NBUCKETS - 1)];
	struct bt_stack *s = chain_find(__atomic_load_n(head, __ATOMIC_ACQUIRE), pcs, n, h);

	if (FT_LIKELY(s != NULL))
		return s->id;
	lock_take(&depot_lock);
	s = chain_find(*head, pcs, n, h);
	if (!s)
		s = depot_add(head, pcs, n, h);
	lock_give(&depot_lock);
	return s ? s->id : 0;
}

static struct bt_stack *depot_get(uint32_t id)
{
	if (id == 0 || id / BT_PAGE_IDS >= BT_NPAGES)
		return NULL;
	struct bt_stack **page = __atomic_load_n(&id_pages[id / BT_PAGE_IDS], __ATOMIC_ACQUIRE);
	return page ? __atomic_load_n(&page[id % BT_PAGE_IDS], __ATOMIC_ACQUIRE) : NULL;
}

unsigned bt_get(uint32_t id, uintptr_t *pcs, unsigned max)
{
	struct bt_stack *s = depot_get(id);

	if (!s)
		return 0;
	unsigned n = s->n < max ? s->n : max;
	memcpy(pcs, s->pcs, n * sizeof(*pcs));
	return n;
}

/* ---- capture ---- */

static bool is_ours(uintptr_t pc)
{
	return (pc >= setup->own_lo && pc < setup->own_hi) || (pc >= setup->unw_lo && pc < setup->unw_hi);
}

uint32_t bt_capture(void)
{
	unsigned depth = __atomic_load_n(&bt_depth, __ATOMIC_RELAXED);
	unw_backtrace_fn fn = __atomic_load_n(&setup->backtrace, __ATOMIC_ACQUIRE);
	uintptr_t raw[BT_MAX_DEPTH + BT_OWN_MAX];

	if (depth == 0 || !fn || t_capturing)
		return 0;
	unsigned extra = __atomic_load_n(&own_frames, __ATOMIC_RELAXED);
	unsigned want = depth + extra;
	unsigned n = unwind(fn, raw, want);
	unsigned skip = 0;
	while (skip < n && is_ours(raw[skip]))
		skip++;
	if (n == want && skip > extra && extra < BT_OWN_MAX) {
		/* More of our frames than we allowed for: the stack was cut short.
		 * Remember the new count (racy maximum: any value works) and redo. */
		extra = skip < BT_OWN_MAX ? skip : BT_OWN_MAX;
		__atomic_store_n(&own_frames, extra, __ATOMIC_RELAXED);
		want = depth + extra;
		n = unwind(fn, raw, want);
		skip = 0;
		while (skip < n && is_ours(raw[skip]))
			skip++;
	}
	n -= skip;
	if (n > depth)
		n = depth;
	return n ? depot_intern(raw + skip, n) : 0;
}

unsigned bt_capture_context(void *ucontext, uintptr_t *pcs, unsigned max)
{
	unw_init_local2_fn init = __atomic_load_n(&setup->init_local2, __ATOMIC_ACQUIRE);
	unw_cursor_t cursor;
	unsigned n = 0;

	if (!init || !ucontext || max == 0 || t_capturing ||
	    !__atomic_load_n(&setup->backtrace, __ATOMIC_ACQUIRE))
		return 0;
	int saved = errno;
	if (!bt_loader_enter(100000)) {  /* a fork being prepared: 0.1 s at most */
		errno = saved;
		return 0;
	}
	t_capturing = true;
	if (init(&cursor, (unw_context_t *)ucontext, UNW_INIT_SIGNAL_FRAME) == 0) {
		do {
			unw_word_t ip;
			if (setup->get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
				break;
			pcs[n++] = (uintptr_t)ip;
		} while (n < max && setup->step(&cursor) > 0);
	}
	t_capturing = false;
	bt_loader_leave();
	errno = saved;
	return n;
}

/* ---- printing and matching ---- */

/* A function name, in color when the output has it. */
static void put_function(struct fmt_out *o, const char *name)
{
	fmt_color(o, FMT_SGR_FUNC);
	fmt_puts(o, name);
	fmt_color_end(o);
}

void bt_print(struct fmt_out *o, const uintptr_t *pcs, unsigned n)
{
	char buf[512];

	if (o->style & FMT_JSON) {
		bt_print_json(o, pcs, n);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct bt_sym s;
		void *pc = (void *)pcs[i];
		bt_symbolize(pcs[i], &s, buf, sizeof(buf));
		if (s.function) {
			fmt_printf(o, "    #%u %p in ", i, pc);
			put_function(o, s.function);
			if (s.file)
				fmt_printf(o, " %s:%u\n", s.file, s.line);
			else
				fmt_printf(o, "+0x%zx (%s)\n", (size_t)s.function_off, s.module ? s.module : "?");
		} else if (s.module && s.file) {
			fmt_printf(o, "    #%u %p (%s+0x%zx) %s:%u\n", i, pc, s.module,
			    (size_t)s.module_off, s.file, s.line);
		} else if (s.module) {
			fmt_printf(o, "    #%u %p (%s+0x%zx)\n", i, pc, s.module, (size_t)s.module_off);
		} else {
			fmt_printf(o, "    #%u %p\n", i, pc);
		}
	}
}

void bt_print_json(struct fmt_out *o, const uintptr_t *pcs, unsigned n)
{
	char buf[512];

	fmt_putc(o, '[');
	for (unsigned i = 0; i < n; i++) {
		struct bt_sym s;
		bt_symbolize(pcs[i], &s, buf, sizeof(buf));
		fmt_printf(o, "%s{\"pc\":\"%p\",\"module\":", i ? "," : "", (void *)pcs[i]);
		fmt_json_str(o, s.module);
		if (s.module)
			fmt_printf(o, ",\"offset\":\"%p\",\"function\":", (void *)s.module_off);
		else
			fmt_puts(o, ",\"offset\":null,\"function\":");
		fmt_json_str(o, s.function);
		fmt_puts(o, ",\"file\":");
		fmt_json_str(o, s.file);
		if (s.file && s.line)
			fmt_printf(o, ",\"line\":%u}", s.line);
		else
			fmt_puts(o, ",\"line\":null}");
	}
	fmt_putc(o, ']');
}

void bt_print_id(struct fmt_out *o, uint32_t id)
{
	uintptr_t pcs[BT_MAX_DEPTH];
	unsigned n = bt_get(id, pcs, BT_MAX_DEPTH);

	if (n == 0)
		fmt_puts(o, "    <no stack recorded>\n");
	bt_print(o, pcs, n);
}

/* Shell-style glob: '*' any run of characters, '?' any one, others literal. */
static bool glob_match(const char *g, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*g == '*') {
			star = ++g;
			resume = s;
		} else if (*g == '?' || *g == *s) {
			g++;
			s++;
		} else if (star) {
			g = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool bt_matches(uint32_t id, const char *glob)
{
	uintptr_t pcs[BT_MAX_DEPTH];
	unsigned n = bt_get(id, pcs, BT_MAX_DEPTH);

	for (unsigned i = 0; i < n; i++) {
		struct bt_sym s;
		bt_symbolize(pcs[i], &s, NULL, 0);  /* no buffer: names only, no file:line */
		if (s.function && glob_match(glob, s.function))
			return true;
		if (s.module && (glob_match(glob, s.module) || glob_match(glob, base_name(s.module))))
			return true;
	}
	return false;
}

/* ---- the loader's lock, and fork ----
 *
 * dl_iterate_phdr (ours, and libunwind's for every frame it has not cached)
 * runs its callbacks holding the loader's write lock, which glibc's fork
 * (2.36) does not reset in the child: a fork while another thread is in
 * there leaves the lock held by nobody, and the child hangs at its first
 * backtrace. So every such call is counted (one counter per arena, so
 * threads do not share a cache line), and fork's prepare step closes a gate
 * and waits for the counts to drop to zero before it forks. A thread that
 * finds the gate closed waits a little for the fork to end, then does
 * without: it may hold a lock fork is waiting for (the orphan quarantine's,
 * when a thread exit finds a use after free), so it never waits for long.
 */
struct loader_count {
	atomic_uint n;
	char pad[64 - sizeof(atomic_uint)];
};
static struct loader_count in_loader[FT_NARENAS] __attribute__((aligned(64)));
static atomic_int fork_gate;  /* forks being prepared: threads may fork at once */
static __thread unsigned t_in_loader;  /* this thread's entries not left yet */

bool bt_loader_enter(unsigned max_wait_us)
{
	struct loader_count *c = &in_loader[os_thread_serial() % FT_NARENAS];
	unsigned waited = 0;

	for (;;) {
		atomic_fetch_add(&c->n, 1);
		/* Inside already (a malloc from libunwind's TLS set-up that
		 * prints a report or a dump): the fork waits for this thread
		 * anyway, so it goes on, or neither would. */
		if (FT_LIKELY(!atomic_load(&fork_gate)) || t_in_loader) {
			t_in_loader++;
			return true;
		}
		atomic_fetch_sub(&c->n, 1);
		if (waited >= max_wait_us)
			return false;
		struct timespec t = { 0, 20000 };
		int saved = errno;
		nanosleep(&t, NULL);
		errno = saved;
		waited += 20;
	}
}

void bt_loader_leave(void)
{
	t_in_loader--;
	atomic_fetch_sub(&in_loader[os_thread_serial() % FT_NARENAS].n, 1);
}

void bt_lock_all(void)
{
	atomic_fetch_add(&fork_gate, 1);
	for (unsigned a = 0; a < FT_NARENAS; a++)
		while (atomic_load(&in_loader[a].n))
			sched_yield();
	lock_take(&depot_lock);
}

void bt_unlock_all(void)
{
	lock_give(&depot_lock);
	atomic_fetch_sub(&fork_gate, 1);  /* still closed while another fork is prepared */
}

void bt_reset_locks(void)
{
	if (atomic_load(&exiting))  /* see exit_first: its pool lock may be held */
		child_slow = true;
	atomic_store(&exiting, 0);
	lock_reset(&depot_lock);
	for (unsigned a = 0; a < FT_NARENAS; a++)
		atomic_store(&in_loader[a].n, 0);
	atomic_store(&fork_gate, 0);
}
