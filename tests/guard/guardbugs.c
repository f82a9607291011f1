/*
 * guardbugs.c - programs for the guard suite (tests/guard/run.sh): one bug
 * (or one correct allocation pattern) per argument, for guard_all,
 * guard_sample, guard_side, guard_align, check_every and report_signal.
 *
 * Built -O0 -g -fno-builtin; every function that allocates, frees or makes
 * the bad access is noinline, so reports name them and the compiler keeps
 * every bug as written. A program that survives its bug prints "continued"
 * and exits 0; correct programs print "ok: WHAT" and exit 0, or "FAIL: WHY"
 * and exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile char sink;
static void *volatile keep;  /* a block kept alive to the end */

static NOINLINE char *alloc_tiny_malloc(size_t n) { return malloc(n); }
static NOINLINE char *alloc_tiny_calloc(size_t n) { return calloc(1, n); }
static NOINLINE char *alloc_large_malloc(size_t n) { return malloc(n); }
static NOINLINE void release_block(void *p) { free(p); }

static NOINLINE void bug_overflow_read(char *p, long off) { sink = p[off]; }
static NOINLINE void bug_overflow_write(char *p, long off) { p[off] = 'X'; }
/* Read and write back changed: the byte differs whatever canary it held. */
static NOINLINE void bug_overflow_flip(char *p, long off) { p[off] = (char)~p[off]; }
static NOINLINE void bug_underflow_read(char *p) { sink = p[-1]; }
static NOINLINE void bug_underflow_write(char *p) { p[-1] = 'X'; }
static NOINLINE void bug_uaf_read(char *p) { sink = p[0]; }
static NOINLINE void bug_uaf_write(char *p) { p[0] = 'X'; }

static void say(const char *s) { (void)!write(2, s, strlen(s)); }

static int fail(const char *why)
{
	printf("FAIL: %s\n", why);
	return 1;
}

static bool stop_requested(const char *dir)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/stop", dir);
	return stat(path, &st) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- bugs ---- */

/* overflow_read|overflow_write|overflow_flip SIZE OFFSET (flip: into the
 * slack before the guard page, caught by the canary there) */
static int overflow(char how, size_t size, long off)
{
	char *p = alloc_tiny_malloc(size);

	memset(p, 'a', size);
	if (how == 'w')
		bug_overflow_write(p, off);
	else if (how == 'f')
		bug_overflow_flip(p, off);
	else
		bug_overflow_read(p, off);
	puts("continued");
	fflush(stdout);
	release_block(p);
	return 0;
}

static int underflow(bool write, bool large)
{
	char *p = large ? alloc_large_malloc(5001) : alloc_tiny_malloc(13);

	if (write)
		bug_underflow_write(p);
	else
		bug_underflow_read(p);
	puts("continued");
	fflush(stdout);
	release_block(p);
	return 0;
}

static int uaf(bool write, bool calloced)
{
	char *p = calloced ? alloc_tiny_calloc(13) : alloc_tiny_malloc(13);

	release_block(p);
	if (write)
		bug_uaf_write(p);
	else
		bug_uaf_read(p);
	puts("continued");
	return 0;
}

/* sample_overflow N: N 16-byte blocks, each read one byte past its end. */
static int sample_overflow(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = alloc_tiny_malloc(16);
		memset(p, 'b', 16);
		bug_overflow_read(p, 16);
		release_block(p);
	}
	puts("continued");
	return 0;
}

/* check_every: a one-byte overflow of a block never freed, then more calls. */
static int check_every(void)
{
	char *p = alloc_tiny_malloc(13);

	keep = p;
	bug_overflow_flip(p, 13);
	say("marker: before the next malloc\n");
	void *q = malloc(1);
	say("marker: after the next malloc\n");
	for (int i = 0; i < 20; i++)
		free(malloc(24));
	free(q);
	puts("continued");
	return 0;
}

/* ---- correct programs ---- */

