/*
 * stress - multithreaded, seeded, self-verifying stress test for the malloc family.
 *
 * Run it under LD_PRELOAD=libft_malloc.so (or without, to check the harness
 * against glibc). Each worker thread owns a table of live blocks (pointer,
 * size, pattern seed). Every block is filled with a pattern derived from its
 * block id and verified byte for byte before it is freed or reallocated and at
 * the end. Blocks travel between threads through lock-protected mailboxes; the
 * receiver verifies them, then frees them or adopts them into its own table
 * (so they are later realloc'd/freed by a thread that did not allocate them).
 * With -f the main thread forks while the workers run; each child exercises
 * the allocator (all size classes, new threads too) and must exit 0 in time.
 *
 * Usage: stress -t THREADS -n OPS_PER_THREAD -s SEED [-f] [-F FORKS]
 *               [-a ALARM_S] [-c CHILD_TIMEOUT_S] [-X] [-H] [-C] [-q]
 *   -f   fork in the middle of the run (FORKS times, default 6)
 *   -a   seconds before the watchdog alarm declares a deadlock (default 200)
 *   -c   seconds a fork child may take (default 30)
 *   -q   print only the first and the last line
 *   -X   self-test: corrupt one byte of a live block; the run must then fail
 *   -H   self-test: a worker hangs; the alarm must turn it into a failure
 *   -C   self-test: a fork child hangs; the parent must report it
 * Exit status: 0 ok, 1 verification failure/crash, 2 timeout, 3 usage.
 *
 * Each op picks a random slot of the thread's table (4096 slots, ~70% full):
 * an empty slot is filled by malloc / calloc (checked zeroed) / realloc(NULL) /
 * reallocarray(NULL) / posix_memalign / aligned_alloc / memalign (alignments
 * 16..65536) / valloc / pvalloc; a full one is freed, realloc'd or
 * reallocarray'd (random size: grow or shrink across classes, or +-1..64
 * bytes; the preserved prefix is checked), sent to another thread, verified,
 * checked with malloc_usable_size, probed with overflowing requests that must
 * fail and leave it intact, or freed and replaced. Sizes: TINY 0..127, SMALL
 * 128..1024, class edges (0 1 127 128 1024 1025 4096 ...), LARGE 1025..1 MiB
 * (0.5%). Every result is checked for alignment and malloc_usable_size >= size.
 * Reproducibility: every random draw comes from per-thread xorshift64* states
 * derived from the seed, so a 1-thread run is replayed exactly; with several
 * threads the interleaving (which blocks arrive from other threads, and when)
 * is up to the scheduler, but the same seed re-runs the same mix of ops.
 *
 * The harness keeps its own state (tables, mailboxes) in mmap'd memory so an
 * allocator bug cannot silently corrupt the reference model.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ftmalloc.h"   /* struct ftmalloc_stats; the functions are looked up with dlsym */

#define MAX_THREADS   256
#define TABLE_CAP     4096          /* slots per worker: ~2,500-3,000 live blocks */
#define MBOX_CAP      256
#define MAIN_CAP      64            /* blocks the main thread holds across a fork */
#define CHILD_CAP     256
#define CHILD_OPS     20000
#define CHILD_THREADS 2
#define LARGE_MAX     (1u << 20)    /* 1 MiB */
#define MIN_ALIGN_LOG 4             /* 16 */
#define MAX_ALIGN_LOG 16            /* 65536 */
#define CHILD_TID0    1000

/* ---------------------------------------------------------------- options */
static unsigned g_nthreads = 4;
static uint64_t g_nops = 100000;
static uint64_t g_seed;
static int g_fork, g_nforks = 6, g_alarm = 200, g_child_timeout = 30;
static int g_selftest_corrupt, g_selftest_hang, g_selftest_child_hang, g_quiet;
static size_t g_pagesize;
static char g_cmdline[512];

/* ---------------------------------------------------------------- model */
struct blk {
	unsigned char *p;
	size_t size;
	uint64_t pat;                 /* pattern seed */
	uint64_t id;                  /* block id (allocating thread + counter) */
	uint32_t live;
	uint32_t owner;               /* tid of the allocating thread */
	const char *how;              /* API call that returned p */
	size_t align;                 /* alignment asked for (0: none) */
	uint32_t reallocs;            /* times realloc'd */
};

struct stats {
	uint64_t malloc_, calloc_, realloc_null, reallocarray_null, posix_memalign_,
	         aligned_alloc_, memalign_, valloc_, pvalloc_;
	uint64_t free_, realloc_, reallocarray_, realloc_grow, realloc_shrink,
	         realloc_moved, verify_, usable_, overflow_;
	uint64_t sent, received, adopted, zero_null, large_allocs;
	uint64_t bytes_checked;
	uint64_t max_live;
};

struct worker {
	int tid;
	char name[24];
	uint64_t rng;
	uint64_t next_id;
	struct blk *tab;
	size_t cap;
	size_t live;
	int large_permille;           /* probability of a LARGE size, per mille */
	int allow_xfer;
	uint64_t nops;
	struct stats st;
	/* progress, read by the alarm handler and by the fork scheduler */
	_Atomic uint64_t opno;
	const char *_Atomic cur_op;
	_Atomic int done;
};

struct mbox {
	pthread_mutex_t lock;
	_Atomic int count;
	struct blk items[MBOX_CAP];
};

static struct worker *g_workers;  /* mmap'd, g_nthreads entries */
static struct mbox *g_mbox;       /* mmap'd, g_nthreads entries */
static struct worker *g_main;     /* main thread's state (fork blocks) */
static __thread struct worker *t_self;
static pthread_barrier_t g_start;

static void *xmmap(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		_exit(1);
	}
	return p;
}

/* ---------------------------------------------------------------- output */
/* Messages go through a stack buffer and write(2): no stdio locks, no malloc. */
static void emsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emsg(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	ssize_t r = write(2, buf, (size_t)n);
	(void)r;
}

static const char *who(void)
{
	return t_self ? t_self->name : "?";
}

static void repro_line(void)
{
	emsg("  repro: %s\n", g_cmdline);
}

