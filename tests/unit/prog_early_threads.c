/* Threads created before main has called malloc at all; they all allocate at once. */
#include "standalone.h"
#include <pthread.h>
#include <string.h>

enum { NT = 8 };
static pthread_barrier_t barrier;

static void *worker(void *arg)
{
	size_t id = (size_t)arg;
	pthread_barrier_wait(&barrier); /* all first mallocs race */
	for (int i = 0; i < 20000; i++) {
		size_t n = (id * 131 + (size_t)i * 17) % (i % 64 == 0 ? 50000 : 1100);
		char *p = malloc(n);
		if (!p)
			return (void *)1;
		memset(p, (int)id, n);
		for (size_t j = 0; j < n; j += 97)
			if (p[j] != (char)id)
				return (void *)2;
		free(p);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[NT];
	pthread_barrier_init(&barrier, NULL, NT);
	for (size_t i = 0; i < NT; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 1;
	int bad = 0;
	for (int i = 0; i < NT; i++) {
		void *r;
		pthread_join(t[i], &r);
		if (r)
			bad++;
	}
	printf("threads: %d ok, %d bad\n", NT - bad, bad);
	printf("allocator: %s\n", which_allocator());
	return bad != 0;
}
