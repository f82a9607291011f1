/*
 * The backtrace module (src/backtrace.c, src/symbolize.c): capture, stack
 * depot, symbolisation, printing.
 *
 * This file is built twice. With BT_TEST_LIB it is part of build/libbtunit.so
 * together with the module's sources: that library plays the part of
 * libft_malloc, so its frames are "ours" and must be dropped from the top of
 * every stack. Without it, it is the test program (-O0 -g, so file:line is
 * known), linked with that library and run under LD_PRELOAD like the others.
 */
#define _GNU_SOURCE
#include "internal.h"

#ifdef BT_TEST_LIB

/* A few frames of "ours" between the program and bt_capture, like malloc's. */
volatile uint32_t btlib_sink;

__attribute__((noinline)) uint32_t btlib_capture_deep(int levels)
{
	uint32_t id = levels > 0 ? btlib_capture_deep(levels - 1) : bt_capture();

	btlib_sink = id;  /* work after the call: no tail call */
	return id;
}

__attribute__((noinline)) static int btlib_local(int x)
{
	btlib_sink = (uint32_t)x;
	return x * 3 + 1;
}

uintptr_t btlib_local_addr(void) { return (uintptr_t)&btlib_local; }

/* os.c numbers threads and asks tcache.c to watch their exit; this library
 * has no thread caches. */
void tcache_watch_exit(void) {}

#else /* the test program */

#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

uint32_t btlib_capture_deep(int levels);
uintptr_t btlib_local_addr(void);

static void setup(void)
{
	no_leak_check();  /* dlopen of libunwind allocates for good */
	bt_init();
	bt_set_depth(16);
}

static const char *base_of(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);
	return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

static const char *fn_of(uintptr_t pc)
{
	static char buf[512];
	struct bt_sym s;
	bt_symbolize(pc, &s, buf, sizeof buf);
	return s.function ? s.function : "(none)";
}

/* ---------- call sites ---------- */

__attribute__((noinline)) static uint32_t site_a(void) { return bt_capture(); }
__attribute__((noinline)) static uint32_t site_b(void) { return bt_capture(); }

__attribute__((noinline)) static uint32_t site_ret(uintptr_t *ret)
{
	*ret = (uintptr_t)__builtin_return_address(0);
	return bt_capture();
}

__attribute__((noinline)) static uint32_t site_line(unsigned *line)
{
	uint32_t id; id = bt_capture(); *line = __LINE__;
	return id;
}

__attribute__((noinline)) static uint32_t chain(int n, uint32_t (*leaf)(void))
{
	if (n == 0)
		return leaf();
	return chain(n - 1, leaf);
}

/* A stack that spells the low bits bits of x in return addresses. */
__attribute__((noinline)) static uint32_t spell(unsigned x, int bits)
{
	if (bits == 0)
		return site_a();
	if (x & 1)
		return spell(x >> 1, bits - 1);
	else
		return spell(x >> 1, bits - 1);
}

/* ---------- tests ---------- */

static void t_before_init(void)
{
	uintptr_t pcs[4];
	CHECK(bt_capture() == 0, "capture before bt_init gave an id");
	CHECK(bt_get(0, pcs, 4) == 0, "bt_get(0) gave frames");
	CHECK(bt_get(12345, pcs, 4) == 0, "bt_get of an unknown id gave frames");
	CHECK(bt_get(0xffffffffu, pcs, 4) == 0, "bt_get(0xffffffff) gave frames");
}

static void t_dedup(void)
{
	setup();
	uint32_t a[3], b;
	for (int i = 0; i < 3; i++)
		a[i] = site_a();
	b = site_b();
	uint32_t a_elsewhere = site_a();
	CHECK(a[0] != 0, "no id: libunwind not loaded?");
	CHECK(a[0] == a[1] && a[1] == a[2], "same site, ids %u %u %u", a[0], a[1], a[2]);
	CHECK(b != 0 && b != a[0], "site_b id %u, site_a id %u", b, a[0]);
	CHECK(a_elsewhere != 0 && a_elsewhere != a[0] && a_elsewhere != b,
	    "site_a called from another line: id %u (a %u, b %u)", a_elsewhere, a[0], b);
}