static int check_bytes(const unsigned char *p, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

/* clean [unaligned]: allocation patterns that must run without a report;
 * "unaligned": malloc may return pointers below 16-byte alignment
 * (guard_align=1). */
static int clean(bool unaligned)
{
	enum { N = 300 };
	static char *blocks[N];
	size_t sizes[] = { 0, 1, 7, 13, 15, 16, 17, 31, 100, 127, 128, 500, 1000, 1024, 1025, 5001, 8192, 70000 };
	void *zero[4];

	/* malloc of every kind of size, usable size, content */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = malloc(sizes[i]);
		if (!p)
			return fail("malloc returned NULL");
		if (!unaligned && (uintptr_t)p % 16)
			return fail("malloc not 16-byte aligned");
		if (malloc_usable_size(p) != sizes[i])
			return fail("malloc_usable_size is not the requested size");
		memset(p, 0x5a, sizes[i]);
		if (!check_bytes((unsigned char *)p, sizes[i], 0x5a))
			return fail("content changed");
		free(p);
	}
	/* malloc(0): unique pointers */
	for (int i = 0; i < 4; i++)
		if (!(zero[i] = malloc(0)))
			return fail("malloc(0) returned NULL");
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (zero[i] == zero[j])
				return fail("malloc(0) twice the same pointer");
	for (int i = 0; i < 4; i++)
		free(zero[i]);
	/* calloc zeroes, after reuse too */
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			unsigned char *p = calloc(1, sizes[i]);
			if (!p || !check_bytes(p, sizes[i], 0))
				return fail("calloc not zeroed");
			memset(p, 0xee, sizes[i]);
			free(p);
		}
	/* realloc chains: grow byte by byte, then shrink, content kept */
	char *r = NULL;
	for (size_t n = 1; n <= 300; n++) {
		r = realloc(r, n);
		if (!r)
			return fail("realloc returned NULL");
		r[n - 1] = (char)n;
		for (size_t k = 0; k < n; k++)
			if (r[k] != (char)(k + 1))
				return fail("realloc lost content while growing");
	}
	for (size_t n = 300; n >= 1; n -= 7) {
		r = realloc(r, n);
		for (size_t k = 0; k < n; k++)
			if (r[k] != (char)(k + 1))
				return fail("realloc lost content while shrinking");
		if (malloc_usable_size(r) != n)
			return fail("malloc_usable_size after realloc");
		if (n < 8)
			break;
	}
	r = realloc(r, 20000);  /* to LARGE and back */
	r = realloc(r, 5);
	if (r[0] != 1 || r[4] != 5)
		return fail("realloc to LARGE and back lost content");
	if (realloc(r, 0) != NULL)
		return fail("realloc(p, 0) did not return NULL");
	/* memalign family */
	size_t aligns[] = { 8, 16, 32, 64, 128, 256, 1024, 4096, 8192 };
	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
		for (size_t s = 0; s < 4; s++) {
			size_t size = (size_t[]){ 0, 13, 700, 5000 }[s];
			void *p = memalign(aligns[a], size), *q = NULL;
			if (!p || (uintptr_t)p % aligns[a])
				return fail("memalign alignment");
			if (posix_memalign(&q, aligns[a], size) || (uintptr_t)q % aligns[a])
				return fail("posix_memalign alignment");
			void *t = aligned_alloc(aligns[a], size);
			if (!t || (uintptr_t)t % aligns[a])
				return fail("aligned_alloc alignment");
			memset(p, 1, size);
			memset(q, 2, size);
			memset(t, 3, size);
			free(p);
			free(q);
			free(t);
		}
	void *v = valloc(100), *pv = pvalloc(100);
	if ((uintptr_t)v % 4096 || (uintptr_t)pv % 4096)
		return fail("valloc/pvalloc alignment");
	free(v);
	free(pv);
	/* many live blocks of mixed sizes, freed in another order */
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc((size_t)(i * 37) % 1100);
		memset(blocks[i], i & 0xff, (size_t)(i * 37) % 1100);
	}
	for (int i = 0; i < N; i += 2)
		free(blocks[i]);
	for (int i = 1; i < N; i += 2) {
		if (!check_bytes((unsigned char *)blocks[i], (size_t)(i * 37) % 1100, (unsigned char)(i & 0xff)))
			return fail("a live block changed");
		free(blocks[i]);
	}
	/* libc functions that allocate */
	char *d = strdup("guard pages everywhere");
	char *a = NULL;
	if (asprintf(&a, "%s %d", d, 42) < 0 || strcmp(a, "guard pages everywhere 42"))
		return fail("asprintf");
	free(a);
	free(d);
	/* fork: the child allocates and frees, the parent goes on */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 100; i++) {
			char *c = malloc((size_t)i);
			memset(c, 'c', (size_t)i);
			free(c);
		}
		_exit(0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return fail("forked child failed");
	puts("ok: clean");
	return 0;
}

/* many N: N live 24-byte blocks at once (beyond vm.max_map_count under
 * guard_all), content checked, then freed. */
static int many(long n)
{
	char **v = malloc((size_t)n * sizeof(*v));

	if (!v)
		return fail("malloc of the array");
	for (long i = 0; i < n; i++) {
		v[i] = malloc(24);
		if (!v[i])
			return fail("malloc returned NULL");
		memset(v[i], (int)(i & 0xff), 24);
	}
	for (long i = 0; i < n; i++)
		if (!check_bytes((unsigned char *)v[i], 24, (unsigned char)(i & 0xff)))
			return fail("a block changed");
	for (long i = 0; i < n; i++)
		free(v[i]);
	free(v);
	printf("ok: many %ld\n", n);
	return 0;
}

