/*
 * sigstorm - a storm of report_signal signals (bug: leak.c's nap() slept
 * with nanosleep(&t, &t), whose remainder can grow past the request when
 * signals keep interrupting it, and the stop-the-world wait of a heap dump
 * was counted in naps, not in time: under a storm a dump never ended while
 * the storm lasted - nor for many seconds after - and the program stood
 * still meanwhile).
 *
 *   sigstorm SECONDS MAX_DUMP_MS   (run with report_signal=USR2)
 *
 * Four threads allocate, free and reallocate while a POSIX timer sends the
 * process SIGUSR2 every 20 us for SECONDS (the kernel sends them: the storm
 * needs no CPU time of ours). The timer is started and deleted by a thread
 * that blocks every signal: a heap dump stops every other thread, the main
 * one too, but never this one, so the storm ends on time whatever the
 * allocator does. Then the workers are stopped and joined. The reports go
 * to a pipe (fd 2) that another thread reads, copying them to the real
 * stderr (of the dumps, their first and last lines only) and timing each
 * heap dump from its first line to its "end of heap dump" (a dump waits
 * 200 ms at most for the other threads to stop, then scans and lists).
 * Every dump begun during the storm must take less than MAX_DUMP_MS, and at
 * least one must be made:
 *   ok storm of S s: D dumps, the longest L s (at most M); N calls, ...
 *   bad storm of S s: a heap dump took L s (more than M) ...
 *   bad ... no heap dump / a worker's block lost its bytes
 */
#include "races.h"
#include <pthread.h>

#define NT 4
#define KEEP 64
static atomic_int storm = 1, stop;
static atomic_long ops, max_call;
static atomic_int damaged;

static void *worker(void *a)
{
	unsigned long x = (unsigned long)a * 2654435761u + 1;
	unsigned char *keep[KEEP] = {0};
	size_t len[KEEP] = {0};
	long my_max = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned i = x % KEEP;
		size_t sz = (x >> 20) % 100 == 0 ? 5000 + (x >> 30) % 100000 : (x >> 20) % 1024;
		if (keep[i] && keep[i][len[i] - 1] != (unsigned char)i)
			atomic_store(&damaged, 1);
		int during = atomic_load_explicit(&storm, memory_order_relaxed);
		long c0 = now_ns();
		if (keep[i] && (x >> 40) % 3 == 0) {
			unsigned char *q = realloc(keep[i], sz + 1);
			if (q) {
				keep[i] = q;
				len[i] = sz + 1;
			}
		} else {
			free(keep[i]);
			keep[i] = malloc(sz + 1);
			len[i] = sz + 1;
		}
		long c = now_ns() - c0;
		if (c > my_max && during)  /* a call begun during the storm */
			my_max = c;
		if (keep[i])
			memset(keep[i], (int)i, len[i]);
		atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
	}
	for (int i = 0; i < KEEP; i++)
		free(keep[i]);
	long m = atomic_load(&max_call);
	while (my_max > m && !atomic_compare_exchange_weak(&max_call, &m, my_max))
		;
	return NULL;
}

/* The storm: a timer, started and deleted by a thread that blocks every
 * signal (no dump stops it). */
static long storm_ns;
static atomic_long storm_start, storm_end;
static atomic_int timer_failed;

static void *stormer(void *a)
{
	timer_t tid;
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	struct itimerspec its = { { 0, 20000L }, { 0, 20000L } };

	(void)a;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tid) != 0 || timer_settime(tid, 0, &its, NULL) != 0) {
		atomic_store(&timer_failed, errno ? errno : EINVAL);
		atomic_store(&storm_end, now_ns());
		atomic_store(&storm, 0);
		return NULL;
	}
	long start = now_ns();
	atomic_store(&storm_start, start);
	sleep_ns(storm_ns);
	timer_delete(tid);
	atomic_store(&storm_end, now_ns());
	atomic_store(&storm, 0);
	fwake(&storm);
	return NULL;
}

/* The report reader: times each dump and copies the reports to the real
 * stderr, the dumps' first and last lines only (a storm makes hundreds). */
static int pipe_r, real_err;
static long dumps, max_dump, dump_start = -1;
static int dump_in_storm;