static void t_get_frames(void)
{
	setup();
	uintptr_t ret, pcs[BT_MAX_DEPTH];
	uint32_t id = site_ret(&ret);
	unsigned n = bt_get(id, pcs, BT_MAX_DEPTH);
	CHECK(n >= 3, "%u frames", n);
	CHECK(strcmp(fn_of(pcs[0]), "site_ret") == 0, "frame 0 is %s, not site_ret", fn_of(pcs[0]));
	CHECK(pcs[1] == ret, "frame 1 %#lx, return address of site_ret %#lx",
	    (unsigned long)pcs[1], (unsigned long)ret);
	CHECK(strcmp(fn_of(pcs[1]), "t_get_frames") == 0, "frame 1 is %s", fn_of(pcs[1]));
	bool has_main = false;
	for (unsigned i = 0; i < n; i++)
		has_main |= strcmp(fn_of(pcs[i]), "main") == 0;
	CHECK(has_main, "main not among the %u frames", n);
	uintptr_t two[2];
	CHECK(bt_get(id, two, 2) == 2 && two[0] == pcs[0] && two[1] == pcs[1], "bt_get with max 2");
}

static void t_depth(void)
{
	setup();
	uintptr_t pcs[BT_MAX_DEPTH];
	unsigned n = bt_get(chain(30, site_a), pcs, BT_MAX_DEPTH);
	CHECK(n == 16, "default depth: %u frames", n);
	bt_set_depth(4);
	n = bt_get(chain(30, site_a), pcs, BT_MAX_DEPTH);
	CHECK(n == 4, "depth 4: %u frames", n);
	CHECK(strcmp(fn_of(pcs[0]), "site_a") == 0 && strcmp(fn_of(pcs[3]), "chain") == 0,
	    "depth 4: frames %s ... %s", fn_of(pcs[0]), fn_of(pcs[3]));
	bt_set_depth(1);
	n = bt_get(chain(3, site_a), pcs, BT_MAX_DEPTH);
	CHECK(n == 1, "depth 1: %u frames", n);
	bt_set_depth(0);
	CHECK(chain(3, site_a) == 0, "depth 0 gave an id");
	bt_set_depth(1000);
	n = bt_get(chain(100, site_a), pcs, BT_MAX_DEPTH);
	CHECK(n == BT_MAX_DEPTH, "depth 1000 (clamped): %u frames", n);
	n = bt_get(chain(5, site_a), pcs, BT_MAX_DEPTH);
	CHECK(n > 7 && n < 20 && strcmp(fn_of(pcs[n - 1]), "main") != 0,
	    "whole short stack: %u frames, last %s", n, fn_of(pcs[n - 1]));
}

static int g_levels;
__attribute__((noinline)) static uint32_t deep_leaf(void) { return btlib_capture_deep(g_levels); }

static void t_own_frames(void)
{
	setup();
	uintptr_t pcs[BT_MAX_DEPTH];
	Dl_info lib, exe;
	CHECK(dladdr((void *)&bt_capture, &lib) && dladdr((void *)&t_own_frames, &exe), "dladdr");
	CHECK(lib.dli_fbase != exe.dli_fbase, "bt_capture is not in a library of its own");
	static const int levels_list[] = { 0, 1, 5, 20 };
	for (unsigned k = 0; k < sizeof levels_list / sizeof levels_list[0]; k++) {
		int levels = g_levels = levels_list[k];
		unsigned n = bt_get(chain(20, deep_leaf), pcs, BT_MAX_DEPTH);
		CHECK(n == 16, "%d levels of ours: %u frames, want 16", levels, n);
		CHECK(strcmp(fn_of(pcs[0]), "deep_leaf") == 0 && strcmp(fn_of(pcs[1]), "chain") == 0,
		    "%d levels of ours: frame 0 is %s", levels, fn_of(pcs[0]));
		for (unsigned i = 0; i < n; i++) {
			Dl_info d;
			CHECK(!dladdr((void *)pcs[i], &d) || d.dli_fbase != lib.dli_fbase,
			    "%d levels: frame %u (%s) is ours", levels, i, fn_of(pcs[i]));
		}
	}
}

