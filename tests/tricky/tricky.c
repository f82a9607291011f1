/*
 * tricky.c - correct programs that are hard on a debugging malloc: each must
 * run under ftmalloc without a single "ftmalloc:" line, exit 0 and print the
 * one line run.sh expects. "tricky NAME" runs one of them.
 *
 * Built with -O0 -g -fno-builtin so that every call reaches the allocator.
 * Nothing here leaks: what is not freed stays reachable (a global, a static,
 * TLS, a list from a global) on purpose, and that is the point of the test.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <locale.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define NOI __attribute__((noinline))

static int failures;
#define CHECK(c) do { if (!(c)) { failures++; \
	fprintf(stderr, "check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); } } while (0)

static void fill(void *p, size_t n, int c)
{
	volatile unsigned char *v = p;
	for (size_t i = 0; i < n; i++)
		v[i] = (unsigned char)c;
}

static int all_are(const void *p, size_t n, int c)
{
	const volatile unsigned char *v = p;
	for (size_t i = 0; i < n; i++)
		if (v[i] != (unsigned char)c)
			return 0;
	return 1;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A temporary directory of our own, removed by the caller. */
static char tmpdir[PATH_MAX];
static void make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/ftm-tricky-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
}

/* --------------------------------------------------------------- the API */

static int t_zero_sizes(void)
{
	void *a = malloc(0), *b = malloc(0);
	CHECK(a != NULL && b != NULL && a != b);
	free(a);
	free(b);
	void *c = calloc(0, 16), *d = calloc(16, 0), *e = calloc(0, 0);
	CHECK(c && d && e);
	free(c);
	free(d);
	free(e);
	void *r = realloc(NULL, 0);     /* like malloc(0) */
	free(r);
	char *p = malloc(100);
	fill(p, 100, 1);
	void *q = realloc(p, 0);        /* glibc: frees p, returns NULL */
	free(q);
	for (size_t n = 0; n < 64; n++) {
		char *s = malloc(n);
		fill(s, n, 'z');
		s = realloc(s, 0);
		free(s);
	}
	free(NULL);
	void *m = NULL;
	CHECK(posix_memalign(&m, 64, 0) == 0);
	free(m);
	m = memalign(64, 0);
	free(m);
	m = reallocarray(NULL, 0, 8);
	free(m);
	printf("zero-sizes: ok\n");
	return 0;
}

static int t_realloc_chains(void)
{
	/* grow one byte ... 300 KB by ~1.3x steps, checking the old contents each time */
	size_t n = 1;
	unsigned char *p = malloc(n);
	p[0] = 0;
	unsigned steps = 0;
	while (n < 300000) {
		size_t m = n + n / 3 + 1;
		p = realloc(p, m);
		CHECK(p != NULL);
		for (size_t i = 0; i < n; i++)
			if (p[i] != (unsigned char)(i * 7)) {
				CHECK(!"grow lost data");
				break;
			}
		for (size_t i = 0; i < m; i++)
			p[i] = (unsigned char)(i * 7);
		n = m;
		steps++;
	}
	/* and back down */
	while (n > 1) {
		size_t m = n * 2 / 3;
		p = realloc(p, m);
		CHECK(p != NULL);
		for (size_t i = 0; i < m; i++)
			if (p[i] != (unsigned char)(i * 7)) {
				CHECK(!"shrink lost data");
				break;
			}
		n = m;
		steps++;
	}
	free(p);
	/* random chains across every class, with reallocarray */
	enum { K = 64 };
	unsigned char *v[K] = { 0 };
	size_t len[K] = { 0 };
	for (int round = 0; round < 20000; round++) {
		int k = (int)(rnd() % K);
		size_t m;
		switch (rnd() % 4) {
		case 0: m = rnd() % 128; break;
		case 1: m = 128 + rnd() % 900; break;
		case 2: m = 1025 + rnd() % 20000; break;
		default: m = rnd() % 70000; break;
		}
		unsigned char *q = rnd() % 2 ? realloc(v[k], m) : reallocarray(v[k], m, 1);
		if (m == 0 && q == NULL) {
			v[k] = NULL;
			len[k] = 0;
			continue;
		}
		CHECK(q != NULL);
		size_t keep = len[k] < m ? len[k] : m;
		for (size_t i = 0; i < keep; i++)
			if (q[i] != (unsigned char)(k + i)) {
				CHECK(!"realloc lost data");
				break;
			}
		for (size_t i = keep; i < m; i++)
			q[i] = (unsigned char)(k + i);
		v[k] = q;
		len[k] = m;
	}
	for (int k = 0; k < K; k++)
		free(v[k]);
	printf("realloc-chains: %u steps ok\n", steps);
	return 0;
}

