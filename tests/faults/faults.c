/*
 * faults.c - programs for the faults suite (tests/faults/run.sh): the
 * allocator under faults it does not cause - memory exhausted (RLIMIT_AS,
 * vm.max_map_count reached), fork and exec from threaded programs while
 * every internal lock is busy, faults and signal handlers of the program's
 * own, every way out of a process, and an output that is gone.
 *
 * One scenario per first argument. Each prints its findings on stdout, one
 * line a check, written with write(2) (no stdio buffer to lose at a crash):
 *     ok NAME [detail]
 *     bad NAME: why
 * run.sh turns them into PASS/FAIL lines and adds what only it can see (the
 * exit status, the reports on stderr or in log files).
 *
 * Built -O0 -g -fno-builtin; the functions that allocate, free or fault are
 * noinline so that reports name them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

extern char **environ;

/* ------------------------------------------------------------ output */

static int out_fd = 1;  /* where results go (some scenarios move stdout) */

/* printf into a stack buffer, written with one write(2). snprintf of these
 * formats allocates nothing, so this works with the address space full. */
static void outf(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void outf(const char *f, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, f);
	int n = vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (n > 0)
		(void)!write(out_fd, buf, (size_t)n);
}

static int nbad;

static void ok(const char *name, const char *detail)
{
	outf("ok %s%s%s\n", name, detail && *detail ? " " : "", detail ? detail : "");
}

static void bad(const char *name, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void bad(const char *name, const char *f, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, f);
	vsnprintf(why, sizeof(why), f, ap);
	va_end(ap);
	outf("bad %s: %s\n", name, why);
	nbad++;
}

/* A check: ok when cond, else bad with the reason. */
#define CHECK(name, cond, ...) do { if (cond) ok(name, ""); else bad(name, __VA_ARGS__); } while (0)

static void note(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *f, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	outf("note %s\n", buf);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap_us(long us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------ patterns */

/* Content of a block: byte i is a function of i and of the block's seed
 * (its size), not of its address, so it survives a realloc that moves it. */
static unsigned char pat_byte(size_t seed, size_t i)
{
	return (unsigned char)(seed * 131 + i * 7 + (i >> 8) + 1);
}

static void pat_fill(void *p, size_t n)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = pat_byte(n, i);
}

/* The first n bytes of p hold the pattern of a block of seed bytes. */
static bool pat_ok_seed(const void *p, size_t n, size_t seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != pat_byte(seed, i))
			return false;
	return true;
}

static bool pat_ok(const void *p, size_t n)
{
	return pat_ok_seed(p, n, n);
}

/* ------------------------------------------------------------ address space */

/* VmSize of this process, in bytes, read without stdio. */
static size_t vm_size(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *v = strstr(buf, "VmSize:");
	if (!v)
		return 0;
	return (size_t)strtoul(v + 7, NULL, 10) * 1024;
}

static struct rlimit as_saved;

/* Address space limited to what is mapped now plus extra bytes. */
static bool as_limit(size_t extra)
{
	struct rlimit r;

	getrlimit(RLIMIT_AS, &as_saved);
	r.rlim_cur = vm_size() + extra;
	r.rlim_max = as_saved.rlim_max;
	return setrlimit(RLIMIT_AS, &r) == 0;
}

static void as_unlimit(void)
{
	setrlimit(RLIMIT_AS, &as_saved);
}

/* Grow the stack now, while there is address space: under the limit the
 * kernel could not extend it, and a report needs a few KiB of it. */
static NOINLINE void stack_prefault(void)
{
	volatile char big[512 * 1024];

	for (size_t i = 0; i < sizeof(big); i += 4096)
		big[i] = 1;
}

/* ------------------------------------------------------------ OOM */

/* The kinds of request, each until it fails. */
enum req { R_TINY, R_SMALL, R_LARGE, R_MEMALIGN, R_POSIX_MEMALIGN, R_CALLOC, R_CALLOC_LARGE,
	R_ALIGNED_LARGE, R_COUNT };
static const char *const req_name[R_COUNT] = { "tiny-malloc", "small-malloc", "large-malloc",
	"memalign-64", "posix_memalign-256", "calloc", "calloc-large", "aligned_alloc-4096-large" };
static const size_t req_size[R_COUNT] = { 24, 600, 200000, 40, 300, 50, 300000, 70000 };

static NOINLINE void *oom_request(enum req r, int *err)
{
	void *p = NULL;

	errno = 0;
	switch (r) {
	case R_TINY: case R_SMALL: case R_LARGE: p = malloc(req_size[r]); break;
	case R_MEMALIGN: p = memalign(64, req_size[r]); break;
	case R_POSIX_MEMALIGN: {
		int rc = posix_memalign(&p, 256, req_size[r]);
		if (rc) {
			p = NULL;
			errno = rc;
		}
		break;
	}
	case R_CALLOC: case R_CALLOC_LARGE: p = calloc(1, req_size[r]); break;
	case R_ALIGNED_LARGE: p = aligned_alloc(4096, req_size[r]); break;
	default: break;
	}
	*err = errno;
	return p;
}

/* Blocks got while filling memory, chained through their first word. */
struct chain { struct chain *next; size_t size; };
static struct chain *filled;
static size_t nfilled;

/* Blocks allocated before the limit, with their patterns. */
#define NBEFORE 64
static void *before[NBEFORE];
static size_t before_size[NBEFORE];

static void alloc_before(void)
{
	static const size_t sizes[] = { 1, 16, 100, 127, 128, 500, 1024, 1025, 5000, 70000, 1 << 20 };

	for (int i = 0; i < NBEFORE; i++) {
		size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		before[i] = i % 5 == 4 ? memalign(128, n) : malloc(n);
		before_size[i] = n;
		if (before[i])
			pat_fill(before[i], n);
	}
}

static int check_before(void)
{
	int damaged = 0;

	for (int i = 0; i < NBEFORE; i++)
		if (!before[i] || !pat_ok(before[i], before_size[i]))
			damaged++;
	return damaged;
}

static void free_filled(void)
{
	while (filled) {
		struct chain *c = filled;
		filled = c->next;
		free(c);
	}
	nfilled = 0;
}

