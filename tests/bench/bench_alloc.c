/*
 * bench_alloc - synthetic allocator workloads for the ftmalloc benchmark.
 *
 * Usage: bench_alloc WORKLOAD [N] [PARAM]
 *   small-churn  [ops] [live]        8..512 B, random replace of a live slot
 *   mixed        [ops] [live]        1 B..64 KiB log-uniform, first/last byte written
 *   large-churn  [ops] [live]        64 KiB..4 MiB log-uniform, every page touched
 *   realloc-growth [rounds]          string append / vector doubling / realloc(+16)
 *   producer-consumer [items]        2 threads, malloc in one, free in the other
 *   threads      [ops] [nthreads]    small-churn in N threads, ops split between them
 *   scaling      [ms] [nthreads]     small-churn in N threads for ms milliseconds (default
 *                                    1000) after every thread has filled its live set; prints
 *                                    "threads=N seconds=S ops=TOTAL min=M max=X cpu=C" (M, X:
 *                                    the fewest and most ops one thread did; C: CPU seconds
 *                                    the process used meanwhile) - the churn alone, start-up,
 *                                    fill and exit excluded
 *   whoami                           print the object that provides malloc()
 *
 * Every workload uses a fixed-seed PRNG, so all allocators see the same
 * sequence of requests. A checksum of bytes read back is printed so the
 * compiler cannot drop the work; the harness discards stdout.
 * Exit status 0 on success, 1 on bad usage, 2 on allocation failure.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* ------------------------------------------------------------------ PRNG */

typedef struct { uint64_t s; } rng_t;

static inline uint64_t rnd(rng_t *r)
{
	/* splitmix64: fast, good enough, trivially seedable */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n) without division */
static inline size_t rnd_below(rng_t *r, size_t n)
{
	return (size_t)(((unsigned __int128)rnd(r) * n) >> 64);
}

/* log-uniform-ish in [1 << lo_bits, 1 << hi_bits) */
static inline size_t rnd_log(rng_t *r, unsigned lo_bits, unsigned hi_bits)
{
	unsigned e = lo_bits + (unsigned)rnd_below(r, hi_bits - lo_bits);
	size_t base = (size_t)1 << e;
	return base + rnd_below(r, base);
}

static void die_oom(size_t n)
{
	fprintf(stderr, "bench_alloc: allocation of %zu bytes failed\n", n);
	exit(2);
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die_oom(n);
	return p;
}

static inline void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n);
	if (!p)
		die_oom(n);
	return p;
}

static size_t arg(int argc, char **argv, int i, size_t def)
{
	if (argc > i) {
		char *end;
		unsigned long long v = strtoull(argv[i], &end, 0);
		if (*end == '\0' && v > 0)
			return (size_t)v;
		fprintf(stderr, "bench_alloc: bad number '%s'\n", argv[i]);
		exit(1);
	}
	return def;
}

/* ----------------------------------------------------------- small-churn */

struct churn_arg {
	size_t ops, live;
	uint64_t seed;
	uint64_t sum;
	/* timed runs (scaling): wait at start, churn until *stop, count in done */
	pthread_barrier_t *start;
	atomic_int *stop;
	size_t done;
};

/* Block header convention: first byte = low bits of size, last byte = tag. */
static void *small_churn(void *vp)
{
	struct churn_arg *a = vp;
	rng_t r = { a->seed };
	unsigned char **slot = xmalloc(a->live * sizeof *slot);
	uint16_t *len = xmalloc(a->live * sizeof *len);
	uint64_t sum = 0;

	for (size_t i = 0; i < a->live; i++) {
		size_t n = 8 + rnd_below(&r, 505);
		slot[i] = xmalloc(n);
		memset(slot[i], (int)i, 8);
		slot[i][n - 1] = (unsigned char)n;
		len[i] = (uint16_t)n;
	}
	if (a->start)
		pthread_barrier_wait(a->start);
	for (size_t op = 0;; op++) {
		if (a->stop) {
			if ((op & 63) == 0 && atomic_load_explicit(a->stop, memory_order_relaxed)) {
				a->done = op;
				break;
			}
		} else if (op >= a->ops) {
			break;
		}
		size_t i = rnd_below(&r, a->live);
		unsigned char *p = slot[i];
		sum += p[0] + p[len[i] - 1];
		free(p);
		size_t n = 8 + rnd_below(&r, 505);
		p = xmalloc(n);
		memcpy(p, &op, 8); /* a few bytes at the start, one at the end */
		p[n - 1] = (unsigned char)n;
		slot[i] = p;
		len[i] = (uint16_t)n;
	}
	for (size_t i = 0; i < a->live; i++) {
		sum += slot[i][0];
		free(slot[i]);
	}
	free(slot);
	free(len);
	a->sum = sum;
	return NULL;
}

