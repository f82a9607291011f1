/*
 * soak - a long, steady workload under the allocator: its memory must stay flat.
 *
 * Run through ./soak.sh (make soak), which preloads libft_malloc.so with the
 * default options (every detection on) and also fails on any ftmalloc report.
 *
 * Workload: T worker threads, each with a table of L slots kept full of live
 * blocks (so the live set is bounded: T x L blocks, plus a small shared pool).
 * Each operation picks a random slot and, with a fixed mix, frees its block and
 * allocates another (malloc, calloc or posix_memalign), reallocs it, swaps it
 * with a block in the shared pool (so blocks are freed by other threads), or
 * only verifies it. Sizes come from one fixed distribution: 60% TINY 1..127,
 * 35% SMALL 128..1024, 4.8% 1025..16 KiB, 0.2% 16..256 KiB. Every block is
 * filled with a pattern of its own and verified byte for byte before it is
 * freed or reallocated. Every worker thread exits and a fresh thread takes over
 * its table every R ms (staggered), so thread exit and creation are soaked
 * too. There are few distinct call stacks (one call site per API), so the
 * stack depot must stop growing after the first seconds.
 *
 * The main thread samples the resident set (/proc/self/statm) every
 * max(250 ms, duration/1200). After the warm-up (W% of the run, 20% by
 * default) it compares two windows of equal length (10% of the run each):
 * the first one right after the warm-up and the last one before the end.
 * Peaks, not single samples, so the phase of one sample does not matter, and
 * over windows of the same length, so a longer window does not win by
 * having more samples to pick a maximum from:
 *     growth = peak(last window) - peak(first window)
 *     PASS   growth <= bound = max(B MiB, P% of peak(first window))  (4 MiB, 5%)
 *            and no sample in between above peak(first window) + 2 x bound
 * Why that bound: once warm, everything the allocator holds is bounded - the
 * live set (fixed slot count, fixed size distribution), the per-thread
 * quarantines (1 MiB each) and the LARGE quarantine (32 MiB; it fills in the
 * first seconds), one spare zone per class, the thread caches, and the stack
 * depot (few stacks). What is left is noise, about +-2 MiB: mostly the few
 * 16..256 KiB blocks (about 16 live, and the LARGE quarantine's content)
 * coming and going. A leak of one 16-byte record per 1,000 operations would
 * add ~2 MiB per 100M operations (a 10-minute run does 100-250M); one per
 * operation would add GiBs.
 * Informational lines: the least-squares slope of RSS after warm-up (MiB per
 * minute), VmHWM, the throughput of the first and last windows (a structure
 * that grows without bound often shows as a slowdown first), the allocator's
 * counters (ftmalloc_get_stats, looked up with dlsym) after warm-up and at the
 * end, and - when the kernel keeps mapping names (CONFIG_ANON_VMA_NAME) - the
 * resident size of ftmalloc's own mappings by kind: meta (block records),
 * stacks (the depot), tiny/small/large (user memory).
 *
 * Usage: soak [-d SECONDS] [-t THREADS] [-l LIVE] [-r RESPAWN_MS] [-s SEED]
 *             [-w WARMUP_PCT] [-b BOUND_MIB] [-p BOUND_PCT] [-L N]
 *   -L N  self-test: leak one block in N that should be freed; the verdict must be FAIL
 *   defaults: -d 600 -t 4 -l 2048 -r 1000 -w 20 -b 4 -p 5; seed from the clock
 * Exit status: 0 PASS, 1 FAIL (memory grew, corruption, crash), 3 usage.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ftmalloc.h"   /* struct ftmalloc_stats; the function is looked up with dlsym */

#define MAX_THREADS  64
#define POOL         64
#define MAX_SAMPLES  4096

/* ---------------------------------------------------------------- options */
static unsigned g_threads = 4;
static size_t g_live = 2048;
static unsigned g_seconds = 600, g_respawn_ms = 1000, g_warm_pct = 20, g_bound_mib = 4,
                g_bound_pct = 5, g_leak_every;
static uint64_t g_seed;
static size_t g_page;

/* ---------------------------------------------------------------- output */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
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
	ssize_t r = write(1, buf, (size_t)n);
	(void)r;
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	say("FAIL: soak: %s (seed %llu)\n", buf, (unsigned long long)g_seed);
	_exit(1);
}

