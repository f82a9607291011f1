/*
 * bugs.c - the bug programs of the death suite, one per process.
 *
 *     bugs OP ALLOCATOR        run OP on a block from ALLOCATOR, in the main thread
 *     bugs thread OP ALLOCATOR the same, entirely inside a second thread
 *     bugs NAME                one of the special programs (see specials[])
 *
 * ALLOCATOR names one of the alloc_* helpers below: each makes a block of one
 * size class through one API, so that the "allocated by" section of a report
 * can be checked for that function's name. OPs commit one bug each on that
 * block, print "continued" when the program survives the bug, and exit 0 (or 3
 * when an API returned something it must not). Built with -O0 -g -fno-builtin
 * so that the compiler keeps every bug; the accesses are volatile as well.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOI __attribute__((noinline))

/* ---------------------------------------------------------------- helpers */

/* Frees used by the bugs, named so that "freed by" / "detected at" can be checked. */
NOI void release_block(void *p) { free(p); }
NOI void release_again(void *p) { free(p); }
NOI void *realloc_again(void *p, size_t n) { return realloc(p, n); }
NOI size_t usable_again(void *p) { return malloc_usable_size(p); }

static void fill(void *p, size_t n, int c)
{
	volatile char *v = p;
	for (size_t i = 0; i < n; i++)
		v[i] = (char)c;
}

/* The bugs' writes: invert the byte, so that it changes whatever it held
 * (a fixed value could happen to equal a random canary byte). */
static void flip(volatile char *c)
{
	*c = (char)~*c;
}

/* ---- one allocating helper per size class and API; SIZE is what the caller may use ---- */
NOI void *alloc_tiny_malloc(void) { return malloc(13); }
NOI void *alloc_small_malloc(void) { return malloc(1000); }
NOI void *alloc_large_malloc(void) { return malloc(8192); }        /* end flush with the guard */
NOI void *alloc_large_malloc_slack(void) { return malloc(5001); }  /* end in the 16-byte slack */

NOI void *alloc_tiny_calloc(void) { return calloc(1, 13); }
NOI void *alloc_small_calloc(void) { return calloc(10, 100); }
NOI void *alloc_large_calloc(void) { return calloc(512, 16); }
NOI void *alloc_large_calloc_slack(void) { return calloc(1, 5001); }

NOI void *alloc_tiny_realloc_grown(void)
{
	char *p = malloc(5);
	fill(p, 5, 'a');
	return realloc(p, 13);
}
NOI void *alloc_small_realloc_grown(void)
{
	char *p = malloc(200);
	fill(p, 200, 'a');
	return realloc(p, 1000);
}
NOI void *alloc_small_realloc_grown_from_tiny(void)
{
	char *p = malloc(13);
	fill(p, 13, 'a');
	return realloc(p, 1000);
}
NOI void *alloc_large_realloc_grown(void)
{
	char *p = malloc(5000);
	fill(p, 5000, 'a');
	return realloc(p, 8192);
}
NOI void *alloc_large_realloc_grown_from_small(void)
{
	char *p = malloc(1000);
	fill(p, 1000, 'a');
	return realloc(p, 8192);
}
NOI void *alloc_large_realloc_grown_slack(void)
{
	char *p = malloc(2000);
	fill(p, 2000, 'a');
	return realloc(p, 5001);
}
NOI void *alloc_tiny_realloc_shrunk(void)
{
	char *p = malloc(100);
	fill(p, 100, 'a');
	return realloc(p, 13);
}
NOI void *alloc_small_realloc_shrunk(void)
{
	char *p = malloc(1020);
	fill(p, 1020, 'a');
	return realloc(p, 1000);
}
NOI void *alloc_small_realloc_shrunk_from_large(void)
{
	char *p = malloc(5000);
	fill(p, 5000, 'a');
	return realloc(p, 1000);
}
NOI void *alloc_large_realloc_shrunk(void)
{
	char *p = malloc(100000);
	fill(p, 100000, 'a');
	return realloc(p, 8192);
}
NOI void *alloc_large_realloc_shrunk_slack(void)
{
	char *p = malloc(100000);
	fill(p, 100000, 'a');
	return realloc(p, 5001);
}