static int run_threads(size_t ops, size_t live, size_t nthreads)
{
	pthread_t tid[64];
	struct churn_arg a[64];

	if (nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "bench_alloc: 1..64 threads\n");
		return 1;
	}
	for (size_t t = 0; t < nthreads; t++) {
		a[t] = (struct churn_arg){ ops / nthreads, live, 12345 + 7919 * t, 0, NULL, NULL, 0 };
		if (nthreads == 1)
			small_churn(&a[t]);
		else if (pthread_create(&tid[t], NULL, small_churn, &a[t]) != 0) {
			perror("pthread_create");
			return 2;
		}
	}
	uint64_t sum = 0;
	for (size_t t = 0; t < nthreads; t++) {
		if (nthreads > 1)
			pthread_join(tid[t], NULL);
		sum += a[t].sum;
	}
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}

/* Small-churn in N threads for a fixed time: the scaling report of bench.py. */
static int run_scaling(size_t ms, size_t live, size_t nthreads)
{
	pthread_t tid[64];
	struct churn_arg a[64];
	pthread_barrier_t start;
	atomic_int stop = 0;
	struct timespec t0, t1, nap = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	if (nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "bench_alloc: 1..64 threads\n");
		return 1;
	}
	pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
	for (size_t t = 0; t < nthreads; t++) {
		a[t] = (struct churn_arg){ 0, live, 12345 + 7919 * t, 0, &start, &stop, 0 };
		if (pthread_create(&tid[t], NULL, small_churn, &a[t]) != 0) {
			perror("pthread_create");
			return 2;
		}
	}
	struct rusage ru0, ru1;
	pthread_barrier_wait(&start);   /* every thread has its live set */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	getrusage(RUSAGE_SELF, &ru0);
	while (nanosleep(&nap, &nap) != 0)
		;
	getrusage(RUSAGE_SELF, &ru1);
	atomic_store(&stop, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t total = 0, lo = SIZE_MAX, hi = 0;
	for (size_t t = 0; t < nthreads; t++) {
		pthread_join(tid[t], NULL);
		total += a[t].done;
		lo = a[t].done < lo ? a[t].done : lo;
		hi = a[t].done > hi ? a[t].done : hi;
	}
	double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
#define TV(t) ((double)(t).tv_sec + (double)(t).tv_usec / 1e6)
	double cpu = TV(ru1.ru_utime) + TV(ru1.ru_stime) - TV(ru0.ru_utime) - TV(ru0.ru_stime);
	printf("threads=%zu seconds=%.6f ops=%zu min=%zu max=%zu cpu=%.6f\n", nthreads, sec, total, lo,
	       hi, cpu);
	return 0;
}

/* ----------------------------------------------------------------- mixed */

static int mixed(size_t ops, size_t live)
{
	rng_t r = { 777 };
	unsigned char **slot = xmalloc(live * sizeof *slot);
	uint32_t *len = xmalloc(live * sizeof *len);
	uint64_t sum = 0;

	for (size_t i = 0; i < live; i++) {
		size_t n = rnd_log(&r, 0, 16); /* 1 .. 64 KiB */
		slot[i] = xmalloc(n);
		slot[i][0] = (unsigned char)i;
		slot[i][n - 1] = (unsigned char)n;
		len[i] = (uint32_t)n;
	}
	for (size_t op = 0; op < ops; op++) {
		size_t i = rnd_below(&r, live);
		sum += slot[i][0] + slot[i][len[i] - 1];
		free(slot[i]);
		size_t n = rnd_log(&r, 0, 16);
		unsigned char *p = xmalloc(n);
		p[0] = (unsigned char)op;
		p[n - 1] = (unsigned char)n;
		slot[i] = p;
		len[i] = (uint32_t)n;
	}
	for (size_t i = 0; i < live; i++)
		free(slot[i]);
	free(slot);
	free(len);
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}

