/*
 * canary.c - canary bytes around TINY/SMALL blocks and in the slack of LARGE
 * blocks. A canary byte is a function of a per-process secret (getrandom)
 * and its own address, so the program cannot forge it and we need to store
 * nothing: any byte's expected value can be recomputed at any time.
 *
 * Nothing here allocates, locks or reports; callers decide what damage means.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t canary_secret;

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

void canary_init(void)
{
	int saved = errno;
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)&s);
	}
	canary_secret = s | 1;
	errno = saved;
}

/* The expected word for the aligned 8 bytes at a. */
static inline uint64_t word_at(uintptr_t a)
{
	return mix64(canary_secret ^ (a >> 3));
}

static inline uint8_t byte_at(uintptr_t a)
{
	return (uint8_t)(word_at(a) >> ((a & 7) * 8));
}

void canary_fill(void *start, size_t len)
{
	uintptr_t a = (uintptr_t)start, end = a + len;

	while (a < end && (a & 7))
		*(uint8_t *)a = byte_at(a), a++;
	for (; a + 8 <= end; a += 8)
		*(uint64_t *)a = word_at(a);
	for (; a < end; a++)
		*(uint8_t *)a = byte_at(a);
}

const uint8_t *canary_damage(const void *start, size_t len)
{
	uintptr_t a = (uintptr_t)start, end = a + len;

	for (; a < end && (a & 7); a++)
		if (*(const uint8_t *)a != byte_at(a))
			return (const uint8_t *)a;
	for (; a + 8 <= end; a += 8)
		if (*(const uint64_t *)a != word_at(a))
			break;
	for (; a < end; a++)
		if (*(const uint8_t *)a != byte_at(a))
			return (const uint8_t *)a;
	return NULL;
}

/* The last damaged byte of [start, start + len): for damage below a block,
 * the byte nearest to it. */
const uint8_t *canary_damage_last(const void *start, size_t len)
{
	const uint8_t *hit = NULL;

	for (uintptr_t a = (uintptr_t)start; a < (uintptr_t)start + len; a++)
		if (*(const uint8_t *)a != byte_at(a))
			hit = (const uint8_t *)a;
	return hit;
}

const uint8_t *fill_damage(const void *start, size_t len, uint8_t fill)
{
	const uint8_t *p = start, *end = p + len;

	while (p < end && ((uintptr_t)p & 7))
		if (*p++ != fill)
			return p - 1;
	uint64_t w = 0x0101010101010101ULL * fill;
	for (; p + 8 <= end; p += 8)
		if (*(const uint64_t *)p != w)
			break;
	for (; p < end; p++)
		if (*p != fill)
			return p;
	return NULL;
}
