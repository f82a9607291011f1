/*
 * Tiny test harness for the ftmalloc unit suite.
 *
 * A test program lists its tests in a table and ends with TEST_MAIN(table):
 *     prog --list      prints one test name per line
 *     prog NAME        runs that one test in this (fresh) process and prints
 *                      exactly one line "PASS: NAME[: note]", "FAIL: NAME: why"
 *                      or "SKIP: NAME: why".
 * run.sh runs each test in its own process, so a crash or a hang in one test
 * is reported as a FAIL of that test only.
 *
 * Inside a test: CHECK(cond, fmt, ...) fails the test (and exits) when cond is
 * false; fail()/skip() end it explicitly; note() sets the text appended to the
 * PASS line.
 *
 * Allocator identity: before a test runs, the harness checks that the malloc in
 * use is ftmalloc (ftmalloc_get_stats exists and reports the block just
 * allocated), so a test can never pass silently against glibc.  With
 * UNIT_ALLOCATOR=glibc in the environment (used only to validate the suite
 * itself against glibc) that check is skipped, g_ftmalloc is 0 and tests of
 * ftmalloc-only behaviour SKIP.
 */
#ifndef UNIT_HARNESS_H
#define UNIT_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftmalloc.h"

struct unit_test {
	const char *name;
	void (*fn)(void);
};
#define T(n, f) { n, f }

static const char *g_test_name = "?";
static int g_ftmalloc;          /* 1: the allocator in use is ftmalloc */
static char g_note[512];
static void (*g_get_stats)(struct ftmalloc_stats *);

__attribute__((format(printf, 1, 2), noreturn, unused))
static void fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* dprintf: no stdio buffer, so this works even if the heap is broken */
	dprintf(1, "FAIL: %s: %s\n", g_test_name, buf);
	_exit(1);
}

__attribute__((format(printf, 1, 2), noreturn, unused))
static void skip(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	dprintf(1, "SKIP: %s: %s\n", g_test_name, buf);
	_exit(0);
}

__attribute__((format(printf, 1, 2), unused))
static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_note, sizeof g_note, fmt, ap);
	va_end(ap);
}

#define CHECK(cond, ...) do { \
	if (!(cond)) fail("line %d: %s: %s", __LINE__, #cond, unit_fmt(__VA_ARGS__)); \
} while (0)

__attribute__((format(printf, 1, 2), unused))
static const char *unit_fmt(const char *fmt, ...)
{
	static char buf[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return buf;
}

/* Requires ftmalloc for this test (SKIP in glibc validation mode). */
#define REQUIRE_FTMALLOC(why) do { if (!g_ftmalloc) skip("ftmalloc only: %s", why); } while (0)

__attribute__((unused))
static void get_stats(struct ftmalloc_stats *st)
{
	memset(st, 0, sizeof *st);
	g_get_stats(st);
}

__attribute__((unused))
static size_t sum3(const size_t v[FTMALLOC_NKINDS])
{
	return v[FTMALLOC_TINY] + v[FTMALLOC_SMALL] + v[FTMALLOC_LARGE];
}

/* Checks that ftmalloc is the allocator in use; sets g_ftmalloc. */
static void unit_identify(void)
{
	const char *mode = getenv("UNIT_ALLOCATOR");
	if (mode && strcmp(mode, "glibc") == 0) {
		g_ftmalloc = 0;
		return;
	}
	g_get_stats = (void (*)(struct ftmalloc_stats *))dlsym(RTLD_DEFAULT, "ftmalloc_get_stats");
	if (!g_get_stats)
		fail("allocator in use is not ftmalloc (no ftmalloc_get_stats symbol; LD_PRELOAD missing?)");
	struct ftmalloc_stats a, b;
	get_stats(&a);
	void *volatile p = malloc(42);
	get_stats(&b);
	if (!p || b.live_blocks[FTMALLOC_TINY] != a.live_blocks[FTMALLOC_TINY] + 1 ||
	    b.live_bytes[FTMALLOC_TINY] != a.live_bytes[FTMALLOC_TINY] + 42)
		fail("allocator in use is not ftmalloc: malloc(42) not seen by ftmalloc_get_stats "
		     "(live_blocks[TINY] %zu -> %zu, live_bytes[TINY] %zu -> %zu)",
		     a.live_blocks[FTMALLOC_TINY], b.live_blocks[FTMALLOC_TINY],
		     a.live_bytes[FTMALLOC_TINY], b.live_bytes[FTMALLOC_TINY]);
	free(p);
	g_ftmalloc = 1;
}

/*
 * Leak check: with ftmalloc, after a test returns, the live block count and
 * bytes must be back to what they were before it started (every test frees
 * what it allocates; this catches a free() that silently does nothing).
 * Tests that legitimately leave blocks behind (libc's per-thread data) call
 * no_leak_check().
 */
static int g_leak_check = 1;
__attribute__((unused)) static void no_leak_check(void) { g_leak_check = 0; }

static int unit_main(const struct unit_test *tests, size_t n, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s --list | TEST\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], tests[i].name) != 0)
			continue;
		g_test_name = tests[i].name;
		unit_identify();
		struct ftmalloc_stats before, after;
		if (g_ftmalloc)
			get_stats(&before);
		tests[i].fn();
		if (g_ftmalloc && g_leak_check) {
			get_stats(&after);
			if (sum3(after.live_blocks) != sum3(before.live_blocks) ||
			    sum3(after.live_bytes) != sum3(before.live_bytes))
				fail("the test freed all it allocated, yet ftmalloc_get_stats says live blocks "
				     "%zu -> %zu, live bytes %zu -> %zu",
				     sum3(before.live_blocks), sum3(after.live_blocks),
				     sum3(before.live_bytes), sum3(after.live_bytes));
		}
		if (g_note[0])
			dprintf(1, "PASS: %s: %s\n", g_test_name, g_note);
		else
			dprintf(1, "PASS: %s\n", g_test_name);
		return 0;
	}
	fprintf(stderr, "%s: no test named %s\n", argv[0], argv[1]);
	return 2;
}

#define TEST_MAIN(table) \
	int main(int argc, char **argv) \
	{ return unit_main(table, sizeof(table) / sizeof((table)[0]), argc, argv); }

/* Fill / verify a recognisable byte pattern that depends on the seed and offset. */
__attribute__((unused))
static void fill_pattern(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 8));
}

/* Returns the index of the first wrong byte, or (size_t)-1 if all are right. */
__attribute__((unused))
static size_t check_pattern(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed * 131u + i * 7u + (i >> 8)))
			return i;
	return (size_t)-1;
}

#endif