static void *xmmap(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap of %zu bytes for the harness failed", len);
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- random, patterns */
static inline uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static inline uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline size_t below(uint64_t *s, size_t n)
{
	return (size_t)(((unsigned __int128)rnd(s) * n) >> 64);
}

struct blk {
	unsigned char *p;
	size_t size;
	uint64_t pat;
};

static inline unsigned char pat_byte(uint64_t pat, size_t i)
{
	return (unsigned char)(mix(pat + (i >> 3)) >> ((i & 7) * 8));
}

static void fill(const struct blk *b, size_t from)
{
	size_t i = from;
	for (; i < b->size && (i & 7); i++)
		b->p[i] = pat_byte(b->pat, i);
	for (; i + 8 <= b->size; i += 8) {
		uint64_t w = mix(b->pat + (i >> 3));
		memcpy(b->p + i, &w, 8);
	}
	for (; i < b->size; i++)
		b->p[i] = pat_byte(b->pat, i);
}

static void verify(const struct blk *b, size_t len, const char *when)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = mix(b->pat + (i >> 3)), g;
		memcpy(&g, b->p + i, 8);
		if (g != w)
			break;
	}
	for (; i < len; i++)
		if (b->p[i] != pat_byte(b->pat, i))
			die("CORRUPTION %s: block %p size %zu, byte %zu is 0x%02x, expected 0x%02x", when,
			    (void *)b->p, b->size, i, b->p[i], pat_byte(b->pat, i));
}

static size_t pick_size(uint64_t *s)
{
	size_t r = below(s, 1000);
	if (r < 600)
		return 1 + below(s, 127);
	if (r < 950)
		return 128 + below(s, 897);
	if (r < 998)
		return 1025 + below(s, 16384 - 1025 + 1);
	return 16384 + below(s, (256 << 10) - 16384 + 1);
}

/* ---------------------------------------------------------------- workers */
struct worker {
	struct blk *tab;
	uint64_t rng, next_pat, dropped;
	_Atomic uint64_t ops;
	_Atomic int stop;
	int idx;
	pthread_t th;
};

static struct worker *g_w;         /* mmap'd */
static struct blk *g_pool;         /* mmap'd, POOL entries */
static pthread_mutex_t g_pool_lock[POOL];

/* One call site per API: few distinct stacks in the depot. */
static __attribute__((noinline)) void new_block(struct worker *w, struct blk *b)
{
	size_t size = pick_size(&w->rng);
	size_t r = below(&w->rng, 10);
	void *p = NULL;
	if (r < 7) {
		p = malloc(size);
	} else if (r < 9) {
		p = calloc(1, size);
		if (p)
			for (size_t i = 0; i < size; i++)
				if (((unsigned char *)p)[i])
					die("calloc(1, %zu) = %p: byte %zu is 0x%02x", size, p, i,
					    ((unsigned char *)p)[i]);
	} else {
		if (posix_memalign(&p, (size_t)16 << below(&w->rng, 6), size))
			p = NULL;
	}
	if (!p)
		die("allocation of %zu bytes failed (errno %d)", size, errno);
	b->p = p;
	b->size = size;
	b->pat = mix(g_seed ^ ((uint64_t)w->idx << 48) ^ w->next_pat++);
	fill(b, 0);
}

static __attribute__((noinline)) void drop_block(struct blk *b, const char *when)
{
	verify(b, b->size, when);
	free(b->p);
	b->p = NULL;
}

static __attribute__((noinline)) void resize_block(struct worker *w, struct blk *b)
{
	size_t nsz = pick_size(&w->rng);
	verify(b, b->size, "before realloc");
	void *p = realloc(b->p, nsz);
	if (!p)
		die("realloc(%p, %zu) failed (errno %d)", (void *)b->p, nsz, errno);
	size_t keep = b->size < nsz ? b->size : nsz;
	b->p = p;
	verify(b, keep, "after realloc (the preserved prefix)");
	size_t old = b->size;
	b->size = nsz;
	if (nsz > old)
		fill(b, old);
}