static void __attribute__((noreturn)) fail(const char *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void __attribute__((noreturn)) fail(const char *op, const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emsg("FAILURE: op=%s thread=%s seed=%llu opno=%llu: %s\n", op, who(),
	     (unsigned long long)g_seed,
	     (unsigned long long)(t_self ? atomic_load(&t_self->opno) : 0), buf);
	repro_line();
	_exit(1);
}

/* Async-signal-safe formatting for the signal handlers. */
static size_t s_cat(char *buf, size_t n, size_t cap, const char *s)
{
	while (*s && n + 1 < cap)
		buf[n++] = *s++;
	buf[n] = 0;
	return n;
}

static size_t s_num(char *buf, size_t n, size_t cap, unsigned long long v)
{
	char tmp[24];
	int i = 0;
	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i > 0 && n + 1 < cap)
		buf[n++] = tmp[--i];
	buf[n] = 0;
	return n;
}

static void s_write(const char *buf, size_t n)
{
	ssize_t r = write(2, buf, n);
	(void)r;
}

/* ---------------------------------------------------------------- PRNG */
static inline uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static inline uint64_t rnd(struct worker *w)
{
	/* xorshift64* */
	uint64_t x = w->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rnd_below(struct worker *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

/* ---------------------------------------------------------------- patterns */
static inline uint64_t pat_word(uint64_t s, uint64_t k)
{
	uint64_t z = s + k * 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 32)) * 0xD6E8FEB86659FD93ULL;
	return z ^ (z >> 29);
}

static inline unsigned char pat_byte(uint64_t s, size_t i)
{
	return (unsigned char)(pat_word(s, i >> 3) >> ((i & 7) * 8));
}

static void fill(const struct blk *b, size_t from, size_t to)
{
	unsigned char *p = b->p;
	size_t i = from;
	for (; i < to && (i & 7); i++)
		p[i] = pat_byte(b->pat, i);
	for (; i + 8 <= to; i += 8) {
		uint64_t w = htole64(pat_word(b->pat, i >> 3));
		memcpy(p + i, &w, 8);
	}
	for (; i < to; i++)
		p[i] = pat_byte(b->pat, i);
}

/* Returns the offset of the first byte in [from, to) that differs, or SIZE_MAX. */
static size_t check(const struct blk *b, size_t from, size_t to)
{
	const unsigned char *p = b->p;
	size_t i = from;
	for (; i < to && (i & 7); i++)
		if (p[i] != pat_byte(b->pat, i))
			return i;
	for (; i + 8 <= to; i += 8) {
		uint64_t w = htole64(pat_word(b->pat, i >> 3)), g;
		memcpy(&g, p + i, 8);
		if (g != w)
			break;
	}
	for (; i < to; i++)
		if (p[i] != pat_byte(b->pat, i))
			return i;
	return SIZE_MAX;
}

static void __attribute__((noreturn))
corruption(const char *op, const struct blk *b, size_t off, size_t checked_len, const char *what)
{
	size_t nbad = 0;
	for (size_t i = off; i < checked_len; i++)
		nbad += b->p[i] != pat_byte(b->pat, i);
	char ctx[200];
	size_t n = 0;
	size_t lo = off >= 8 ? off - 8 : 0, hi = off + 8 < checked_len ? off + 8 : checked_len;
	for (size_t i = lo; i < hi && n + 8 < sizeof ctx; i++)
		n += (size_t)snprintf(ctx + n, sizeof ctx - n, "%s%02x/%02x", i == off ? " [" : " ",
		                      b->p[i], pat_byte(b->pat, i));
	emsg("CORRUPTION: op=%s thread=%s seed=%llu opno=%llu block=%p size=%zu id=%llx owner=T%u "
	     "from=%s align=%zu reallocs=%u %s: first bad byte at offset %zu: expected 0x%02x got 0x%02x (%zu bad bytes in [%zu,%zu))\n"
	     "  bytes around it (got/expected):%s\n",
	     op, who(), (unsigned long long)g_seed,
	     (unsigned long long)(t_self ? atomic_load(&t_self->opno) : 0), (void *)b->p, b->size,
	     (unsigned long long)b->id, b->owner, b->how ? b->how : "?", b->align, b->reallocs, what, off, pat_byte(b->pat, off), b->p[off], nbad,
	     off, checked_len, ctx);
	repro_line();
	_exit(1);
}

static void verify(struct worker *w, const char *op, const struct blk *b, size_t len, const char *what)
{
	size_t off = check(b, 0, len);
	w->st.bytes_checked += len;
	if (off != SIZE_MAX)
		corruption(op, b, off, len, what);
}

/* ---------------------------------------------------------------- sizes */
static const size_t k_edges[] = {0, 1, 127, 128, 1024, 1025, 4096,
                                 8, 15, 16, 17, 255, 256, 512, 1023, 4095, 4097};

static size_t pick_large(struct worker *w)
{
	/* log-uniform over 1025 .. 1 MiB */
	unsigned b = 10 + (unsigned)rnd_below(w, 10); /* 2^10 .. 2^19 */
	size_t s = ((size_t)1 << b) + rnd_below(w, (size_t)1 << b);
	if (s < 1025)
		s = 1025;
	if (s > LARGE_MAX)
		s = LARGE_MAX;
	return s;
}

static size_t pick_size(struct worker *w)
{
	uint64_t r = rnd_below(w, 1000);
	if (r < (uint64_t)w->large_permille)
		return pick_large(w);
	if (r < 80)
		return k_edges[rnd_below(w, sizeof k_edges / sizeof k_edges[0])];
	if (r < 540)
		return rnd_below(w, 128);               /* TINY 0..127 */
	return 128 + rnd_below(w, 1024 - 128 + 1);  /* SMALL 128..1024 */
}

static size_t pick_align(struct worker *w)
{
	return (size_t)1 << (MIN_ALIGN_LOG + rnd_below(w, MAX_ALIGN_LOG - MIN_ALIGN_LOG + 1));
}

/* Alignment C17 requires of malloc for an object of this size. */
static size_t natural_align(size_t size)
{
	size_t a = 16;
	while (a > 1 && a > size)
		a >>= 1;
	return a;
}