/* oom: every kind of request fails cleanly with the address space full. */
static int scen_oom(void)
{
	char name[128];

	outf("start\n");  /* stdio and libc warmed up before the limit */
	alloc_before();
	void *grow = malloc(3000);      /* realloc'ed bigger under the limit */
	void *grow_tiny = malloc(20);   /* and a TINY one into a SMALL class */
	pat_fill(grow, 3000);
	pat_fill(grow_tiny, 20);
	stack_prefault();
	if (!as_limit(0)) {
		bad("oom-setrlimit", "setrlimit: %s", strerror(errno));
		return 1;
	}
	for (int r = 0; r < R_COUNT; r++) {
		int err = 0;
		size_t got = 0;
		void *p;
		/* Existing zones may have free slots: take them all, then it
		 * must fail. Bounded: no limit means a runaway. */
		while ((p = oom_request((enum req)r, &err)) != NULL && got < 2000000) {
			struct chain *c = p;
			c->next = filled;
			c->size = req_size[r];
			filled = c;
			got++;
			nfilled++;
		}
		snprintf(name, sizeof(name), "oom-%s-null-enomem", req_name[r]);
		if (p)
			bad(name, "%zu requests of %zu bytes succeeded under the limit", got, req_size[r]);
		else if (err != ENOMEM)
			bad(name, "NULL with errno %d (%s), expected ENOMEM", err, strerror(err));
		else {
			char d[64];
			snprintf(d, sizeof(d), "(%zu served first)", got);
			ok(name, d);
		}
	}
	/* realloc that must move: NULL, ENOMEM, the old block intact. */
	errno = 0;
	void *q = realloc(grow, 4 << 20);
	int err = errno;
	CHECK("oom-realloc-large-grow-null-enomem", !q && err == ENOMEM,
	    "realloc to 4 MiB gave %p, errno %d", q, err);
	CHECK("oom-realloc-large-grow-keeps-old", pat_ok(grow, 3000), "old block changed");
	errno = 0;
	q = realloc(grow_tiny, 900);
	err = errno;
	CHECK("oom-realloc-tiny-to-small-null-enomem", !q && err == ENOMEM,
	    "realloc 20 -> 900 gave %p, errno %d", q, err);
	CHECK("oom-realloc-tiny-keeps-old", pat_ok(grow_tiny, 20), "old block changed");
	errno = 0;
	q = reallocarray(NULL, 1000, 1000);
	err = errno;
	CHECK("oom-reallocarray-null-enomem", !q && err == ENOMEM, "got %p errno %d", q, err);
	char *s = strdup("a string longer than the largest class of tiny blocks that are all used up by now, "
	    "surely it does not fit into one of the sixteen to one hundred and twenty eight byte slots");
	CHECK("oom-strdup-null", s == NULL, "strdup served under the limit");
	int damaged = check_before();
	CHECK("oom-blocks-from-before-intact", damaged == 0, "%d of %d blocks damaged", damaged, NBEFORE);
	/* Free under the limit: munmap needs no address space. */
	for (int i = 0; i < NBEFORE; i += 2) {
		free(before[i]);
		before[i] = NULL;
	}
	ok("oom-free-under-limit", "");
	as_unlimit();
	/* Everything works again. */
	int fails = 0;
	for (int r = 0; r < R_COUNT; r++) {
		int e;
		void *p = oom_request((enum req)r, &e);
		if (!p) {
			fails++;
			continue;
		}
		pat_fill(p, req_size[r]);
		if (!pat_ok(p, req_size[r]))
			fails++;
		free(p);
	}
	q = realloc(grow, 4 << 20);
	if (q)
		grow = q;
	if (!q || !pat_ok_seed(q, 3000, 3000))
		fails++;
	CHECK("oom-after-limit-raised-all-classes-work", fails == 0, "%d requests failed", fails);
	for (int i = 1; i < NBEFORE; i += 2)
		if (!pat_ok(before[i], before_size[i]))
			damaged++;
	CHECK("oom-blocks-intact-after-raise", damaged == 0, "%d blocks damaged", damaged);
	note("%zu blocks served before the limit bit, %d kinds of request refused", nfilled, R_COUNT + 4);
	free_filled();
	for (int i = 1; i < NBEFORE; i += 2)
		free(before[i]);
	free(grow);
	free(grow_tiny);
	outf("done\n");
	return nbad != 0;
}

/* oom-realloc-reserve: near the limit, a LARGE realloc that malloc could
 * serve must not fail for want of room to grow in place. */
static int scen_oom_realloc_reserve(void)
{
	outf("start\n");
	char *p = malloc(5000);
	pat_fill(p, 5000);
	stack_prefault();
	as_limit(6 << 20);  /* room for 4 MiB, not for 4 MiB and its reserve */
	char *q = realloc(p, 4 << 20);
	int err = errno;
	as_unlimit();
	if (!q)
		bad("oom-realloc-grow-without-reserve", "realloc 5000 -> 4 MiB failed (errno %d) with 6 MiB "
		    "of address space free", err);
	else if (!pat_ok_seed(q, 5000, 5000))
		bad("oom-realloc-grow-without-reserve", "content lost");
	else
		ok("oom-realloc-grow-without-reserve", "");
	free(q ? q : p);
	/* and malloc itself, for comparison */
	as_limit(6 << 20);
	char *m = malloc(4 << 20);
	as_unlimit();
	CHECK("oom-malloc-4m-with-6m-free", m != NULL, "malloc(4 MiB) failed");
	free(m);
	outf("done\n");
	return nbad != 0;
}

/* oom-quarantine: freed LARGE blocks held in quarantine must not make the
 * program run out of address space. */
static int scen_oom_quarantine(void)
{
	outf("start\n");
	for (int i = 0; i < 6; i++) {
		char *p = malloc(4 << 20);
		memset(p, 1, 4 << 20);
		free(p);    /* 24 MiB of address space in quarantine */
	}
	stack_prefault();
	as_limit(6 << 20);
	char *p = malloc(8 << 20);
	int err = errno;
	as_unlimit();
	CHECK("oom-large-quarantine-gives-way", p != NULL,
	    "malloc(8 MiB) failed (errno %d) though 24 MiB sit in the LARGE quarantine", err);
	if (p) {
		pat_fill(p, 1 << 16);
		free(p);
	}
	outf("done\n");
	return nbad != 0;
}

static NOINLINE void *oom_double_free_site(void) { return malloc(40); }
static NOINLINE void oom_release(void *p) { free(p); }

/* oom-report: a bug found with the address space full is still reported
 * (kind, frames); reports after the limit is raised have names again;
 * exit with the address space still full: no crash, the program's status. */
static int scen_oom_report(int exit_limited)
{
	outf("start\n");
	void *a = oom_double_free_site();
	void *b = oom_double_free_site();
	stack_prefault();
	as_limit(0);
	/* fill what is left of the zones */
	void *p;
	while ((p = malloc(16)) != NULL) {
		struct chain *c = p;
		c->next = filled;
		filled = c;
	}
	oom_release(a);
	(void)!write(2, "marker: bug under the limit\n", 28);
	oom_release(a);  /* double free, reported with the address space full */
	(void)!write(2, "marker: limit raised\n", 21);
	if (!exit_limited) {
		as_unlimit();
		free_filled();
	}
	oom_release(b);
	oom_release(b);  /* reported again, symbols available */
	(void)!write(2, "marker: end\n", 12);
	outf("done\n");
	if (exit_limited) {
		void *leak = malloc(1);  /* may fail; nothing to report either way */
		(void)leak;
		exit(5);
	}
	free_filled();
	return 0;
}

/* ------------------------------------------------------------ vm.max_map_count */

/* The program's own one-page mappings, alternating protections so that
 * none merge: each costs one memory map area. */
static void **own_maps;
static size_t nown, own_cap;

/* Map pages until the kernel refuses (max 0: no bound) or max are mapped;
 * returns how many were added. */
