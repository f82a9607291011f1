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

/* Written once by canary_init(), then sealed: a stray write cannot change
 * what every canary is checked against. */
static FT_SEALED(uint64_t) canary_secret;

void canary_init(void)
{
	int saved = errno;
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = ft_mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)&s);
	}
	canary_secret.v = s | 1;
	os_seal(&canary_secret, sizeof(canary_secret));  /* a refusal only loses the protection */
	errno = saved;
}

/* The expected word for the aligned 8 bytes at a. */
static inline uint64_t word_at(uintptr_t a)
{
	return ft_mix64(canary_secret.v ^ (a >> 3));
}

/*
 * All three work a whole aligned 8-byte word at a time, with a mask for the
 * bytes of the word inside [start, start + len): one mix per word. Bytes of
 * a word outside the range are left as they are (little-endian: byte i of a
 * word is bits 8i..8i+7).
 */
static inline uint64_t range_mask(uintptr_t w, uintptr_t start, uintptr_t end)
{
	uint64_t m = ~0ULL;

	if (start > w)
		m <<= (start - w) * 8;
	if (end < w + 8)
		m &= ~0ULL >> ((w + 8 - end) * 8);
	return m;
}

void canary_fill(void *start, size_t len)
{
	uintptr_t a = (uintptr_t)start, end = a + len;

	for (uintptr_t w = a & ~(uintptr_t)7; w < end; w += 8) {
		uint64_t m = range_mask(w, a, end);
		uint64_t *p = (uint64_t *)w;
		*p = m == ~0ULL ? word_at(w) : (*p & ~m) | (word_at(w) & m);
	}
}

const uint8_t *canary_damage(const void *start, size_t len)
{
	uintptr_t a = (uintptr_t)start, end = a + len;

	for (uintptr_t w = a & ~(uintptr_t)7; w < end; w += 8) {
		uint64_t diff = (*(const uint64_t *)w ^ word_at(w)) & range_mask(w, a, end);
		if (diff)
			return (const uint8_t *)(w + (unsigned)__builtin_ctzll(diff) / 8);
	}
	return NULL;
}

/* The last damaged byte of [start, start + len): for damage below a block,
 * the byte nearest to it. */
const uint8_t *canary_damage_last(const void *start, size_t len)
{
	uintptr_t a = (uintptr_t)start, end = a + len;

	if (len == 0)
		return NULL;
	for (uintptr_t w = (end - 1) & ~(uintptr_t)7; w + 8 > a; w -= 8) {
		uint64_t diff = (*(const uint64_t *)w ^ word_at(w)) & range_mask(w, a, end);
		if (diff)
			return (const uint8_t *)(w + (63 - (unsigned)__builtin_clzll(diff)) / 8);
		if (w < 8)
			break;
	}
	return NULL;
}

/* A report shows the bytes around damage, but must never show an intact
 * canary byte: word_at is a bijection of the secret, so one canary word and
 * its address give the secret away, and with it every canary. */
uint64_t canary_intact_mask(const uint8_t *bytes, uintptr_t at, size_t len)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < len && i < 64; i++) {
		uintptr_t a = at + i;
		if (bytes[i] == (uint8_t)(word_at(a & ~(uintptr_t)7) >> ((a & 7) * 8)))
			mask |= 1ULL << i;
	}
	return mask;
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