static int t_usable_size(void)
{
	/* every byte malloc_usable_size promises may be written */
	size_t sizes[] = { 4095, 4096, 4097, 5000, 8191, 8192, 8193, 65536, 100000, 1 << 20 };
	unsigned n = 0;
	for (size_t s = 0; s <= 2100; s++) {
		unsigned char *p = malloc(s);
		size_t u = malloc_usable_size(p);
		CHECK(u >= s);
		fill(p, u, 0xa5);
		p = realloc(p, s + 3);
		u = malloc_usable_size(p);
		fill(p, u, 0x5a);
		free(p);
		unsigned char *c = calloc(1, s);
		u = malloc_usable_size(c);
		CHECK(u >= s);
		CHECK(all_are(c, s, 0));
		fill(c, u, 0x33);
		free(c);
		n++;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]);
		size_t u = malloc_usable_size(p);
		CHECK(u >= sizes[i]);
		fill(p, u, 0xa5);
		free(p);
		void *m = NULL;
		CHECK(posix_memalign(&m, 256, sizes[i]) == 0);
		u = malloc_usable_size(m);
		CHECK(u >= sizes[i]);
		fill(m, u, 0x11);
		free(m);
		n++;
	}
	/* shrink in place, then write the new usable size */
	unsigned char *p = malloc(1000);
	p = realloc(p, 10);
	fill(p, malloc_usable_size(p), 1);
	free(p);
	CHECK(malloc_usable_size(NULL) == 0);
	printf("usable-size: %u sizes ok\n", n);
	return 0;
}

static int t_huge_alignment(void)
{
	size_t aligns[] = { 1 << 20, 2 << 20, 4 << 20 };
	size_t sizes[] = { 1, 100, 1000, 5000, 1 << 20, (3 << 20) + 7 };
	unsigned n = 0;
	void *keep[3 * 6];
	for (size_t a = 0; a < 3; a++)
		for (size_t s = 0; s < 6; s++) {
			void *p = NULL;
			CHECK(posix_memalign(&p, aligns[a], sizes[s]) == 0);
			CHECK(((uintptr_t)p & (aligns[a] - 1)) == 0);
			fill(p, sizes[s], 0x42);
			keep[n++] = p;
		}
	/* all alive at once, then checked and freed */
	n = 0;
	for (size_t a = 0; a < 3; a++)
		for (size_t s = 0; s < 6; s++) {
			CHECK(all_are(keep[n], sizes[s], 0x42));
			free(keep[n++]);
		}
	void *p = aligned_alloc(1 << 20, 1 << 20);
	CHECK(p && ((uintptr_t)p & ((1 << 20) - 1)) == 0);
	fill(p, 1 << 20, 1);
	p = realloc(p, 3 << 20);
	CHECK(p && all_are(p, 1 << 20, 1));
	free(p);
	printf("huge-alignment: %u blocks ok\n", n);
	return 0;
}

static int t_aligned_many(void)
{
	unsigned n = 0;
	for (size_t a = 1; a <= 65536; a <<= 1)
		for (size_t k = 1; k <= 3; k++) {
			size_t s = a * k;
			char *p = aligned_alloc(a, s);
			CHECK(p && ((uintptr_t)p & (a - 1)) == 0);
			fill(p, s, 'a');
			char *q = memalign(a, k * 7);
			CHECK(q && ((uintptr_t)q & (a - 1)) == 0);
			fill(q, k * 7, 'm');
			void *r = NULL;
			if (a >= sizeof(void *)) {
				CHECK(posix_memalign(&r, a, s + 3) == 0);
				CHECK(((uintptr_t)r & (a - 1)) == 0);
				fill(r, s + 3, 'p');
			}
			/* realloc of an aligned block keeps its contents */
			q = realloc(q, k * 7 + 5000);
			CHECK(q && all_are(q, k * 7, 'm'));
			CHECK(all_are(p, s, 'a'));
			free(p);
			free(q);
			free(r);
			n++;
		}
	long pg = sysconf(_SC_PAGESIZE);
	char *v = valloc(10);
	CHECK(v && ((uintptr_t)v % (uintptr_t)pg) == 0);
	fill(v, 10, 1);
	char *w = pvalloc(10);
	CHECK(w && ((uintptr_t)w % (uintptr_t)pg) == 0);
	fill(w, (size_t)pg, 1);  /* pvalloc rounds the size up to a page */
	free(v);
	free(w);
	printf("aligned-many: %u alignment/size pairs ok\n", n);
	return 0;
}

