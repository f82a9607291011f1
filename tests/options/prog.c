/*
 * The options suite's program: one scenario per first argument, each bug in
 * a function of its own (noinline, -O0) so reports and suppressions can
 * name it. Output on stdout ends without a newline on purpose where noted:
 * exitcode must not lose it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile keep;  /* defeats the optimiser, keeps nothing reachable */

NOINLINE static void *leak_here(size_t n)
{
	return malloc(n);
}

NOINLINE static void *leak_other(size_t n)
{
	return malloc(n);
}

/* Anonymous resident memory in KiB (resident minus file-backed pages, whose
 * count changes as library code is first run), from /proc/self/statm, read
 * without stdio: a FILE would be allocated between the two measurements. */
static long rss_kb(void)
{
	char buf[128];
	long size = 0, res = -1, shared = 0;
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%ld %ld %ld", &size, &res, &shared) != 3)
		return -1;
	return (res - shared) * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One byte past a block of n bytes, caught by the canary at free. */
NOINLINE static void overflow_here(size_t n)
{
	char *p = malloc(n);
	p[n] = 'x';
	free(p);
}

NOINLINE static void parent_bug(void) { overflow_here(24); }
NOINLINE static void child_bug(void) { overflow_here(40); }

static int status_arg(int argc, char **argv)
{
	return argc > 2 ? atoi(argv[2]) : 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "clean";

	if (strcmp(what, "clean") == 0) {
		for (int i = 0; i < 100; i++)
			free(malloc((size_t)i * 7));
		printf("clean-output");  /* no newline */
		return status_arg(argc, argv);
	}
	if (strcmp(what, "leak") == 0) {
		keep = leak_here(37);
		keep = NULL;
		printf("leak-output");  /* no newline */
		return status_arg(argc, argv);
	}
	if (strcmp(what, "two-leaks") == 0) {
		keep = leak_here(37);
		keep = NULL;
		keep = leak_other(51);
		keep = NULL;
		return 0;
	}
	if (strcmp(what, "overflow") == 0) {
		overflow_here(24);
		printf("after-overflow\n");
		return 0;
	}
	if (strcmp(what, "fill") == 0) {
		/* Fresh pages read as zero and are not filled: a reused slot is
		 * (run with quarantine=0). */
		unsigned char *p = malloc(16);
		memset(p, 1, 16);
		free(p);
		p = malloc(16);
		printf("first byte 0x%02x\n", p[0]);
		free(p);
		return 0;
	}
	if (strcmp(what, "double-free-loop") == 0) {
		/* A bug in a loop: 100000 frees of one freed block. */
		char *volatile p = malloc(10);
		long rss1000 = 0;
		free(p);
		for (int i = 0; i < 100000; i++) {
			free(p);
			if (i == 999)
				rss1000 = rss_kb();
		}
		/* What the 99,000 later reports cost in memory (counted, not printed). */
		long grow = rss_kb() - rss1000;
		printf("survived\n");
		fprintf(stderr, "test: rss growth over the last 99000 double frees: %ld KiB\n", grow);
		return 0;
	}
	if (strcmp(what, "late-double-free") == 0) {
		/* Reports written after the reader of stderr went away. */
		char *volatile p = malloc(10);
		free(p);
		usleep(300000);
		free(p);
		free(p);
		printf("survived\n");
		return 0;
	}
	if (strcmp(what, "free-fill") == 0) {
		/* A freed TINY block waits in quarantine, filled with free_fill:
		 * read (not written: that would be a use-after-free report) it. */
		unsigned char *volatile p = malloc(24);
		memset(p, 1, 24);
		free(p);
		printf("freed byte 0x%02x\n", p[7]);
		return 0;
	}
	if (strcmp(what, "fork") == 0) {
		/* The parent's bug before the child exists, the child's in the
		 * child alone; the parent waits, so the order is fixed. */
		parent_bug();
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			child_bug();
			printf("child %d\n", (int)getpid());
			exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		printf("parent %d child-status %d\n", (int)getpid(), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	}
	if (strcmp(what, "spawn") == 0) {
		/* A child program of our own: exec, not just fork. */
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			execl("/proc/self/exe", argv[0], "leak", "0", (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		printf("child-status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	}
	if (strcmp(what, "secure") == 0) {
		/* Says whether the kernel ran us in secure mode (set-user-ID). */
		printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
		fflush(stdout);
		overflow_here(24);
		return 0;
	}
	fprintf(stderr, "prog: unknown scenario '%s'\n", what);
	return 2;
}
