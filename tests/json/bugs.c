/*
 * bugs.c - the program of the JSON suite: one memory bug per argument, each
 * in noinline functions whose names and lines the suite looks for in the
 * reports' frames. A line the suite checks carries a marker comment
 * "@NAME"; run.sh finds its number with grep, so this file may change.
 *
 *     bugs overflow        a TINY block written one past its end, found at free
 *     bugs large-overflow  a LARGE block written past its end: guard page, SIGSEGV
 *     bugs use-after-free  a TINY block written after free, found at exit
 *     bugs double-free     a SMALL block freed twice
 *     bugs invalid-free    free() of a pointer inside a block
 *     bugs leaks           a lost list (1 block definitely, 3 indirectly) and a
 *                          block lost in a second thread
 *     bugs thread-double-free  a block of the main thread freed twice by a second one
 *     bugs all             overflow, double-free and invalid-free in one process,
 *                          then the leaks
 *     bugs clean           no bug
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

struct node { struct node *next; char payload[40]; };

/* Zero the stack below the caller: no stale copy of a lost pointer there. */
NOINLINE void clobber(void)
{
	volatile char buf[32768];

	memset((char *)buf, 0, sizeof buf);
}

NOINLINE char *make_tiny(void)
{
	return malloc(13);  /* @alloc_tiny */
}

NOINLINE void drop(void *p)
{
	free(p);  /* @drop */
}

NOINLINE void drop_again(void *p)
{
	free(p);  /* @drop_again */
}

NOINLINE void overflow(void)
{
	char *p = make_tiny();
	((volatile char *)p)[13] ^= 0x5a;  /* bug: one past the end */
	drop(p);
}

NOINLINE int *make_large(void)
{
	return malloc(4096);  /* @alloc_large */
}

NOINLINE void large_overflow(void)
{
	volatile int *t = make_large();
	for (int i = 0; i <= 1024; i++)
		t[i] = i;  /* @large_write: t[1024] is past the end */
	free((void *)t);
}

NOINLINE void use_after_free(void)
{
	char *p = make_tiny();
	drop(p);
	((volatile char *)p)[3] = 'J';  /* bug */
}

NOINLINE char *make_small(void)
{
	return malloc(200);  /* @alloc_small */
}

NOINLINE void double_free(void)
{
	char *p = make_small();
	drop(p);
	drop_again(p);  /* bug */
}

NOINLINE void invalid_free(void)
{
	char *p = make_tiny();
	drop(p + 8);  /* bug: not the start of the block */
	drop(p);
}

NOINLINE struct node *push(struct node *head)
{
	struct node *n = malloc(sizeof(*n));  /* @alloc_node */
	n->next = head;
	return n;
}

NOINLINE void lose_list(void)
{
	struct node *head = NULL;
	for (int i = 0; i < 4; i++)
		head = push(head);
}

NOINLINE void *thread_leak(void *arg)
{
	(void)arg;
	char *p = malloc(77);  /* @alloc_thread */
	memset(p, 1, 77);
	p = NULL;
	clobber();
	return NULL;
}

NOINLINE void leaks(void)
{
	pthread_t t;
	lose_list();
	clobber();
	pthread_create(&t, NULL, thread_leak, NULL);
	pthread_join(t, NULL);
}

NOINLINE void *thread_double_free(void *arg)
{
	drop(arg);
	drop_again(arg);
	return NULL;
}

NOINLINE void thread_bug(void)
{
	pthread_t t;
	char *p = make_small();
	pthread_create(&t, NULL, thread_double_free, p);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } bugs[] = {
		{ "overflow", overflow }, { "large-overflow", large_overflow },
		{ "use-after-free", use_after_free }, { "double-free", double_free },
		{ "invalid-free", invalid_free }, { "leaks", leaks },
		{ "thread-double-free", thread_bug },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: bugs BUG\n");
		return 2;
	}
	if (strcmp(argv[1], "all") == 0) {
		overflow();
		double_free();
		invalid_free();
		leaks();
		return 0;
	}
	if (strcmp(argv[1], "clean") == 0) {
		free(make_tiny());
		return 0;
	}
	for (size_t i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++) {
		if (strcmp(argv[1], bugs[i].name) == 0) {
			bugs[i].fn();
			printf("done\n");
			return 0;
		}
	}
	fprintf(stderr, "bugs: no bug %s\n", argv[1]);
	return 2;
}