static int t_calloc_zeroed(void)
{
	/* dirty every class, free, then calloc the same sizes: all zero */
	size_t sizes[] = { 1, 13, 16, 100, 127, 128, 500, 1000, 1024, 1025, 5000, 8192, 70000 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	for (int round = 0; round < 20; round++) {
		void *p[N];
		for (int i = 0; i < N; i++) {
			p[i] = malloc(sizes[i]);
			fill(p[i], sizes[i], 0xff);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
		for (int i = 0; i < N; i++) {
			p[i] = calloc(sizes[i], 1);
			CHECK(all_are(p[i], sizes[i], 0));
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
	}
	char *big = calloc(1, 10 << 20);
	CHECK(big && all_are(big, 10 << 20, 0));
	free(big);
	printf("calloc-zeroed: ok\n");
	return 0;
}

static int t_frees_everything(void)
{
	enum { K = 4096 };
	static void *v[K];
	static size_t len[K];
	uint64_t sum = 0;
	for (int op = 0; op < 200000; op++) {
		int k = (int)(rnd() % K);
		if (v[k]) {
			unsigned char *p = v[k];
			sum += p[0] + p[len[k] - 1];
			free(v[k]);
			v[k] = NULL;
		} else {
			size_t n = rnd() % 16 == 0 ? 1025 + rnd() % 30000 : 1 + rnd() % 1024;
			unsigned char *p = rnd() % 3 == 0 ? calloc(1, n) : malloc(n);
			p[0] = (unsigned char)k;
			p[n - 1] = (unsigned char)(k >> 3);
			v[k] = p;
			len[k] = n;
		}
	}
	for (int k = 0; k < K; k++)
		if (v[k]) {
			free(v[k]);
			v[k] = NULL;
		}
	printf("frees-everything: ok (%s)\n", sum ? "nonzero" : "zero");
	return 0;
}

/* ---------------------------------------------------------------- threads */

/* Threads free each other's blocks: producers hand blocks to consumers. */
enum { QN = 256 };
static struct {
	pthread_mutex_t m;
	pthread_cond_t c;
	void *q[QN];
	unsigned head, tail;
	unsigned done;
} queue = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, 0 };

static void *producer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	for (unsigned i = 0; i < 20000; i++) {
		size_t n = 1 + (i * 37 + id * 11) % (i % 50 == 0 ? 20000 : 1000);
		unsigned char *p = malloc(n);
		p[0] = (unsigned char)n;
		p[n - 1] = (unsigned char)id;
		pthread_mutex_lock(&queue.m);
		while (queue.tail - queue.head == QN)
			pthread_cond_wait(&queue.c, &queue.m);
		queue.q[queue.tail++ % QN] = p;
		pthread_cond_broadcast(&queue.c);
		pthread_mutex_unlock(&queue.m);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	unsigned long *count = arg;
	for (;;) {
		pthread_mutex_lock(&queue.m);
		while (queue.tail == queue.head && !queue.done)
			pthread_cond_wait(&queue.c, &queue.m);
		if (queue.tail == queue.head && queue.done) {
			pthread_mutex_unlock(&queue.m);
			return NULL;
		}
		void *p = queue.q[queue.head++ % QN];
		queue.q[(queue.head - 1) % QN] = NULL;
		pthread_cond_broadcast(&queue.c);
		pthread_mutex_unlock(&queue.m);
		free(p);
		(*count)++;
	}
}

static int t_cross_thread_free(void)
{
	pthread_t pr[3], co[3];
	unsigned long counts[3] = { 0 };
	for (uintptr_t i = 0; i < 3; i++) {
		pthread_create(&pr[i], NULL, producer, (void *)i);
		pthread_create(&co[i], NULL, consumer, &counts[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(pr[i], NULL);
	pthread_mutex_lock(&queue.m);
	queue.done = 1;
	pthread_cond_broadcast(&queue.c);
	pthread_mutex_unlock(&queue.m);
	for (int i = 0; i < 3; i++)
		pthread_join(co[i], NULL);
	printf("cross-thread-free: %lu blocks ok\n", counts[0] + counts[1] + counts[2]);
	return 0;
}

/* Many short threads, created and joined: their DTVs, stacks and caches. */
static void *short_thread(void *arg)
{
	char *p = malloc(100 + (uintptr_t)arg % 900);
	fill(p, 100, 1);
	char *s = strdup("thread");
	free(p);
	free(s);
	return NULL;
}

static int t_many_threads(void)
{
	for (uintptr_t round = 0; round < 50; round++) {
		pthread_t t[8];
		for (uintptr_t i = 0; i < 8; i++)
			CHECK(pthread_create(&t[i], NULL, short_thread, (void *)(round * 8 + i)) == 0);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
	}
	/* detached ones too */
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (uintptr_t i = 0; i < 16; i++) {
		pthread_t t;
		CHECK(pthread_create(&t, &at, short_thread, (void *)i) == 0);
	}
	pthread_attr_destroy(&at);
	usleep(200000);
	printf("many-threads: 416 threads ok\n");
	return 0;
}

/* Thread-specific data destructors free the threads' blocks. */
static pthread_key_t key;
static unsigned long destructed;
static pthread_mutex_t dm = PTHREAD_MUTEX_INITIALIZER;
static __thread char *tls_buf;

static void destroy(void *v)
{
	free(v);
	pthread_mutex_lock(&dm);
	destructed++;
	pthread_mutex_unlock(&dm);
}

static void *tsd_thread(void *arg)
{
	(void)arg;
	char *p = malloc(64);
	strcpy(p, "tsd");
	pthread_setspecific(key, p);
	tls_buf = malloc(200);   /* a TLS pointer, freed by the thread itself */
	fill(tls_buf, 200, 1);
	free(tls_buf);
	tls_buf = NULL;
	return NULL;
}

static int t_tls_destructors(void)
{
	pthread_key_create(&key, destroy);
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, tsd_thread, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	pthread_key_delete(key);
	printf("tls-destructors: %lu destructors ran\n", destructed);
	return 0;
}

/* fork() while other threads allocate; the child allocates and _exits. */
static volatile int stop_workers;
static void *busy_worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	void *v[32] = { 0 };
	unsigned i = 0;
	while (!stop_workers) {
		unsigned k = i++ % 32;
		free(v[k]);
		v[k] = malloc(1 + (k * 97 + id) % (k % 8 == 0 ? 9000 : 1000));
	}
	for (int k = 0; k < 32; k++)
		free(v[k]);
	return NULL;
}

static int child_work(void)
{
	int bad = 0;
	char *s = NULL;
	for (int i = 0; i < 200; i++) {
		char *p = malloc((size_t)(1 + i * 50));
		fill(p, (size_t)(1 + i * 50), 'c');
		p = realloc(p, (size_t)(2 + i * 70));
		free(p);
	}
	if (asprintf(&s, "child %d", (int)getpid()) < 0)
		bad = 1;
	free(s);
	pthread_t t;
	if (pthread_create(&t, NULL, short_thread, (void *)1) != 0)
		bad = 1;
	else
		pthread_join(t, NULL);
	return bad;
}

static int t_fork_threads(void)
{
	pthread_t w[3];
	for (uintptr_t i = 0; i < 3; i++)
		pthread_create(&w[i], NULL, busy_worker, (void *)i);
	int ok = 0;
	fflush(stdout);
	for (int i = 0; i < 20; i++) {
		usleep(2000);
		pid_t pid = fork();
		if (pid == 0)
			_exit(child_work());
		int st;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	stop_workers = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	printf("fork-threads: %d children ok\n", ok);
	return 0;
}

/* fork() with threads that hold their blocks in globals; the child exits
 * normally (exit handlers, leak check and all). */
static void *held[3][16];
static pthread_barrier_t bar;
static void *holding_worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	for (int k = 0; k < 16; k++) {
		held[id][k] = malloc(10 + (size_t)k * 300);
		fill(held[id][k], 10, 'h');
	}
	pthread_barrier_wait(&bar);   /* everything allocated */
	pthread_barrier_wait(&bar);   /* the children are done */
	for (int k = 0; k < 16; k++) {
		free(held[id][k]);
		held[id][k] = NULL;
	}
	return NULL;
}

static char *child_global;
static int t_fork_threads_exit(void)
{
	pthread_t w[3];
	pthread_barrier_init(&bar, NULL, 4);
	for (uintptr_t i = 0; i < 3; i++)
		pthread_create(&w[i], NULL, holding_worker, (void *)i);
	pthread_barrier_wait(&bar);
	int ok = 0;
	fflush(stdout);
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int bad = child_work();
			child_global = malloc(77);   /* reachable at the child's exit */
			fill(child_global, 77, 'g');
			exit(bad);
		}
		int st;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	pthread_barrier_destroy(&bar);
	printf("fork-threads-exit: %d children ok\n", ok);
	return 0;
}

/* -------------------------------------------------------------- libc users */

static int vformat(char **out, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vasprintf(out, f, ap);
	va_end(ap);
	return n;
}

static int t_strings(void)
{
	unsigned long total = 0;
	for (int i = 0; i < 2000; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "string number %d", i);
		char *a = strdup(buf);
		char *b = strndup(buf, (size_t)(i % 20));
		char *c = NULL, *d = NULL;
		CHECK(asprintf(&c, "%s/%s/%0*d", a, b, i % 300, i) >= 0);
		CHECK(vformat(&d, "%s|%zu|%.*f", c, strlen(c), i % 10, i / 7.0) >= 0);
		total += strlen(a) + strlen(b) + strlen(c) + strlen(d);
		free(a);
		free(b);
		free(c);
		free(d);
	}
	wchar_t *w = wcsdup(L"wide string");
	CHECK(wcslen(w) == 11);
	free(w);
	char *mem = NULL;
	size_t memlen = 0;
	FILE *ms = open_memstream(&mem, &memlen);
	for (int i = 0; i < 10000; i++)
		fprintf(ms, "%d,", i);
	fclose(ms);
	CHECK(memlen == 48890);
	free(mem);
	printf("strings: %lu chars ok\n", total);
	return 0;
}

static int t_getline(void)
{
	make_tmpdir();
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/lines", tmpdir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	unsigned long expect = 0;
	for (int i = 0; i < 3000; i++) {
		int len = (i * 131) % (i % 100 == 0 ? 20000 : 300);
		for (int j = 0; j < len; j++)
			fputc('a' + (i + j) % 26, f);
		fputc('\n', f);
		expect += (unsigned long)len + 1;
	}
	fclose(f);
	f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long got = 0, lines = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		got += (unsigned long)n;
		lines++;
	}
	free(line);
	line = NULL;
	cap = 0;
	rewind(f);
	unsigned long fields = 0;
	while (getdelim(&line, &cap, 'a', f) > 0)
		fields++;
	free(line);
	fclose(f);
	unlink(path);
	rmdir(tmpdir);
	CHECK(got == expect);
	printf("getline: %lu lines, %s\n", lines, got == expect ? "sizes ok" : "sizes WRONG");
	return 0;
}

static int t_stdio(void)
{
	make_tmpdir();
	char path[PATH_MAX + 16];
	unsigned long sum = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "%s/f%d", tmpdir, i % 7);
		FILE *f = fopen(path, i % 2 ? "a" : "w");
		CHECK(f != NULL);
		if (i % 3 == 0)
			setvbuf(f, NULL, _IOFBF, 1 << 16);
		for (int j = 0; j < 100; j++)
			fprintf(f, "%d %s %f\n", j, "text", j / 3.0);
		fclose(f);
		f = fopen(path, "r");
		char buf[256];
		while (fgets(buf, sizeof(buf), f))
			sum += strlen(buf);
		fclose(f);
	}
	FILE *t = tmpfile();
	fprintf(t, "hello");
	fclose(t);
	char mbuf[64] = "abc def";
	FILE *m = fmemopen(mbuf, sizeof(mbuf), "r");
	char word[16];
	CHECK(fscanf(m, "%15s", word) == 1 && strcmp(word, "abc") == 0);
	fclose(m);
	for (int i = 0; i < 7; i++) {
		snprintf(path, sizeof(path), "%s/f%d", tmpdir, i);
		unlink(path);
	}
	rmdir(tmpdir);
	printf("stdio: %lu bytes read back\n", sum);
	return 0;
}

