/*
 * init.c - start-up, the lock order in one place, and fork safety.
 *
 * The core needs almost nothing to run: its locks, page map and heaps are
 * zero-initialised statics, so the very first malloc (from the dynamic
 * loader, before any constructor) works. ft_init_slow() learns the page size,
 * marks the allocator ready *before* calling anything that may allocate
 * (pthread_atfork may), so re-entry finds a working allocator.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The C++ ABI's registration of an exit handler, in glibc since 2.1.3. */
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso_handle);

atomic_int ft_ready;
static atomic_int init_state;  /* 0 not started, 1 running, 2 done */

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

/* Every lock, in the order of internal.h: the depot's and the orphan
 * quarantine's come first, as neither is ever taken under a zone lock. */
static void atfork_prepare(void)
{
	bt_lock_all();
	quarantine_lock_all();
	ft_lock_all();
}

static void atfork_parent(void)
{
	ft_unlock_all();
	quarantine_unlock_all();
	bt_unlock_all();
}

/* The child has one thread: the one that forked, which held every lock. */
static void atfork_child(void)
{
	zone_reset_locks();
	large_reset_locks();
	meta_reset_locks();
	bt_reset_locks();
	quarantine_reset_locks();
	report_lock_reset();
	os_forget_tid();
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
	bt_init();
	suppress_init();  /* its patterns name functions: needs the depot */
	if (opt.guard || opt.large_quarantine)
		segv_init();
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
