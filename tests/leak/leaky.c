/*
 * leaky.c - one leak scenario per argument, for the leak suite (run.sh).
 * Built -O0 -g -rdynamic: every allocating function is noinline and keeps
 * its name, so the reports can be checked for it. Each scenario ends with
 * clobber() so that no dead copy of a dropped pointer lingers in the stack
 * below main's frame (a conservative scan would rightly count it).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftmalloc.h"

/* Provided by the preloaded library; weak so the program links without it. */
#pragma weak show_alloc_mem_ex

#define NOINLINE __attribute__((noinline))

struct node {
	struct node *next;
	char pad[40];
};

void *g_keep;                /* a global root */
static void *s_keep;         /* a static one */
static __thread void *t_keep;  /* a TLS one */
char *g_inside;              /* points into the middle of a block */
void *volatile g_sink;       /* defeats dead-store elimination */

NOINLINE void clobber(void)
{
	volatile char buf[32768];

	memset((char *)buf, 0, sizeof buf);
}

NOINLINE void *leak_here(void) { return malloc(37); }
NOINLINE void *large_leak_here(void) { return malloc(100000); }
NOINLINE void *large_page_here(void) { return malloc(8192); }
NOINLINE void *list_head_here(void) { return malloc(24); }
NOINLINE void *list_node_here(void) { return malloc(48); }
NOINLINE void *site_a(void) { return malloc(16); }
NOINLINE void *site_b(void) { return malloc(16); }
NOINLINE void *keep_here(size_t n) { return malloc(n); }
NOINLINE void *cycle_here(void) { return malloc(32); }

