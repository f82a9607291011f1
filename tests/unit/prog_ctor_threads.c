/* Threads that allocate, started and joined from a constructor, before main. */
#include "standalone.h"
#include <pthread.h>
#include <string.h>

static int ctor_result = -1;

static void *worker(void *arg)
{
	size_t id = (size_t)arg;
	void *keep[64];
	for (int i = 0; i < 64; i++) {
		keep[i] = malloc(id * 100 + (size_t)i * 30);
		if (!keep[i])
			return (void *)1;
		memset(keep[i], 1, id * 100 + (size_t)i * 30);
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	return NULL;
}

__attribute__((constructor)) static void early(void)
{
	pthread_t t[4];
	int bad = 0;
	for (size_t i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			bad++;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		if (r)
			bad++;
	}
	ctor_result = bad;
}

int main(void)
{
	printf("constructor threads: %s\n", ctor_result == 0 ? "ok" : "FAILED");
	printf("allocator: %s\n", which_allocator());
	return ctor_result != 0;
}