/* ---------------------------------------------------------------- checks */
static void check_usable(struct worker *w, const char *op, const struct blk *b, size_t need)
{
	size_t u = malloc_usable_size(b->p);
	w->st.usable_++;
	if (u < need)
		fail(op, "malloc_usable_size(%p) = %zu < %zu (requested size %zu)", (void *)b->p, u,
		     need, b->size);
}

static void check_align(const char *op, void *p, size_t size, size_t align)
{
	if ((uintptr_t)p % align)
		fail(op, "%p (size %zu) is not aligned to %zu", p, size, align);
}

static void new_block(struct worker *w, struct blk *b, void *p, size_t size)
{
	b->p = p;
	b->size = size;
	b->id = ((uint64_t)(w->tid + 1) << 40) | w->next_id++;
	b->pat = splitmix64(g_seed ^ splitmix64(b->id));
	b->owner = (uint32_t)w->tid;
	b->live = 1;
	w->live++;
	if (w->live > w->st.max_live)
		w->st.max_live = w->live;
	if (size > 1024)
		w->st.large_allocs++;
}

static void set_op(struct worker *w, const char *op)
{
	atomic_store_explicit(&w->cur_op, op, memory_order_relaxed);
}

/* Allocate a fresh block into the empty slot b through a random API. */
static void do_alloc(struct worker *w, struct blk *b)
{
	size_t size = pick_size(w), align = 0, need;
	void *p = NULL;
	const char *op;
	uint64_t r = rnd_below(w, 100);
	int zeroed = 0;

	errno = 0;
	if (r < 38) {
		op = "malloc";
		set_op(w, op);
		p = malloc(size);
		w->st.malloc_++;
	} else if (r < 50) {
		op = "calloc";
		set_op(w, op);
		size_t e = (size_t)1 << rnd_below(w, 5); /* element size 1..16 */
		size_t nmemb = size / e;
		size = nmemb * e;
		if (rnd(w) & 1)
			p = calloc(nmemb, e);
		else
			p = calloc(e, nmemb);
		zeroed = 1;
		w->st.calloc_++;
	} else if (r < 58) {
		op = "realloc(NULL)";
		set_op(w, op);
		p = realloc(NULL, size ? size : 1);
		size = size ? size : 1;
		w->st.realloc_null++;
	} else if (r < 62) {
		op = "reallocarray(NULL)";
		set_op(w, op);
		size_t e = (size_t)1 << rnd_below(w, 4);
		size_t nmemb = size / e ? size / e : 1;
		size = nmemb * e;
		p = reallocarray(NULL, nmemb, e);
		w->st.reallocarray_null++;
	} else if (r < 71) {
		op = "posix_memalign";
		set_op(w, op);
		align = pick_align(w);
		int rc = posix_memalign(&p, align, size);
		if (rc != 0)
			fail(op, "posix_memalign(align %zu, size %zu) returned %d", align, size, rc);
		w->st.posix_memalign_++;
	} else if (r < 78) {
		op = "aligned_alloc";
		set_op(w, op);
		align = pick_align(w);
		p = aligned_alloc(align, size);
		w->st.aligned_alloc_++;
	} else if (r < 85) {
		op = "memalign";
		set_op(w, op);
		align = pick_align(w);
		p = memalign(align, size);
		w->st.memalign_++;
	} else if (r < 88) {
		op = "valloc";
		set_op(w, op);
		align = g_pagesize;
		p = valloc(size);
		w->st.valloc_++;
	} else if (r < 90) {
		op = "pvalloc";
		set_op(w, op);
		align = g_pagesize;
		p = pvalloc(size);
		w->st.pvalloc_++;
	} else {
		op = "malloc";
		set_op(w, op);
		p = malloc(size);
		w->st.malloc_++;
	}

	if (!p) {
		if (size == 0) {          /* allowed for size 0; slot stays empty */
			w->st.zero_null++;
			return;
		}
		fail(op, "returned NULL for size %zu (align %zu), errno %d", size, align, errno);
	}
	check_align(op, p, size, align ? align : natural_align(size));
	new_block(w, b, p, size);
	b->how = op;
	b->align = align;
	need = size;
	if (align == g_pagesize && r >= 88 && r < 90) /* pvalloc rounds up to a page */
		need = (size + g_pagesize - 1) / g_pagesize * g_pagesize;
	check_usable(w, op, b, need);
	if (zeroed) {
		for (size_t i = 0; i < size; i++)
			if (b->p[i])
				fail(op, "calloc block %p size %zu not zeroed: byte at offset %zu is 0x%02x",
				     (void *)b->p, size, i, b->p[i]);
		w->st.bytes_checked += size;
	}
	fill(b, 0, size);
}

static void do_free(struct worker *w, struct blk *b, const char *op)
{
	set_op(w, op);
	verify(w, op, b, b->size, "before free");
	free(b->p);
	w->st.free_++;
	memset(b, 0, sizeof *b);
	w->live--;
}