/* ----------------------------------------------------------- large-churn */

/* Programs touch what they allocate: write one byte in every page. */
static void touch(unsigned char *p, size_t n, unsigned char v)
{
	for (size_t off = 0; off < n; off += 4096)
		p[off] = v;
	p[n - 1] = v;
}

static int large_churn(size_t ops, size_t live)
{
	rng_t r = { 4242 };
	unsigned char **slot = xmalloc(live * sizeof *slot);
	size_t *len = xmalloc(live * sizeof *len);
	uint64_t sum = 0;

	for (size_t i = 0; i < live; i++) {
		size_t n = rnd_log(&r, 16, 22); /* 64 KiB .. 4 MiB */
		slot[i] = xmalloc(n);
		touch(slot[i], n, (unsigned char)i);
		len[i] = n;
	}
	for (size_t op = 0; op < ops; op++) {
		size_t i = rnd_below(&r, live);
		sum += slot[i][0] + slot[i][len[i] / 2] + slot[i][len[i] - 1];
		free(slot[i]);
		size_t n = rnd_log(&r, 16, 22);
		slot[i] = xmalloc(n);
		touch(slot[i], n, (unsigned char)op);
		len[i] = n;
	}
	for (size_t i = 0; i < live; i++)
		free(slot[i]);
	free(slot);
	free(len);
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}

/* -------------------------------------------------------- realloc-growth */

/*
 * Each round grows a few buffers side by side (as a program building several
 * strings at once would), in two styles:
 *   - string builder / vector: append 1..64 bytes, double the capacity with
 *     realloc when full, up to 256 KiB;
 *   - naive: realloc(p, n + 16) up to 64 KiB.
 * New bytes are always written. Small short-lived allocations are interleaved
 * so that the heap is not empty around the growing buffers.
 */
#define GROW_BUFS 4

static int realloc_growth(size_t rounds)
{
	rng_t r = { 99 };
	uint64_t sum = 0;
	unsigned char chunk[64];
	void *noise[16] = { 0 };

	for (size_t i = 0; i < sizeof chunk; i++)
		chunk[i] = (unsigned char)(i * 7);

	for (size_t round = 0; round < rounds; round++) {
		/* string builder / vector: capacity doubling */
		{
			unsigned char *b[GROW_BUFS] = { 0 };
			size_t n[GROW_BUFS] = { 0 }, cap[GROW_BUFS] = { 0 };
			int done = 0;
			while (done < GROW_BUFS) {
				done = 0;
				for (int k = 0; k < GROW_BUFS; k++) {
					if (n[k] >= 256 * 1024) {
						done++;
						continue;
					}
					size_t add = 1 + rnd_below(&r, 64);
					if (n[k] + add > cap[k]) {
						do
							cap[k] = cap[k] ? cap[k] * 2 : 16;
						while (n[k] + add > cap[k]);
						b[k] = xrealloc(b[k], cap[k]);
					}
					memcpy(b[k] + n[k], chunk, add);
					n[k] += add;
				}
				size_t j = rnd_below(&r, 16);
				free(noise[j]);
				noise[j] = xmalloc(16 + rnd_below(&r, 240));
				*(unsigned char *)noise[j] = 1;
			}
			for (int k = 0; k < GROW_BUFS; k++) {
				sum += b[k][n[k] / 3] + b[k][n[k] - 1];
				free(b[k]);
			}
		}
		/* naive realloc(+16) */
		{
			unsigned char *b[GROW_BUFS] = { 0 };
			size_t n = 0;
			while (n < 64 * 1024) {
				for (int k = 0; k < GROW_BUFS; k++) {
					b[k] = xrealloc(b[k], n + 16);
					memcpy(b[k] + n, chunk, 16);
				}
				n += 16;
				size_t j = rnd_below(&r, 16);
				free(noise[j]);
				noise[j] = xmalloc(16 + rnd_below(&r, 240));
				*(unsigned char *)noise[j] = 2;
			}
			for (int k = 0; k < GROW_BUFS; k++) {
				sum += b[k][n / 3] + b[k][n - 1];
				free(b[k]);
			}
		}
	}
	for (int j = 0; j < 16; j++)
		free(noise[j]);
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}