static void t_symbolize(void)
{
	setup();
	char buf[512];
	struct bt_sym s;
	unsigned line;
	uintptr_t pcs[4];
	CHECK(bt_get(site_line(&line), pcs, 4) >= 1, "no frames");
	bt_symbolize(pcs[0], &s, buf, sizeof buf);
	CHECK(s.function && strcmp(s.function, "site_line") == 0, "function %s", s.function);
	CHECK(s.function_off > 0 && s.function_off < 200, "function_off %#lx", (unsigned long)s.function_off);
	CHECK(s.module && strcmp(base_of(s.module), "bt_test") == 0, "module %s", s.module);
	CHECK(s.file && ends_with(s.file, "bt_test.c"), "file %s", s.file);
	CHECK(s.line == line, "line %u, want %u", s.line, line);

	/* a libc function: only .dynsym there */
	bt_symbolize((uintptr_t)&getpid + 1, &s, buf, sizeof buf);
	CHECK(s.function && strstr(s.function, "getpid"), "getpid: function %s", s.function);
	CHECK(s.function_off == 1, "getpid: function_off %lu", (unsigned long)s.function_off);
	CHECK(s.module && strstr(base_of(s.module), "libc.so"), "getpid: module %s", s.module);

	/* a static function of a library: .symtab */
	bt_symbolize(btlib_local_addr() + 4, &s, buf, sizeof buf);
	CHECK(s.function && strcmp(s.function, "btlib_local") == 0, "btlib_local: function %s", s.function);
	CHECK(s.function_off == 4, "btlib_local: function_off %lu", (unsigned long)s.function_off);
	CHECK(s.module && strcmp(base_of(s.module), "libbtunit.so") == 0, "btlib_local: module %s", s.module);
	CHECK(s.file && ends_with(s.file, "bt_test.c"), "btlib_local: file %s", s.file);

	/* nothing mapped there */
	bt_symbolize(0x10, &s, buf, sizeof buf);
	CHECK(!s.module && !s.function && !s.file, "0x10: module %s function %s", s.module, s.function);
	bt_symbolize(0, &s, buf, sizeof buf);
	CHECK(!s.module && !s.function, "0: module %s", s.module);

	/* a tiny buffer: truncated, still terminated */
	char tiny[8];
	bt_symbolize(pcs[0], &s, tiny, sizeof tiny);
	CHECK(!s.file || strlen(s.file) < sizeof tiny, "tiny buffer overflowed");
	/* no buffer: names only */
	bt_symbolize(pcs[0], &s, NULL, 0);
	CHECK(s.function && !s.file, "no buffer: function %s file %s", s.function, s.file);
}

/* What o printed, through a pipe. */
static char *printed(void (*fn)(struct fmt_out *o, void *arg), void *arg)
{
	static char out[16384];
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	struct fmt_out o;
	fmt_init(&o, p[1]);
	fn(&o, arg);
	fmt_flush(&o);
	close(p[1]);
	ssize_t n, len = 0;
	while ((n = read(p[0], out + len, sizeof out - 1 - (size_t)len)) > 0)
		len += n;
	close(p[0]);
	out[len] = '\0';
	return out;
}

static void print_pcs(struct fmt_out *o, void *arg) { bt_print(o, (const uintptr_t *)arg + 1, (unsigned)((uintptr_t *)arg)[0]); }
static void print_id(struct fmt_out *o, void *arg) { bt_print_id(o, *(uint32_t *)arg); }