static size_t own_fill(size_t max)
{
	size_t added = 0;

	if (!own_maps) {
		own_cap = 1 << 17;
		own_maps = mmap(NULL, own_cap * sizeof(void *), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (own_maps == MAP_FAILED) {
			own_maps = NULL;
			return 0;
		}
	}
	while (nown < own_cap && (max == 0 || added < max)) {
		void *p = mmap(NULL, 4096, (nown & 1) ? PROT_READ : PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		own_maps[nown++] = p;
		added++;
	}
	return added;
}

static void own_release(void)
{
	while (nown)
		munmap(own_maps[--nown], 4096);
}

/* Lines of /proc/self/maps, and of them those naming ftmalloc's user memory. */
static size_t count_maps(size_t *ours)
{
	static char buf[1 << 16];
	size_t lines = 0, o = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				lines++;
		/* names split across reads are missed: good enough for a count */
		for (char *p = buf; (p = strstr(p, "[anon:ftmalloc:")) != NULL; p++)
			if (!strncmp(p + 15, "tiny", 4) || !strncmp(p + 15, "small", 5) ||
			    !strncmp(p + 15, "large", 5))
				o++;
	}
	close(fd);
	if (ours)
		*ours = o;
	return lines;
}

#define ML_TINY 30000
#define ML_SMALL 3000
#define ML_LARGE 300
static void *ml_tiny[ML_TINY], *ml_small[ML_SMALL], *ml_large[ML_LARGE];

static size_t ml_large_size(int i) { return 2000 + (size_t)i * 97; }

/* maplimit: the process at vm.max_map_count (its own mappings): frees of
 * every class (zones emptied in the middle of merged areas, LARGE blocks
 * through the quarantine), allocations that fail cleanly or work, and all
 * well again once the program unmaps its pages. */
static int scen_maplimit(void)
{
	size_t ours;

	outf("start\n");
	for (int i = 0; i < ML_TINY; i++)
		pat_fill(ml_tiny[i] = malloc(100), 100);
	for (int i = 0; i < ML_SMALL; i++)
		pat_fill(ml_small[i] = malloc(700), 700);
	for (int i = 0; i < ML_LARGE; i++)
		pat_fill(ml_large[i] = malloc(ml_large_size(i)), ml_large_size(i));
	size_t before = count_maps(&ours);
	size_t own = own_fill(0);
	size_t at_limit = count_maps(NULL);
	note("%zu areas before, %zu own pages mapped, %zu areas at the limit", before, own, at_limit);
	if (own < 1000) {
		bad("maplimit-reached", "only %zu own mappings could be made", own);
		return 1;
	}
	/* Free at the limit: TINY in zone order (zones emptied one by one,
	 * each in the middle of an area of zones), SMALL, then LARGE. */
	for (int i = 0; i < ML_TINY; i++) {
		if (!pat_ok(ml_tiny[i], 100))
			bad("maplimit-tiny-content", "block %d damaged", i);
		free(ml_tiny[i]);
		ml_tiny[i] = NULL;
	}
	ok("maplimit-free-tiny-at-limit", "");
	for (int i = 0; i < ML_SMALL; i += 2) {
		free(ml_small[i]);
		ml_small[i] = NULL;
	}
	ok("maplimit-free-small-at-limit", "");
	for (int i = 0; i < ML_LARGE; i += 2) {
		free(ml_large[i]);
		ml_large[i] = NULL;
	}
	ok("maplimit-free-large-at-limit", "");
	/* Allocate at the limit: a block or NULL with ENOMEM, never a crash. */
	int served = 0, refused = 0, wrong = 0;
	static const size_t sizes[] = { 8, 100, 300, 1000, 5000, 100000, 1 << 20 };
	for (int k = 0; k < 400; k++) {
		size_t n = sizes[k % 7];
		errno = 0;
		char *p = k % 3 == 2 ? memalign(256, n) : malloc(n);
		if (p) {
			pat_fill(p, n);
			wrong += !pat_ok(p, n);
			free(p);
			served++;
		} else if (errno == ENOMEM) {
			refused++;
		} else {
			wrong++;
		}
	}
	char d[96];
	snprintf(d, sizeof(d), "(%d served, %d refused)", served, refused);
	if (wrong)
		bad("maplimit-alloc-at-limit", "%d allocations wrong (NULL without ENOMEM, or content)", wrong);
	else
		ok("maplimit-alloc-at-limit", d);
	/* the program gives its areas back */
	own_release();
	int fails = 0;
	for (int k = 0; k < 700; k++) {
		size_t n = sizes[k % 7];
		char *p = malloc(n);
		if (!p) {
			fails++;
			continue;
		}
		pat_fill(p, n);
		fails += !pat_ok(p, n);
		free(p);
	}
	CHECK("maplimit-alloc-after-release", fails == 0, "%d allocations failed", fails);
	int damaged = 0;
	for (int i = 1; i < ML_SMALL; i += 2)
		damaged += !pat_ok(ml_small[i], 700);
	for (int i = 1; i < ML_LARGE; i += 2)
		damaged += !pat_ok(ml_large[i], ml_large_size(i));
	CHECK("maplimit-survivors-intact", damaged == 0, "%d blocks damaged", damaged);
	for (int i = 1; i < ML_SMALL; i += 2)
		free(ml_small[i]);
	for (int i = 1; i < ML_LARGE; i += 2)
		free(ml_large[i]);
	/* Churn so that what could not be unmapped at the limit is. */
	for (int k = 0; k < 3000; k++)
		free(malloc(20000 + (size_t)(k % 7) * 4096));
	for (int k = 0; k < 3000; k++)
		free(malloc(100));
	size_t after = count_maps(&ours);
	note("%zu areas after, %zu of them ftmalloc user memory", after, ours);
	CHECK("maplimit-ranges-released-later", ours < 64,
	    "%zu ftmalloc mappings remain with every block freed (deferred unmaps never done?)", ours);
	outf("done\n");
	return nbad != 0;
}

/* maplimit-guard: guard_all with the program's own mappings close to the
 * limit: the kernel refuses guarded mappings before the budget does; each
 * block is served (unguarded from a zone) or refused with ENOMEM. */
static int scen_maplimit_guard(void)
{
	enum { N = 6000 };
	static char *blk[N];
	size_t max = 65530;
	char buf[32];
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			max = strtoul(buf, NULL, 10);
		}
		close(fd);
	}
	outf("start\n");
	size_t used = count_maps(NULL);
	if (max < used + 5000 || max > 200000) {
		outf("skip maplimit-guard: vm.max_map_count is %zu\n", max);
		return 0;
	}
	size_t own = own_fill(max - used - 3000);  /* leave about 3000 areas */
	int served = 0, refused = 0, wrong = 0;
	for (int i = 0; i < N; i++) {
		size_t n = 1 + (size_t)(i % 900);
		errno = 0;
		blk[i] = malloc(n);
		if (blk[i]) {
			pat_fill(blk[i], n);
			served++;
		} else if (errno == ENOMEM) {
			refused++;
		} else {
			wrong++;
		}
		if (i % 4 == 3 && blk[i - 1]) {  /* some freed: through the quarantine */
			free(blk[i - 1]);
			blk[i - 1] = NULL;
		}
	}
	char d[96];
	snprintf(d, sizeof(d), "(%zu own areas, %d served, %d refused)", own, served, refused);
	if (wrong)
		bad("maplimit-guard-all-alloc", "%d allocations NULL without ENOMEM", wrong);
	else
		ok("maplimit-guard-all-alloc", d);
	int damaged = 0;
	for (int i = 0; i < N; i++)
		if (blk[i])
			damaged += !pat_ok(blk[i], 1 + (size_t)(i % 900));
	CHECK("maplimit-guard-all-content", damaged == 0, "%d blocks damaged", damaged);
	for (int i = 0; i < N; i += 2) {
		free(blk[i]);
		blk[i] = NULL;
	}
	own_release();
	int fails = 0;
	for (int i = 0; i < N; i += 2) {
		size_t n = 1 + (size_t)(i % 900);
		if (!(blk[i] = malloc(n)))
			fails++;
		else
			pat_fill(blk[i], n);
	}
	CHECK("maplimit-guard-all-after-release", fails == 0, "%d allocations failed", fails);
	for (int i = 0; i < N; i++)
		free(blk[i]);
	outf("done\n");
	return nbad != 0;
}

