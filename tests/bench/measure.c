/*
 * measure - run one command and report its wall time, peak RSS and minor
 * page faults, like /usr/bin/time but with a timeout and machine output.
 *
 * Usage: measure OUTFILE TIMEOUT_S COMMAND [ARG...]
 * Writes "wall_seconds maxrss_kib minflt exit" to OUTFILE, where exit is the
 * exit status, or 128+signal if the command was killed. If BENCH_LD_PRELOAD
 * is set, it becomes the command's LD_PRELOAD (so that the allocator under
 * test is not loaded into this launcher too).
 *
 * Why not measure from the Python harness directly: on exec the kernel keeps
 * the peak RSS of the process image being replaced, so a child forked from
 * the (large) Python interpreter would report at least the interpreter's RSS.
 * Forked from this small launcher, the floor is tiny. The command runs in its
 * own process group, killed as a whole on timeout; the rusage covers the
 * command and every descendant it waited for (gcc -> cc1, as).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

/* timeout, or the harness was interrupted: kill the whole command */
static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(-child, SIGKILL);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;

	if (argc < 4) {
		fprintf(stderr, "usage: measure OUTFILE TIMEOUT_S COMMAND [ARG...]\n");
		return 2;
	}
	const char *preload = getenv("BENCH_LD_PRELOAD");
	double timeout = atof(argv[2]);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (preload && *preload)
			setenv("LD_PRELOAD", preload, 1);
		unsetenv("BENCH_LD_PRELOAD");
		execvp(argv[3], argv + 3);
		fprintf(stderr, "measure: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here, so the timeout can never miss the group */
	child = pid;
	signal(SIGALRM, on_alarm);
	signal(SIGINT, on_alarm);
	signal(SIGTERM, on_alarm);
	if (timeout > 0) {
		struct itimerval it = { { 0, 0 }, { (time_t)timeout, (suseconds_t)((timeout - (time_t)timeout) * 1e6) } };
		setitimer(ITIMER_REAL, &it, NULL);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fprintf(f, "%.6f %ld %ld %d\n",
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		ru.ru_maxrss, ru.ru_minflt, code);
	fclose(f);
	return 0;
}