static void t_print(void)
{
	setup();
	char want[1024];
	unsigned line;
	uint32_t id = site_line(&line);
	uintptr_t pcs[BT_MAX_DEPTH];
	bt_get(id, pcs, BT_MAX_DEPTH);
	char *out = printed(print_id, &id);
	snprintf(want, sizeof want, "    #0 %#lx in site_line ", (unsigned long)pcs[0]);
	CHECK(strncmp(out, want, strlen(want)) == 0, "got '%.200s', want '%s...'", out, want);
	snprintf(want, sizeof want, "bt_test.c:%u\n    #1 %#lx in t_print ", line, (unsigned long)pcs[1]);
	CHECK(strstr(out, want), "got '%.300s', want '...%s...'", out, want);
	CHECK(strstr(out, "\n    #2 ") && strstr(out, " in main "), "got '%.500s'", out);

	uintptr_t three[4] = { 3, (uintptr_t)&getpid + 2, 0x10, btlib_local_addr() + 1 };
	out = printed(print_pcs, three);
	char *libc = strstr(out, "(/");
	CHECK(libc, "no module path in '%s'", out);
	snprintf(want, sizeof want, "    #0 %#lx in ", (unsigned long)three[1]);
	CHECK(strncmp(out, want, strlen(want)) == 0 && strstr(out, "getpid+0x2 (/") &&
	    strstr(out, "libc.so"), "got '%s'", out);
	CHECK(strstr(out, "\n    #1 0x10\n"), "unknown pc: got '%s'", out);
	CHECK(strstr(out, "\n    #2 ") && strstr(out, " in btlib_local ") && strstr(out, "bt_test.c:"),
	    "library frame: got '%s'", out);

	uint32_t none = 0;
	out = printed(print_id, &none);
	CHECK(strcmp(out, "    <no stack recorded>\n") == 0, "id 0: got '%s'", out);
}

static void t_matches(void)
{
	setup();
	uint32_t id = chain(2, site_a);
	CHECK(bt_matches(id, "site_a"), "site_a");
	CHECK(bt_matches(id, "site_?"), "site_?");
	CHECK(bt_matches(id, "*ite*"), "*ite*");
	CHECK(bt_matches(id, "ch*n"), "ch*n");
	CHECK(bt_matches(id, "bt_test"), "module basename");
	CHECK(bt_matches(id, "*/bt_test"), "module path");
	CHECK(!bt_matches(id, "site_b"), "site_b");
	CHECK(!bt_matches(id, "site"), "site");
	CHECK(!bt_matches(id, "*zzz*"), "*zzz*");
	CHECK(!bt_matches(0, "*"), "id 0 matched *");
}

enum { BITS = 13, N = 1 << BITS };

/* 16 frames: site_a, 14 of spell, spell_at; where it is called from is cut */
__attribute__((noinline)) static uint32_t spell_at(unsigned x) { return spell(x, BITS); }

static void t_many_stacks(void)
{
	setup();
	static uint32_t ids[N];
	for (unsigned x = 0; x < N; x++)
		ids[x] = spell_at(x);
	for (unsigned x = 0; x < N; x++) {
		CHECK(ids[x] != 0, "stack %u: no id", x);
		CHECK(spell_at(x) == ids[x], "stack %u: a second capture gave another id", x);
	}
	/* ids of distinct stacks are distinct: they are small, so a bitmap checks */
	static unsigned char seen[1 << 20];
	for (unsigned x = 0; x < N; x++) {
		CHECK(ids[x] < sizeof seen, "id %u out of range", ids[x]);
		CHECK(!seen[ids[x]], "stack %u shares id %u with another", x, ids[x]);
		seen[ids[x]] = 1;
		uintptr_t pcs[BT_MAX_DEPTH];
		CHECK(bt_get(ids[x], pcs, BT_MAX_DEPTH) == 16, "stack %u: not 16 frames", x);
	}
}

/* ---- threads ---- */

enum { NTHREADS = 4, NDEPTHS = 20, ROUNDS = 300 };
static pthread_barrier_t g_barrier;
static uint32_t g_ids[NTHREADS][NDEPTHS];
static uint32_t g_own[NTHREADS];
static int g_bad[NTHREADS];

