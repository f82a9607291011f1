/*
 * os.c - the only file that asks the kernel for memory.
 *
 * Error policy: a failed mmap is an answer (NULL, errno as the kernel set it,
 * normally ENOMEM); a failed munmap or mprotect of a range we own is an
 * internal error and stops the program with the name of the call.
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
		if (errno != ENOMEM)
			errno = ENOMEM;
		return NULL;
	}
	return p;
}

void os_unmap(void *addr, size_t len)
{
	int saved = errno;

	if (munmap(addr, len) != 0)
		fmt_die(__FILE__, __LINE__, "munmap of an allocator mapping failed");
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

/* Name a mapping for /proc/PID/maps ("[anon:ftmalloc:tiny]"); kernels before
 * 5.17 or without CONFIG_ANON_VMA_NAME refuse, which is harmless. */
void os_name(void *addr, size_t len, const char *name)
{
	int saved = errno;

	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)addr, len, (unsigned long)name);
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
