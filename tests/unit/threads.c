/*
 * Threads and fork. Runs under LD_PRELOAD=$FTMALLOC_LIB.
 */
#include "harness.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

static unsigned xorshift(unsigned *s)
{
	unsigned x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static size_t live_total(void)
{
	struct ftmalloc_stats st;
	get_stats(&st);
	return sum3(st.live_blocks);
}

/* ---------- blocks freed by another thread ---------- */

enum { XN = 20000 };
static void *xblk[XN];
static size_t xsz[XN];

static size_t x_size(int i)
{
	switch (i % 5) {
	case 0: return (size_t)(i % 128);
	case 1: return 16 + (size_t)(i % 100);
	case 2: return 128 + (size_t)(i % 897);
	case 3: return 1000 + (size_t)(i % 24);
	default: return (i % 100 == 4) ? 1025 + (size_t)i * 3 : 64;
	}
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < XN; i++) {
		xsz[i] = x_size(i);
		xblk[i] = malloc(xsz[i]);
		if (!xblk[i])
			return (void *)1;
		fill_pattern(xblk[i], xsz[i], (unsigned)i);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (int i = 0; i < XN; i++) {
		if (check_pattern(xblk[i], xsz[i], (unsigned)i) != (size_t)-1)
			return (void *)(intptr_t)(i + 1);
		if (i % 7 == 0) { /* realloc in the other thread, then free */
			void *q = realloc(xblk[i], xsz[i] + 500);
			if (!q || check_pattern(q, xsz[i], (unsigned)i) != (size_t)-1)
				return (void *)(intptr_t)(i + 1);
			xblk[i] = q;
		}
		free(xblk[i]);
	}
	return NULL;
}

static void test_cross_thread_free(void)
{
	no_leak_check(); /* libc keeps per-thread data; checked with a tolerance below */
	size_t base = g_ftmalloc ? live_total() : 0;
	for (int round = 0; round < 3; round++) {
		pthread_t a, b;
		void *ra, *rb;
		CHECK(pthread_create(&a, NULL, producer, NULL) == 0, "pthread_create");
		pthread_join(a, &ra);
		CHECK(ra == NULL, "producer thread: malloc failed");
		CHECK(pthread_create(&b, NULL, consumer, NULL) == 0, "pthread_create");
		pthread_join(b, &rb);
		CHECK(rb == NULL, "round %d: block %ld (allocated by another thread) corrupted before its free",
		      round, (long)(intptr_t)rb - 1);
		/* the producer thread is gone; the main thread frees blocks of a dead thread too */
		CHECK(pthread_create(&a, NULL, producer, NULL) == 0, "pthread_create");
		pthread_join(a, &ra);
		CHECK(ra == NULL, "producer thread: malloc failed");
		CHECK(consumer(NULL) == NULL, "main thread: block of a dead thread corrupted");
	}
	if (g_ftmalloc) {
		size_t now = live_total();
		/* allow a little for libc's own per-thread allocations */
		CHECK(now <= base + 16, "after freeing %d blocks across threads, %zu blocks still live (was %zu)",
		      6 * XN, now, base);
		note("live blocks %zu -> %zu", base, now);
	}
}

/* ---------- threads hammering different classes at once ---------- */

struct hammer {
	size_t lo, hi;     /* sizes in [lo, hi] */
	unsigned seed;
	long ops;
	int bad;
	char what[128];
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	enum { K = 256 };
	unsigned char *p[K] = { 0 };
	size_t sz[K] = { 0 };
	unsigned seeds[K] = { 0 };
	unsigned s = h->seed;
	for (long op = 0; op < h->ops; op++) {
		unsigned r = xorshift(&s);
		int i = (int)(r % K);
		if (p[i]) {
			size_t bad = check_pattern(p[i], sz[i], seeds[i]);
			if (bad != (size_t)-1) {
				snprintf(h->what, sizeof h->what, "block of %zu bytes corrupted at %zu", sz[i], bad);
				h->bad = 1;
				return NULL;
			}
		}
		size_t n = h->lo + xorshift(&s) % (h->hi - h->lo + 1);
		switch (r >> 28) {
		case 0: case 1: { /* realloc */
			if (n == 0 && p[i]) { /* realloc(p, 0) frees p and returns NULL */
				if (realloc(p[i], 0) != NULL) {
					snprintf(h->what, sizeof h->what, "realloc(p, 0) did not return NULL");
					h->bad = 1;
					return NULL;
				}
				p[i] = malloc(0);
				break;
			}
			unsigned char *q = realloc(p[i], n);
			if (!q) {
				snprintf(h->what, sizeof h->what, "realloc(%zu) failed", n);
				h->bad = 1;
				return NULL;
			}
			size_t keep = sz[i] < n ? sz[i] : n;
			if (p[i] && check_pattern(q, keep, seeds[i]) != (size_t)-1) {
				snprintf(h->what, sizeof h->what, "realloc %zu -> %zu lost content", sz[i], n);
				h->bad = 1;
				return NULL;
			}
			p[i] = q;
			break;
		}
		case 2: /* calloc */
			free(p[i]);
			p[i] = calloc(1, n);
			for (size_t j = 0; p[i] && j < n; j++)
				if (p[i][j]) {
					snprintf(h->what, sizeof h->what, "calloc(1, %zu) byte %zu not zero", n, j);
					h->bad = 1;
					return NULL;
				}
			break;
		default:
			free(p[i]);
			p[i] = malloc(n);
		}
		if (!p[i]) {
			snprintf(h->what, sizeof h->what, "allocation of %zu bytes failed", n);
			h->bad = 1;
			return NULL;
		}
		sz[i] = n;
		seeds[i] = xorshift(&s);
		fill_pattern(p[i], n, seeds[i]);
	}
	for (int i = 0; i < K; i++)
		free(p[i]);
	return NULL;
}

static void run_hammers(struct hammer *h, int n)
{
	pthread_t t[16];
	for (int i = 0; i < n; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, &h[i]) == 0, "pthread_create");
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++)
		CHECK(!h[i].bad, "thread %d (sizes %zu..%zu): %s", i, h[i].lo, h[i].hi, h[i].what);
}

