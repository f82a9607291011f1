/*
 * secprog.c - the security checks of the wild suite (tests/wild/run.sh).
 *
 *   secprog canary WORDS_FILE   a live 13-byte TINY block: its head canary
 *                               word (the 8 bytes before it) and its tail
 *                               canary word (the 8 bytes after its 16-byte
 *                               slot) are read from memory and written to
 *                               WORDS_FILE ("head HEX ADDRESS" / "tail HEX
 *                               ADDRESS", HEX the 64-bit value); then a
 *                               one-byte overflow, show_alloc_mem_ex(), the
 *                               free that reports it, and a write after free
 *                               found at exit (reports with bytes around)
 *   secprog secure              prints AT_SECURE=N, then a one-byte overflow
 *                               (the report goes to stderr)
 *   secprog allocator           the module malloc comes from (dladdr)
 *
 * Nothing it prints on stdout or stderr holds a canary byte of its own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE char *alloc_block(size_t n) { return malloc(n); }
static NOINLINE void release_block(void *p) { free(p); }
static NOINLINE void overflow_by_one(char *p, size_t n) { p[n] = (char)(p[n] ^ 0x5a); }

static int canary(const char *path)
{
	void (*show_ex)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "show_alloc_mem_ex");
	char *p = alloc_block(13);
	uint64_t head, tail;
	FILE *f = fopen(path, "w");

	if (!p || !f || !show_ex) {
		fprintf(stderr, "secprog: setup failed\n");
		return 1;
	}
	memset(p, 'a', 13);
	memcpy(&head, p - 8, 8);    /* this slot's head canary */
	memcpy(&tail, p + 16, 8);   /* its tail canary, in the gap after the slot */
	fprintf(f, "head %016" PRIx64 " %p\ntail %016" PRIx64 " %p\n", head, (void *)(p - 8), tail,
	    (void *)(p + 16));
	fclose(f);
	overflow_by_one(p, 13);
	fflush(stdout);
	show_ex();
	fflush(stdout);
	release_block(p);
	char *q = alloc_block(40);
	release_block(q);
	q[3] = 'X';  /* use after free, in quarantine: reported at exit with its bytes */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "canary"))
		return canary(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "secure")) {
		printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
		fflush(stdout);
		char *p = alloc_block(24);
		overflow_by_one(p, 24);
		release_block(p);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "allocator")) {
		Dl_info di;
		void *m = dlsym(RTLD_DEFAULT, "malloc");
		printf("%s\n", m && dladdr(m, &di) && di.dli_fname ? di.dli_fname : "?");
		return 0;
	}
	fprintf(stderr, "usage: secprog canary WORDS_FILE | secure | allocator\n");
	return 2;
}