/* ------------------------------------------------------------ hammers */

/* Threads that keep every internal lock busy: a class lock (zone refills
 * and flushes, aligned slots taken straight from zones), the LARGE and meta
 * locks (a LARGE block is a mapping and a descriptor), the stack depot's
 * lock (allocations from ever new call stacks), the orphan quarantine's
 * (threads that exit), the report lock (double frees, reported and going
 * on), and all of them at once (show_alloc_mem_ex: every lock, then a leak
 * scan that stops the other threads). */
enum hkind { H_ZONE, H_ALIGNED, H_LARGE, H_DEPOT, H_THREADS, H_REPORT, H_SHOW, H_SIGNAL, H_NKINDS };
static const char *const hname[H_NKINDS] = { "zone", "aligned", "large", "depot", "threads",
	"report", "show", "signal" };

struct hammer {
	enum hkind kind;
	pthread_t t;
	volatile int inside;      /* in a malloc family call now */
	unsigned long ops;
	unsigned long damaged;    /* content checks that failed */
	uint64_t rng;
};
static struct hammer hammers[16];
static int nhammers;
static volatile int hammers_stop;
static long report_pause_us = 2000;   /* between two double frees */
static long show_pause_us = 40000;    /* between two show_alloc_mem_ex */
static void (*show_ex)(void);         /* show_alloc_mem_ex, when preloaded */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static NOINLINE void *h_alloc(struct hammer *h, size_t n)
{
	h->inside = 1;
	void *p = malloc(n);
	h->inside = 0;
	return p;
}

static NOINLINE void h_free(struct hammer *h, void *p)
{
	h->inside = 1;
	free(p);
	h->inside = 0;
}

static void h_zone(struct hammer *h)
{
	void *ring[64] = { 0 };
	size_t len[64] = { 0 };

	while (!hammers_stop) {
		unsigned k = (unsigned)(rnd(&h->rng) % 64);
		if (ring[k]) {
			h->damaged += !pat_ok(ring[k], len[k]);
			h_free(h, ring[k]);
		}
		len[k] = 1 + rnd(&h->rng) % 1024;
		ring[k] = h_alloc(h, len[k]);
		if (ring[k])
			pat_fill(ring[k], len[k]);
		h->ops++;
	}
	for (int k = 0; k < 64; k++)
		free(ring[k]);
}

static void h_aligned(struct hammer *h)
{
	while (!hammers_stop) {
		size_t align = (size_t)32 << (rnd(&h->rng) % 5), n = 1 + rnd(&h->rng) % 500;
		h->inside = 1;
		char *p = memalign(align, n);
		h->inside = 0;
		if (p) {
			pat_fill(p, n);
			h->damaged += ((uintptr_t)p & (align - 1)) != 0 || !pat_ok(p, n);
			h_free(h, p);
		}
		h->ops++;
	}
}

static void h_large(struct hammer *h)
{
	void *ring[8] = { 0 };
	size_t len[8] = { 0 };

	while (!hammers_stop) {
		unsigned k = (unsigned)(rnd(&h->rng) % 8);
		if (ring[k]) {
			h->damaged += !pat_ok(ring[k], 256);
			h_free(h, ring[k]);
		}
		len[k] = 1025 + rnd(&h->rng) % 150000;
		ring[k] = h_alloc(h, len[k]);
		if (ring[k])
			pat_fill(ring[k], 256);
		h->ops++;
	}
	for (int k = 0; k < 8; k++)
		free(ring[k]);
}

/* New call stacks all the time: a path of up to 12 calls through four
 * functions, chosen by the bits of a counter (16M shapes). */
static NOINLINE void depot_a(struct hammer *h, uint64_t path, int d);
static NOINLINE void depot_b(struct hammer *h, uint64_t path, int d);
static NOINLINE void depot_c(struct hammer *h, uint64_t path, int d);
static NOINLINE void depot_d(struct hammer *h, uint64_t path, int d);
static void depot_step(struct hammer *h, uint64_t path, int d)
{
	if (d == 0) {
		void *p = h_alloc(h, 1 + path % 200);
		h_free(h, p);
		return;
	}
	switch (path & 3) {
	case 0: depot_a(h, path >> 2, d - 1); break;
	case 1: depot_b(h, path >> 2, d - 1); break;
	case 2: depot_c(h, path >> 2, d - 1); break;
	default: depot_d(h, path >> 2, d - 1); break;
	}
}
static NOINLINE void depot_a(struct hammer *h, uint64_t path, int d) { depot_step(h, path, d); __asm__ volatile(""); }
static NOINLINE void depot_b(struct hammer *h, uint64_t path, int d) { depot_step(h, path, d); __asm__ volatile(""); }
static NOINLINE void depot_c(struct hammer *h, uint64_t path, int d) { depot_step(h, path, d); __asm__ volatile(""); }
static NOINLINE void depot_d(struct hammer *h, uint64_t path, int d) { depot_step(h, path, d); __asm__ volatile(""); }

static void h_depot(struct hammer *h)
{
	uint64_t n = rnd(&h->rng);

	while (!hammers_stop) {
		depot_step(h, n++, 12);
		h->ops++;
	}
}

static void *short_thread(void *arg)
{
	struct hammer *h = arg;
	void *v[16];

	for (int i = 0; i < 16; i++)
		v[i] = malloc(1 + (size_t)i * 61);
	for (int i = 0; i < 16; i++)
		free(v[i]);
	(void)h;
	return NULL;
}

/*
 * pthread_join frees the joined thread's dynamic TLS (glibc's __free_tcb),
 * pthread_create frees the old TLS of a cached stack it reuses, both after
 * glibc's stack-cache lock is released. A fork in the middle of either
 * leaves the child's glibc with a thread stack whose TLS is half freed, and
 * it frees it again when it reuses that stack for a thread of the child's:
 * a real double free inside glibc (its own malloc has the same race), which
 * ftmalloc duly reports. Not ftmalloc's to test: creates and joins wait
 * while a fork is being prepared; the threads' exits (the orphan
 * quarantine's lock) still race with fork.
 */
static int joining, fork_pending;

static void join_begin(void)
{
	for (;;) {
		__atomic_store_n(&joining, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&fork_pending, __ATOMIC_SEQ_CST))
			return;
		__atomic_store_n(&joining, 0, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&fork_pending, __ATOMIC_SEQ_CST))
			nap_us(100);
	}
}

static void h_threads(struct hammer *h)
{
	while (!hammers_stop) {
		pthread_t t;
		h->inside = 1;
		join_begin();
		int rc = pthread_create(&t, NULL, short_thread, h);
		__atomic_store_n(&joining, 0, __ATOMIC_SEQ_CST);
		if (rc == 0) {
			join_begin();
			pthread_join(t, NULL);
			__atomic_store_n(&joining, 0, __ATOMIC_SEQ_CST);
		}
		h->inside = 0;
		h->ops++;
	}
}

