/*
 * pagefault - the classic page-reclaim test: "pagefault 1" does 1024 x
 * malloc(1024) and writes one byte of each (never freed); "pagefault 0" runs
 * the same loop without the mallocs. The harness reports the difference in
 * minor page faults of the two whole processes (ru_minflt from wait4).
 */
#include <stdlib.h>

int main(int argc, char **argv)
{
	int with_malloc = argc > 1 && argv[1][0] == '1';
	char *volatile addr;
	int i = 0;

	while (i < 1024) {
		if (with_malloc) {
			addr = (char *)malloc(1024);
			if (!addr)
				return 2;
			addr[0] = 42;
		}
		i++;
	}
	return 0;
}
