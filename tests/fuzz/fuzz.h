/*
 * fuzz.h - what the two fuzz targets share. A target is one C file that
 * includes the parser's real source (src/options.c, src/suppress.c) after
 * this header, so it sees the parser's static tables and state; fmt.c is
 * linked as it is. The only difference from the library: the parsers'
 * warnings, written with fmt_init(&o, 2), go to fuzz_out_fd instead, -1 by
 * default (formatted in full, never written: quiet and fast), 2 when
 * FUZZ_VERBOSE is set in the environment.
 *
 * A target checks invariants and calls fuzz_fail() when one does not hold:
 * it prints why and aborts, which libFuzzer (or driver.c) reports as a
 * crash and saves the input.
 */
#ifndef FUZZ_H
#define FUZZ_H

#define _GNU_SOURCE
#include "../../src/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* On the harness's own functions (oracles, checks): libFuzzer's coverage
 * and comparison tracing is for the parser; the sanitizers stay. */
#if defined(__clang__) && __clang_major__ >= 13
#define FUZZ_HARNESS __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_HARNESS
#endif

static int fuzz_out_fd = -1;
#define fmt_init(o, fd) fmt_init((o), fuzz_out_fd)

__attribute__((noreturn, format(printf, 1, 2), unused))
static void fuzz_fail(const char *f, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

__attribute__((unused))
static void fuzz_setup(void)
{
	const char *v = getenv("FUZZ_VERBOSE");

	if (v && *v)
		fuzz_out_fd = 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