static void *thread_main(void *arg)
{
	int t = (int)(intptr_t)arg;
	/* Under LD_PRELOAD two copies of the module share libunwind: the first
	 * unwind of a thread mallocs its TLS block inside __tls_get_addr, and if
	 * that malloc's own capture were that thread's first too, glibc would
	 * allocate the block twice and leak one. Let libft_malloc go first. */
	free(malloc(1));
	pthread_barrier_wait(&g_barrier);
	for (int r = 0; r < ROUNDS; r++) {
		for (int d = 0; d < NDEPTHS; d++) {
			uint32_t id = chain(d, site_a);
			if (r == 0)
				g_ids[t][d] = id;
			else if (id != g_ids[t][d])
				g_bad[t]++;
		}
		uint32_t own = chain(NDEPTHS + t, site_b) ^ chain(t, site_b);
		if (r == 0)
			g_own[t] = own;
		else if (own != g_own[t])
			g_bad[t]++;
	}
	return NULL;
}

static void t_threads(void)
{
	setup();
	pthread_t th[NTHREADS];
	pthread_barrier_init(&g_barrier, NULL, NTHREADS);
	for (int t = 0; t < NTHREADS; t++)
		CHECK(pthread_create(&th[t], NULL, thread_main, (void *)(intptr_t)t) == 0, "pthread_create");
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&g_barrier);
	for (int t = 0; t < NTHREADS; t++) {
		CHECK(g_bad[t] == 0, "thread %d: %d captures changed id", t, g_bad[t]);
		for (int d = 0; d < NDEPTHS; d++)
			CHECK(g_ids[t][d] != 0 && g_ids[t][d] == g_ids[0][d],
			    "depth %d: thread %d id %u, thread 0 id %u", d, t, g_ids[t][d], g_ids[0][d]);
	}
	/* depths 0..13 differ within the 16 frames kept; from 14 on the 16 top
	 * frames are site_a and chain's, the same */
	for (int d = 0; d < NDEPTHS; d++)
		for (int e = 0; e < d; e++)
			CHECK((g_ids[0][d] == g_ids[0][e]) == (e >= 14),
			    "depths %d and %d: ids %u and %u", e, d, g_ids[0][e], g_ids[0][d]);
	uintptr_t pcs[BT_MAX_DEPTH];
	unsigned n = bt_get(g_ids[0][3], pcs, BT_MAX_DEPTH);
	CHECK(n == 8 && strcmp(fn_of(pcs[0]), "site_a") == 0 && strcmp(fn_of(pcs[5]), "thread_main") == 0,
	    "depth 3: %u frames (want 8), %s ... %s", n, fn_of(pcs[0]), fn_of(pcs[5]));
	/* the main thread's stack below chain() differs: another id */
	CHECK(chain(3, site_a) != g_ids[0][3], "main thread shares a thread's id");
}

/* ---- signal context ---- */

static uintptr_t g_ctx_pcs[BT_MAX_DEPTH];
static unsigned g_ctx_n;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	g_ctx_n = bt_capture_context(uc, g_ctx_pcs, BT_MAX_DEPTH);
}

__attribute__((noinline)) static void raise_here(void)
{
	raise(SIGUSR1);
	__asm__ volatile("" ::: "memory");
}

static void t_context(void)
{
	setup();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	raise_here();
	CHECK(g_ctx_n >= 3, "%u frames", g_ctx_n);
	int at_raise = -1, at_test = -1;
	for (unsigned i = 0; i < g_ctx_n; i++) {
		if (at_raise < 0 && strcmp(fn_of(g_ctx_pcs[i]), "raise_here") == 0)
			at_raise = (int)i;
		if (at_test < 0 && strcmp(fn_of(g_ctx_pcs[i]), "t_context") == 0)
			at_test = (int)i;
	}
	CHECK(at_raise >= 0 && at_test == at_raise + 1, "raise_here at %d, t_context at %d (frame 0 %s)",
	    at_raise, at_test, fn_of(g_ctx_pcs[0]));
	uintptr_t one;
	CHECK(bt_capture_context(NULL, &one, 1) == 0, "NULL context");
}

