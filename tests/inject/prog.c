/*
 * A program that checks every malloc result, for the failure-injection
 * tests. It writes with write(2) only, so libc allocates nothing between
 * its allocations: the numbering the tests reason about is its own.
 *   prog pattern N   N allocations; prints one character each: '.' ok, 'x' NULL
 *                    (with errno ENOMEM: anything else prints '?')
 *   prog sites N     N rounds of one alloc_a and one alloc_b; prints "a:OK/FAIL b:OK/FAIL"
 *                    counts
 *   prog realloc     a failed realloc leaves the old block intact
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void out(const char *s) { (void)!write(1, s, strlen(s)); }

NOINLINE static void *alloc_a(size_t n) { return malloc(n); }
NOINLINE static void *alloc_b(size_t n) { return malloc(n); }

int main(int argc, char **argv)
{
	static char line[100000];
	static void *keep[100000];
	int n = argc > 2 ? atoi(argv[2]) : 0;

	if (argc > 1 && strcmp(argv[1], "pattern") == 0 && n > 0 && n < 100000) {
		for (int i = 0; i < n; i++) {
			errno = 0;
			keep[i] = malloc(24 + (size_t)(i % 7) * 100);
			line[i] = keep[i] ? '.' : errno == ENOMEM ? 'x' : '?';
		}
		line[n] = '\n';
		(void)!write(1, line, (size_t)n + 1);
		for (int i = 0; i < n; i++)
			free(keep[i]);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "sites") == 0) {
		int fa = 0, fb = 0;
		for (int i = 0; i < n; i++) {
			void *a = alloc_a(40), *b = alloc_b(40);
			fa += a == NULL;
			fb += b == NULL;
			free(a);
			free(b);
		}
		snprintf(line, sizeof line, "a failed %d, b failed %d\n", fa, fb);
		out(line);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "realloc") == 0) {
		char *p = malloc(100);
		if (!p)
			return 3;
		memset(p, 'k', 100);
		char *q = realloc(p, 5000);  /* fails: fail_after=2 */
		int intact = 1;
		for (int i = 0; i < 100; i++)
			intact &= p[i] == 'k';
		snprintf(line, sizeof line, "realloc %s, old block %s\n", q ? "succeeded" : "failed",
		    intact ? "intact" : "damaged");
		out(line);
		free(q ? q : p);
		return 0;
	}
	out("usage\n");
	return 2;
}