static NOINLINE void *report_site(void) { return malloc(48); }

static void h_report(struct hammer *h)
{
	while (!hammers_stop) {
		void *p = report_site();
		free(p);
		h_free(h, p);  /* double free: reported, the program goes on */
		h->ops++;
		nap_us(report_pause_us);
	}
}

static void h_show(struct hammer *h)
{
	while (!hammers_stop) {
		h->inside = 1;
		show_ex();  /* to stdout, /dev/null in these scenarios */
		h->inside = 0;
		h->ops++;
		nap_us(show_pause_us);
	}
}

/* SIGUSR2 to the process every 10 ms: run with report_signal=USR2, each
 * makes the next malloc family call write a heap dump. */
static void h_signal(struct hammer *h)
{
	while (!hammers_stop) {
		kill(getpid(), SIGUSR2);
		h->ops++;
		nap_us(10000);
	}
}

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	switch (h->kind) {
	case H_ZONE: h_zone(h); break;
	case H_ALIGNED: h_aligned(h); break;
	case H_LARGE: h_large(h); break;
	case H_DEPOT: h_depot(h); break;
	case H_THREADS: h_threads(h); break;
	case H_REPORT: h_report(h); break;
	case H_SHOW: h_show(h); break;
	case H_SIGNAL: h_signal(h); break;
	default: break;
	}
	return NULL;
}

/* Start the hammers of the kinds in mask; stdout goes to /dev/null (for
 * show_alloc_mem_ex), results to a copy of it. */
static void hammers_start(unsigned mask)
{
	if (out_fd == 1) {
		out_fd = dup(1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		close(null);
	}
	show_ex = (void (*)(void))dlsym(RTLD_DEFAULT, "show_alloc_mem_ex");
	if (!show_ex)
		mask &= ~(1u << H_SHOW);
	hammers_stop = 0;
	for (int k = 0; k < H_NKINDS; k++) {
		if (!(mask & (1u << k)))
			continue;
		struct hammer *h = &hammers[nhammers++];
		memset(h, 0, sizeof(*h));
		h->kind = (enum hkind)k;
		h->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
		pthread_create(&h->t, NULL, hammer_main, h);
	}
}

/* Stop and join them; false (and a bad line) when a content check failed. */
static bool hammers_join(const char *name)
{
	unsigned long damaged = 0;
	char ops[256];
	size_t at = 0;

	hammers_stop = 1;
	for (int i = 0; i < nhammers; i++) {
		pthread_join(hammers[i].t, NULL);
		damaged += hammers[i].damaged;
		at += (size_t)snprintf(ops + at, sizeof(ops) - at, "%s%s %lu", i ? ", " : "",
		    hname[hammers[i].kind], hammers[i].ops);
		if (at >= sizeof(ops))
			at = sizeof(ops) - 1;
	}
	nhammers = 0;
	note("hammer operations: %s", ops);
	if (damaged) {
		bad(name, "%lu content checks of the hammer threads failed", damaged);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ fork */

static unsigned long fork_inside[H_NKINDS];  /* forks that began with hammer k in a call */

/* Registered after the library's handlers, so it runs before them: what
 * the hammers were doing when fork began. */
static void fork_prepare_note(void)
{
	for (int i = 0; i < nhammers; i++)
		if (hammers[i].inside)
			fork_inside[hammers[i].kind]++;
	__atomic_store_n(&fork_pending, 1, __ATOMIC_SEQ_CST);  /* see h_threads */
	while (__atomic_load_n(&joining, __ATOMIC_SEQ_CST))
		nap_us(50);
}

static void fork_done(void)
{
	__atomic_store_n(&fork_pending, 0, __ATOMIC_SEQ_CST);
}

static NOINLINE void *child_site(size_t n) { return malloc(n); }
static NOINLINE void child_release(void *p) { free(p); }

static void *child_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++) {
		char *p = malloc(1 + (size_t)i * 37);
		pat_fill(p, 1 + (size_t)i * 37);
		free(p);
	}
	return NULL;
}

/* What a forked child does: every class, content checked, a thread, one
 * report (double free); 0 when all went well. */
static int child_work(void)
{
	static const size_t sizes[] = { 0, 1, 100, 127, 128, 700, 1024, 1025, 5000, 300000 };
	int bad_n = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		char *p = child_site(n);
		char *c = calloc(1, n + 1);
		char *a = memalign(64 << (i % 4), n + 1);
		if (!p || !c || !a)
			return 10;
		pat_fill(p, n);
		for (size_t k = 0; k <= n; k++)
			bad_n += c[k] != 0;
		pat_fill(a, n + 1);
		char *r = realloc(p, 2 * n + 3000);
		if (!r)
			return 11;
		bad_n += !pat_ok_seed(r, n, n) + !pat_ok(a, n + 1);
		free(r);
		free(c);
		free(a);
	}
	pthread_t t;
	if (pthread_create(&t, NULL, child_thread, NULL) != 0)
		return 12;
	pthread_join(t, NULL);
	char *d = child_site(24);
	child_release(d);
	child_release(d);  /* the child's own report */
	return bad_n ? 13 : 0;
}

/* Wait for pid at most secs; its status, or -1 after killing it. */
static int wait_bounded(pid_t pid, double secs)
{
	double end = now_s() + secs;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -2;
		if (now_s() > end) {
			if (getenv("FAULTS_GDB")) {  /* debugging aid: where it hangs */
				char cmd[128];
				snprintf(cmd, sizeof(cmd), "gdb -p %d -batch -ex 'thread apply all bt' >&2 2>/dev/null",
				    (int)pid);
				(void)!system(cmd);
			}
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nap_us(200);
	}
}

static const char *status_text(int st, char *buf, size_t len)
{
	if (st == -1)
		snprintf(buf, len, "hung (killed)");
	else if (st == -2)
		snprintf(buf, len, "lost (waitpid failed)");
	else if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "status 0x%x", st);
	return buf;
}

/* fork-storm N: N forks while the hammers keep every lock busy; each child
 * runs child_work (exit or _exit) and must be done in time, status 0. */
static int scen_fork_storm(int n, unsigned mask)
{
	int good = 0, hung = 0, other = 0;
	char first[128] = "";

	outf("pid %d\n", (int)getpid());
	hammers_start(mask);
	pthread_atfork(fork_prepare_note, fork_done, fork_done);
	uint64_t r = 12345;
	nap_us(20000);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		nap_us((long)(rnd(&r) % 3000));
		pid_t pid = fork();
		if (pid == 0) {
			int rc = child_work();
			if (i % 4 == 0)
				exit(rc);   /* exit handlers, leak check */
			_exit(rc);
		}
		if (pid < 0) {
			other++;
			continue;
		}
		outf("child %d\n", (int)pid);
		int st = wait_bounded(pid, 15);
		if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			good++;
			continue;
		}
		if (st == -1)
			hung++;
		else
			other++;
		if (!first[0])
			status_text(st, first, sizeof(first));
	}
	double secs = now_s() - t0;
	bool hammers_ok = hammers_join("fork-storm-hammers-content");
	char d[512];
	size_t at = (size_t)snprintf(d, sizeof(d), "(%d forks in %.1fs; begun with a hammer in a call:", n, secs);
	for (int k = 0; k < H_NKINDS; k++)
		at += (size_t)snprintf(d + at, sizeof(d) - at, " %s %lu", hname[k], fork_inside[k]);
	snprintf(d + at, sizeof(d) - at, ")");
	if (good == n)
		ok("fork-storm-children-exit-0-in-time", d);
	else
		bad("fork-storm-children-exit-0-in-time", "%d of %d children fine, %d hung, %d failed (first: %s) %s",
		    good, n, hung, other, first, d);
	if (hammers_ok)
		ok("fork-storm-hammers-content", "");
	outf("done\n");
	return nbad != 0;
}