/* 60 allocation sites, for the cap on printed groups. */
#define SITE(n) NOINLINE void *many_##n(void) { return malloc(8 + n); }
#define SITES10(t) SITE(t##0) SITE(t##1) SITE(t##2) SITE(t##3) SITE(t##4) \
	SITE(t##5) SITE(t##6) SITE(t##7) SITE(t##8) SITE(t##9)
SITES10(1) SITES10(2) SITES10(3) SITES10(4) SITES10(5) SITES10(6)
#define REF(n) many_##n,
#define REFS10(t) REF(t##0) REF(t##1) REF(t##2) REF(t##3) REF(t##4) \
	REF(t##5) REF(t##6) REF(t##7) REF(t##8) REF(t##9)
static void *(*const many_sites[])(void) = {
	REFS10(1) REFS10(2) REFS10(3) REFS10(4) REFS10(5) REFS10(6)
};

NOINLINE void do_many(void)
{
	for (size_t i = 0; i < sizeof many_sites / sizeof many_sites[0]; i++)
		g_sink = many_sites[i]();
	g_sink = NULL;
}

NOINLINE void do_lost(void)
{
	char *p = leak_here();

	memset(p, 'x', 37);
	p = NULL;
}

/* A lost head holding a list of three: one group, the three indirect. */
NOINLINE void do_indirect(void)
{
	void **head = list_head_here();
	struct node *n = NULL;

	for (int i = 0; i < 3; i++) {
		struct node *m = list_node_here();
		memset(m, 0, sizeof *m);
		m->next = n;
		n = m;
	}
	head[0] = n;
	head[1] = head[2] = NULL;
	head = NULL;
	n = NULL;
}

/* Two lost blocks pointing at each other: one is the head, one indirect. */
NOINLINE void do_cycle(void)
{
	void **a = cycle_here(), **b = cycle_here();

	memset(a, 0, 32);
	memset(b, 0, 32);
	a[0] = b;
	b[0] = a;
	a = b = NULL;
}

NOINLINE void do_grouping(void)
{
	for (int i = 0; i < 10; i++)
		g_sink = site_a();
	g_sink = site_b();
	g_sink = NULL;
}

NOINLINE void do_large_lost(void)
{
	char *p = large_leak_here();

	memset(p, 'L', 100000);
	p = NULL;
}

/* Exactly two pages: without guard pages the block starts where its mapping
 * does, so its descriptor's map and user fields both point at it. */
NOINLINE void do_large_page_lost(void)
{
	char *p = large_page_here();

	memset(p, 'P', 8192);
	p = NULL;
}

NOINLINE void do_large_global(void)
{
	g_keep = large_leak_here();
	memset(g_keep, 'L', 100000);
}

NOINLINE void do_reach_global(void) { g_keep = keep_here(100); }
NOINLINE void do_reach_static(void) { s_keep = keep_here(100); }
NOINLINE void do_reach_tls(void) { t_keep = keep_here(100); }
NOINLINE void do_interior(void)
{
	char *p = keep_here(64);

	memset(p, 0, 64);
	g_inside = p + 20;
	p = NULL;
}

/* Reachable only through a block whose only pointer is a local of main. */
NOINLINE void **make_holder(void)
{
	void **h = keep_here(32);

	memset(h, 0, 32);
	h[1] = keep_here(200);
	return h;
}

/* Leave without returning from main, whose frame stays live. */
NOINLINE void finish(void)
{
	clobber();
	exit(0);
}

/* Freed blocks (in thread caches, quarantine or reused) are never leaks,
 * even with a dangling pointer to them left in a global. */
NOINLINE void do_freed(void)
{
	void *keep[64];

	for (int i = 0; i < 64; i++)
		keep[i] = keep_here((size_t)(i * 37 % 3000) + 1);
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	g_keep = keep[5];
	void *big = keep_here(50000);
	free(big);
}

/* ---- threads ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

/* Keeps its block in a local while main exits: another thread's stack is
 * a root. */
static void *holder_thread(void *arg)
{
	void *volatile mine = keep_here(77);

	(void)arg;
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	for (;;)
		pause();
	return (void *)mine;
}

static void *leaker_thread(void *arg)
{
	(void)arg;
	do_lost();
	clobber();
	return NULL;
}

/* Allocates and frees for ever: at exit, its newest block may be held
 * only in a register or a local. */
static void *churn_thread(void *arg)
{
	void *slot[8] = { 0 };

	for (unsigned i = (unsigned)(uintptr_t)arg;; i++) {
		unsigned k = i % 8;
		free(slot[k]);
		slot[k] = malloc(1 + (i * 31) % (k == 0 ? 6000 : 600));
	}
	return NULL;
}

NOINLINE void do_churn(unsigned nthreads)
{
	pthread_t t;

	for (uintptr_t i = 0; i < nthreads; i++)
		pthread_create(&t, NULL, churn_thread, (void *)i);
	usleep(20000);
}

NOINLINE void do_reach_thread(void)
{
	pthread_t t;

	pthread_create(&t, NULL, holder_thread, NULL);
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

NOINLINE void do_lost_thread(void)
{
	pthread_t t;

	pthread_create(&t, NULL, leaker_thread, NULL);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "lost"))
		do_lost();
	else if (!strcmp(what, "indirect"))
		do_indirect();
	else if (!strcmp(what, "cycle"))
		do_cycle();
	else if (!strcmp(what, "grouping"))
		do_grouping();
	else if (!strcmp(what, "many"))
		do_many();
	else if (!strcmp(what, "large-lost"))
		do_large_lost();
	else if (!strcmp(what, "large-page-lost"))
		do_large_page_lost();
	else if (!strcmp(what, "large-global"))
		do_large_global();
	else if (!strcmp(what, "reach-global"))
		do_reach_global();
	else if (!strcmp(what, "reach-static"))
		do_reach_static();
	else if (!strcmp(what, "reach-tls"))
		do_reach_tls();
	else if (!strcmp(what, "interior"))
		do_interior();
	else if (!strcmp(what, "reach-stack")) {
		void **h = make_holder();  /* only main's frame holds h */
		memset(h[1], 'k', 200);
		finish();
	} else if (!strcmp(what, "reach-thread"))
		do_reach_thread();
	else if (!strcmp(what, "churn"))
		do_churn(argc > 2 ? (unsigned)atoi(argv[2]) : 2);
	else if (!strcmp(what, "lost-thread"))
		do_lost_thread();
	else if (!strcmp(what, "freed"))
		do_freed();
	else if (!strcmp(what, "candidates")) {
		do_lost();
		clobber();
		if (show_alloc_mem_ex)
			show_alloc_mem_ex();
	} else if (!strcmp(what, "none")) {
		void *p = keep_here(10), *q = keep_here(5000);
		free(p);
		free(q);
		printf("no leaks here\n");
	} else {
		fprintf(stderr, "usage: leaky SCENARIO\n");
		return 2;
	}
	clobber();
	return 0;
}