struct rec { uint64_t key; char pad[24]; };
static int cmp_rec(const void *a, const void *b)
{
	uint64_t x = ((const struct rec *)a)->key, y = ((const struct rec *)b)->key;
	return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int t_qsort(void)
{
	size_t n = 300000;
	struct rec *v = malloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i].key = rnd();
	qsort(v, n, sizeof(*v), cmp_rec);
	int sorted = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i - 1].key > v[i].key)
			sorted = 0;
	free(v);
	int *w = malloc(100000 * sizeof(int));
	for (int i = 0; i < 100000; i++)
		w[i] = (int)(rnd() % 1000);
	qsort(w, 100000, sizeof(int), cmp_int);
	for (int i = 1; i < 100000; i++)
		if (w[i - 1] > w[i])
			sorted = 0;
	free(w);
	printf("qsort: %s\n", sorted ? "sorted" : "NOT SORTED");
	return 0;
}

static int t_getaddrinfo(void)
{
	int found = 0;
	for (int i = 0; i < 20; i++) {
		struct addrinfo hints, *res = NULL;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		int rc = getaddrinfo("localhost", "80", &hints, &res);
		if (rc == 0) {
			for (struct addrinfo *a = res; a; a = a->ai_next) {
				char host[NI_MAXHOST];
				if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), NULL, 0,
				    NI_NUMERICHOST) == 0 && (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0))
					found = 1;
			}
			freeaddrinfo(res);
		} else {
			fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(rc));
		}
	}
	struct hostent *h = gethostbyname("localhost");
	(void)h;
	printf("getaddrinfo: %s\n", found ? "loopback found" : "NO LOOPBACK");
	return 0;
}

