/*
 * os.c - the only file that asks the kernel for memory.
 *
 * Error policy: a failed mmap is an answer (NULL, errno ENOMEM); a failed
 * mprotect is an answer (the errno); a failed munmap of a range we own is an
 * internal error and stops the program with the name of the call - except
 * ENOMEM, which only says that unmapping the middle of a memory map area
 * would split it with the process at vm.max_map_count: the pages are given
 * back at once (MADV_DONTNEED) and the address range is unmapped later, by a
 * later os_unmap, when the areas have come down.
 * Nothing here allocates or takes a lock.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

size_t os_page = 4096;
atomic_size_t os_map_calls, os_unmap_calls, os_mapped_user;

static atomic_int map_errno = ENOMEM;  /* what the kernel said to the last failed mmap */
static atomic_bool oom_warned, unmap_warned;

/* Ranges whose munmap was refused with ENOMEM, to unmap later. A slot's
 * addr is 0 when free, 1 while a thread fills or retries it. */
#define DEFER_MAX 256
#define DEFER_RETRIES 2  /* tried per os_unmap call, at most */
static struct { _Atomic uintptr_t addr; size_t len; } deferred[DEFER_MAX];
static atomic_uint ndeferred, defer_next;

static __thread uint32_t t_tid;
__thread uint32_t os_t_serial_plus1;  /* 0: not numbered yet (internal.h) */
static atomic_uint next_serial;
static atomic_uint_least8_t alive[(1u << 16) / 8];  /* thread numbers still running */

void os_init(void)
{
	unsigned long pg = getauxval(AT_PAGESZ);

	if (pg >= 4096 && (pg & (pg - 1)) == 0)
		os_page = pg;
}

void *os_map(size_t len, bool writable)
{
	void *p = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		atomic_store_explicit(&map_errno, errno, memory_order_relaxed);
		if (errno != ENOMEM)
			errno = ENOMEM;
		return NULL;
	}
	return p;
}

