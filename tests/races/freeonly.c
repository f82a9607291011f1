/*
 * freeonly - threads whose only malloc-family calls are free() (bug: a
 * thread's exit destructor - which releases its quarantine and cache - was
 * registered at its first allocation only, so a free-only thread never
 * gave its quarantine back: the process grew with every such thread, and a
 * use after free of a block it freed was never reported).
 *
 *   freeonly growth THREADS
 *       THREADS rounds: the main thread allocates 10 blocks of 100 bytes,
 *       writes them, starts a thread that frees them and joins it. VmSize
 *       and VmRSS are read after THREADS/2 rounds (warm) and at the end:
 *         ok THREADS free-only threads: VmSize +X kB, VmRSS +Y kB over the
 *            last N (x.xx / y.yy kB per thread)
 *       (run.sh judges the numbers).
 *   freeonly uaf
 *       The main thread allocates a block, a thread frees it (and nothing
 *       else), the main thread then writes a byte into it:
 *         ok wrote 1 byte into a block freed by a free-only thread
 *       and the use after free must be reported (by exit at the latest).
 */
#include "races.h"
#include <pthread.h>

#define PER 10
static void *blocks[PER];

static void *freer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER; i++)
		free(blocks[i]);
	return NULL;
}

/* VmSize and VmRSS of this process, in kB. */
static int vm(long *size, long *rss)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*size = *rss = -1;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		sscanf(line, "VmSize: %ld", size);
		sscanf(line, "VmRSS: %ld", rss);
	}
	fclose(f);
	return *size >= 0 && *rss >= 0;
}

static char *victim;

static void *victim_freer(void *arg)
{
	(void)arg;
	free(victim);
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "uaf")) {
		victim = malloc(100);
		memset(victim, 1, 100);
		pthread_t t;
		pthread_create(&t, NULL, victim_freer, NULL);
		pthread_join(t, NULL);
		victim[10] = 'X';  /* write after free */
		result("ok wrote 1 byte into a block freed by a free-only thread");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "growth")) {
		fprintf(stderr, "usage: freeonly growth THREADS | freeonly uaf | allocator\n");
		return 2;
	}
	int n = atoi(argv[2]);
	long s0 = 0, r0 = 0, s1, r1;
	if (n < 2) {
		fprintf(stderr, "freeonly: 2 threads at least\n");
		return 2;
	}
	for (int r = 1; r <= n; r++) {
		for (int i = 0; i < PER; i++) {
			blocks[i] = malloc(100);
			memset(blocks[i], 1, 100);
		}
		pthread_t t;
		if (pthread_create(&t, NULL, freer, NULL) != 0) {
			result("bad pthread_create failed at thread %d", r);
			return 1;
		}
		pthread_join(t, NULL);
		if (r == n / 2 && !vm(&s0, &r0)) {
			result("bad cannot read /proc/self/status");
			return 1;
		}
	}
	if (!vm(&s1, &r1)) {
		result("bad cannot read /proc/self/status");
		return 1;
	}
	int m = n - n / 2;
	result("ok %d free-only threads: VmSize %+ld kB, VmRSS %+ld kB over the last %d (%.2f / %.2f kB per thread)",
	    n, s1 - s0, r1 - r0, m, (double)(s1 - s0) / m, (double)(r1 - r0) / m);
	return 0;
}