static int select_f(const struct dirent *d) { return d->d_name[0] == 'f'; }

static int t_dirs(void)
{
	make_tmpdir();
	char path[PATH_MAX + 16];
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/f%02d", tmpdir, i);
		int fd = open(path, O_CREAT | O_WRONLY, 0600);
		close(fd);
	}
	unsigned long seen = 0;
	for (int round = 0; round < 20; round++) {
		DIR *d = opendir(tmpdir);
		struct dirent *e;
		while ((e = readdir(d)))
			seen++;
		closedir(d);
	}
	struct dirent **list = NULL;
	int n = scandir(tmpdir, &list, select_f, alphasort);
	CHECK(n == 50);
	CHECK(n > 0 && strcmp(list[0]->d_name, "f00") == 0);
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	char *rp = realpath(tmpdir, NULL);
	CHECK(rp != NULL);
	free(rp);
	char *cwd = getcwd(NULL, 0);
	CHECK(cwd != NULL);
	free(cwd);
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/f%02d", tmpdir, i);
		unlink(path);
	}
	rmdir(tmpdir);
	printf("dirs: %lu entries, scandir %d\n", seen, n);
	return 0;
}

static int t_locale(void)
{
	CHECK(setlocale(LC_ALL, "C.UTF-8") != NULL);
	wchar_t w[32];
	size_t n = mbstowcs(w, "h\xc3\xa9llo", 32);
	CHECK(n == 5);
	locale_t l = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	CHECK(l != (locale_t)0);
	locale_t d = duplocale(l);
	locale_t old = uselocale(d);
	char buf[64];
	snprintf(buf, sizeof(buf), "%.2f", 3.14159);
	uselocale(old);
	freelocale(d);
	freelocale(l);
	for (int i = 0; i < 50; i++) {
		setlocale(LC_ALL, i % 2 ? "C" : "C.UTF-8");
		setlocale(LC_NUMERIC, "POSIX");
	}
	CHECK(setlocale(LC_ALL, "") != NULL);
	CHECK(strcoll("a", "b") < 0);
	setlocale(LC_ALL, "C");
	printf("locale: %zu wide chars, %s\n", n, buf);
	return 0;
}

