/*
 * demo.c - small programs with real memory bugs, one per argument, for
 * "make demo": each runs under ftmalloc and shows the report it gets.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ftmalloc.h"

#define NOINLINE __attribute__((noinline))

static char *keep;  /* a block reachable from a global at exit: not a leak */

static NOINLINE char *make_name(const char *s)
{
	char *p = malloc(strlen(s));  /* bug: no room for the '\0' */
	strcpy(p, s);
	return p;
}

static NOINLINE void overflow(void)
{
	char *name = make_name("ftmalloc");
	printf("name: %s\n", name);
	free(name);  /* the canary after the 8 bytes is damaged: reported here */
}

static NOINLINE void clear_backwards(char *buf, int n)
{
	for (int i = n - 1; i >= -1; i--)  /* bug: one step too far down */
		buf[i] = 0;
}

static NOINLINE void underflow(void)
{
	char *buf = malloc(64);
	clear_backwards(buf, 64);
	free(buf);  /* the canary before the block is damaged: reported here */
}

static NOINLINE void bad_size_query(void)
{
	char buf[32];
	printf("usable: %zu\n", malloc_usable_size(buf));  /* bug: not a heap block */
}

static NOINLINE int *make_table(size_t n)
{
	return calloc(n, sizeof(int));
}

static NOINLINE void large_overflow(void)
{
	int *t = make_table(1024);  /* 4096 bytes: LARGE, flush against a guard page */
	for (int i = 0; i <= 1024; i++)  /* bug: one past the end */
		t[i] = i;
	free(t);
}

static NOINLINE void use_after_free(void)
{
	char *msg = strdup("hello");
	free(msg);
	msg[0] = 'J';  /* bug: write after free, seen when the block leaves quarantine */
}

static NOINLINE void release(char *p)
{
	free(p);
}

static NOINLINE void double_free(void)
{
	char *p = malloc(100);
	release(p);
	release(p);  /* bug */
}

static NOINLINE void invalid_free(void)
{
	char *p = malloc(64);
	free(p + 16);  /* bug: not the start of the block */
	free(p);
}

static NOINLINE void *leak_in_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		malloc(1000);  /* bug: never freed, nothing points to them */
	return NULL;
}

static NOINLINE void leak(void)
{
	pthread_t t;

	keep = malloc(42);
	pthread_create(&t, NULL, leak_in_thread, NULL);
	pthread_join(t, NULL);
}

static NOINLINE void show(void)
{
	void *a = malloc(42), *b = malloc(1000), *c = malloc(48847);
	show_alloc_mem();
	free(a);
	free(b);
	free(c);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } demos[] = {
		{ "show", show }, { "overflow", overflow }, { "underflow", underflow },
		{ "large-overflow", large_overflow }, { "invalid-pointer", bad_size_query },
		{ "use-after-free", use_after_free }, { "double-free", double_free },
		{ "invalid-free", invalid_free }, { "leak", leak },
	};
	for (size_t i = 0; argc > 1 && i < sizeof(demos) / sizeof(demos[0]); i++)
		if (strcmp(argv[1], demos[i].name) == 0) {
			demos[i].fn();
			return 0;
		}
	fprintf(stderr, "usage: demo show|overflow|underflow|large-overflow|invalid-pointer|"
	    "use-after-free|double-free|invalid-free|leak\n");
	return 2;
}
