/*
 * fixedrandom.c - libfixedrandom.so, preloaded before the library by the
 * wild suite: getrandom() always gives the same bytes, so the canaries of
 * two runs (without address randomisation) must be the same if, and only
 * if, their secret comes from getrandom.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <stddef.h>

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	unsigned char *b = buf;

	(void)flags;
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(0x3c + 0x51 * i);
	return (ssize_t)len;
}