/* spawn N: posix_spawn, system() and vfork+exec, N times each, from a
 * program whose threads keep the locks busy. */
static int scen_spawn(int n)
{
	int sp_ok = 0, sys_ok = 0, vf_ok = 0;
	char first[3][128] = { "", "", "" };

	hammers_start((1u << H_ZONE) | (1u << H_LARGE) | (1u << H_DEPOT) | (1u << H_REPORT) |
	    (1u << H_ALIGNED));
	nap_us(20000);
	for (int i = 0; i < n; i++) {
		pid_t pid;
		char *sp_argv[] = { "sh", "-c", "exit 3", NULL };
		int st = -2;
		if (posix_spawn(&pid, "/bin/sh", NULL, NULL, sp_argv, environ) == 0)
			st = wait_bounded(pid, 15);
		if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 3)
			sp_ok++;
		else if (!first[0][0])
			status_text(st, first[0], sizeof(first[0]));

		st = system("exit 4");
		if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 4)
			sys_ok++;
		else if (!first[1][0])
			status_text(st, first[1], sizeof(first[1]));

		char *vf_argv[] = { "sh", "-c", "exit 5", NULL };
		pid = vfork();
		if (pid == 0) {
			execve("/bin/sh", vf_argv, environ);
			_exit(127);
		}
		st = pid > 0 ? wait_bounded(pid, 15) : -2;
		if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5)
			vf_ok++;
		else if (!first[2][0])
			status_text(st, first[2], sizeof(first[2]));
	}
	bool hammers_ok = hammers_join("spawn-hammers-content");
	char d[64];
	snprintf(d, sizeof(d), "(%d)", n);
	if (sp_ok == n) ok("posix_spawn-from-threaded-program", d);
	else bad("posix_spawn-from-threaded-program", "%d of %d right (first wrong: %s)", sp_ok, n, first[0]);
	if (sys_ok == n) ok("system-from-threaded-program", d);
	else bad("system-from-threaded-program", "%d of %d right (first wrong: %s)", sys_ok, n, first[1]);
	if (vf_ok == n) ok("vfork-exec-from-threaded-program", d);
	else bad("vfork-exec-from-threaded-program", "%d of %d right (first wrong: %s)", vf_ok, n, first[2]);
	if (hammers_ok)
		ok("spawn-hammers-content", "");
	outf("done\n");
	return nbad != 0;
}

/* fork-leak: the parent keeps blocks in a global and on its threads'
 * stacks; the forked child loses one block of its own and exits. Its leak
 * report (its log, its pid) must name the child's block only. */
static void *parent_global;
static pthread_barrier_t fl_bar;

static NOINLINE void *parent_thread_site(size_t n) { return malloc(n); }
static NOINLINE void *parent_global_site(size_t n) { return malloc(n); }
static NOINLINE void *child_leak_site(size_t n) { return malloc(n); }

static void *fl_holder(void *arg)
{
	void *volatile mine[8];

	(void)arg;
	for (int i = 0; i < 8; i++)
		mine[i] = parent_thread_site(100 + (size_t)i * 200);
	pthread_barrier_wait(&fl_bar);  /* blocks held */
	pthread_barrier_wait(&fl_bar);  /* the child is done */
	for (int i = 0; i < 8; i++)
		free(mine[i]);
	return NULL;
}

static NOINLINE void child_loses(void)
{
	void *volatile p = child_leak_site(333);
	p = NULL;
	(void)p;
}

static int scen_fork_leak(void)
{
	pthread_t t[3];

	pthread_barrier_init(&fl_bar, NULL, 4);
	parent_global = parent_global_site(4000);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, fl_holder, NULL);
	pthread_barrier_wait(&fl_bar);
	pid_t pid = fork();
	if (pid == 0) {
		/* a thread of the child's own: glibc gives it a stack of the
		 * parent's threads, which then no longer hold their blocks */
		pthread_t c;
		if (pthread_create(&c, NULL, child_thread, NULL) == 0)
			pthread_join(c, NULL);
		child_loses();
		exit(0);
	}
	outf("child %d\n", (int)pid);
	int st = wait_bounded(pid, 20);
	char buf[128];
	CHECK("fork-leak-child-exits-0", st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s",
	    status_text(st, buf, sizeof(buf)));
	pthread_barrier_wait(&fl_bar);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	free(parent_global);
	outf("done\n");
	return nbad != 0;
}

/* ------------------------------------------------------------ signals */

static volatile char sink;

static NOINLINE char *overflow_site(size_t n) { return malloc(n); }
static NOINLINE void fault_read_site(char *p, size_t off) { sink = p[off]; }

/* Run fn in a child; its status. */
static int in_child(int (*fn)(void *), void *arg, double secs)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	return pid < 0 ? -2 : wait_bounded(pid, secs);
}

struct segv_arg { bool in_worker; };
static volatile int go_fault;

static void *faulting_worker(void *arg)
{
	(void)arg;
	char *p = overflow_site(8192);
	pat_fill(p, 8192);
	while (!go_fault)
		nap_us(1000);
	fault_read_site(p, 8192 + 32);  /* the guard page after the block */
	return NULL;
}

/* In the child: the hammers keep the locks (and the report lock) busy, then
 * a LARGE block is read past its end. It must not come back. */
static int segv_child(void *arg)
{
	struct segv_arg *a = arg;
	pthread_t t;

	hammers_start((1u << H_ZONE) | (1u << H_ALIGNED) | (1u << H_LARGE) | (1u << H_DEPOT) |
	    (1u << H_THREADS) | (1u << H_REPORT));
	if (a->in_worker)
		pthread_create(&t, NULL, faulting_worker, NULL);
	nap_us(300000);
	if (a->in_worker) {
		go_fault = 1;
		pthread_join(t, NULL);
	} else {
		char *p = overflow_site(8192);
		pat_fill(p, 8192);
		fault_read_site(p, 8192 + 32);
	}
	return 42;  /* survived the fault: wrong */
}