static void do_realloc(struct worker *w, struct blk *b, int small_delta)
{
	size_t old = b->size, nsz;
	if (small_delta) {
		size_t d = 1 + rnd_below(w, 64);
		nsz = (rnd(w) & 1) ? old + d : (old > d ? old - d : 1);
	} else {
		nsz = pick_size(w);
	}
	if (nsz == 0)
		nsz = 1;
	int use_array = !small_delta && (rnd(w) & 3) == 0;
	const char *op = use_array ? "reallocarray" : "realloc";
	set_op(w, op);
	verify(w, op, b, old, "before realloc");
	void *p;
	errno = 0;
	if (use_array) {
		size_t e = (size_t)1 << rnd_below(w, 5);
		size_t nmemb = nsz / e ? nsz / e : 1;
		nsz = nmemb * e;
		p = reallocarray(b->p, nmemb, e);
		w->st.reallocarray_++;
	} else {
		p = realloc(b->p, nsz);
		w->st.realloc_++;
	}
	if (!p)
		fail(op, "%s(%p, %zu) returned NULL, errno %d; the block: size %zu, from %s (align %zu), "
		     "realloc'd %u times, owner T%u", op, (void *)b->p, nsz, errno, old, b->how, b->align,
		     b->reallocs, b->owner);
	check_align(op, p, nsz, natural_align(nsz));
	if (p != b->p)
		w->st.realloc_moved++;
	if (nsz > old)
		w->st.realloc_grow++;
	else if (nsz < old)
		w->st.realloc_shrink++;
	unsigned char *oldp = b->p;
	b->p = p;
	size_t keep = old < nsz ? old : nsz;
	size_t off = check(b, 0, keep);
	w->st.bytes_checked += keep;
	if (off != SIZE_MAX) {
		char what[96];
		snprintf(what, sizeof what, "prefix not preserved by %s %p(%zu) -> %p(%zu)", op,
		         (void *)oldp, old, p, nsz);
		b->size = nsz;
		corruption(op, b, off, keep, what);
	}
	b->size = nsz;
	b->reallocs++;
	if (nsz > 1024 && old <= 1024)
		w->st.large_allocs++;
	check_usable(w, op, b, nsz);
	fill(b, keep, nsz);
}

/* Huge and overflowing requests must fail cleanly and leave the block alone. */
static void do_overflow(struct worker *w, struct blk *b)
{
	const char *op = "overflow";
	set_op(w, op);
	size_t k = rnd_below(w, 4096);
	void *q;
	w->st.overflow_++;
	switch (rnd_below(w, 5)) {
	case 0:
		op = "calloc-overflow";
		q = calloc(SIZE_MAX / 16 + 1 + k, 16);
		if (q)
			fail(op, "calloc(%zu, 16) overflows size_t but returned %p", SIZE_MAX / 16 + 1 + k, q);
		break;
	case 1:
		op = "reallocarray-overflow";
		q = reallocarray(b->p, SIZE_MAX / 2 + 1 + k, 2);
		if (q)
			fail(op, "reallocarray(%p, %zu, 2) overflows size_t but returned %p", (void *)b->p,
			     SIZE_MAX / 2 + 1 + k, q);
		verify(w, op, b, b->size, "after failed reallocarray");
		break;
	case 2:
		op = "malloc-huge";
		q = malloc(SIZE_MAX - k);
		if (q)
			fail(op, "malloc(SIZE_MAX - %zu) returned %p", k, q);
		break;
	case 3:
		op = "realloc-huge";
		q = realloc(b->p, SIZE_MAX - k);
		if (q)
			fail(op, "realloc(%p, SIZE_MAX - %zu) returned %p", (void *)b->p, k, q);
		verify(w, op, b, b->size, "after failed realloc");
		break;
	default: {
		op = "posix_memalign-huge";
		q = (void *)0x1;
		size_t a = pick_align(w);
		int rc = posix_memalign(&q, a, SIZE_MAX - k);
		if (rc != ENOMEM)
			fail(op, "posix_memalign(align %zu, SIZE_MAX - %zu) returned %d, not ENOMEM", a, k, rc);
		break;
	}
	}
}

/* ---------------------------------------------------------------- mailboxes */
static void receive(struct worker *w)
{
	struct mbox *mb = &g_mbox[w->tid];
	struct blk got[MBOX_CAP];
	int n;

	pthread_mutex_lock(&mb->lock);
	n = atomic_load(&mb->count);
	memcpy(got, mb->items, (size_t)n * sizeof got[0]);
	atomic_store(&mb->count, 0);
	pthread_mutex_unlock(&mb->lock);

	for (int i = 0; i < n; i++) {
		struct blk *b = &got[i];
		set_op(w, "xthread-recv");
		verify(w, "xthread-recv", b, b->size, "received from another thread");
		w->st.received++;
		/* adopt half of them (a random empty slot), free the rest */
		uint64_t h = splitmix64(b->id ^ g_seed);
		struct blk *slot = &w->tab[h % w->cap];
		if ((h >> 32) & 1 && !slot->live) {
			*slot = *b;
			w->live++;
			w->st.adopted++;
		} else {
			set_op(w, "xthread-free");
			free(b->p);
			w->st.free_++;
		}
	}
}

static void drain_mailbox_final(struct worker *w, int tid)
{
	struct mbox *mb = &g_mbox[tid];
	pthread_mutex_lock(&mb->lock);
	int n = atomic_load(&mb->count);
	for (int i = 0; i < n; i++) {
		set_op(w, "final-mailbox");
		verify(w, "final-mailbox", &mb->items[i], mb->items[i].size, "left in a mailbox");
		free(mb->items[i].p);
		w->st.free_++;
		w->st.received++;
	}
	atomic_store(&mb->count, 0);
	pthread_mutex_unlock(&mb->lock);
}

static void send(struct worker *w, struct blk *b)
{
	unsigned to = (unsigned)rnd_below(w, g_nthreads - 1);
	if (to >= (unsigned)w->tid)
		to++;
	set_op(w, "xthread-send");
	verify(w, "xthread-send", b, b->size, "before handing to another thread");
	struct mbox *mb = &g_mbox[to];
	pthread_mutex_lock(&mb->lock);
	int n = atomic_load(&mb->count);
	if (n < MBOX_CAP) {
		mb->items[n] = *b;
		atomic_store(&mb->count, n + 1);
	}
	pthread_mutex_unlock(&mb->lock);
	if (n < MBOX_CAP) {
		memset(b, 0, sizeof *b);
		w->live--;
		w->st.sent++;
	} else {
		do_free(w, b, "free(mailbox full)");
	}
}

/* ---------------------------------------------------------------- self-tests */
static void selftest_corrupt(struct worker *w)
{
	size_t start = rnd_below(w, w->cap);
	for (size_t k = 0; k < w->cap; k++) {
		struct blk *b = &w->tab[(start + k) % w->cap];
		if (!b->live || b->size == 0)
			continue;
		size_t off = rnd_below(w, b->size);
		unsigned char old = b->p[off];
		b->p[off] ^= 0x5A;
		emsg("SELFTEST: corrupting thread %s block=%p size=%zu at offset %zu (0x%02x -> 0x%02x)\n",
		     w->name, (void *)b->p, b->size, off, old, b->p[off]);
		return;
	}
	emsg("SELFTEST: no live block to corrupt\n");
}

