/*
 * init.c - start-up, the lock order in one place, and fork safety.
 *
 * The core needs almost nothing to run: its locks, page map and heaps are
 * zero-initialised statics, so the very first malloc (from the dynamic
 * loader, before any constructor) works. ft_init_slow() learns the page size,
 * marks the allocator ready *before* calling anything that may allocate
 * (pthread_atfork may), so re-entry finds a working allocator.
 *
 * It also checks the options that the table's types cannot (guard_side,
 * guard_align, report_signal) and sets ft_hooks, what the malloc family
 * does besides its work. The report_signal handler only sets a bit of it:
 * the dump is made by the next malloc family call, outside the handler.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The C++ ABI's registration of an exit handler, in glibc since 2.1.3. */
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso_handle);

atomic_int ft_ready;
static atomic_int init_state;  /* 0 not started, 1 running, 2 done */
atomic_uint ft_hooks;
char ft_report_signal_name[16];
static int report_signo;       /* 0: no report_signal */

/* The handler's one store must be async-signal-safe: a lock-free atomic. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "ft_hooks must be lock-free");

/* Every lock, in the documented order (internal.h). */
void ft_lock_all(void)
{
	zone_lock_all();
	large_lock_all();
	meta_lock_all();
}

void ft_unlock_all(void)
{
	meta_unlock_all();
	large_unlock_all();
	zone_unlock_all();
}

/* Every lock, in the order of internal.h: the whole-heap check's first
 * (held while it takes all the others), then the depot's and the orphan
 * quarantine's, as neither is ever taken under a zone lock. */
static void atfork_prepare(void)
{
	check_lock_all();
	bt_lock_all();
	quarantine_lock_all();
	ft_lock_all();
}

static void atfork_parent(void)
{
	ft_unlock_all();
	quarantine_unlock_all();
	bt_unlock_all();
	check_unlock_all();
}

/* The child has one thread: the one that forked, which held every lock. */
static void atfork_child(void)
{
	zone_reset_locks();
	large_reset_locks();
	meta_reset_locks();
	bt_reset_locks();
	quarantine_reset_locks();
	check_reset_locks();
	report_lock_reset();
	os_forget_tid();
	os_fork_child();
	/* Its writer is not here; a report_signal not served yet was sent to
	 * the parent, which serves it: the child writes no dump of it. */
	atomic_fetch_and(&ft_hooks, ~(FT_HOOK_DUMPING | FT_HOOK_SIGNAL));
}

/* A bad value only we can judge: the text value, or the number when value
 * is NULL, in the parser's words. */
static void warn_value(const char *name, const char *value, unsigned num, const char *expected)
{
	char digits[16];
	char *d = digits + sizeof(digits);

	if (!value) {
		*--d = '\0';
		do
			*--d = (char)('0' + num % 10);
		while (num /= 10);
		value = d;
	}
	opt_warn_value(name, value, expected);
}

/* Signals report_signal may name: none the kernel sends for a fault, none
 * that cannot be caught. */
static const struct { char name[8]; int no; } signal_names[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};
#define NSIGNAMES (sizeof(signal_names) / sizeof(signal_names[0]))

/* a, upper-cased (ASCII), is b. */
static bool same_upper(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if ((*a >= 'a' && *a <= 'z' ? *a - 32 : *a) != *b)
			return false;
	return *a == *b;
}

/* "USR2", "SIGUSR2", "sigusr2" or "12": the signal number, 0 if none we
 * accept. Numbers: a named signal, or a real-time one. */
static int parse_signal(const char *s)
{
	if (s[0] >= '0' && s[0] <= '9') {
		int n = 0;
		for (; *s >= '0' && *s <= '9' && n < 1000; s++)
			n = n * 10 + (*s - '0');
		if (*s)
			return 0;
		for (size_t i = 0; i < NSIGNAMES; i++)
			if (signal_names[i].no == n)
				return n;
		return n >= SIGRTMIN && n <= SIGRTMAX ? n : 0;
	}
	if ((s[0] | 32) == 's' && (s[1] | 32) == 'i' && (s[2] | 32) == 'g')
		s += 3;
	for (size_t i = 0; i < NSIGNAMES; i++)
		if (same_upper(s, signal_names[i].name))
			return signal_names[i].no;
	return 0;
}

/* "SIGUSR2", or "SIGRTMIN+N" for a real-time signal. */
static void signal_name(int no, char *buf)
{
	for (size_t i = 0; i < NSIGNAMES; i++)
		if (signal_names[i].no == no) {
			memcpy(buf, "SIG", 3);
			memcpy(buf + 3, signal_names[i].name, sizeof(signal_names[i].name));
			return;
		}
	unsigned k = (unsigned)(no - SIGRTMIN), i = 9;  /* at most 2 digits */
	memcpy(buf, "SIGRTMIN+", 9);
	if (k >= 10)
		buf[i++] = (char)('0' + k / 10);
	buf[i++] = (char)('0' + k % 10);
	buf[i] = '\0';
}