static void swap_with_pool(struct worker *w, struct blk *b)
{
	size_t k = below(&w->rng, POOL);
	verify(b, b->size, "before handing it to the pool");
	pthread_mutex_lock(&g_pool_lock[k]);
	struct blk t = g_pool[k];
	g_pool[k] = *b;
	pthread_mutex_unlock(&g_pool_lock[k]);
	*b = t;
	if (b->p)
		verify(b, b->size, "taken from the pool (written by another thread)");
	else
		new_block(w, b);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t n = 0;
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		struct blk *b = &w->tab[below(&w->rng, g_live)];
		if (!b->p) {
			new_block(w, b);
		} else {
			size_t r = below(&w->rng, 100);
			if (r < 55) {
				if (g_leak_every && ++w->dropped % g_leak_every == 0)
					b->p = NULL;   /* -L self-test: a real leak */
				else
					drop_block(b, "before free");
				new_block(w, b);
			} else if (r < 75) {
				resize_block(w, b);
			} else if (r < 85) {
				swap_with_pool(w, b);
			} else {
				verify(b, b->size, "periodic check");
			}
		}
		if ((++n & 255) == 0)
			atomic_fetch_add_explicit(&w->ops, 256, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&w->ops, n & 255, memory_order_relaxed);
	return NULL;
}

static void start(struct worker *w)
{
	atomic_store(&w->stop, 0);
	int rc = pthread_create(&w->th, NULL, worker_main, w);
	if (rc)
		die("pthread_create failed: %d", rc);
}

static void stop(struct worker *w)
{
	atomic_store(&w->stop, 1);
	pthread_join(w->th, NULL);
}

/* ---------------------------------------------------------------- measuring */
static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	return (int)n;
}

static double rss_mib(void)
{
	char buf[256];
	unsigned long size, res;
	if (read_file("/proc/self/statm", buf, sizeof buf) <= 0 || sscanf(buf, "%lu %lu", &size, &res) != 2)
		die("cannot read /proc/self/statm");
	return (double)res * (double)g_page / 1048576.0;
}

static double status_mib(const char *field)
{
	static char buf[8192];
	if (read_file("/proc/self/status", buf, sizeof buf) <= 0)
		return -1;
	char *p = strstr(buf, field);
	return p ? (double)strtoul(p + strlen(field) + 1, NULL, 10) / 1024.0 : -1;
}

/* Resident KiB of ftmalloc's named mappings ([anon:ftmalloc:KIND]), by kind. */
static const char *const k_kinds[] = {"meta", "stacks", "tiny", "small", "large"};
#define NKINDS (sizeof k_kinds / sizeof k_kinds[0])

static int named_rss(unsigned long kib[NKINDS])
{
	static char buf[1 << 16];
	char line[512];
	size_t ll = 0;
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC), cur = -1, named = 0;
	memset(kib, 0, NKINDS * sizeof kib[0]);
	if (fd < 0)
		return 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				if (ll + 1 < sizeof line)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = 0;
			ll = 0;
			unsigned long v;
			if (strchr(line, '-') && strchr(line, ' ') &&
			    ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f'))) {
				const char *n = strstr(line, "[anon:ftmalloc:");
				cur = -1;
				if (n)
					for (size_t k = 0; k < NKINDS; k++)
						if (!strncmp(n + 15, k_kinds[k], strlen(k_kinds[k])) &&
						    n[15 + strlen(k_kinds[k])] == ']') {
							cur = (int)k;
							named = 1;
						}
			} else if (cur >= 0 && sscanf(line, "Rss: %lu kB", &v) == 1) {
				kib[cur] += v;
			}
		}
	}
	close(fd);
	return named;
}

static void (*g_get_stats)(struct ftmalloc_stats *);

static void print_stats(const char *when)
{
	unsigned long kib[NKINDS];
	if (g_get_stats) {
		struct ftmalloc_stats s;
		g_get_stats(&s);
		say("soak: ftmalloc stats %s: live blocks TINY/SMALL/LARGE %zu/%zu/%zu (%.1f MiB requested);"
		    " zones %zu/%zu, LARGE maps %zu; user memory mapped %.1f MiB; mmap %zu, munmap %zu calls\n",
		    when, s.live_blocks[0], s.live_blocks[1], s.live_blocks[2],
		    (double)(s.live_bytes[0] + s.live_bytes[1] + s.live_bytes[2]) / 1048576.0, s.zones[0],
		    s.zones[1], s.zones[2], (double)s.mapped_bytes / 1048576.0, s.mmap_calls,
		    s.munmap_calls);
	}
	if (named_rss(kib))
		say("soak: resident in ftmalloc's mappings %s: meta %.1f MiB, stacks (depot) %.1f MiB,"
		    " tiny %.1f, small %.1f, large %.1f MiB\n", when, kib[0] / 1024.0, kib[1] / 1024.0,
		    kib[2] / 1024.0, kib[3] / 1024.0, kib[4] / 1024.0);
}

