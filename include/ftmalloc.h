/*
 * ftmalloc - a debugging and hardening malloc for Linux.
 *
 * Use it without rebuilding anything:   LD_PRELOAD=/path/libft_malloc.so prog
 * or link with -lft_malloc and call the extra functions declared here.
 */
#ifndef FTMALLOC_H
#define FTMALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The malloc family, with glibc semantics. */
void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void *reallocarray(void *ptr, size_t nmemb, size_t size);
int posix_memalign(void **memptr, size_t alignment, size_t size);
void *aligned_alloc(size_t alignment, size_t size);
void *memalign(size_t alignment, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
size_t malloc_usable_size(void *ptr);

/*
 * Print every zone in increasing address order and every live block in it
 * with its requested size, then the total:
 *     TINY : 0xA0000
 *     0xA0020 - 0xA004A : 42 bytes
 *     Total : 42 bytes
 * Written to standard output with write(2); never allocates.
 */
void show_alloc_mem(void);

/*
 * Everything show_alloc_mem() prints, plus each zone's occupancy and, for
 * every live or quarantined block: state, requested and usable size, canary
 * status, allocating thread and stack, and its first bytes; then the errors
 * reported so far and the blocks a leak check would report now.
 * Written to standard output with write(2); never allocates.
 */
void show_alloc_mem_ex(void);

/* Counters of what the allocator holds right now. */
enum ftmalloc_kind { FTMALLOC_TINY, FTMALLOC_SMALL, FTMALLOC_LARGE, FTMALLOC_NKINDS };

struct ftmalloc_stats {
	size_t zones[FTMALLOC_NKINDS];       /* zones (LARGE: blocks) mapped now, spares included */
	size_t live_blocks[FTMALLOC_NKINDS]; /* blocks allocated and not yet freed */
	size_t live_bytes[FTMALLOC_NKINDS];  /* sum of their requested sizes */
	size_t mapped_bytes;                 /* bytes of user memory mapped (zones and LARGE maps) */
	size_t zone_slots[2];                /* slots in one zone of the largest TINY / SMALL class */
	size_t mmap_calls, munmap_calls;     /* system calls made for user memory since start */
};

/* Fill *st. Takes each internal lock in turn; safe to call any time outside a signal handler. */
void ftmalloc_get_stats(struct ftmalloc_stats *st);

#ifdef __cplusplus
}
#endif

#endif
