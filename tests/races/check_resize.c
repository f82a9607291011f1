/*
 * check_resize - check_every's heap checks while another thread reallocs in
 * place blocks the checking thread allocated (bug: zone_resize changed a
 * TINY/SMALL block's size and re-armed its canaries without the zone's
 * lock, so a check by the thread that allocated the block - which checks
 * its own blocks - read the canaries at the old or new end while they moved:
 * false heap-buffer-overflow reports).
 *
 *   check_resize SECONDS BLOCKS BIG SMALL   (run with check_every=1000)
 *
 * The main thread allocates BLOCKS blocks of BIG bytes and hands them all
 * to thread B, then makes malloc/free pairs for SECONDS (its calls run most
 * of the checks). B reallocs each block to SMALL, then to BIG, in turn (all
 * in place: both fit the slot), writing all its bytes after each resize
 * and checking the ends. A correct program:
 *   ok N in-place reallocs of BLOCKS blocks by another thread, M calls ...
 *   bad ... (a block moved, or lost its bytes)
 * Any "ftmalloc: ERROR" on stderr is a false report (run.sh).
 */
#include "races.h"
#include <pthread.h>

#define MAXB 1024
static char *blocks[MAXB];
static int nblocks;
static size_t big, small;
static atomic_int go, stop;
static long resizes, moved, damaged;

static void *owner_b(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		fwait(&go, 0, 1000000L);
	for (unsigned long n = 0; !atomic_load_explicit(&stop, memory_order_relaxed); n++) {
		size_t sz = (n & 1) ? big : small;
		for (int i = 0; i < nblocks; i++) {
			char *p = blocks[i];
			if (p[0] != 0x77 || p[small - 1] != 0x77)
				damaged++;
			char *q = realloc(p, sz);
			if (q != p)
				moved++;
			if (!q)
				continue;
			blocks[i] = q;
			memset(q, 0x77, sz);
			resizes++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc != 5) {
		fprintf(stderr, "usage: check_resize SECONDS BLOCKS BIG SMALL | allocator\n");
		return 2;
	}
	long end = now_ns() + (long)(atof(argv[1]) * 1e9);
	nblocks = atoi(argv[2]);
	big = (size_t)atol(argv[3]);
	small = (size_t)atol(argv[4]);
	if (nblocks < 1 || nblocks > MAXB || small < 1 || small > big) {
		fprintf(stderr, "check_resize: bad arguments\n");
		return 2;
	}
	for (int i = 0; i < nblocks; i++) {  /* allocated by the main thread */
		blocks[i] = malloc(big);
		memset(blocks[i], 0x77, big);
	}
	pthread_t b;
	pthread_create(&b, NULL, owner_b, NULL);
	atomic_store(&go, 1);  /* from now on they are B's */
	fwake(&go);
	long calls = 0;
	while (now_ns() < end) {
		for (int k = 0; k < 100; k++) {
			void *volatile p = malloc(16);
			free(p);
		}
		calls += 200;
	}
	atomic_store(&stop, 1);
	pthread_join(b, NULL);
	for (int i = 0; i < nblocks; i++)
		free(blocks[i]);
	if (moved || damaged) {
		result("bad %ld reallocs moved a block that fits its slot, %ld blocks lost their bytes", moved, damaged);
		return 1;
	}
	result("ok %ld in-place reallocs (%zu <-> %zu bytes) of %d blocks by another thread, %ld calls by their allocator",
	    resizes, small, big, nblocks, calls);
	return 0;
}
