/*
 * fork_many - several threads fork at once while others walk the loader's
 * list of objects (bug: the fork gate that keeps dl_iterate_phdr callers
 * out while a fork is prepared was one flag; the first fork to end opened
 * it while a second one, waiting for a lock, was about to fork: that child
 * inherited the loader's lock held by a thread that is not there, and hung
 * at its first backtrace).
 *
 *   fork_many FORKERS FORKS DEADLINE_MS REPORTERS   (run with max_reports=0)
 *
 * FORKERS threads fork FORKS times each; every child makes one malloc/free
 * pair (its first backtrace) and exits 0. Meanwhile two threads start short
 * threads that allocate (their first backtraces walk the loader's list) and
 * REPORTERS threads free a pointer that is not a block, over and over (each
 * report symbolises its stack: dl_iterate_phdr). A child not gone
 * DEADLINE_MS after its fork is hung: killed (SIGKILL: it blocks every
 * other signal) and every forker stops.
 *   ok N of N fork children exited in T s (slowest S ms)
 *   bad K of N fork children hung (killed after D ms) ...
 */
#include "races.h"
#include <pthread.h>

#define MAXF 16
static atomic_int stop, hung, failed, exited;
static atomic_long slowest;
static int nforks;
static long deadline_ns;
static pid_t parent;

static void *tiny(void *a)
{
	(void)a;
	void *volatile p = malloc(24);
	free(p);
	return NULL;
}

static void *spawner(void *a)
{
	(void)a;
	while (!atomic_load(&stop)) {
		pthread_t t;
		if (pthread_create(&t, NULL, tiny, NULL) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

static char not_heap[64];

static void *bad_freer(void *a)
{
	(void)a;
	while (!atomic_load(&stop))
		free(not_heap + 8);  /* an invalid-free report each time */
	return NULL;
}

static void *forker(void *a)
{
	(void)a;
	for (int k = 0; k < nforks && !atomic_load(&hung) && !atomic_load(&failed); k++) {
		long t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			child_dies_with(parent);
			void *volatile p = malloc(100);
			free(p);
			_exit(0);
		}
		if (pid < 0) {
			sleep_ns(1000000L);
			continue;
		}
		int st;
		if (!wait_child(pid, t0 + deadline_ns, &st))
			atomic_fetch_add(&hung, 1);
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			atomic_fetch_add(&failed, 1);
		else
			atomic_fetch_add(&exited, 1);
		long d = now_ns() - t0, s = atomic_load(&slowest);
		while (d > s && !atomic_compare_exchange_weak(&slowest, &s, d))
			;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc != 5) {
		fprintf(stderr, "usage: fork_many FORKERS FORKS DEADLINE_MS REPORTERS | allocator\n");
		return 2;
	}
	int nforkers = atoi(argv[1]);
	nforks = atoi(argv[2]);
	deadline_ns = atol(argv[3]) * 1000000L;
	int nbad = atoi(argv[4]);
	if (nforkers < 1 || nforkers > MAXF || nbad < 0 || nbad > MAXF) {
		fprintf(stderr, "fork_many: 1 to %d forkers, 0 to %d reporters\n", MAXF, MAXF);
		return 2;
	}
	parent = getpid();
	pthread_t s[2], b[MAXF], f[MAXF];
	for (int i = 0; i < 2; i++)
		pthread_create(&s[i], NULL, spawner, NULL);
	for (int i = 0; i < nbad; i++)
		pthread_create(&b[i], NULL, bad_freer, NULL);
	long start = now_ns();
	for (int i = 0; i < nforkers; i++)
		pthread_create(&f[i], NULL, forker, NULL);
	for (int i = 0; i < nforkers; i++)
		pthread_join(f[i], NULL);
	double secs = (double)(now_ns() - start) / 1e9;
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(s[i], NULL);
	for (int i = 0; i < nbad; i++)
		pthread_join(b[i], NULL);
	int total = nforkers * nforks;
	if (atomic_load(&hung) || atomic_load(&failed)) {
		result("bad %d fork children hung (killed after %ld ms), %d failed, %d exited, of %d; forks stopped at the first",
		    atomic_load(&hung), deadline_ns / 1000000L, atomic_load(&failed), atomic_load(&exited), total);
		return 1;
	}
	result("ok %d of %d fork children exited in %.1f s (%d threads forking at once; slowest %ld ms)",
	    atomic_load(&exited), total, secs, nforkers, atomic_load(&slowest) / 1000000L);
	return 0;
}