/* ---------------------------------------------------------------- op loop */
static void run_ops(struct worker *w, uint64_t nops)
{
	for (uint64_t i = 0; i < nops; i++) {
		atomic_store_explicit(&w->opno, i, memory_order_relaxed);
		if (w->allow_xfer && (i & 15) == 0 &&
		    atomic_load_explicit(&g_mbox[w->tid].count, memory_order_relaxed))
			receive(w);
		if (w->tid == 0 && i == nops / 2) {
			if (g_selftest_corrupt)
				selftest_corrupt(w);
			if (g_selftest_hang) {
				set_op(w, "selftest-hang");
				for (;;)
					pause();
			}
		}
		struct blk *b = &w->tab[rnd_below(w, w->cap)];
		if (!b->live) {
			do_alloc(w, b);
			continue;
		}
		uint64_t r = rnd_below(w, 1000);
		if (r < 300) {
			do_free(w, b, "free");
		} else if (r < 480) {
			do_realloc(w, b, 0);
		} else if (r < 560) {
			do_realloc(w, b, 1);
		} else if (r < 660 && w->allow_xfer && g_nthreads > 1) {
			send(w, b);
		} else if (r < 780) {
			set_op(w, "verify");
			verify(w, "verify", b, b->size, "periodic check");
			w->st.verify_++;
		} else if (r < 860) {
			set_op(w, "malloc_usable_size");
			check_usable(w, "malloc_usable_size", b, b->size);
		} else if (r < 870) {
			do_overflow(w, b);
		} else {
			/* churn: free and immediately allocate again in the same slot */
			do_free(w, b, "free(churn)");
			do_alloc(w, b);
		}
	}
	atomic_store_explicit(&w->opno, nops, memory_order_relaxed);
}

static void free_all(struct worker *w, const char *op)
{
	for (size_t i = 0; i < w->cap; i++)
		if (w->tab[i].live)
			do_free(w, &w->tab[i], op);
	if (w->live != 0)
		fail(op, "model bookkeeping: %zu blocks still counted live", w->live);
}

static void init_worker(struct worker *w, int tid, const char *name, struct blk *tab, size_t cap,
                        int large_permille, int allow_xfer, uint64_t nops)
{
	memset(w, 0, sizeof *w);
	w->tid = tid;
	snprintf(w->name, sizeof w->name, "%s", name);
	w->rng = splitmix64(g_seed ^ splitmix64((uint64_t)tid + 0x51ED));
	if (!w->rng)
		w->rng = 1;
	w->tab = tab;
	w->cap = cap;
	w->large_permille = large_permille;
	w->allow_xfer = allow_xfer;
	w->nops = nops;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	t_self = w;
	pthread_barrier_wait(&g_start);
	run_ops(w, w->nops);
	set_op(w, "final-free");
	free_all(w, "final-free");
	set_op(w, "done");
	atomic_store(&w->done, 1);
	return NULL;
}

/* ---------------------------------------------------------------- signals */
static void progress_dump(void)
{
	char buf[256];
	for (unsigned t = 0; t < g_nthreads; t++) {
		struct worker *w = &g_workers[t];
		const char *op = atomic_load_explicit(&w->cur_op, memory_order_relaxed);
		size_t n = 0;
		n = s_cat(buf, n, sizeof buf, "  ");
		n = s_cat(buf, n, sizeof buf, w->name);
		n = s_cat(buf, n, sizeof buf, ": op #");
		n = s_num(buf, n, sizeof buf, atomic_load_explicit(&w->opno, memory_order_relaxed));
		n = s_cat(buf, n, sizeof buf, " / ");
		n = s_num(buf, n, sizeof buf, w->nops);
		n = s_cat(buf, n, sizeof buf, " in ");
		n = s_cat(buf, n, sizeof buf, op ? op : "(start)");
		n = s_cat(buf, n, sizeof buf, atomic_load(&w->done) ? " (finished)\n" : "\n");
		s_write(buf, n);
	}
	if (g_main) {
		const char *op = atomic_load_explicit(&g_main->cur_op, memory_order_relaxed);
		size_t n = s_cat(buf, 0, sizeof buf, "  main: in ");
		n = s_cat(buf, n, sizeof buf, op ? op : "(start)");
		n = s_cat(buf, n, sizeof buf, "\n");
		s_write(buf, n);
	}
}

static void on_alarm(int sig)
{
	(void)sig;
	char buf[256];
	size_t n = s_cat(buf, 0, sizeof buf, "TIMEOUT: no completion after ");
	n = s_num(buf, n, sizeof buf, (unsigned long long)g_alarm);
	n = s_cat(buf, n, sizeof buf, "s (deadlock or livelock?), seed ");
	n = s_num(buf, n, sizeof buf, g_seed);
	n = s_cat(buf, n, sizeof buf, "; per-thread progress:\n");
	s_write(buf, n);
	progress_dump();
	n = s_cat(buf, 0, sizeof buf, "  repro: ");
	n = s_cat(buf, n, sizeof buf, g_cmdline);
	n = s_cat(buf, n, sizeof buf, "\n");
	s_write(buf, n);
	_exit(2);
}

static void on_child_alarm(int sig)
{
	(void)sig;
	char buf[256];
	struct worker *w = t_self;
	const char *op = w ? atomic_load_explicit(&w->cur_op, memory_order_relaxed) : NULL;
	size_t n = s_cat(buf, 0, sizeof buf, "TIMEOUT: fork child ");
	n = s_cat(buf, n, sizeof buf, w ? w->name : "?");
	n = s_cat(buf, n, sizeof buf, " did not finish within ");
	n = s_num(buf, n, sizeof buf, (unsigned long long)g_child_timeout);
	n = s_cat(buf, n, sizeof buf, "s (allocator deadlocked after fork?), in op ");
	n = s_cat(buf, n, sizeof buf, op ? op : "?");
	n = s_cat(buf, n, sizeof buf, " #");
	n = s_num(buf, n, sizeof buf, w ? atomic_load_explicit(&w->opno, memory_order_relaxed) : 0);
	n = s_cat(buf, n, sizeof buf, "\n");
	s_write(buf, n);
	_exit(4);
}