static void on_fatal(int sig)
{
	char msg[] = "FAIL: soak: killed by signal XX\n";
	msg[sizeof msg - 4] = (char)('0' + sig / 10 % 10);
	msg[sizeof msg - 3] = (char)('0' + sig % 10);
	ssize_t r = write(1, msg, sizeof msg - 1);
	(void)r;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void usage(void)
{
	fprintf(stderr, "usage: soak [-d SECONDS] [-t THREADS] [-l LIVE] [-r RESPAWN_MS] [-s SEED] "
	                "[-w WARMUP_PCT] [-b BOUND_MIB] [-p BOUND_PCT] [-L N]\n");
	exit(3);
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (*end || v > 1u << 30)
		usage();
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	int opt, have_seed = 0;
	while ((opt = getopt(argc, argv, "d:t:l:r:s:w:b:p:L:")) != -1) {
		switch (opt) {
		case 'd': g_seconds = num(optarg); break;
		case 't': g_threads = num(optarg); break;
		case 'l': g_live = num(optarg); break;
		case 'r': g_respawn_ms = num(optarg); break;
		case 's': g_seed = strtoull(optarg, NULL, 0); have_seed = 1; break;
		case 'w': g_warm_pct = num(optarg); break;
		case 'b': g_bound_mib = num(optarg); break;
		case 'p': g_bound_pct = num(optarg); break;
		case 'L': g_leak_every = num(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || g_seconds < 5 || g_threads < 1 || g_threads > MAX_THREADS || g_live < 1 ||
	    g_warm_pct >= 90)
		usage();
	if (!have_seed)
		g_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	g_page = (size_t)sysconf(_SC_PAGESIZE);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGABRT, on_fatal);

	Dl_info di;
	void *(*volatile mp)(size_t) = malloc;
	const char *impl = dladdr((void *)mp, &di) && di.dli_fname ? di.dli_fname : "?";
	*(void **)&g_get_stats = dlsym(RTLD_DEFAULT, "ftmalloc_get_stats");
	say("soak: seed=%llu seconds=%u threads=%u live=%zu/thread respawn=%ums warm-up=%u%% "
	    "bound=max(%u MiB, %u%%) malloc-from=%s\n", (unsigned long long)g_seed, g_seconds,
	    g_threads, g_live, g_respawn_ms, g_warm_pct, g_bound_mib, g_bound_pct, impl);

	g_w = xmmap(sizeof *g_w * g_threads);
	g_pool = xmmap(sizeof *g_pool * POOL);
	for (int k = 0; k < POOL; k++)
		pthread_mutex_init(&g_pool_lock[k], NULL);
	for (unsigned t = 0; t < g_threads; t++) {
		g_w[t].tab = xmmap(sizeof(struct blk) * g_live);
		g_w[t].idx = (int)t;
		g_w[t].rng = mix(g_seed + t) | 1;
		start(&g_w[t]);
	}

	static double st[MAX_SAMPLES], srss[MAX_SAMPLES];
	static uint64_t sops[MAX_SAMPLES];
	size_t ns = 0;
	double period = (double)g_seconds / 1200.0;
	if (period < 0.25)
		period = 0.25;
	double t0 = now(), warm = g_seconds * g_warm_pct / 100.0, next_resp = g_respawn_ms / 1000.0,
	       next_print = g_seconds / 10.0;
	unsigned respawned = 0, who_next = 0;
	int stats_done = 0;
	for (;;) {
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
		double el = now() - t0;
		while (g_respawn_ms && el >= next_resp) {
			/* the next worker in turn: a fresh thread takes over its table */
			struct worker *w = &g_w[who_next];
			stop(w);
			start(w);
			respawned++;
			who_next = (who_next + 1) % g_threads;
			next_resp += g_respawn_ms / 1000.0 / g_threads;
		}
		if (ns == 0 || el >= st[ns - 1] + period || el >= g_seconds) {
			uint64_t ops = 0;
			for (unsigned t = 0; t < g_threads; t++)
				ops += atomic_load_explicit(&g_w[t].ops, memory_order_relaxed);
			if (ns < MAX_SAMPLES) {
				st[ns] = el;
				srss[ns] = rss_mib();
				sops[ns] = ops;
				ns++;
			}
			if (!stats_done && el >= warm) {
				print_stats("after warm-up");
				stats_done = 1;
			}
			if (el >= next_print || el >= g_seconds) {
				say("soak: %4.0fs RSS %.1f MiB, %.1fM ops (%.0fk/s), %u thread respawns\n", el,
				    srss[ns - 1], (double)ops / 1e6, (double)ops / el / 1e3, respawned);
				next_print += g_seconds / 10.0;
			}
		}
		if (el >= g_seconds)
			break;
	}
	print_stats("at the end");
	for (unsigned t = 0; t < g_threads; t++)
		stop(&g_w[t]);
	uint64_t total = 0;
	for (unsigned t = 0; t < g_threads; t++) {
		total += atomic_load(&g_w[t].ops);
		for (size_t i = 0; i < g_live; i++)
			if (g_w[t].tab[i].p)
				drop_block(&g_w[t].tab[i], "at the end");
	}
	for (int k = 0; k < POOL; k++)
		if (g_pool[k].p)
			drop_block(&g_pool[k], "at the end (pool)");

	/* ---- the verdict ---- */
	double win = g_seconds * 0.10, base = 0, last = 0, peak = 0;
	double sx = 0, sy = 0, sxx = 0, sxy = 0, tend = ns ? st[ns - 1] : 0;
	size_t nb = 0, nl = 0, n = 0, first = ns;
	for (size_t i = 0; i < ns; i++) {
		if (st[i] < warm)
			continue;
		if (first == ns)
			first = i;
		if (st[i] <= warm + win) {
			base = srss[i] > base ? srss[i] : base;
			nb++;
		}
		if (st[i] >= tend - win) {
			last = srss[i] > last ? srss[i] : last;
			nl++;
		}
		peak = srss[i] > peak ? srss[i] : peak;
		sx += st[i]; sy += srss[i]; sxx += st[i] * st[i]; sxy += st[i] * srss[i]; n++;
	}
	if (nb == 0 || nl == 0 || n < 3)
		die("too few RSS samples after warm-up (%zu, %zu)", nb, nl);
	double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60.0;
	double bound = base * g_bound_pct / 100.0;
	if (bound < g_bound_mib)
		bound = g_bound_mib;
	/* throughput of the first and the last window */
	size_t a = first, b = first;
	while (b + 1 < ns && st[b] < st[first] + win)
		b++;
	size_t c = ns - 1, d = ns - 1;
	while (c > first && st[c] > tend - win)
		c--;
	double r1 = (double)(sops[b] - sops[a]) / (st[b] - st[a] > 0 ? st[b] - st[a] : 1);
	double r2 = (double)(sops[d] - sops[c]) / (st[d] - st[c] > 0 ? st[d] - st[c] : 1);
	say("soak: %zu RSS samples; warm-up %.0fs; peak RSS %.0f-%.0fs %.1f MiB, %.0f-%.0fs %.1f MiB:"
	    " growth %+.2f MiB (bound %.1f MiB); highest after warm-up %.1f MiB (bound %.1f);"
	    " slope %+.3f MiB/min; VmHWM %.1f MiB\n", ns, warm, warm, warm + win, base, tend - win,
	    tend, last, last - base, bound, peak, base + 2 * bound, slope, status_mib("VmHWM:"));
	say("soak: %.1fM ops in %us (%u threads, %u respawns); throughput in the first window"
	    " %.0fk/s, in the last %.0fk/s\n", (double)total / 1e6, g_seconds, g_threads, respawned,
	    r1 / 1e3, r2 / 1e3);
	if (last - base > bound || peak - base > 2 * bound) {
		say("FAIL: soak: RSS grew after warm-up: peak %.1f MiB in the first window, %.1f MiB in"
		    " the last (%+.2f MiB, bound %.1f), highest %.1f MiB (bound %.1f); slope %+.3f MiB/min;"
		    " %.1fM ops, %us, seed %llu\n", base, last, last - base, bound, peak,
		    base + 2 * bound, slope, (double)total / 1e6, g_seconds, (unsigned long long)g_seed);
		return 1;
	}
	say("PASS: soak: RSS flat after warm-up: peak %.1f MiB in the first window, %.1f MiB in the"
	    " last (%+.2f MiB, bound %.1f), highest %.1f; slope %+.3f MiB/min; %.1fM ops verified in"
	    " %us, %u threads, %u respawns, seed %llu\n", base, last, last - base, bound, peak, slope,
	    (double)total / 1e6, g_seconds, g_threads, respawned, (unsigned long long)g_seed);
	return 0;
}
