/*
 * Our mappings carry names in /proc/self/maps ("[anon:ftmalloc:tiny]" ...)
 * where the kernel can name anonymous mappings (Linux 5.17+ with
 * CONFIG_ANON_VMA_NAME); elsewhere the test says SKIP and why.
 */
#include "harness.h"

#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static bool kernel_names_mappings(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, 4096, (unsigned long)"probe");
	munmap(p, 4096);
	return rc == 0;
}

static void test_names(void)
{
	REQUIRE_FTMALLOC("mapping names");
	if (!kernel_names_mappings())
		skip("this kernel cannot name anonymous mappings (prctl PR_SET_VMA: %s)", strerror(errno));
	void *t = malloc(20), *s = malloc(600), *l = malloc(100000);
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f, "open /proc/self/maps");
	char line[512];
	int tiny = 0, small = 0, large = 0;
	while (fgets(line, sizeof line, f)) {
		tiny += strstr(line, "[anon:ftmalloc:tiny]") != NULL;
		small += strstr(line, "[anon:ftmalloc:small]") != NULL;
		large += strstr(line, "[anon:ftmalloc:large]") != NULL;
	}
	fclose(f);
	CHECK(tiny && small && large, "names in /proc/self/maps: tiny %d small %d large %d", tiny, small, large);
	free(t);
	free(s);
	free(l);
}

static const struct unit_test tests[] = {
	T("mapping-names", test_names),
};
TEST_MAIN(tests)
