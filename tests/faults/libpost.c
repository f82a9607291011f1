/*
 * libpost.c - a library of the program (DT_NEEDED by postexit), so its
 * destructor runs after ftmalloc's exit checks (ftmalloc is preloaded and
 * is finalised first). It frees blocks allocated long before, allocates new
 * ones (some never freed), reallocates, and registers an exit handler that
 * does more of the same: none of it may crash or be reported.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *ctor_block;      /* allocated by this library's constructor */
static void *from_main[4];    /* handed over by the program */
static void *kept_late;       /* allocated after the report, freed later */

static void say(const char *s) { (void)!write(2, s, strlen(s)); }

__attribute__((constructor)) static void post_init(void)
{
	ctor_block = malloc(3000);
	memset(ctor_block, 'c', 3000);
}

void post_keep(void *p)
{
	for (int i = 0; i < 4; i++)
		if (!from_main[i]) {
			from_main[i] = p;
			return;
		}
}

static void late_handler(void)
{
	say("marker: late exit handler\n");
	free(kept_late);
	char *p = malloc(50000);
	memset(p, 1, 50000);
	free(p);
	p = malloc(10);  /* never freed: after the report, not reported */
	(void)p;
	say("marker: late exit handler done\n");
}

__attribute__((destructor)) static void post_fini(void)
{
	say("marker: post destructor\n");
	for (int i = 0; i < 3000; i++)
		if (ctor_block[i] != 'c') {
			say("marker: post destructor: ctor block damaged\n");
			break;
		}
	free(ctor_block);
	for (int i = 0; i < 4; i++)
		free(from_main[i]);
	char *p = malloc(100);
	memset(p, 2, 100);
	char *q = calloc(10, 10);
	p = realloc(p, 5000);
	char *r = memalign(64, 300);
	memset(r, 3, 300);
	char *s = strdup("after the report");
	free(q);
	free(p);
	free(s);
	kept_late = r;
	atexit(late_handler);
	for (int i = 0; i < 1000; i++)
		free(malloc((size_t)i * 7 + 1));
	say("marker: post destructor done\n");
}
