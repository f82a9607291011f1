/* dlopen / dlsym / dlerror under LD_PRELOAD: dlerror allocates its message. */
#include "standalone.h"
#include <string.h>

int main(void)
{
	int ok = 1;
	void *m = dlopen("libm.so.6", RTLD_NOW);
	if (!m) {
		printf("dlopen libm failed: %s\n", dlerror());
		return 1;
	}
	double (*cosf_)(double);
	*(void **)&cosf_ = dlsym(m, "cos");
	if (!cosf_) {
		printf("dlsym cos failed\n");
		return 1;
	}
	printf("cos(0) = %.1f\n", cosf_(0.0));
	/* a missing symbol: NULL, and dlerror() names it */
	for (int i = 0; i < 100; i++) {
		void *s = dlsym(m, "no_such_symbol_ftmalloc");
		const char *e = dlerror();
		if (s || !e || !strstr(e, "no_such_symbol_ftmalloc"))
			ok = 0;
	}
	printf("missing symbol: %s\n", ok ? "NULL with dlerror message" : "WRONG");
	if (dlerror() != NULL) /* cleared after being read */
		ok = 0;
	/* a missing library */
	void *none = dlopen("libno-such-library-ftmalloc.so", RTLD_NOW);
	const char *e = dlerror();
	printf("missing library: %s\n", !none && e && strstr(e, "libno-such-library-ftmalloc.so") ? "NULL with dlerror message" : "WRONG");
	/* dlopen/dlclose repeatedly */
	for (int i = 0; i < 50; i++) {
		void *h = dlopen("libm.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (!h || dlclose(h) != 0)
			ok = 0;
	}
	printf("reopen: %s\n", ok ? "ok" : "WRONG");
	dlclose(m);
	printf("allocator: %s\n", which_allocator());
	return ok ? 0 : 1;
}
