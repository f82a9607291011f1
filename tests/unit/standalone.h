/*
 * For the start-up programs, which must not call malloc before doing what
 * they test: at the end, print which allocator served them, so that run.sh
 * can tell an ftmalloc run from a silent fall-back to glibc.
 */
#ifndef UNIT_STANDALONE_H
#define UNIT_STANDALONE_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "ftmalloc.h"

#ifdef __cplusplus
extern "C" {
#endif
/* "allocator: ftmalloc" when ftmalloc_get_stats sees a 3000-byte block we hold. */
static inline const char *which_allocator(void)
{
	void *sym = dlsym(RTLD_DEFAULT, "ftmalloc_get_stats");
	if (!sym)
		return "glibc";
	void (*get)(struct ftmalloc_stats *);
	*(void **)&get = sym;
	struct ftmalloc_stats a, b;
	get(&a);
	void *volatile p = malloc(3000);
	get(&b);
	int seen = b.live_bytes[FTMALLOC_LARGE] == a.live_bytes[FTMALLOC_LARGE] + 3000;
	free(p);
	return seen ? "ftmalloc" : "unknown (ftmalloc_get_stats did not see malloc(3000))";
}
#ifdef __cplusplus
}
#endif
#endif