/*
 * Fatal signals: say which thread was doing which op (with the seed), then
 * hand the signal to whoever had it before us - the allocator may have its own
 * fault reporter (guard pages) - or to the default action. For a fault the
 * faulting instruction simply runs again once we return.
 */
static struct sigaction g_old_action[NSIG];

static void on_crash(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char buf[512];
	struct worker *w = t_self;
	const char *op = w ? atomic_load_explicit(&w->cur_op, memory_order_relaxed) : NULL;
	size_t n = s_cat(buf, 0, sizeof buf, "CRASH: signal ");
	n = s_num(buf, n, sizeof buf, (unsigned long long)sig);
	n = s_cat(buf, n, sizeof buf, sig == SIGSEGV ? " (SIGSEGV)" : sig == SIGBUS ? " (SIGBUS)" :
	                              sig == SIGABRT ? " (SIGABRT)" : sig == SIGILL ? " (SIGILL)" :
	                              sig == SIGFPE ? " (SIGFPE)" : "");
	n = s_cat(buf, n, sizeof buf, " in thread ");
	n = s_cat(buf, n, sizeof buf, w ? w->name : "?");
	n = s_cat(buf, n, sizeof buf, " during op ");
	n = s_cat(buf, n, sizeof buf, op ? op : "?");
	n = s_cat(buf, n, sizeof buf, " #");
	n = s_num(buf, n, sizeof buf, w ? atomic_load_explicit(&w->opno, memory_order_relaxed) : 0);
	n = s_cat(buf, n, sizeof buf, ", seed ");
	n = s_num(buf, n, sizeof buf, g_seed);
	n = s_cat(buf, n, sizeof buf, "\n  repro: ");
	n = s_cat(buf, n, sizeof buf, g_cmdline);
	n = s_cat(buf, n, sizeof buf, "\n");
	s_write(buf, n);
	/* Restore the previous disposition; a fault re-executes into it, a raised signal is re-raised. */
	sigaction(sig, &g_old_action[sig], NULL);
	if (sig == SIGABRT)
		return;  /* abort() re-raises with the default action itself */
	if (si->si_code <= 0)
		raise(sig);  /* sent by kill()/raise(), not a fault: deliver it again */
}

static void install(int sig, void (*h)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void install_crash(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_crash;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(sig, &sa, &g_old_action[sig]);
}

/* ---------------------------------------------------------------- fork */
static void *child_thread(void *arg)
{
	struct worker *w = arg;
	t_self = w;
	run_ops(w, w->nops);
	free_all(w, "child-final-free");
	return NULL;
}

static void __attribute__((noreturn)) child_main(int k)
{
	static struct worker cw[1 + CHILD_THREADS];
	char name[24];

	/* Deadlock in the child must end the child with a message, not hang it. */
	install(SIGALRM, on_child_alarm);
	g_main->tid = CHILD_TID0 + k * 8;
	snprintf(g_main->name, sizeof g_main->name, "fork-child%d", k);
	t_self = g_main;
	alarm((unsigned)g_child_timeout);

	if (g_selftest_child_hang) {
		set_op(g_main, "selftest-child-hang");
		for (;;)
			pause();
	}

	/* 1. the blocks the main thread allocated before fork() are intact and usable */
	struct worker *m = g_main;
	for (size_t i = 0; i < m->cap; i++) {
		struct blk *b = &m->tab[i];
		if (!b->live)
			continue;
		set_op(m, "child-inherited-verify");
		verify(m, "child-inherited-verify", b, b->size, "inherited across fork");
		if (i & 1)
			do_realloc(m, b, 0);
	}
	free_all(m, "child-inherited-free");

	/* 2. fresh work in the child, with more LARGE blocks, on this thread ... */
	struct blk *tabs = xmmap(sizeof(struct blk) * CHILD_CAP * (1 + CHILD_THREADS));
	snprintf(name, sizeof name, "fork-child%d", k);
	init_worker(&cw[0], CHILD_TID0 + k * 8, name, tabs, CHILD_CAP, 40, 0, CHILD_OPS);
	t_self = &cw[0];
	run_ops(&cw[0], CHILD_OPS / 2);

	/* 3. ... and on new threads created in the child */
	pthread_t th[CHILD_THREADS];
	for (int i = 0; i < CHILD_THREADS; i++) {
		snprintf(name, sizeof name, "fork-child%d.T%d", k, i + 1);
		init_worker(&cw[1 + i], CHILD_TID0 + k * 8 + 1 + i, name, tabs + CHILD_CAP * (1 + i),
		            CHILD_CAP, 40, 0, CHILD_OPS / 4);
		int rc = pthread_create(&th[i], NULL, child_thread, &cw[1 + i]);
		if (rc)
			fail("child-pthread_create", "pthread_create in fork child failed: %d", rc);
	}
	run_ops(&cw[0], CHILD_OPS / 2);
	for (int i = 0; i < CHILD_THREADS; i++)
		pthread_join(th[i], NULL);
	free_all(&cw[0], "child-final-free");
	_exit(0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static uint64_t total_progress(int *all_done)
{
	uint64_t s = 0;
	int done = 1;
	for (unsigned t = 0; t < g_nthreads; t++) {
		s += atomic_load_explicit(&g_workers[t].opno, memory_order_relaxed);
		done &= atomic_load(&g_workers[t].done);
	}
	*all_done = done;
	return s;
}

/* Fork once: main allocates blocks, forks, the child checks and works, the parent waits. */
static void do_fork(int k, int *mid)
{
	struct worker *m = g_main;
	int all_done;

	/* blocks the child will inherit: every class, some aligned, more LARGE */
	for (size_t i = 0; i < m->cap; i++)
		if (!m->tab[i].live)
			do_alloc(m, &m->tab[i]);
	total_progress(&all_done);
	*mid = !all_done;
	set_op(m, "fork");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork", "fork() failed: errno %d", errno);
	if (pid == 0)
		child_main(k);

	/* parent: keep using the allocator while the child runs */
	set_op(m, "parent-after-fork");
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].live)
			verify(m, "parent-after-fork", &m->tab[i], m->tab[i].size, "parent copy after fork");

	set_op(m, "waitpid");
	int status = 0, waited_ms = 0, limit_ms = (g_child_timeout + 10) * 1000;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			fail("waitpid", "waitpid(%d) failed: errno %d", (int)pid, errno);
		if (waited_ms >= limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail("fork", "fork child %d (pid %d) still running after %ds: deadlock after fork",
			     k, (int)pid, limit_ms / 1000);
		}
		sleep_ms(2);
		waited_ms += 2;
	}
	if (WIFSIGNALED(status))
		fail("fork", "fork child %d (pid %d) killed by signal %d", k, (int)pid, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("fork", "fork child %d (pid %d) exited with status %d%s", k, (int)pid,
		     WEXITSTATUS(status),
		     WEXITSTATUS(status) == 4 ? " (timed out: deadlock after fork)" : "");

	/* parent's copy is unaffected by what the child freed/reallocated */
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->tab[i].live)
			continue;
		if (i % 3 == 0)
			do_free(m, &m->tab[i], "parent-free-after-fork");
		else if (i % 3 == 1)
			do_realloc(m, &m->tab[i], 0);
		else {
			set_op(m, "parent-verify-after-child");
			verify(m, "parent-verify-after-child", &m->tab[i], m->tab[i].size,
			       "parent copy after the child exited");
		}
	}
}

