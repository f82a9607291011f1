/*
 * bigheap.c - the leak scan's performance case: 1M 32-byte blocks in a
 * linked list rooted in a global, plus 1M unreferenced ones (one group of
 * definitely lost blocks). Prints the wall clock (CLOCK_REALTIME, ns) as
 * main returns, so the runner can time what happens at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 1000000

struct node {
	struct node *next;
	char pad[24];
};

struct node *g_list;
void *volatile g_sink;

__attribute__((noinline)) struct node *list_node(void) { return malloc(sizeof(struct node)); }
__attribute__((noinline)) void *dropped_block(void) { return malloc(32); }

__attribute__((noinline)) void clobber(void)
{
	volatile char buf[32768];

	memset((char *)buf, 0, sizeof buf);
}

int main(void)
{
	for (int i = 0; i < N; i++) {
		struct node *n = list_node();
		memset(n->pad, 0, sizeof n->pad);
		n->next = g_list;
		g_list = n;
		void *p = dropped_block();
		memset(p, 0, 32);
		g_sink = NULL;
	}
	clobber();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("T0 %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fflush(stdout);
	return 0;
}