static int t_regex(void)
{
	const char *pats[] = { "^[a-z]+([0-9]+)$", "(ab|cd)*e", "[[:alpha:]]+@[[:alnum:].]+",
			       "^(a|b|c|d|e|f|g|h)+x?y{2,5}$", "([0-9]{1,3}\\.){3}[0-9]{1,3}" };
	const char *subj[] = { "abc123", "ababcde", "mail me@example.org now", "abcdefghyyy", "ip 192.168.10.1" };
	int matches = 0;
	for (int round = 0; round < 40; round++)
		for (int i = 0; i < 5; i++) {
			regex_t re;
			CHECK(regcomp(&re, pats[i], REG_EXTENDED) == 0);
			regmatch_t m[4];
			if (regexec(&re, subj[i], 4, m, 0) == 0)
				matches++;
			regfree(&re);
		}
	regex_t bad;
	int rc = regcomp(&bad, "([unclosed", REG_EXTENDED);
	CHECK(rc != 0);
	char err[128];
	regerror(rc, &bad, err, sizeof(err));
	if (rc == 0)
		regfree(&bad);
	printf("regex: %d matches\n", matches);
	return 0;
}

static int t_time(void)
{
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	time_t t = 1234567890;
	struct tm tm;
	char a[64], b[64];
	localtime_r(&t, &tm);
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S %Z", &tm);
	struct tm *g = gmtime(&t);
	strftime(b, sizeof(b), "%A %d %B %Y %H:%M:%S", g);
	for (int i = 0; i < 100; i++) {
		time_t u = t + i * 86400 * 30;
		struct tm *l = localtime(&u);
		char c[64];
		strftime(c, sizeof(c), "%c", l);
		(void)mktime(l);
	}
	char *ct = ctime(&t);
	(void)ct;
	printf("time: %s / %s\n", a, b);
	return 0;
}

static int t_passwd(void)
{
	struct passwd *pw = getpwuid(0);
	char name[64] = "?";
	if (pw)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	struct passwd *me = getpwuid(getuid());
	(void)me;
	struct passwd *r = getpwnam("root");
	CHECK(r && r->pw_uid == 0);
	struct group *gr = getgrgid(0);
	(void)gr;
	int users = 0;
	setpwent();
	while (getpwent())
		users++;
	endpwent();
	struct passwd pwb, *res = NULL;
	char buf[4096];
	CHECK(getpwuid_r(0, &pwb, buf, sizeof(buf), &res) == 0 && res);
	printf("passwd: uid 0 is %s, %s\n", name, users > 0 ? "entries listed" : "NO ENTRIES");
	return 0;
}