static int scen_segv_threads(bool in_worker)
{
	struct segv_arg a = { in_worker };
	const char *name = in_worker ? "guard-fault-in-worker-dies-of-sigsegv" : "guard-fault-in-main-dies-of-sigsegv";
	char buf[128];

	int st = in_child(segv_child, &a, 20);
	if (st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
		ok(name, "");
	else
		bad(name, "the child %s", status_text(st, buf, sizeof(buf)));
	return nbad != 0;
}

/* A page of the program's own, PROT_NONE: faults there are not ftmalloc's. */
static char *own_page;
static volatile int handled;
static sigjmp_buf jump_back;
static struct sigaction saved_act;     /* what was installed before ours (after init) */
static void *volatile last_fault;

static void h_fix(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if ((char *)si->si_addr >= own_page && (char *)si->si_addr < own_page + 4096) {
		mprotect(own_page, 4096, PROT_READ | PROT_WRITE);
		handled++;
		return;
	}
	signal(SIGSEGV, SIG_DFL);  /* not ours: die of it */
}

static void h_jump(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	last_fault = si->si_addr;
	handled++;
	siglongjmp(jump_back, 1);
}

static void h_plain_fix(int sig)
{
	(void)sig;
	mprotect(own_page, 4096, PROT_READ | PROT_WRITE);
	handled++;
}

/* A handler installed after ftmalloc's that passes what is not its own to
 * the one it replaced, as libraries do. */
static void h_chain(int sig, siginfo_t *si, void *uc)
{
	if ((char *)si->si_addr >= own_page && (char *)si->si_addr < own_page + 4096) {
		mprotect(own_page, 4096, PROT_READ | PROT_WRITE);
		handled++;
		return;
	}
	last_fault = si->si_addr;
	if (saved_act.sa_flags & SA_SIGINFO)
		saved_act.sa_sigaction(sig, si, uc);
	else if (saved_act.sa_handler != SIG_DFL && saved_act.sa_handler != SIG_IGN)
		saved_act.sa_handler(sig);
	else
		signal(SIGSEGV, SIG_DFL);
}

static void install(int flags, void (*sa)(int, siginfo_t *, void *), void (*plain)(int), struct sigaction *old)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	if (sa) {
		act.sa_sigaction = sa;
		act.sa_flags = SA_SIGINFO | flags;
	} else {
		act.sa_handler = plain;
		act.sa_flags = flags;
	}
	sigemptyset(&act.sa_mask);
	sigaction(SIGSEGV, &act, old);
}

static bool pre_installed;  /* by the .preinit_array function */

/* Runs before any library's constructor, ftmalloc's included: the program's
 * handler is there first, and ftmalloc installs its own over it. */
static void preinit(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc < 2)
		return;
	own_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!strcmp(argv[1], "chain-before-fix"))
		install(0, h_fix, NULL, NULL);
	else if (!strcmp(argv[1], "chain-before-longjmp") || !strcmp(argv[1], "chain-before-guard"))
		install(SA_NODEFER, h_jump, NULL, NULL);
	else if (!strcmp(argv[1], "chain-before-plain"))
		install(0, NULL, h_plain_fix, NULL);
	else
		return;
	pre_installed = true;
}
__attribute__((section(".preinit_array"), used)) static void (*preinit_p)(int, char **, char **) = preinit;

#define CHAIN_ROUNDS 1000

/* Touch the program's own page, PROT_NONE each time, rounds times; the
 * handler fixes the page (fix) or jumps back (jump). */
static int touch_own(bool jump)
{
	int done = 0;

	for (int i = 0; i < CHAIN_ROUNDS; i++) {
		mprotect(own_page, 4096, PROT_NONE);
		if (jump) {
			if (sigsetjmp(jump_back, 1) == 0) {
				own_page[i % 4096] = 1;
				continue;  /* not reached: the write faults */
			}
			if (last_fault == own_page + i % 4096)
				done++;
		} else {
			int before = handled;
			own_page[i % 4096] = (char)i;
			if (handled == before + 1 && own_page[i % 4096] == (char)i)
				done++;
		}
	}
	return done;
}

/* Is the SIGSEGV action in force someone else's than the program's? */
static bool action_is_not(void *h)
{
	struct sigaction cur;

	sigaction(SIGSEGV, NULL, &cur);
	return (void *)cur.sa_sigaction != h;
}

static int scen_chain(const char *which)
{
	char name[96], d[96];
	int done = 0;

	if (!own_page)
		own_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* some allocations first, the library at work */
	void *keep_blocks[16];
	for (int i = 0; i < 16; i++)
		keep_blocks[i] = malloc(1 + (size_t)i * 700);
	snprintf(name, sizeof(name), "%s-handler-works", which);
	if (!strcmp(which, "chain-before-fix") || !strcmp(which, "chain-before-longjmp") ||
	    !strcmp(which, "chain-before-plain")) {
		if (!pre_installed) {
			bad(name, "the .preinit_array handler was not installed");
			return 1;
		}
		note("SIGSEGV action now %s", action_is_not(which[13] == 'f' ? (void *)h_fix :
		    which[13] == 'l' ? (void *)h_jump : (void *)h_plain_fix) ? "ftmalloc's (the program's chained)" :
		    "the program's");
		done = touch_own(!strcmp(which, "chain-before-longjmp"));
	} else if (!strcmp(which, "chain-after-fix")) {
		install(0, h_fix, NULL, NULL);
		done = touch_own(false);
	} else if (!strcmp(which, "chain-after-longjmp")) {
		install(SA_NODEFER, h_jump, NULL, NULL);
		done = touch_own(true);
	} else if (!strcmp(which, "chain-after-chains-back")) {
		install(0, h_chain, NULL, &saved_act);
		done = touch_own(false);
	}
	snprintf(d, sizeof(d), "(%d of %d faults handled)", done, CHAIN_ROUNDS);
	if (done == CHAIN_ROUNDS)
		ok(name, d);
	else
		bad(name, "%s", d);
	/* the heap still works, guard pages included */
	for (int i = 0; i < 16; i++)
		free(keep_blocks[i]);
	char *p = overflow_site(20000);
	pat_fill(p, 20000);
	snprintf(name, sizeof(name), "%s-heap-works-after", which);
	CHECK(name, pat_ok(p, 20000), "content");
	free(p);
	if (!strcmp(which, "chain-after-chains-back")) {
		/* our fault now: the program's handler hands it to ftmalloc's,
		 * which reports it and lets the process die of it */
		(void)!write(2, "marker: guard fault\n", 20);
		p = overflow_site(8192);
		fault_read_site(p, 8192 + 32);
		bad("chain-after-chains-back-guard-fault-kills", "survived the guard fault");
		return 1;
	}
	outf("done\n");
	return nbad != 0;
}

/* chain-before-guard: a handler installed before ftmalloc's sees the guard
 * fault after ftmalloc's report (chained) and jumps back: the program goes
 * on, the report written. */
static int scen_chain_before_guard(void)
{
	if (!pre_installed) {
		bad("chain-before-guard-report-then-program-handler", "no .preinit_array handler");
		return 1;
	}
	char *p = overflow_site(8192);
	pat_fill(p, 8192);
	(void)!write(2, "marker: guard fault\n", 20);
	if (sigsetjmp(jump_back, 1) == 0) {
		fault_read_site(p, 8192 + 32);
		bad("chain-before-guard-report-then-program-handler", "the read did not fault");
		return 1;
	}
	CHECK("chain-before-guard-report-then-program-handler", last_fault == p + 8192 + 32,
	    "the program's handler saw %p, expected %p", last_fault, (void *)(p + 8192 + 32));
	/* and a fault of its own still goes to it */
	int done = 0;
	for (int i = 0; i < 100; i++) {
		mprotect(own_page, 4096, PROT_NONE);
		if (sigsetjmp(jump_back, 1) == 0)
			own_page[i] = 1;
		else if (last_fault == own_page + i)
			done++;
	}
	CHECK("chain-before-guard-own-faults-after", done == 100, "%d of 100", done);
	free(p);
	outf("done\n");
	return nbad != 0;
}