/* ---- fork ---- */

static void t_fork(void)
{
	setup();
	uint32_t before = site_a();
	bt_lock_all();
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		uint32_t b[2];
		bt_reset_locks();
		for (int i = 0; i < 2; i++)
			b[i] = site_b();  /* a new stack: an insert, under the lock */
		_exit(b[0] != 0 && b[0] == b[1] && b[0] != before ? 0 : 1);
	}
	bt_unlock_all();
	int st;
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	CHECK(site_b() != 0, "parent after fork");
}

/* ---- heap use and cost ---- */

static void t_no_heap(void)
{
	setup();
	REQUIRE_FTMALLOC("counts live blocks");
	chain(1, site_a);  /* this thread's first capture sets libunwind up */
	struct ftmalloc_stats a, b;
	get_stats(&a);
	uint32_t ids[64];
	for (unsigned x = 0; x < 64; x++)
		ids[x] = spell(x, 6);
	uintptr_t arg[1 + BT_MAX_DEPTH];
	arg[0] = bt_get(ids[5], arg + 1, BT_MAX_DEPTH);
	(void)printed(print_pcs, arg);
	bt_matches(ids[7], "nothing");
	get_stats(&b);
	CHECK(sum3(a.live_blocks) == sum3(b.live_blocks), "live blocks %zu -> %zu",
	    sum3(a.live_blocks), sum3(b.live_blocks));
}

/* CPU time of this thread: the machine may be busy with other work. */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { COST_N = 50000, COST_ROUNDS = 7 };
static double g_ns_plain = 1e18, g_ns_ours = 1e18;

/* The bottom of a 10-deep chain: captures in a loop, the best of a few rounds. */
__attribute__((noinline)) static uint32_t cost_leaf(void)
{
	uint32_t x = 0;
	for (int r = 0; r < COST_ROUNDS; r++) {
		double t0 = now_ns();
		for (int i = 0; i < COST_N; i++)
			x ^= bt_capture();
		double t1 = now_ns();
		for (int i = 0; i < COST_N; i++)
			x ^= btlib_capture_deep(2);  /* like malloc: three frames of ours on top */
		double t2 = now_ns();
		if ((t1 - t0) / COST_N < g_ns_plain)
			g_ns_plain = (t1 - t0) / COST_N;
		if ((t2 - t1) / COST_N < g_ns_ours)
			g_ns_ours = (t2 - t1) / COST_N;
	}
	return x | 1;
}

static void t_cost(void)
{
	setup();
	chain(10, cost_leaf);
	uintptr_t pcs[BT_MAX_DEPTH];
	CHECK(bt_get(chain(10, site_a), pcs, BT_MAX_DEPTH) == 16, "not 16 frames");
	CHECK(g_ns_ours < 20000, "%.0f ns per capture", g_ns_ours);
	note("depth 16 from a 10-deep chain: %.0f ns/capture (%.0f ns with 3 frames of ours dropped)",
	    g_ns_plain, g_ns_ours);
}

static const struct unit_test tests[] = {
	T("bt-before-init", t_before_init),
	T("bt-depot-dedup", t_dedup),
	T("bt-get-frames", t_get_frames),
	T("bt-depth-limit", t_depth),
	T("bt-own-frames-dropped", t_own_frames),
	T("bt-symbolize", t_symbolize),
	T("bt-print-format", t_print),
	T("bt-matches", t_matches),
	T("bt-many-stacks", t_many_stacks),
	T("bt-threads-consistent-ids", t_threads),
	T("bt-signal-context", t_context),
	T("bt-fork-locks", t_fork),
	T("bt-no-heap-use", t_no_heap),
	T("bt-capture-cost", t_cost),
};

TEST_MAIN(tests)

#endif
