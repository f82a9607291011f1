/*
 * bugs.c - the program behind the reports quoted in man/ftmalloc.3: one
 * memory bug per argument. tests/man/run.sh builds it with
 * "cc -g -o bugs bugs.c", runs each bug under ftmalloc and
 * checks that every line the man page quotes still comes out, in order.
 * Line numbers are quoted too: change this file, then the man page.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

struct node { struct node *next; char name[40]; };

static NOINLINE char *copy_name(const char *s)
{
	char *p = malloc(strlen(s));  /* bug: no room for the '\0' */
	strcpy(p, s);
	return p;
}

static NOINLINE void overflow(void)
{
	char *name = copy_name("ftmalloc");
	printf("%s\n", name);
	free(name);
}

static NOINLINE void large_overflow(void)
{
	int *t = calloc(1024, sizeof(int));  /* 4096 bytes: LARGE */
	for (int i = 0; i <= 1024; i++)      /* bug: one past the end */
		t[i] = i;
	free(t);
}

static NOINLINE void underflow(void)
{
	static const int values[] = { 3, 0, 7 };
	int *hist = calloc(10, sizeof(int));
	for (int i = 0; i < 3; i++)
		hist[values[i] - 1]++;  /* bug: value 0 counts into hist[-1] */
	free(hist);
}

static NOINLINE void use_after_free(void)
{
	char *msg = strdup("hello");
	free(msg);
	msg[0] = 'J';  /* bug */
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

static NOINLINE void invalid_pointer(void)
{
	char *p = malloc(64);
	printf("%zu\n", malloc_usable_size(p + 8));  /* bug: not the start */
	free(p);
}

static NOINLINE struct node *push(struct node *list, const char *name)
{
	struct node *n = malloc(sizeof(*n));
	n->next = list;
	n->name[0] = '\0';
	strncat(n->name, name, sizeof(n->name) - 1);
	return n;
}

static NOINLINE int count_jobs(void)
{
	struct node *list = NULL;
	int n;
	for (n = 0; n < 4; n++)
		list = push(list, "job");
	return n;  /* bug: the list is never freed */
}

static NOINLINE void leak(void)
{
	printf("%d jobs\n", count_jobs());
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } bugs[] = {
		{ "overflow", overflow }, { "large-overflow", large_overflow },
		{ "underflow", underflow }, { "use-after-free", use_after_free },
		{ "double-free", double_free }, { "invalid-free", invalid_free },
		{ "invalid-pointer", invalid_pointer }, { "leak", leak },
	};
	for (size_t i = 0; argc > 1 && i < sizeof(bugs) / sizeof(bugs[0]); i++)
		if (strcmp(argv[1], bugs[i].name) == 0) {
			bugs[i].fn();
			return 0;
		}
	fprintf(stderr, "usage: bugs overflow|large-overflow|underflow|use-after-free|"
	    "double-free|invalid-free|invalid-pointer|leak\n");
	return 2;
}
