/*
 * races.h - what the races suite's programs share.
 *
 * Each program prints one result line on stdout and nothing else:
 *     ok DETAIL      the program saw nothing wrong (run.sh still checks
 *                    stderr for reports and the exit status)
 *     bad DETAIL     the program saw the bug itself (a hang, a lost report)
 * and exits 0 or 1 accordingly. Every program answers "allocator" with the
 * module malloc comes from (tests/lib.sh's suite_check_preload).
 */
#ifndef RACES_H
#define RACES_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int result_fd = STDOUT_FILENO;

/* The result line: "ok ..." or "bad ...", written at once. */
static inline void __attribute__((format(printf, 1, 2))) result(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	if (write(result_fd, line, (size_t)n) < 0)
		_exit(3);
}

/* "prog allocator": where malloc comes from. */
static inline void races_common(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "allocator")) {
		Dl_info di;
		void *m = dlsym(RTLD_DEFAULT, "malloc");
		printf("%s\n", m && dladdr(m, &di) && di.dli_fname ? di.dli_fname : "?");
		exit(0);
	}
}

static inline long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static inline void sleep_ns(long ns)
{
	struct timespec t = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* Futex wait while *w == v, at most ns (async-signal-safe). */
static inline void fwait(atomic_int *w, int v, long ns)
{
	struct timespec t = { ns / 1000000000L, ns % 1000000000L };

	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, &t, NULL, 0);
}

static inline void fwake(atomic_int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1000, NULL, NULL, 0);
}

/* In a forked child, first thing: die with the parent, whatever happens
 * (a hung child may block every signal but SIGKILL). */
static inline void child_dies_with(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(99);
}

/* Wait for child pid until deadline (now_ns() scale). Returns 1 and its
 * status when it ended; 0 when it was still running at the deadline: it is
 * then killed (SIGKILL) and reaped. Polls every 200 us. */
static inline int wait_child(pid_t pid, long deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR) {
			*status = 0;
			return 1;  /* not ours any more: nothing to wait for */
		}
		if (now_ns() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return 0;
		}
		sleep_ns(200000);
	}
}

/* What a child's status says, for a result line. */
static inline const char *how_ended(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status 0x%x", st);
	return buf;
}

#endif
