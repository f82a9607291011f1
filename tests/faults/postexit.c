/*
 * postexit.c - the program of the post-report checks: hands blocks to
 * libpost (whose destructor frees them after ftmalloc's exit report) and
 * loses one block of its own, so that the exit report is not empty.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

void post_keep(void *p);

static __attribute__((noinline)) void *postexit_leak_site(size_t n) { return malloc(n); }

int main(int argc, char **argv)
{
	for (int i = 0; i < 4; i++) {
		char *p = malloc(100 + (size_t)i * 3000);
		memset(p, 'm', 100);
		post_keep(p);
	}
	void *volatile lost = postexit_leak_site(444);
	lost = NULL;
	(void)lost;
	printf("main done\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
