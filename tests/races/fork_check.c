/*
 * fork_check - fork while other threads run check_every's heap checks
 * (bug: check.c's check_lock was neither taken by the fork's prepare step
 * nor reset in the child, so a child forked while another thread was
 * checking the heap hung at its first check).
 *
 *   fork_check FORKS THREADS DEADLINE_MS   (run with check_every=101)
 *
 * THREADS threads free and allocate all the time (so heap checks run in
 * them); the main thread forks FORKS times, 5 ms apart; each child makes
 * 1000 malloc/free pairs (about ten heap checks) and exits 0. A child not
 * gone DEADLINE_MS after its fork is hung: it is killed (SIGKILL: a child
 * stuck in the allocator may block every other signal) and the forks stop.
 *   ok N of N fork children exited in T s (slowest S ms)
 *   bad fork K of N: child hung (killed after D ms) ...
 */
#include "races.h"
#include <pthread.h>

#define KEEP 1024
static atomic_int stop;

static void *worker(void *arg)
{
	void **keep = calloc(KEEP, sizeof *keep);
	unsigned i = (unsigned)(long)arg * 7919;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		free(keep[i % KEEP]);
		keep[i % KEEP] = malloc(16 + i % 1000);
		i++;
	}
	for (unsigned k = 0; k < KEEP; k++)
		free(keep[k]);
	free(keep);
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc != 4) {
		fprintf(stderr, "usage: fork_check FORKS THREADS DEADLINE_MS | allocator\n");
		return 2;
	}
	int nforks = atoi(argv[1]), nthreads = atoi(argv[2]);
	long deadline_ns = atol(argv[3]) * 1000000L;
	pthread_t *t = calloc((size_t)nthreads, sizeof *t);
	pid_t me = getpid();

	for (long i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	sleep_ns(50000000L);  /* the threads at work */

	long start = now_ns(), slowest = 0;
	int k, exited = 0;
	char how[64], why[256] = "";
	for (k = 0; k < nforks; k++) {
		sleep_ns(5000000L);
		long t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			child_dies_with(me);
			for (int j = 0; j < 1000; j++) {
				void *volatile p = malloc(32);
				free(p);
			}
			_exit(0);
		}
		if (pid < 0) {
			snprintf(why, sizeof why, "fork %d of %d: fork failed: %s", k + 1, nforks, strerror(errno));
			break;
		}
		int st;
		if (!wait_child(pid, t0 + deadline_ns, &st)) {
			snprintf(why, sizeof why, "fork %d of %d: child hung (killed after %ld ms); %d children exited before",
			    k + 1, nforks, deadline_ns / 1000000L, exited);
			break;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(why, sizeof why, "fork %d of %d: child ended with %s", k + 1, nforks, how_ended(st, how, sizeof how));
			break;
		}
		exited++;
		if (now_ns() - t0 > slowest)
			slowest = now_ns() - t0;
	}
	double secs = (double)(now_ns() - start) / 1e9;
	atomic_store(&stop, 1);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	free(t);
	if (why[0]) {
		result("bad %s", why);
		return 1;
	}
	result("ok %d of %d fork children exited in %.1f s (slowest %ld ms)", exited, nforks, secs, slowest / 1000000L);
	return 0;
}