void os_warn_oom(size_t len)
{
	if (atomic_load_explicit(&oom_warned, memory_order_relaxed))
		return;
	int saved = errno, err = atomic_load_explicit(&map_errno, memory_order_relaxed);
	/* A page can still be mapped: the request alone was too big (a
	 * program probing sizes, or an absurd one), no memory is short. */
	void *probe = mmap(NULL, os_page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (probe != MAP_FAILED) {
		munmap(probe, os_page);
		errno = saved;
		return;
	}
	if (atomic_exchange(&oom_warned, true)) {
		errno = saved;
		return;
	}
	const char *text = fmt_errno_text(err);
	struct fmt_out o;

	fmt_init(&o, 2);
	fmt_printf(&o, "ftmalloc: warning: out of memory: a mapping of %zu bytes was refused (", len);
	if (text)
		fmt_puts(&o, text);
	else
		fmt_printf(&o, "errno %d", err);
	fmt_puts(&o, "); the allocation returns NULL with ENOMEM (this warning is not repeated)\n");
	fmt_flush(&o);
	errno = saved;
}

/* In a forked child, the threads numbered before the fork but the one that
 * forked exist no more: serials below fork_end other than fork_survivor. */
static uint32_t fork_end;
static uint32_t fork_survivor = UINT32_MAX;

void os_fork_child(void)
{
	uint32_t end = atomic_load(&next_serial);

	atomic_store(&oom_warned, false);
	atomic_store(&unmap_warned, false);
	fork_survivor = os_t_serial_plus1 ? os_t_serial_plus1 - 1 : UINT32_MAX;
	fork_end = end <= 0x10000 ? end : 0;  /* numbers wrapped: cannot tell */
	/* The others stay "alive": whatever they were doing to a block when
	 * the process forked stays half done here, and check.c leaves the
	 * blocks of live threads alone. */
}

bool os_thread_inherited(uint16_t serial)
{
	return serial < fork_end && serial != fork_survivor;
}

/* Keep [addr, addr + len) for a later munmap; false when the table is full
 * (the range then stays mapped, its pages given back). */
static bool defer_unmap(void *addr, size_t len)
{
	for (unsigned i = 0; i < DEFER_MAX; i++) {
		uintptr_t expect = 0;
		if (atomic_compare_exchange_strong(&deferred[i].addr, &expect, 1)) {
			deferred[i].len = len;
			atomic_store_explicit(&deferred[i].addr, (uintptr_t)addr, memory_order_release);
			atomic_fetch_add(&ndeferred, 1);
			return true;
		}
	}
	return false;
}

/* A few deferred ranges, unmapped if the kernel now agrees. */
static void retry_deferred(void)
{
	if (FT_LIKELY(atomic_load_explicit(&ndeferred, memory_order_relaxed) == 0))
		return;
	for (unsigned k = 0; k < DEFER_RETRIES; k++) {
		unsigned i = atomic_fetch_add_explicit(&defer_next, 1, memory_order_relaxed) % DEFER_MAX;
		uintptr_t a = atomic_load_explicit(&deferred[i].addr, memory_order_acquire);
		if (a <= 1 || !atomic_compare_exchange_strong(&deferred[i].addr, &a, 1))
			continue;
		if (munmap((void *)a, deferred[i].len) == 0) {
			atomic_store(&deferred[i].addr, 0);
			atomic_fetch_sub(&ndeferred, 1);
		} else {
			atomic_store(&deferred[i].addr, a);
		}
	}
}

static void warn_unmap(size_t len)
{
	fmt_warn_once(&unmap_warned, "ftmalloc: warning: munmap of %zu bytes refused: the process has as many "
	    "memory map areas as vm.max_map_count allows; the memory is given back, its addresses are "
	    "released later (this warning is not repeated)\n", len);
}

void os_unmap(void *addr, size_t len)
{
	int saved = errno;

	if (munmap(addr, len) != 0) {
		if (errno != ENOMEM)
			fmt_die(__FILE__, __LINE__, "munmap of an allocator mapping failed");
		/* Splitting an area at vm.max_map_count: give the pages back now,
		 * the range when an unmap can be done. */
		madvise(addr, len, MADV_DONTNEED);
		defer_unmap(addr, len);
		warn_unmap(len);
	} else {
		retry_deferred();
	}
	errno = saved;
}

int os_protect(void *addr, size_t len, bool writable)
{
	int saved = errno;
	int rc = mprotect(addr, len, writable ? PROT_READ | PROT_WRITE : PROT_NONE);

	if (rc != 0) {
		rc = errno;
		errno = saved;
		return rc;
	}
	return 0;
}

int os_seal(void *addr, size_t len)
{
	if (!os_page || (uintptr_t)addr % os_page || len % os_page)
		return EINVAL;  /* would protect a neighbour too */
	int saved = errno;
	int rc = mprotect(addr, len, PROT_READ) == 0 ? 0 : errno;

	errno = saved;
	return rc;
}

/* Name a mapping for /proc/PID/maps ("[anon:ftmalloc:tiny]"); kernels before
 * 5.17 or without CONFIG_ANON_VMA_NAME refuse, which is harmless;
 * after the first refusal we stop asking (one system call per mapping saved). */
void os_name(void *addr, size_t len, const char *name)
{
	static atomic_bool refused;
	int saved = errno;

	if (atomic_load_explicit(&refused, memory_order_relaxed))
		return;
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)addr, len, (unsigned long)name) != 0 &&
	    (errno == EINVAL || errno == ENOSYS))
		atomic_store_explicit(&refused, true, memory_order_relaxed);
	errno = saved;
}

uint32_t os_tid(void)
{
	if (FT_UNLIKELY(t_tid == 0))
		t_tid = (uint32_t)syscall(SYS_gettid);
	return t_tid;
}

uint16_t os_thread_serial_slow(void)
{
	uint32_t s = atomic_fetch_add(&next_serial, 1) & 0xffff;
	os_t_serial_plus1 = s + 1;
	atomic_fetch_or(&alive[s / 8], (uint8_t)(1u << (s % 8)));
	tcache_watch_exit();  /* so that its exit clears the bit */
	return (uint16_t)s;
}

void os_forget_tid(void)
{
	t_tid = 0;
}

void os_thread_gone(void)
{
	if (os_t_serial_plus1) {
		uint32_t s = os_t_serial_plus1 - 1;
		atomic_fetch_and(&alive[s / 8], (uint8_t)~(1u << (s % 8)));
	}
}

bool os_thread_alive(uint16_t serial)
{
	return atomic_load(&alive[serial / 8]) & (1u << (serial % 8));
}
