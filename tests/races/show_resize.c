/*
 * show_resize - list the heap while another thread resizes a LARGE block in
 * place (bug: large_resize dropped the LARGE lock, then changed the block's
 * size and made the pages past it PROT_NONE, while show_alloc_mem_ex read
 * the block's slack canaries from the size it was changing: SIGSEGV inside
 * the allocator).
 *
 *   show_resize show SECONDS     the main thread calls show_alloc_mem_ex()
 *                                in a loop (its listing goes to /dev/null)
 *   show_resize signal SECONDS   the main thread sends itself SIGUSR2 and
 *                                makes a call that serves it (run with
 *                                report_signal=USR2: a heap dump on stderr)
 *
 * RESIZERS threads each own a LARGE block that they shrink (70000 bytes)
 * and grow (300000 bytes) in place, checking its bytes. A correct program:
 *   ok N listings, M in-place resizes, no block moved, data intact
 *   bad ... (a block moved or lost its bytes)
 * A crash is the bug; run.sh checks the exit status and stderr.
 */
#include "races.h"
#include <fcntl.h>
#include <pthread.h>

#define RESIZERS 6
#define SMALLSZ 70000
#define BIGSZ 300000
static atomic_int stop;
static atomic_long resizes;
static atomic_int moved, damaged;

static void *resizer(void *arg)
{
	unsigned char tag = (unsigned char)(0x40 + (long)arg);
	unsigned char *p = malloc(SMALLSZ);
	memset(p, tag, SMALLSZ);
	p = realloc(p, BIGSZ);  /* moves, with room to grow in place again */
	memset(p, tag, BIGSZ);
	long n = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned char *q = realloc(p, SMALLSZ);  /* pages past it go PROT_NONE */
		if (q != p)
			atomic_store(&moved, 1);
		if (q)
			p = q;
		q = realloc(p, BIGSZ);  /* and back */
		if (q != p)
			atomic_store(&moved, 1);
		if (q)
			p = q;
		if (p[0] != tag || p[SMALLSZ - 1] != tag)
			atomic_store(&damaged, 1);
		p[BIGSZ - 1] = tag;  /* the grown part is ours to write */
		n += 2;
	}
	atomic_fetch_add(&resizes, n);
	free(p);
	return NULL;
}

int main(int argc, char **argv)
{
	races_common(argc, argv);
	if (argc != 3 || (strcmp(argv[1], "show") && strcmp(argv[1], "signal"))) {
		fprintf(stderr, "usage: show_resize show|signal SECONDS | allocator\n");
		return 2;
	}
	int sig = !strcmp(argv[1], "signal");
	long end = now_ns() + (long)(atof(argv[2]) * 1e9);
	void (*show_ex)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "show_alloc_mem_ex");
	if (!show_ex) {
		result("bad show_alloc_mem_ex not found: not under ftmalloc");
		return 1;
	}
	/* The listing goes to stdout: keep stdout for the result line only. */
	result_fd = dup(STDOUT_FILENO);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	close(null);

	pthread_t t[RESIZERS];
	for (long i = 0; i < RESIZERS; i++)
		pthread_create(&t[i], NULL, resizer, (void *)i);
	long n = 0;
	while (now_ns() < end) {
		if (sig) {
			kill(getpid(), SIGUSR2);
			void *volatile p = malloc(24);  /* serves the dump, if no other thread did */
			free(p);
		} else {
			show_ex();
		}
		n++;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < RESIZERS; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&moved) || atomic_load(&damaged)) {
		result("bad %s%s", atomic_load(&moved) ? "a LARGE block moved in a realloc that fits in place; " : "",
		    atomic_load(&damaged) ? "a LARGE block lost its bytes" : "");
		return 1;
	}
	result("ok %ld %s, %ld in-place resizes of %d LARGE blocks, no block moved, data intact",
	    n, sig ? "signals sent" : "listings", atomic_load(&resizes), RESIZERS);
	return 0;
}