static int t_printf_floats(void)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), "%.3f %e %g %a %.1Lf", 3.14159265, 6.02214076e23, 1e-10, 1.0, (long double)2.5);
	char big[1024];
	snprintf(big, sizeof(big), "%.400f", 1e300);       /* makes printf allocate */
	char big2[1024];
	snprintf(big2, sizeof(big2), "%.300Lf", 1e-300L);
	char *huge = NULL;
	CHECK(asprintf(&huge, "%.5000f", 1.0 / 3) == 5002);
	free(huge);
	double d = strtod("2.718281828459045", NULL);
	long double ld = strtold("1e4000", NULL);
	printf("printf-floats: %s | %d | %.10s | %.6f | %s\n", buf, n, big, d, ld > 1e300L ? "big" : "small");
	return 0;
}

static int t_setenv(void)
{
	char name[32], val[64];
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "FTM_TRICKY_%d", i % 97);
		snprintf(val, sizeof(val), "value-%d", i);
		setenv(name, val, 1);
		if (i % 5 == 0)
			unsetenv(name);
	}
	const char *v = getenv("FTM_TRICKY_1");
	printf("setenv: %s\n", v ? v : "(unset)");
	return 0;
}

static int t_dlopen(void)
{
	int ok = 0;
	for (int i = 0; i < 10; i++) {
		void *h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
		if (!h)
			continue;
		double (*c)(double) = (double (*)(double))dlsym(h, "cos");
		if (c && c(0.0) == 1.0)
			ok++;
		dlclose(h);
	}
	void *none = dlopen("libdoes-not-exist.so.9", RTLD_NOW);
	CHECK(none == NULL && dlerror() != NULL);
	printf("dlopen: %d ok\n", ok);
	return 0;
}

static int t_execinfo(void)
{
	void *pcs[32];
	int n = backtrace(pcs, 32);
	char **sym = backtrace_symbols(pcs, n);
	CHECK(sym != NULL);
	free(sym);
	errno = 0;
	const char *e = strerror(123456);   /* glibc formats unknown errors in a buffer it allocates */
	char ebuf[64];
	snprintf(ebuf, sizeof(ebuf), "%s", e);
	printf("execinfo: %s, %s\n", n > 2 ? "frames" : "NO FRAMES", ebuf);
	return 0;
}

/* ------------------------------------------------- reachable at exit: no leak */

static char *global_block;
static int t_global(void)
{
	global_block = malloc(4000);
	strcpy(global_block, "kept by a global");
	printf("global: %s\n", global_block);
	return 0;
}

NOI static char *keeper(void)
{
	static char *kept;
	if (!kept) {
		kept = malloc(333);
		strcpy(kept, "kept by a static");
	}
	return kept;
}
static int t_static_local(void)
{
	printf("static-local: %s\n", keeper());
	return 0;
}

static __thread char *tls_block;
static __thread void *tls_large;
static int t_tls(void)
{
	tls_block = malloc(50);
	strcpy(tls_block, "kept by TLS");
	tls_large = malloc(100000);
	printf("tls: %s\n", tls_block);
	return 0;
}

struct node { struct node *next; char payload[40]; };
static struct node *list_head;
static int t_list(void)
{
	for (int i = 0; i < 10000; i++) {
		struct node *n = malloc(i % 100 == 0 ? 3000 : sizeof(*n));
		n->next = list_head;
		snprintf(n->payload, sizeof(n->payload), "node %d", i);
		list_head = n;
	}
	unsigned count = 0;
	for (struct node *n = list_head; n; n = n->next)
		count++;
	printf("list: %u nodes\n", count);
	return 0;
}

/* A hash table: buckets from calloc, chains of strdup'd keys, reached from a global. */
struct entry { struct entry *next; char *key; };
static struct entry **table;
static int t_hash_table(void)
{
	table = calloc(1024, sizeof(*table));
	for (int i = 0; i < 5000; i++) {
		char k[32];
		snprintf(k, sizeof(k), "key-%d", i);
		unsigned h = 0;
		for (char *c = k; *c; c++)
			h = h * 31 + (unsigned char)*c;
		struct entry *e = malloc(sizeof(*e));
		e->key = strdup(k);
		e->next = table[h % 1024];
		table[h % 1024] = e;
	}
	/* grow: realloc the bucket array (the chains stay reachable through it) */
	table = realloc(table, 2048 * sizeof(*table));
	memset(table + 1024, 0, 1024 * sizeof(*table));
	printf("hash-table: 5000 keys\n");
	return 0;
}

/* Only a pointer into the middle of the block is kept (a header before the data). */
static char *interior;
static int t_interior_pointer(void)
{
	char *p = malloc(256);
	strcpy(p + 32, "kept by an interior pointer");
	interior = p + 32;
	printf("interior-pointer: %s\n", interior);
	return 0;
}

