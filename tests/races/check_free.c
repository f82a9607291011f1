/*
 * check_free - check_every's heap checks while another thread frees blocks
 * (bug: zone_free marked a block's record QUARANTINED before it wrote
 * free_thread and the poison; a check in between took the freeing thread
 * for the last tenant's - the checking thread itself, or a thread gone -
 * read the bytes not poisoned yet and reported a use after free).
 *
 *   check_free SECONDS BLOCKS SIZE CALLS
 *       (run with check_every=CALLS, quarantine=4k, backtrace_depth=0)
 *
 * The race window is a few instructions wide, so the program widens it:
 * each round, the main thread allocates BLOCKS blocks of SIZE bytes, fills
 * them and starts a short-lived thread B that frees them all; while B
 * frees, the main thread stops B again and again with a signal (B's
 * handler waits, at most 1 ms, until released), so that B stands still at
 * random points of free(), and meanwhile makes CALLS calls itself - exactly
 * one heap check of its own (check_every=CALLS: B, stopped, adds none).
 * B dies after its batch, so a slot's previous freer is a thread gone,
 * whose blocks any check looks at. A correct program:
 *   ok R rounds, N blocks freed by other threads, F stops in free() ...
 * Any "ftmalloc: ERROR" on stderr is a false report (run.sh).
 */
#include "races.h"
#include <pthread.h>

#define MAXB 65536
static char *batch[MAXB];
static int nblocks;
static atomic_int started, go, done;
static atomic_int sig_gen, frozen_gen, release_gen, in_handler;
static atomic_long timeouts;

/* B stands still until the main thread has made its check (1 ms at most:
 * B may hold a lock the check needs). */
static void on_stop(int sig)
{
	int saved = errno;
	int g = atomic_load(&sig_gen);
	(void)sig;
	atomic_store(&frozen_gen, g);
	fwake(&frozen_gen);
	long t0 = now_ns();
	for (;;) {
		int r = atomic_load(&release_gen);
		if (r >= g)
			break;
		if (now_ns() - t0 > 1000000L) {
			atomic_fetch_add(&timeouts, 1);
			break;
		}
		fwait(&release_gen, r, 1000000L);
	}
	atomic_store(&in_handler, 0);
	fwake(&in_handler);
	errno = saved;
}

static void *freer_b(void *arg)
{
	(void)arg;
	void *volatile own = malloc(1);  /* a thread of its own from the start */
	free(own);
	while (!atomic_load(&go))
		fwait(&go, 0, 1000000L);
	for (int i = 0; i < nblocks; i++) {
		free(batch[i]);
		if (i == 0) {
			atomic_store(&started, 1);
			fwake(&started);
		}
	}
	atomic_store(&done, 1);
	fwake(&frozen_gen);
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc != 5) {
		fprintf(stderr, "usage: check_free SECONDS BLOCKS SIZE CALLS | allocator\n");
		return 2;
	}
	long end = now_ns() + (long)(atof(argv[1]) * 1e9);
	nblocks = atoi(argv[2]);
	size_t size = (size_t)atol(argv[3]);
	int calls = atoi(argv[4]);
	if (nblocks < 1 || nblocks > MAXB || size < 1 || calls < 1) {
		fprintf(stderr, "check_free: bad arguments\n");
		return 2;
	}
	char *tick = malloc(8);
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	long rounds = 0, stops = 0, freed = 0;
	int gen = 0;
	while (now_ns() < end) {
		for (int i = 0; i < nblocks; i++) {
			batch[i] = malloc(size);
			memset(batch[i], 0x5a, size);
		}
		atomic_store(&done, 0);
		atomic_store(&go, 0);
		atomic_store(&started, 0);
		pthread_t b;
		if (pthread_create(&b, NULL, freer_b, NULL) != 0) {
			result("bad pthread_create failed");
			return 1;
		}
		atomic_store(&go, 1);
		fwake(&go);
		while (!atomic_load(&started))
			fwait(&started, 0, 1000000L);
		while (!atomic_load(&done)) {
			int v;
			while ((v = atomic_load(&in_handler)))  /* the last stop is over */
				fwait(&in_handler, v, 1000000L);
			atomic_store(&sig_gen, ++gen);
			atomic_store(&in_handler, 1);
			pthread_kill(b, SIGUSR1);
			while ((v = atomic_load(&frozen_gen)) != gen && !atomic_load(&done))
				fwait(&frozen_gen, v, 1000000L);
			if (atomic_load(&frozen_gen) == gen) {
				stops++;
				for (int k = 0; k < calls; k++) {  /* one heap check, by us */
					char *q = realloc(tick, 8 + (k & 1));
					if (q)
						tick = q;
				}
			}
			atomic_store(&release_gen, gen);
			fwake(&release_gen);
		}
		pthread_join(b, NULL);
		atomic_store(&in_handler, 0);
		freed += nblocks;
		rounds++;
	}
	free(tick);
	result("ok %ld rounds, %ld blocks freed by other threads, %ld stops in their frees (%ld let go unchecked)",
	    rounds, freed, stops, atomic_load(&timeouts));
	return 0;
}
