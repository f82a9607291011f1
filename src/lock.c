/*
 * lock.c - a small futex mutex (0 free, 1 held, 2 held with waiters).
 * It does not depend on libpthread being initialised, so it works from the
 * first malloc the dynamic loader makes. The fast paths are inline in
 * internal.h; only contention comes here.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static void futex_wait(atomic_int *w, int val)
{
	int saved = errno;

	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
	errno = saved;
}

static void futex_wake(atomic_int *w)
{
	int saved = errno;

	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	errno = saved;
}

void lock_take_slow(struct lock *l)
{
	for (int spin = 0; spin < 100; spin++) {
		int expect = 0;
		if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(&l->word, &expect, 1,
		    memory_order_acquire, memory_order_relaxed))
			return;
		ft_cpu_relax();
	}
	while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
		futex_wait(&l->word, 2);
}

void lock_give_slow(struct lock *l)
{
	futex_wake(&l->word);
}