NOI void *alloc_tiny_memalign(void) { return memalign(64, 13); }
NOI void *alloc_tiny_posix_memalign(void)
{
	void *p = NULL;
	return posix_memalign(&p, 32, 13) == 0 ? p : NULL;
}
NOI void *alloc_small_aligned_alloc(void) { return aligned_alloc(256, 1000); }
NOI void *alloc_small_valloc(void) { return valloc(1000); }
NOI void *alloc_large_memalign(void) { return memalign(4096, 8192); }
NOI void *alloc_large_aligned_alloc(void) { return aligned_alloc(65536, 8192); }
NOI void *alloc_large_posix_memalign_slack(void)
{
	void *p = NULL;
	return posix_memalign(&p, 64, 5001) == 0 ? p : NULL;
}

struct allocator {
	const char *name;
	void *(*fn)(void);
	size_t size;
};
#define A(n, s) { #n, n, s }
static const struct allocator allocators[] = {
	A(alloc_tiny_malloc, 13), A(alloc_small_malloc, 1000),
	A(alloc_large_malloc, 8192), A(alloc_large_malloc_slack, 5001),
	A(alloc_tiny_calloc, 13), A(alloc_small_calloc, 1000),
	A(alloc_large_calloc, 8192), A(alloc_large_calloc_slack, 5001),
	A(alloc_tiny_realloc_grown, 13), A(alloc_small_realloc_grown, 1000),
	A(alloc_small_realloc_grown_from_tiny, 1000), A(alloc_large_realloc_grown, 8192),
	A(alloc_large_realloc_grown_from_small, 8192), A(alloc_large_realloc_grown_slack, 5001),
	A(alloc_tiny_realloc_shrunk, 13), A(alloc_small_realloc_shrunk, 1000),
	A(alloc_small_realloc_shrunk_from_large, 1000), A(alloc_large_realloc_shrunk, 8192),
	A(alloc_large_realloc_shrunk_slack, 5001),
	A(alloc_tiny_memalign, 13), A(alloc_tiny_posix_memalign, 13),
	A(alloc_small_aligned_alloc, 1000), A(alloc_small_valloc, 1000),
	A(alloc_large_memalign, 8192), A(alloc_large_aligned_alloc, 8192),
	A(alloc_large_posix_memalign_slack, 5001),
};