/* ----------------------------------------------------- producer-consumer */

#define QCAP 1024 /* power of two */

struct queue {
	_Alignas(64) _Atomic size_t head; /* next slot to pop, written by the consumer */
	_Alignas(64) _Atomic size_t tail; /* next slot to push, written by the producer */
	_Alignas(64) unsigned char *item[QCAP];
	size_t items;
	uint64_t sum;
};

static void *producer(void *vp)
{
	struct queue *q = vp;
	rng_t r = { 31337 };
	size_t tail = 0;

	for (size_t i = 0; i < q->items; i++) {
		size_t n = 16 + rnd_below(&r, 241); /* 16 .. 256 */
		unsigned char *p = xmalloc(n);
		memcpy(p, &n, sizeof n);
		p[n - 1] = (unsigned char)i;
		while (tail - atomic_load_explicit(&q->head, memory_order_acquire) >= QCAP)
			sched_yield();
		q->item[tail % QCAP] = p;
		atomic_store_explicit(&q->tail, ++tail, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *vp)
{
	struct queue *q = vp;
	size_t head = 0;
	uint64_t sum = 0;

	while (head < q->items) {
		size_t tail;
		while ((tail = atomic_load_explicit(&q->tail, memory_order_acquire)) == head)
			sched_yield();
		/* drain everything available, then publish progress once */
		for (; head < tail; head++) {
			unsigned char *p = q->item[head % QCAP];
			size_t n;
			memcpy(&n, p, sizeof n);
			sum += n + p[n - 1];
			free(p);
		}
		atomic_store_explicit(&q->head, head, memory_order_release);
	}
	q->sum = sum;
	return NULL;
}

static int producer_consumer(size_t items)
{
	struct queue *q = calloc(1, sizeof *q);
	pthread_t pt, ct;

	if (!q)
		die_oom(sizeof *q);
	q->items = items;
	if (pthread_create(&ct, NULL, consumer, q) || pthread_create(&pt, NULL, producer, q)) {
		perror("pthread_create");
		return 2;
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	printf("%llu\n", (unsigned long long)q->sum);
	free(q);
	return 0;
}

/* ---------------------------------------------------------------- whoami */

static int whoami(void)
{
	Dl_info info;
	void *(*volatile fn)(size_t) = malloc;

	if (dladdr((void *)fn, &info) && info.dli_fname)
		printf("%s\n", info.dli_fname);
	else
		printf("?\n");
	return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	const char *w = argc > 1 ? argv[1] : "";

	if (!strcmp(w, "small-churn")) {
		size_t ops = arg(argc, argv, 2, 20000000), live = arg(argc, argv, 3, 10000);
		return run_threads(ops, live, 1);
	}
	if (!strcmp(w, "threads"))
		return run_threads(arg(argc, argv, 2, 24000000), 10000, arg(argc, argv, 3, 2));
	if (!strcmp(w, "scaling"))
		return run_scaling(arg(argc, argv, 2, 1000), 10000, arg(argc, argv, 3, 1));
	if (!strcmp(w, "mixed"))
		return mixed(arg(argc, argv, 2, 8000000), arg(argc, argv, 3, 2000));
	if (!strcmp(w, "large-churn"))
		return large_churn(arg(argc, argv, 2, 10000), arg(argc, argv, 3, 32));
	if (!strcmp(w, "realloc-growth"))
		return realloc_growth(arg(argc, argv, 2, 400));
	if (!strcmp(w, "producer-consumer"))
		return producer_consumer(arg(argc, argv, 2, 4000000));
	if (!strcmp(w, "whoami"))
		return whoami();
	fprintf(stderr,
		"usage: %s small-churn|mixed|large-churn|realloc-growth|producer-consumer|threads|scaling|whoami [N] [PARAM]\n",
		argv[0]);
	return 1;
}