static void test_two_threads_classes(void)
{
	no_leak_check(); /* libc keeps per-thread data; checked with a tolerance below */
	struct hammer h[2] = {
		{ .lo = 0, .hi = 127, .seed = 1, .ops = 400000 },
		{ .lo = 128, .hi = 1024, .seed = 2, .ops = 200000 },
	};
	size_t base = g_ftmalloc ? live_total() : 0;
	run_hammers(h, 2);
	struct hammer h2[2] = {
		{ .lo = 0, .hi = 127, .seed = 3, .ops = 300000 },
		{ .lo = 1025, .hi = 70000, .seed = 4, .ops = 20000 },
	};
	run_hammers(h2, 2);
	if (g_ftmalloc)
		CHECK(live_total() <= base + 8, "live blocks %zu -> %zu after all threads freed everything", base, live_total());
}

static void test_eight_threads_mixed(void)
{
	no_leak_check(); /* libc keeps per-thread data */
	struct hammer h[8];
	for (int i = 0; i < 8; i++)
		h[i] = (struct hammer){ .lo = 0, .hi = i % 2 ? 2000 : 300, .seed = 10u + (unsigned)i, .ops = 60000 };
	h[7].hi = 200000;
	h[7].ops = 6000;
	run_hammers(h, 8);
}

/* ---------- statistics and show_alloc_mem while threads allocate ---------- */

static void *run_hammer_thread(void *arg)
{
	return hammer(arg);
}

static void test_stats_show_concurrent(void)
{
	REQUIRE_FTMALLOC("ftmalloc_get_stats / show_alloc_mem");
	no_leak_check(); /* libc keeps per-thread data */
	void (*show)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "show_alloc_mem");
	CHECK(show != NULL, "show_alloc_mem not exported");
	struct hammer h[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ .lo = 0, .hi = i == 3 ? 100000 : 1500, .seed = 50u + (unsigned)i,
					.ops = i == 3 ? 20000 : 150000 };
		CHECK(pthread_create(&t[i], NULL, run_hammer_thread, &h[i]) == 0, "pthread_create");
	}
	/* show_alloc_mem output goes to /dev/null; it must neither crash nor deadlock */
	fflush(stdout);
	int saved = dup(1);
	FILE *null = fopen("/dev/null", "w");
	CHECK(null && saved >= 0, "open /dev/null");
	dup2(fileno(null), 1);
	int calls = 0;
	size_t max_live = 0;
	for (int i = 0; i < 200; i++) {
		struct ftmalloc_stats st;
		get_stats(&st);
		size_t live = sum3(st.live_blocks);
		if (live > max_live)
			max_live = live;
		if (i % 10 == 0) {
			show();
			calls++;
		}
		sched_yield();
	}
	dup2(saved, 1);
	close(saved);
	fclose(null);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		CHECK(!h[i].bad, "thread %d: %s", i, h[i].what);
	/* each thread holds at most 256 blocks */
	CHECK(max_live <= 4 * 256 + 64, "ftmalloc_get_stats reported %zu live blocks; the threads hold at most %d",
	      max_live, 4 * 256);
	note("%d show_alloc_mem calls, up to %zu live blocks seen", calls, max_live);
}