/* ---------------------------------------------------------------- main */
static void usage(void)
{
	fprintf(stderr, "usage: stress -t THREADS -n OPS_PER_THREAD -s SEED [-f] [-F FORKS] "
	                "[-a ALARM_S] [-c CHILD_TIMEOUT_S] [-X] [-H] [-C] [-q]\n");
	exit(3);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sum_stats(struct stats *acc, const struct stats *s)
{
	const uint64_t *src = (const uint64_t *)s;
	uint64_t *dst = (uint64_t *)acc;
	for (size_t i = 0; i < sizeof *s / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

int main(int argc, char **argv)
{
	int opt, have_seed = 0;
	char *end;

	while ((opt = getopt(argc, argv, "t:n:s:fF:a:c:XHCq")) != -1) {
		switch (opt) {
		case 't': g_nthreads = (unsigned)strtoul(optarg, &end, 10); if (*end) usage(); break;
		case 'n': g_nops = strtoull(optarg, &end, 10); if (*end) usage(); break;
		case 's': g_seed = strtoull(optarg, &end, 0); if (*end) usage(); have_seed = 1; break;
		case 'f': g_fork = 1; break;
		case 'F': g_nforks = atoi(optarg); g_fork = 1; break;
		case 'a': g_alarm = atoi(optarg); break;
		case 'c': g_child_timeout = atoi(optarg); break;
		case 'X': g_selftest_corrupt = 1; break;
		case 'H': g_selftest_hang = 1; break;
		case 'C': g_selftest_child_hang = 1; g_fork = 1; break;
		case 'q': g_quiet = 1; break;
		default: usage();
		}
	}
	if (optind != argc || g_nthreads < 1 || g_nthreads > MAX_THREADS || g_nforks < 0 ||
	    g_alarm < 1 || g_child_timeout < 1)
		usage();
	if (!have_seed)
		g_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	g_pagesize = (size_t)sysconf(_SC_PAGESIZE);

	char fopt[32] = "";
	if (g_fork)
		snprintf(fopt, sizeof fopt, g_nforks == 6 ? " -f" : " -F %d", g_nforks);
	const char *fo = getenv("FTMALLOC_OPTIONS");
	char fobuf[200] = "";
	if (fo && *fo)
		snprintf(fobuf, sizeof fobuf, "FTMALLOC_OPTIONS=%s ", fo);
	snprintf(g_cmdline, sizeof g_cmdline, "%s%sstress -t %u -n %llu -s %llu%s%s%s%s",
	         getenv("LD_PRELOAD") ? "LD_PRELOAD=$FTMALLOC_LIB " : "", fobuf, g_nthreads,
	         (unsigned long long)g_nops, (unsigned long long)g_seed, fopt,
	         g_selftest_corrupt ? " -X" : "", g_selftest_hang ? " -H" : "",
	         g_selftest_child_hang ? " -C" : "");
	/* Which library really provides malloc (a bad LD_PRELOAD is only a warning in ld.so). */
	Dl_info di;
	void *(*volatile mp)(size_t) = malloc;
	const char *impl = dladdr((void *)mp, &di) && di.dli_fname ? di.dli_fname : "?";
	void (*get_stats)(struct ftmalloc_stats *);
	*(void **)&get_stats = dlsym(RTLD_DEFAULT, "ftmalloc_get_stats");
	struct ftmalloc_stats fs0;
	if (get_stats)
		get_stats(&fs0);
	printf("stress: seed=%llu threads=%u ops_per_thread=%llu fork=%s forks=%d alarm=%ds "
	       "table=%d-slots/thread%s%s%s malloc-from=%s\n",
	       (unsigned long long)g_seed, g_nthreads, (unsigned long long)g_nops,
	       g_fork ? "yes" : "no", g_fork ? g_nforks : 0, g_alarm, TABLE_CAP,
	       g_selftest_corrupt ? " SELFTEST-CORRUPT" : "", g_selftest_hang ? " SELFTEST-HANG" : "",
	       g_selftest_child_hang ? " SELFTEST-CHILD-HANG" : "", impl);
	fflush(stdout);

	install(SIGALRM, on_alarm);
	install_crash(SIGSEGV);
	install_crash(SIGBUS);
	install_crash(SIGABRT);
	install_crash(SIGILL);
	install_crash(SIGFPE);
	alarm((unsigned)g_alarm);

	g_workers = xmmap(sizeof(struct worker) * (g_nthreads + 1));
	g_mbox = xmmap(sizeof(struct mbox) * g_nthreads);
	struct blk *tabs = xmmap(sizeof(struct blk) * ((size_t)TABLE_CAP * g_nthreads + MAIN_CAP));
	for (unsigned t = 0; t < g_nthreads; t++) {
		char name[24];
		snprintf(name, sizeof name, "T%u", t);
		init_worker(&g_workers[t], (int)t, name, tabs + (size_t)TABLE_CAP * t, TABLE_CAP, 5, 1,
		            g_nops);
		pthread_mutex_init(&g_mbox[t].lock, NULL);
	}
	g_main = &g_workers[g_nthreads];
	init_worker(g_main, (int)g_nthreads, "main", tabs + (size_t)TABLE_CAP * g_nthreads, MAIN_CAP,
	            100, 0, 0);
	t_self = g_main;

	double t0 = now();
	pthread_barrier_init(&g_start, NULL, g_nthreads + 1);
	pthread_t *th = xmmap(sizeof(pthread_t) * g_nthreads);
	for (unsigned t = 0; t < g_nthreads; t++) {
		int rc = pthread_create(&th[t], NULL, worker_main, &g_workers[t]);
		if (rc)
			fail("pthread_create", "pthread_create failed: %d", rc);
	}
	pthread_barrier_wait(&g_start);

	int forks_mid = 0;
	if (g_fork) {
		uint64_t total = g_nops * g_nthreads;
		for (int k = 0; k < g_nforks; k++) {
			uint64_t target = total * (uint64_t)(k + 1) / (uint64_t)(g_nforks + 1);
			int all_done = 0;
			set_op(g_main, "waiting to fork");
			while (total_progress(&all_done) < target && !all_done)
				sleep_ms(1);
			int mid;
			do_fork(k, &mid);
			forks_mid += mid;
		}
		free_all(g_main, "main-final-free");
	}
	set_op(g_main, "join");
	for (unsigned t = 0; t < g_nthreads; t++)
		pthread_join(th[t], NULL);
	for (unsigned t = 0; t < g_nthreads; t++)
		drain_mailbox_final(g_main, (int)t);
	double el = now() - t0;

	struct stats s;
	memset(&s, 0, sizeof s);
	for (unsigned t = 0; t <= g_nthreads; t++)
		sum_stats(&s, &g_workers[t].st);
	uint64_t maxlive = 0;
	for (unsigned t = 0; t < g_nthreads; t++)
		if (g_workers[t].st.max_live > maxlive)
			maxlive = g_workers[t].st.max_live;
	uint64_t allocs = s.malloc_ + s.calloc_ + s.realloc_null + s.reallocarray_null +
	                  s.posix_memalign_ + s.aligned_alloc_ + s.memalign_ + s.valloc_ + s.pvalloc_;
	if (!g_quiet) {
		printf("  allocs=%llu (malloc %llu, calloc %llu, realloc(NULL) %llu, reallocarray(NULL) %llu,"
		       " posix_memalign %llu, aligned_alloc %llu, memalign %llu, valloc %llu, pvalloc %llu;"
		       " LARGE %llu; size-0 NULL %llu)\n",
		       (unsigned long long)allocs, (unsigned long long)s.malloc_,
		       (unsigned long long)s.calloc_, (unsigned long long)s.realloc_null,
		       (unsigned long long)s.reallocarray_null, (unsigned long long)s.posix_memalign_,
		       (unsigned long long)s.aligned_alloc_, (unsigned long long)s.memalign_,
		       (unsigned long long)s.valloc_, (unsigned long long)s.pvalloc_,
		       (unsigned long long)s.large_allocs, (unsigned long long)s.zero_null);
		printf("  frees=%llu realloc=%llu reallocarray=%llu (grow %llu, shrink %llu, moved %llu)"
		       " verify=%llu usable=%llu overflow-checks=%llu\n",
		       (unsigned long long)s.free_, (unsigned long long)s.realloc_,
		       (unsigned long long)s.reallocarray_, (unsigned long long)s.realloc_grow,
		       (unsigned long long)s.realloc_shrink, (unsigned long long)s.realloc_moved,
		       (unsigned long long)s.verify_, (unsigned long long)s.usable_,
		       (unsigned long long)s.overflow_);
		printf("  cross-thread: sent=%llu received=%llu adopted=%llu; max live blocks/thread=%llu;"
		       " bytes verified=%.1f MiB\n",
		       (unsigned long long)s.sent, (unsigned long long)s.received,
		       (unsigned long long)s.adopted, (unsigned long long)maxlive,
		       (double)s.bytes_checked / 1048576.0);
	}
	if (s.sent != s.received)
		fail("final", "cross-thread bookkeeping: sent %llu != received %llu",
		     (unsigned long long)s.sent, (unsigned long long)s.received);
	if (allocs - s.zero_null != s.free_)
		fail("final", "bookkeeping: %llu non-NULL allocations but %llu frees",
		     (unsigned long long)(allocs - s.zero_null), (unsigned long long)s.free_);
	if (get_stats && !g_quiet) {
		struct ftmalloc_stats fs1;
		get_stats(&fs1);
		printf("  ftmalloc stats: live blocks TINY/SMALL/LARGE %zu/%zu/%zu at start, %zu/%zu/%zu at"
		       " end; zones %zu/%zu/%zu; mapped %.1f MiB; mmap calls %zu, munmap calls %zu\n",
		       fs0.live_blocks[0], fs0.live_blocks[1], fs0.live_blocks[2], fs1.live_blocks[0],
		       fs1.live_blocks[1], fs1.live_blocks[2], fs1.zones[0], fs1.zones[1], fs1.zones[2],
		       (double)fs1.mapped_bytes / 1048576.0, fs1.mmap_calls, fs1.munmap_calls);
	}
	printf("OK: threads=%u ops=%llu total_ops=%llu forks=%d forks_mid_run=%d elapsed=%.2fs\n",
	       g_nthreads, (unsigned long long)g_nops, (unsigned long long)(g_nops * g_nthreads),
	       g_fork ? g_nforks : 0, forks_mid, el);
	fflush(stdout);
	return 0;
}