/* segv-not-ours: a NULL write with no handler of the program's: the default
 * action (death by SIGSEGV), no report. */
static int scen_segv_not_ours(void)
{
	volatile char *volatile nul = NULL;

	free(malloc(10));
	*nul = 1;
	return 0;
}

/* ------------------------------------------------------------ exits */

static NOINLINE void *exit_leak_site(size_t n) { return malloc(n); }

static NOINLINE void plant_leak(void)
{
	void *volatile p = exit_leak_site(777);
	memset((void *)p, 7, 777);
	p = NULL;
}

/* exit-threads HOW: the hammers run while main leaves by HOW; one block
 * lost, the others held by the hammers. */
static int scen_exit_threads(const char *how)
{
	hammers_start((1u << H_ZONE) | (1u << H_ALIGNED) | (1u << H_LARGE) | (1u << H_DEPOT) | (1u << H_THREADS));
	plant_leak();
	nap_us(150000);
	outf("leaving\n");
	if (!strcmp(how, "exit"))
		exit(3);
	if (!strcmp(how, "_exit"))
		_exit(9);
	if (!strcmp(how, "quick_exit"))
		quick_exit(4);
	if (!strcmp(how, "abort"))
		abort();
	return 7;  /* "return" */
}

/* exit-scan-crash KIND: a big heap, many blocks lost; while the exit leak
 * scan runs (seen as a helper thread's malloc loop standing still: the scan
 * holds every allocator lock and stops the threads it can), a thread that
 * blocks every signal it can (so the scan cannot stop it) faults: KIND null
 * (not ftmalloc's fault) or guard (a LARGE block's guard page). */
#define SCAN_BLOCKS 300000
static void **scan_keep;
static volatile int exiting_now;
static volatile unsigned long helper_ops;
static const char *scan_kind;

static void *scan_helper(void *arg)
{
	(void)arg;
	for (;;) {
		free(malloc(40));
		helper_ops++;
	}
	return NULL;
}

static void *late_fault(void *arg)
{
	sigset_t all;
	char *g = overflow_site(8192);

	(void)arg;
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	while (!exiting_now)
		nap_us(200);
	/* wait for the helper to stand still for 3 ms: the scan is on */
	for (;;) {
		unsigned long before = helper_ops;
		nap_us(3000);
		if (helper_ops == before)
			break;
	}
	(void)!write(2, "marker: faulting now\n", 21);
	if (!strcmp(scan_kind, "guard"))
		fault_read_site(g, 8192 + 32);
	volatile char *volatile nul = NULL;
	*nul = 1;
	return NULL;
}

/* The program's own destructor runs before ftmalloc's (which scans). */
__attribute__((destructor)) static void mark_exit(void)
{
	if (scan_kind)
		(void)!write(2, "marker: exit handlers\n", 22);
	exiting_now = 1;
}

static int scen_exit_scan_crash(const char *kind)
{
	pthread_t t, h;

	scan_kind = kind;
	scan_keep = malloc(SCAN_BLOCKS / 2 * sizeof(void *));
	for (int i = 0; i < SCAN_BLOCKS; i++) {
		void *p = malloc(16 + (size_t)(i % 200));
		if (i % 2 == 0)
			scan_keep[i / 2] = p;  /* half kept, half lost */
	}
	pthread_create(&h, NULL, scan_helper, NULL);
	pthread_create(&t, NULL, late_fault, NULL);
	nap_us(20000);
	outf("leaving\n");
	exit(0);
}

/* ------------------------------------------------------------ output */

static NOINLINE void *out_site(size_t n) { return malloc(n); }
static NOINLINE void out_release(void *p) { free(p); }

static void out_bug(void)
{
	void *p = out_site(56);
	out_release(p);
	out_release(p);  /* double free */
}

/* out HOW: stderr closed / reopened onto a file / a full non-blocking pipe,
 * then a bug; the program goes on and exits with its own status. */
static int scen_out(const char *how, const char *file)
{
	if (!strcmp(how, "stderr-closed")) {
		close(2);
	} else if (!strcmp(how, "stderr-reopened")) {
		close(2);
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd != 2) {
			bad("out-stderr-reopened-setup", "open gave fd %d", fd);
			return 1;
		}
	} else if (!strcmp(how, "stderr-nonblocking-full")) {
		int fl = fcntl(2, F_GETFL);
		fcntl(2, F_SETFL, fl | O_NONBLOCK);
		char fill[4096];
		memset(fill, '.', sizeof(fill));
		fill[sizeof(fill) - 1] = '\n';
		size_t filled = 0;
		for (;;) {
			ssize_t n = write(2, fill, sizeof(fill));
			if (n <= 0)
				break;
			filled += (size_t)n;
		}
		note("%zu bytes filled the pipe", filled);
	}
	out_bug();
	plant_leak();
	outf("continued\n");
	return 6;
}

/* out-log: a bug with log_path set to what run.sh chose; goes on. */
static int scen_out_log(void)
{
	out_bug();
	plant_leak();
	outf("continued\n");
	return 6;
}

/* ------------------------------------------------------------ main */

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s SCENARIO [ARGS]\n", argv0);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(argv[0]);
	const char *s = argv[1];
	if (!strcmp(s, "oom"))
		return scen_oom();
	if (!strcmp(s, "oom-realloc-reserve"))
		return scen_oom_realloc_reserve();
	if (!strcmp(s, "oom-quarantine"))
		return scen_oom_quarantine();
	if (!strcmp(s, "oom-report"))
		return scen_oom_report(0);
	if (!strcmp(s, "oom-report-exit-limited"))
		return scen_oom_report(1);
	if (!strcmp(s, "maplimit"))
		return scen_maplimit();
	if (!strcmp(s, "maplimit-guard"))
		return scen_maplimit_guard();
	if (!strcmp(s, "fork-storm") && argc > 3) {
		if (argc > 4)
			report_pause_us = atol(argv[4]);
		return scen_fork_storm(atoi(argv[2]), (unsigned)strtoul(argv[3], NULL, 0));
	}
	if (!strcmp(s, "spawn") && argc > 2)
		return scen_spawn(atoi(argv[2]));
	if (!strcmp(s, "fork-leak"))
		return scen_fork_leak();
	if (!strcmp(s, "segv-threads-main"))
		return scen_segv_threads(false);
	if (!strcmp(s, "segv-threads-worker"))
		return scen_segv_threads(true);
	if (!strcmp(s, "segv-not-ours"))
		return scen_segv_not_ours();
	if (!strcmp(s, "chain-before-guard"))
		return scen_chain_before_guard();
	if (!strncmp(s, "chain-", 6))
		return scen_chain(s);
	if (!strcmp(s, "exit-threads") && argc > 2)
		return scen_exit_threads(argv[2]);
	if (!strcmp(s, "exit-scan-crash") && argc > 2)
		return scen_exit_scan_crash(argv[2]);
	if (!strcmp(s, "out") && argc > 2)
		return scen_out(argv[2], argc > 3 ? argv[3] : "");
	if (!strcmp(s, "out-log"))
		return scen_out_log();
	return usage(argv[0]);
}