static NOINLINE void *alloc_for_dump(size_t n)
{
	char *p = malloc(n);
	memset(p, 'd', n);
	return p;
}

/* signal_wait DIR: blocks of 77 and 555 bytes live; "ready"; malloc/free
 * until DIR/stop exists (10 s at most). */
static int signal_wait(const char *dir)
{
	void *a = alloc_for_dump(77), *b = alloc_for_dump(555);

	puts("ready");
	fflush(stdout);
	for (int i = 0; i < 5000 && !stop_requested(dir); i++) {
		free(malloc(32));
		sleep_ms(2);
	}
	free(a);
	free(b);
	puts("continued");
	return 0;
}

struct worker {
	const char *dir;
	unsigned seed;
	int bad;
	long ops;
};

/* Random malloc/realloc/free over 64 slots, each block's bytes checked. */
static void *storm_worker(void *arg)
{
	struct worker *w = arg;
	char *slot[64] = { 0 };
	size_t len[64] = { 0 };

	while (!stop_requested(w->dir)) {
		for (int k = 0; k < 2000; k++) {
			unsigned r = rand_r(&w->seed);
			int i = (int)(r % 64);
			if (slot[i] && !check_bytes((unsigned char *)slot[i], len[i], (unsigned char)i)) {
				w->bad = 1;
				return NULL;
			}
			size_t n = (r >> 8) % 3000;
			switch ((r >> 20) % 3) {
			case 0:
				free(slot[i]);
				slot[i] = malloc(n);
				break;
			case 1:
				slot[i] = realloc(slot[i], n ? n : 1);
				if (!n)
					n = 1;
				break;
			default:
				free(slot[i]);
				slot[i] = calloc(1, n);
				break;
			}
			if (!slot[i]) {
				w->bad = 2;
				return NULL;
			}
			len[i] = n;
			memset(slot[i], i, n);
			w->ops++;
		}
	}
	for (int i = 0; i < 64; i++)
		free(slot[i]);
	return NULL;
}

/* signal_storm DIR: 4 threads churning the heap until DIR/stop exists. */
static int signal_storm(const char *dir)
{
	pthread_t t[4];
	struct worker w[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ dir, (unsigned)i * 7919u + 1, 0, 0 };
		if (pthread_create(&t[i], NULL, storm_worker, &w[i]))
			return fail("pthread_create");
	}
	puts("ready");
	fflush(stdout);
	long ops = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (w[i].bad)
			return fail(w[i].bad == 1 ? "a block's content changed" : "allocation failed");
		ops += w[i].ops;
	}
	printf("ok: storm %s\n", ops > 0 ? "ran" : "did nothing");
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	long a = argc > 2 ? atol(argv[2]) : 0, b = argc > 3 ? atol(argv[3]) : 0;

	if (!strcmp(what, "overflow_read"))
		return overflow('r', (size_t)a, b);
	if (!strcmp(what, "overflow_write"))
		return overflow('w', (size_t)a, b);
	if (!strcmp(what, "overflow_flip"))
		return overflow('f', (size_t)a, b);
	if (!strcmp(what, "underflow_read"))
		return underflow(false, false);
	if (!strcmp(what, "underflow_write"))
		return underflow(true, false);
	if (!strcmp(what, "underflow_read_large"))
		return underflow(false, true);
	if (!strcmp(what, "uaf_read"))
		return uaf(false, false);
	if (!strcmp(what, "uaf_write_calloc"))
		return uaf(true, true);
	if (!strcmp(what, "sample_overflow"))
		return sample_overflow(a);
	if (!strcmp(what, "check_every"))
		return check_every();
	if (!strcmp(what, "clean"))
		return clean(argc > 2 && !strcmp(argv[2], "unaligned"));
	if (!strcmp(what, "many"))
		return many(a);
	if (!strcmp(what, "signal_wait") && argc > 2)
		return signal_wait(argv[2]);
	if (!strcmp(what, "signal_storm") && argc > 2)
		return signal_storm(argv[2]);
	fprintf(stderr, "usage: %s overflow_read|overflow_write|overflow_flip SIZE OFF | underflow_read | underflow_write |"
	    " underflow_read_large | uaf_read | uaf_write_calloc | sample_overflow N | check_every |"
	    " clean [unaligned] | many N | signal_wait DIR | signal_storm DIR\n", argv[0]);
	return 2;
}
