/*
 * Page-fault budget. Runs under LD_PRELOAD=$FTMALLOC_LIB. Each measurement is
 * a separate process (this program re-executed with a mode argument); as
 * /usr/bin/time -v does, the test reads the minor faults of the whole
 * process, exit included, from wait4(), and compares a run with the mallocs
 * against the same run without them.
 */
#include "harness.h"

#include <sys/resource.h>
#include <sys/wait.h>

static void *volatile sink[1024];

/* The measured programs. They print "minflt N" and exit. */
static int measure(const char *mode)
{
	int do_malloc = strcmp(mode, "malloc") == 0 || strcmp(mode, "loop") == 0;
	int loop = strcmp(mode, "loop") == 0 || strcmp(mode, "loop-base") == 0;
	for (int i = 0; i < 1024; i++) {
		if (do_malloc) {
			char *p = malloc(1024);
			if (!p)
				return 3;
			p[0] = (char)i; /* touch one byte */
			if (loop)
				free(p);
			else
				sink[i] = p;
		} else {
			sink[i] = (void *)(uintptr_t)i;
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	dprintf(1, "minflt %ld\n", ru.ru_minflt);
	return 0;
}

static long run_mode(const char *mode)
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/proc/self/exe", "pagefaults", "--measure", mode, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char buf[128] = "";
	ssize_t n = 0, r;
	while ((r = read(fds[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0)
		n += r;
	close(fds[0]);
	int st;
	struct rusage ru;
	CHECK(wait4(pid, &st, 0, &ru) == pid, "wait4");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "measuring process (%s) failed: status %#x", mode, st);
	long v;
	CHECK(sscanf(buf, "minflt %ld", &v) == 1, "measuring process printed '%s'", buf);
	return ru.ru_minflt;
}

/* min over nine runs of each: the base count alone varies by 2-3 faults
 * from run to run (the kernel, not the program) */
static long min_faults(const char *mode)
{
	long best = -1;
	for (int i = 0; i < 9; i++) {
		long v = run_mode(mode);
		if (best < 0 || v < best)
			best = v;
	}
	return best;
}

static void budget(const char *mode, const char *base, long limit, const char *what)
{
	long with = min_faults(mode), without = min_faults(base);
	long extra = with - without;
	CHECK(extra <= limit, "%s: %ld minor faults with the mallocs, %ld without: %+ld (limit %ld)",
	      what, with, without, extra, limit);
	note("%+ld faults (limit %ld; %ld vs %ld)", extra, limit, with, without);
}

static void test_pf_1024x1024(void) { budget("malloc", "base", 272, "1024 x malloc(1024) + touch"); }
static void test_pf_loop(void) { budget("loop", "loop-base", 3, "1024 x (malloc(1024) + touch + free)"); }

static const struct unit_test tests[] = {
	T("pagefaults-1024x1024", test_pf_1024x1024),
	T("pagefaults-malloc-free-loop", test_pf_loop),
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--measure") == 0)
		return measure(argv[2]);
	return unit_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