/* vm.max_map_count, or the kernel's default when it cannot be read. */
static size_t read_max_map_count(void)
{
	char buf[32];
	size_t n = 0;
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 65530;
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		n = n * 10 + (size_t)(buf[i] - '0');
	return n >= 1024 ? n : 65530;
}

/* The options the table's types cannot check, and what they switch on. */
static void hook_options(void)
{
	unsigned hooks = 0;

	if (same_upper(opt.guard_side, "BEFORE")) {
		large_side_before = true;
	} else if (!same_upper(opt.guard_side, "AFTER")) {
		warn_value("guard_side", opt.guard_side, 0, "after|before");
		opt.guard_side = "after";
	}
	if (opt.guard_align > os_page) {
		warn_value("guard_align", NULL, opt.guard_align, "at most the page size");
		opt.guard_align = FT_ALIGN;
	}
	unsigned align = 1;  /* rounded up to a power of two, as memalign does */
	while (align < opt.guard_align)
		align <<= 1;
	opt.guard_align = align;
	if (opt.guard_all || opt.guard_sample) {
		opt.guard = true;  /* what they are for */
		large_set_map_budget(read_max_map_count());
		hooks |= FT_HOOK_GUARD;
	}
	if (opt.check_every)
		hooks |= FT_HOOK_CHECK;
	if (opt.report_signal[0]) {
		report_signo = parse_signal(opt.report_signal);
		if (report_signo)
			signal_name(report_signo, ft_report_signal_name);
		else
			warn_value("report_signal", opt.report_signal, 0,
			    "a signal name (USR2, SIGUSR2) or number, not KILL, STOP, SEGV, BUS, ILL or FPE");
	}
	atomic_store(&ft_hooks, hooks);
}

/* The report_signal handler: a flag; the work is the malloc family's. */
static void on_report_signal(int sig)
{
	(void)sig;
	atomic_fetch_or_explicit(&ft_hooks, FT_HOOK_SIGNAL, memory_order_relaxed);
}

static void report_signal_init(void)
{
	struct sigaction sa;

	if (!report_signo)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_report_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(report_signo, &sa, NULL) != 0)
		warn_value("report_signal", opt.report_signal, 0, "a signal a handler can be installed for");
}

void ft_init_slow(void)
{
	int expect = 0;

	if (!atomic_compare_exchange_strong(&init_state, &expect, 1)) {
		/* Someone else is initialising; the core works meanwhile. */
		return;
	}
	os_init();
	opt_init();     /* before the first block: options decide its layout */
	canary_init();  /* before the first canary is written */
	if (!opt.canary)
		zone_redzone = 0;  /* nothing to keep between slots */
	hook_options();     /* before the first block: guard_side and guard_align place it */
	bt_set_depth(opt.backtrace_depth);
	atomic_store_explicit(&ft_ready, 1, memory_order_release);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	/* Warm up at load time: map the first TINY zone (kept as the spare), so
	 * the page map, the class heads and the meta slab are resident before the
	 * program's first malloc instead of being paid for by it. */
	tcache_init();
	bool zeroed;
	free(zone_alloc(1, &zeroed, 0));
	atomic_store(&init_state, 2);
}

/* Constructor time: libc is initialised, so loading libunwind and
 * installing a signal handler are safe here (not in the first malloc, which
 * may come from the dynamic loader itself). */
__attribute__((constructor)) static void ft_constructor(void)
{
	ft_init();
	report_init();    /* format and color checked, NO_COLOR read */
	opt_seal();       /* report_init was the last writer of opt: read-only now */
	bt_init();
	suppress_init();  /* its patterns name functions: needs the depot */
	if (opt.guard || opt.large_quarantine)
		segv_init();
	report_signal_init();
	inject_init();  /* last: from here on, allocations are counted */
}

/*
 * opt.exitcode. exit(status) hands status to _exit after every handler, and
 * no handler can change it: the process has to end itself, as late as it
 * can. We are in exit() already (the checks ran in our destructor), so the
 * last handler is registered now, tied to no library (a NULL handle: our
 * own __cxa_finalize would otherwise run it at once). glibc runs handlers
 * registered during exit after the current one, so it comes after every
 * remaining ELF destructor, right before exit() would flush stdio and call
 * _exit. It does that flush itself: fflush(NULL) is the one stdio call in
 * the library, made when the program's code and destructors are done and
 * the allocator still serves the memory stdio may ask for; without it
 * output still in a buffer (printf without a newline into a pipe) is lost.
 */
static void exit_with_code(void *unused)
{
	(void)unused;
	fflush(NULL);
	_exit(opt.exitcode);
}

/* Exit: after the program's own destructors and atexit handlers (we are
 * preloaded, so our destructor runs late). Whatever runs after this may
 * still allocate and free; it is served, not reported. */
__attribute__((destructor)) static void ft_destructor(void)
{
	static atomic_int done;

	if (atomic_exchange(&done, 1))
		return;
	heap_check_all("exit");
	if (opt.leak_check)
		leak_check(opt.show_reachable);
	report_summary();
	report_log_done();
	if (opt.exitcode && report_total() > 0 && __cxa_atexit(exit_with_code, NULL, NULL) != 0)
		exit_with_code(NULL);
}