/* An atexit handler frees a global block. */
static char *atexit_block;
static void release_at_exit(void)
{
	free(atexit_block);
	atexit_block = NULL;
}
static int t_atexit(void)
{
	atexit_block = malloc(5000);
	strcpy(atexit_block, "freed at exit");
	atexit(release_at_exit);
	printf("atexit: %s\n", atexit_block);
	return 0;
}

/* The program exits while another thread still holds a block on its stack. */
static pthread_mutex_t hold_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_c = PTHREAD_COND_INITIALIZER;
static int holding;
static void *hold_on_stack(void *arg)
{
	(void)arg;
	char *volatile mine = malloc(777);
	strcpy(mine, "held");
	pthread_mutex_lock(&hold_m);
	holding = 1;
	pthread_cond_broadcast(&hold_c);
	pthread_mutex_unlock(&hold_m);
	for (;;)
		pause();
	return (void *)mine;
}
static int t_exit_while_thread_holds(void)
{
	pthread_t t;
	pthread_create(&t, NULL, hold_on_stack, NULL);
	pthread_mutex_lock(&hold_m);
	while (!holding)
		pthread_cond_wait(&hold_c, &hold_m);
	pthread_mutex_unlock(&hold_m);
	printf("exit-while-thread-holds: ok\n");
	return 0;
}

/* The program exits while other threads are busy allocating and freeing
 * (a background worker is still running when main returns). */
static void *churn_forever(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	void *slot[8] = { 0 };
	for (unsigned i = 0;; i++) {
		unsigned k = i % 8;
		free(slot[k]);
		slot[k] = malloc(1 + (i * 31 + id) % (k == 0 ? 6000 : 600));
	}
	return NULL;
}
static int t_exit_while_threads_allocate(void)
{
	/* 40 times, in a child each time: the exit of a process with busy threads */
	int ok = 0;
	fflush(stdout);
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			pthread_t t;
			for (uintptr_t i = 0; i < 2; i++)
				pthread_create(&t, NULL, churn_forever, (void *)i);
			usleep(20000);
			exit(0);
		}
		int st;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("exit-while-threads-allocate: %d exits ok\n", ok);
	return 0;
}

/* ------------------------------------------------------------------- main */

struct test {
	const char *name;
	int (*fn)(void);
};
static const struct test tests[] = {
	{ "zero-sizes", t_zero_sizes },
	{ "realloc-chains", t_realloc_chains },
	{ "usable-size", t_usable_size },
	{ "huge-alignment", t_huge_alignment },
	{ "aligned-many", t_aligned_many },
	{ "calloc-zeroed", t_calloc_zeroed },
	{ "frees-everything", t_frees_everything },
	{ "cross-thread-free", t_cross_thread_free },
	{ "many-threads", t_many_threads },
	{ "tls-destructors", t_tls_destructors },
	{ "fork-threads", t_fork_threads },
	{ "fork-threads-exit", t_fork_threads_exit },
	{ "strings", t_strings },
	{ "getline", t_getline },
	{ "stdio", t_stdio },
	{ "qsort", t_qsort },
	{ "getaddrinfo", t_getaddrinfo },
	{ "dirs", t_dirs },
	{ "locale", t_locale },
	{ "regex", t_regex },
	{ "time", t_time },
	{ "passwd", t_passwd },
	{ "printf-floats", t_printf_floats },
	{ "setenv", t_setenv },
	{ "dlopen", t_dlopen },
	{ "execinfo", t_execinfo },
	{ "global", t_global },
	{ "static-local", t_static_local },
	{ "tls", t_tls },
	{ "list", t_list },
	{ "hash-table", t_hash_table },
	{ "interior-pointer", t_interior_pointer },
	{ "atexit", t_atexit },
	{ "exit-while-thread-holds", t_exit_while_thread_holds },
	{ "exit-while-threads-allocate", t_exit_while_threads_allocate },
};

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "allocator") == 0) {
		Dl_info info;
		void *m = dlsym(RTLD_DEFAULT, "malloc");
		printf("%s\n", m && dladdr(m, &info) && info.dli_fname ? info.dli_fname : "unknown");
		return 0;
	}
	for (size_t i = 0; argc == 2 && i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strcmp(tests[i].name, argv[1]) == 0) {
			int rc = tests[i].fn();
			fflush(stdout);
			if (failures)
				fprintf(stderr, "%d checks failed\n", failures);
			return rc || failures ? 1 : 0;
		}
	fprintf(stderr, "usage: tricky --list | allocator | NAME\n");
	return 2;
}