/* ---------- fork while other threads allocate ---------- */

static atomic_int stop_flag;

static void *busy(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	void *p[32] = { 0 };
	while (!atomic_load(&stop_flag)) {
		unsigned r = xorshift(&s);
		int i = (int)(r % 32);
		free(p[i]);
		size_t n = (r >> 8) % 8 == 0 ? 1025 + (r >> 12) % 100000 : (r >> 8) % 1100;
		p[i] = malloc(n);
		if (p[i])
			memset(p[i], 1, n);
		if ((r & 0xff) == 0)
			sched_yield();
	}
	for (int i = 0; i < 32; i++)
		free(p[i]);
	return NULL;
}

static void *child_thread(void *arg)
{
	(void)arg;
	void *p = malloc(300);
	void *q = malloc(50000);
	if (!p || !q)
		return (void *)1;
	free(p);
	free(q);
	return NULL;
}

static int child_work(void)
{
	size_t sizes[] = { 0, 16, 100, 127, 128, 1000, 1024, 1025, 5000, 200000, 2 << 20 };
	enum { NS = sizeof sizes / sizeof sizes[0] };
	void *p[NS];
	for (int i = 0; i < NS; i++) {
		p[i] = malloc(sizes[i]);
		if (!p[i])
			return 10;
		fill_pattern(p[i], sizes[i], (unsigned)i);
	}
	for (int i = 0; i < NS; i++) {
		void *q = realloc(p[i], sizes[i] * 2 + 10);
		if (!q || check_pattern(q, sizes[i], (unsigned)i) != (size_t)-1)
			return 11;
		p[i] = q;
	}
	for (int i = 0; i < NS; i++)
		free(p[i]);
	void *c = calloc(100, 100);
	if (!c)
		return 12;
	free(c);
	/* the child can start threads of its own that allocate */
	pthread_t t;
	void *r;
	if (pthread_create(&t, NULL, child_thread, NULL) != 0)
		return 13;
	pthread_join(t, &r);
	if (r)
		return 14;
	return 0;
}

static void test_fork_during_malloc(void)
{
	no_leak_check(); /* libc keeps per-thread data */
	enum { NT = 4, FORKS = 50 };
	pthread_t t[NT];
	for (int i = 0; i < NT; i++)
		CHECK(pthread_create(&t[i], NULL, busy, (void *)(uintptr_t)(i * 7919 + 1)) == 0, "pthread_create");
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	int bad = 0;
	char why[256] = "";
	for (int k = 0; k < FORKS && !bad; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			alarm(5); /* a deadlocked child dies of SIGALRM */
			int rc = child_work();
			exit(rc);
		}
		CHECK(pid > 0, "fork: %s", strerror(errno));
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(st)) {
			bad = 1;
			snprintf(why, sizeof why, "child %d killed by signal %d%s", k, WTERMSIG(st),
				 WTERMSIG(st) == SIGALRM ? " (deadlock: still running after 5 s)" : "");
		} else if (WEXITSTATUS(st) != 0) {
			bad = 1;
			snprintf(why, sizeof why, "child %d exited with status %d", k, WEXITSTATUS(st));
		}
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	CHECK(!bad, "%s", why);
	/* the parent is fine too */
	CHECK(child_work() == 0, "parent's own malloc/realloc/free after the forks");
	note("%d forks", FORKS);
}

static const struct unit_test tests[] = {
	T("threads-cross-thread-free", test_cross_thread_free),
	T("threads-two-classes", test_two_threads_classes),
	T("threads-eight-mixed", test_eight_threads_mixed),
	T("threads-stats-and-show-concurrent", test_stats_show_concurrent),
	T("fork-while-threads-malloc", test_fork_during_malloc),
};

TEST_MAIN(tests)