static void put(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(real_err, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *reader(void *a)
{
	static char buf[65536], line[8192];
	static const char begin[] = "ftmalloc: heap dump on ", end[] = "ftmalloc: end of heap dump";
	size_t ln = 0;
	int in_dump = 0;
	ssize_t n;

	(void)a;
	while ((n = read(pipe_r, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		long t = now_ns();
		for (ssize_t i = 0; i < n; i++) {
			if (ln < sizeof line)
				line[ln] = buf[i];
			ln++;
			if (ln == sizeof begin - 1 && !memcmp(line, begin, ln)) {
				dump_start = t;
				dump_in_storm = atomic_load(&storm);
			} else if (ln == sizeof end - 1 && !memcmp(line, end, ln) && dump_start >= 0) {
				if (dump_in_storm && t - dump_start > max_dump)
					max_dump = t - dump_start;
				dumps++;
				dump_start = -1;
			}
			if (buf[i] != '\n' && ln < sizeof line)
				continue;
			/* a whole line (or a line too long to keep whole) */
			int is_begin = ln >= sizeof begin - 1 && !memcmp(line, begin, sizeof begin - 1);
			int is_end = ln >= sizeof end - 1 && !memcmp(line, end, sizeof end - 1);
			if (is_begin || is_end || !in_dump || (ln >= 15 && !memcmp(line, "ftmalloc: ERROR", 15)))
				put(line, ln < sizeof line ? ln : sizeof line);
			if (is_begin)
				in_dump = 1;
			if (is_end)
				in_dump = 0;
			ln = 0;
		}
	}
	if (ln)
		put(line, ln < sizeof line ? ln : sizeof line);
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc != 3) {
		fprintf(stderr, "usage: sigstorm SECONDS MAX_DUMP_MS | allocator\n");
		return 2;
	}
	long max_ns = atol(argv[2]) * 1000000L;
	pthread_t t[NT], rd, st;
	sigset_t all, old;
	int p[2];

	storm_ns = (long)(atof(argv[1]) * 1e9);
	void *volatile first = malloc(1);  /* the allocator set up, reports to fd 2 */
	free(first);
	real_err = dup(STDERR_FILENO);
	if (real_err < 0 || pipe(p) != 0 || dup2(p[1], STDERR_FILENO) < 0) {
		result("bad cannot set up the report pipe: %s", strerror(errno));
		return 1;
	}
	close(p[1]);
	pipe_r = p[0];
	pthread_create(&rd, NULL, reader, NULL);
	for (long i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_create(&st, NULL, stormer, NULL);  /* every signal blocked */
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	int v;
	while ((v = atomic_load(&storm)))
		fwait(&storm, v, 10000000L);
	pthread_join(st, NULL);
	if (atomic_load(&timer_failed)) {
		atomic_store(&stop, 1);
		for (int i = 0; i < NT; i++)
			pthread_join(t[i], NULL);
		result("bad timer_create/timer_settime: %s", strerror(atomic_load(&timer_failed)));
		return 1;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	double after = (double)(now_ns() - atomic_load(&storm_end)) / 1e9;
	dup2(real_err, STDERR_FILENO);  /* the pipe's last writer: the reader sees its end */
	pthread_join(rd, NULL);
	double storm_s = (double)(atomic_load(&storm_end) - atomic_load(&storm_start)) / 1e9;
	double longest = max_dump / 1e9, max_s = max_ns / 1e9;
	if (atomic_load(&damaged)) {
		result("bad a worker's block lost its bytes");
		return 1;
	}
	if (max_dump > max_ns || dump_start >= 0) {
		result("bad storm of %.1f s: a heap dump took %.2f s (more than %.2f s)%s; %ld dumps in all, workers joined %.2f s after the storm",
		    storm_s, dump_start >= 0 ? (double)(now_ns() - dump_start) / 1e9 : longest, max_s,
		    dump_start >= 0 ? " and never ended" : "", dumps, after);
		return 1;
	}
	if (dumps == 0) {
		result("bad storm of %.1f s: no heap dump at all", storm_s);
		return 1;
	}
	result("ok storm of %.1f s: %ld dumps, the longest %.2f s (at most %.2f s); %ld calls, the longest %.2f s; workers joined %.2f s after the storm",
	    storm_s, dumps, longest, max_s, atomic_load(&ops), atomic_load(&max_call) / 1e9, after);
	return 0;
}