static const struct allocator *find_allocator(const char *name)
{
	for (size_t i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
		if (strcmp(allocators[i].name, name) == 0)
			return &allocators[i];
	return NULL;
}

static char *get_block(const struct allocator *a)
{
	char *p = a->fn();
	if (p == NULL) {
		fprintf(stdout, "%s returned NULL\n", a->name);
		exit(4);
	}
	fill(p, a->size, 'x');
	return p;
}

/* Overwrite this thread's dead stack below us, so that no stale copy of a
 * leaked pointer lingers where a conservative scan could find it. */
NOI void scrub_stack(void)
{
	volatile char buf[32768];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
}

/* Free about total bytes in blocks of size bytes. */
NOI void churn(size_t size, size_t total)
{
	enum { BATCH = 64 };
	void *v[BATCH];
	for (size_t done = 0; done < total; done += size * BATCH) {
		for (int i = 0; i < BATCH; i++)
			v[i] = malloc(size);
		for (int i = 0; i < BATCH; i++)
			free(v[i]);
	}
}

/* Free 10 MB of SMALL blocks of a class no bug block uses (512 bytes) and
 * 10 MB of LARGE blocks (100 of 100 KB, bigger than any bug block): every
 * quarantine (bytes of TINY/SMALL, count of LARGE) is flushed past the bug. */
#define CHURN_BYTES (10u << 20)
NOI void churn_all(void)
{
	churn(512, CHURN_BYTES);
	churn(100 * 1024, CHURN_BYTES);
}

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* -------------------------------------------------------------------- OPs */

/* Write the byte just past the requested size, then free. */
NOI void bug_overflow(const struct allocator *a)
{
	char *p = get_block(a);
	flip(p + a->size);
	printf("written\n");
	fflush(stdout);
	release_block(p);
	printf("continued\n");
}

/* Write the byte just past the requested size, then realloc (bigger). */
NOI void bug_overflow_realloc(const struct allocator *a)
{
	char *p = get_block(a);
	flip(p + a->size);
	char *q = realloc_again(p, a->size * 2 + 100);
	printf("continued\n");
	free(q);
}

/* Write the byte just past the requested size of a block kept in a global
 * until exit: the damage must be found at exit. */
static char *kept_block;
NOI void bug_overflow_kept(const struct allocator *a)
{
	kept_block = get_block(a);
	flip(kept_block + a->size);
	printf("continued\n");
}

/* Write the byte just before the block, then free. */
NOI void bug_underflow(const struct allocator *a)
{
	char *p = get_block(a);
	flip(p - 1);
	printf("written\n");
	fflush(stdout);
	release_block(p);
	printf("continued\n");
}

/* Write the byte before the page holding the start of the block: for a
 * LARGE block, the last byte of the lower guard page. */
NOI void bug_underflow_page(const struct allocator *a)
{
	char *p = get_block(a);
	volatile char *q = (char *)((uintptr_t)p & ~(uintptr_t)(page() - 1)) - 1;
	flip(q);
	printf("written\n");
	fflush(stdout);
	release_block(p);
	printf("continued\n");
}

/* Free, then write inside the block; the program then returns from main
 * (the damage must be found at exit at the latest). */
NOI void bug_uaf_write(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	flip(p + 3);
	printf("continued\n");
}

/* Free, write inside, then free 10 MB of other blocks and leave with _exit:
 * the damage must be found when the block leaves quarantine. */
NOI void bug_uaf_write_evict(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	flip(p + 3);
	churn_all();
	printf("continued\n");
	fflush(stdout);
	_exit(0);
}

/* Free, then read from the block. */
NOI void bug_uaf_read(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	char c = ((volatile char *)p)[100];
	printf("read %d\n", c);
	printf("continued\n");
}

NOI void bug_double_free(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	release_again(p);
	printf("continued\n");
}

/* Double free with other blocks of every class allocated (and kept) in between. */
NOI void bug_double_free_between(const struct allocator *a)
{
	void *keep[16];
	char *p = get_block(a);
	release_block(p);
	for (int i = 0; i < 16; i += 4) {
		keep[i] = malloc(13);
		keep[i + 1] = malloc(a->size);
		keep[i + 2] = malloc(1000);
		keep[i + 3] = malloc(5000);
	}
	release_again(p);
	for (int i = 0; i < 16; i++)
		free(keep[i]);
	printf("continued\n");
}

/* Double free after 10 MB of other frees: the block has left quarantine. */
NOI void bug_double_free_evict(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	churn_all();
	release_again(p);
	printf("continued\n");
}

/* free(p + 5): invalid; then the real free, which must work. */
NOI void bug_free_interior(const struct allocator *a)
{
	char *p = get_block(a);
	release_again(p + 5);
	printf("continued\n");
	release_block(p);
}

/* realloc(p + 5): invalid, must return NULL; the block stays usable. */
NOI void bug_realloc_interior(const struct allocator *a)
{
	char *p = get_block(a);
	void *q = realloc_again(p + 5, 64);
	if (q != NULL) {
		printf("realloc of an interior pointer returned %p\n", q);
		exit(3);
	}
	fill(p, a->size, 'y');
	printf("continued\n");
	release_block(p);
}

/* realloc of a freed block: reported, returns NULL. */
NOI void bug_realloc_freed(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	void *q = realloc_again(p, 64);
	if (q != NULL) {
		printf("realloc of a freed pointer returned %p\n", q);
		exit(3);
	}
	printf("continued\n");
}

/* Allocate, drop the only pointer; main returns and the exit check runs. */
NOI void bug_leak(const struct allocator *a)
{
	char *volatile p = get_block(a);
	p = NULL;
	(void)p;
	scrub_stack();
	printf("continued\n");
}

/* The same without scrubbing any stack: stale copies of the pointer stay in
 * dead stack memory (this thread's below its frames; a joined thread's
 * whole stack), which is no root. */
NOI void bug_leak_unscrubbed(const struct allocator *a)
{
	char *volatile p = get_block(a);
	p = NULL;
	(void)p;
	printf("continued\n");
}

/* malloc_usable_size of an interior pointer, then of a freed block. */
NOI void bug_usable_interior(const struct allocator *a)
{
	char *p = get_block(a);
	size_t n = usable_again(p + 5);
	printf("usable %zu\n", n);
	printf("continued\n");
	release_block(p);
}
NOI void bug_usable_freed(const struct allocator *a)
{
	char *p = get_block(a);
	release_block(p);
	size_t n = usable_again(p);
	printf("usable %zu\n", n);
	printf("continued\n");
}

struct op {
	const char *name;
	void (*fn)(const struct allocator *);
};
static const struct op ops[] = {
	{ "overflow", bug_overflow },
	{ "overflow_realloc", bug_overflow_realloc },
	{ "overflow_kept", bug_overflow_kept },
	{ "usable_interior", bug_usable_interior },
	{ "usable_freed", bug_usable_freed },
	{ "underflow", bug_underflow },
	{ "underflow_page", bug_underflow_page },
	{ "uaf_write", bug_uaf_write },
	{ "uaf_write_evict", bug_uaf_write_evict },
	{ "uaf_read", bug_uaf_read },
	{ "double_free", bug_double_free },
	{ "double_free_between", bug_double_free_between },
	{ "double_free_evict", bug_double_free_evict },
	{ "free_interior", bug_free_interior },
	{ "realloc_interior", bug_realloc_interior },
	{ "realloc_freed", bug_realloc_freed },
	{ "leak", bug_leak },
	{ "leak_unscrubbed", bug_leak_unscrubbed },
};

/* ------------------------------------------------------- special programs */

static int global_int = 42;
static char global_buf[64];

NOI void bug_free_stack(void)
{
	char local[32];
	fill(local, sizeof(local), 's');
	release_again(local);
	printf("continued\n");
}

NOI void bug_free_global(void)
{
	release_again(&global_int);
	printf("continued\n");
}

/* A pointer into the middle of no block at all, and not 16-byte aligned. */
NOI void bug_free_misaligned_global(void)
{
	release_again(global_buf + 3);
	printf("continued\n");
}

/* A pointer 1 byte into a live TINY block: misaligned for any block start. */
NOI void bug_free_misaligned_heap(void)
{
	char *p = get_block(find_allocator("alloc_tiny_malloc"));
	release_again(p + 1);
	printf("continued\n");
	release_block(p);
}

/* Memory the program mapped itself. */
NOI void bug_free_mmap(void)
{
	char *p = mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(4);
	release_again(p + 64);
	printf("continued\n");
}

NOI void bug_usable_stack(void)
{
	char local[32];
	fill(local, sizeof(local), 's');
	size_t n = usable_again(local);
	printf("usable %zu\n", n);
	printf("continued\n");
}

NOI void bug_realloc_stack(void)
{
	char local[32];
	fill(local, sizeof(local), 's');
	void *q = realloc_again(local, 64);
	if (q != NULL) {
		printf("realloc of a stack pointer returned %p\n", q);
		exit(3);
	}
	printf("continued\n");
}

/* A block allocated and freed by another thread, then written by main. */
static void *alloc_and_free_in_thread(void *arg)
{
	const struct allocator *a = arg;
	char *p = get_block(a);
	release_block(p);
	return p;
}

static char *freed_by_thread(const char *alloc)
{
	pthread_t t;
	void *ret;
	pthread_create(&t, NULL, alloc_and_free_in_thread, (void *)find_allocator(alloc));
	pthread_join(t, &ret);
	return ret;
}

NOI void bug_uaf_cross_thread_tiny(void)
{
	char *p = freed_by_thread("alloc_tiny_malloc");
	flip(p + 3);
	printf("continued\n");
}

NOI void bug_uaf_cross_thread_large(void)
{
	char *p = freed_by_thread("alloc_large_malloc");
	flip(p + 100);
	printf("continued\n");
}

NOI void bug_double_free_cross_thread(void)
{
	char *p = freed_by_thread("alloc_small_malloc");
	release_again(p);
	printf("continued\n");
}

/* Allocated in a thread, overflowed and freed by main. */
static void *just_alloc(void *arg) { return get_block(arg); }
NOI void bug_overflow_alloc_in_thread(void)
{
	pthread_t t;
	void *ret;
	const struct allocator *a = find_allocator("alloc_small_calloc");
	pthread_create(&t, NULL, just_alloc, (void *)a);
	pthread_join(t, &ret);
	char *p = ret;
	flip(p + a->size);
	release_block(p);
	printf("continued\n");
}

/* A true leak while another thread, still running at exit, holds a bigger
 * block on its stack: the leak is reported, the held block is not (it would
 * come first: groups are printed largest first). */
static pthread_mutex_t hold_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_c = PTHREAD_COND_INITIALIZER;
static int holding;
static void *hold_on_stack(void *arg)
{
	(void)arg;
	char *volatile mine = malloc(5000);
	fill(mine, 5000, 'h');
	pthread_mutex_lock(&hold_m);
	holding = 1;
	pthread_cond_broadcast(&hold_c);
	pthread_mutex_unlock(&hold_m);
	for (;;)
		pause();
	return NULL;
}
NOI void bug_leak_with_thread_alive(void)
{
	pthread_t t;
	pthread_create(&t, NULL, hold_on_stack, NULL);
	pthread_mutex_lock(&hold_m);
	while (!holding)
		pthread_cond_wait(&hold_c, &hold_m);
	pthread_mutex_unlock(&hold_m);
	bug_leak(find_allocator("alloc_tiny_malloc"));
}

/* No bug at all: what the self-test row runs. */
NOI void clean(void)
{
	char *p = get_block(find_allocator("alloc_tiny_malloc"));
	char *q = get_block(find_allocator("alloc_large_malloc"));
	release_block(p);
	release_block(q);
	printf("continued\n");
}

/* Where malloc comes from: the suite checks that LD_PRELOAD took effect. */
NOI void allocator(void)
{
	Dl_info info;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	if (m != NULL && dladdr(m, &info) && info.dli_fname != NULL)
		printf("%s\n", info.dli_fname);
	else
		printf("unknown\n");
	exit(0);
}

struct special {
	const char *name;
	void (*fn)(void);
};
static const struct special specials[] = {
	{ "clean", clean },
	{ "allocator", allocator },
	{ "free_stack", bug_free_stack },
	{ "free_global", bug_free_global },
	{ "free_misaligned_global", bug_free_misaligned_global },
	{ "free_misaligned_heap", bug_free_misaligned_heap },
	{ "free_mmap", bug_free_mmap },
	{ "realloc_stack", bug_realloc_stack },
	{ "usable_stack", bug_usable_stack },
	{ "uaf_cross_thread_tiny", bug_uaf_cross_thread_tiny },
	{ "uaf_cross_thread_large", bug_uaf_cross_thread_large },
	{ "double_free_cross_thread", bug_double_free_cross_thread },
	{ "overflow_alloc_in_thread", bug_overflow_alloc_in_thread },
	{ "leak_with_thread_alive", bug_leak_with_thread_alive },
};

/* ------------------------------------------------------------------ main */

struct job {
	const struct op *op;
	const struct allocator *a;
};
static void *run_job(void *arg)
{
	struct job *j = arg;
	j->op->fn(j->a);
	if (j->op->fn != bug_leak_unscrubbed)
		scrub_stack();
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: bugs [thread] OP ALLOCATOR | bugs SPECIAL\nops:");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		fprintf(stderr, " %s", ops[i].name);
	fprintf(stderr, "\nallocators:");
	for (size_t i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
		fprintf(stderr, " %s", allocators[i].name);
	fprintf(stderr, "\nspecials:");
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		fprintf(stderr, " %s", specials[i].name);
	fprintf(stderr, "\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* the main thread allocates first: it is thread T0, any other one is not */
	free(malloc(1));
	setvbuf(stdout, NULL, _IOLBF, 0);

	int in_thread = argc > 1 && strcmp(argv[1], "thread") == 0;
	argv += in_thread;
	argc -= in_thread;
	if (argc == 2 && !in_thread) {
		for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
			if (strcmp(specials[i].name, argv[1]) == 0) {
				specials[i].fn();
				scrub_stack();
				printf("done\n");
				return 0;
			}
		return usage();
	}
	if (argc != 3)
		return usage();
	struct job j = { NULL, find_allocator(argv[2]) };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, argv[1]) == 0)
			j.op = &ops[i];
	if (j.op == NULL || j.a == NULL)
		return usage();
	if (in_thread) {
		pthread_t t;
		if (pthread_create(&t, NULL, run_job, &j) != 0)
			return 5;
		pthread_join(t, NULL);
	} else {
		j.op->fn(j.a);
	}
	if (j.op->fn != bug_leak_unscrubbed)
		scrub_stack();
	printf("done\n");
	return 0;
}
