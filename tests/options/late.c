/* A library preloaded after ftmalloc: its destructor runs after ftmalloc's,
 * and must still run (and its output reach stdout) when exitcode ends the
 * process. */
#include <unistd.h>

__attribute__((destructor)) static void late_destructor(void)
{
	write(1, "[late-destructor]", 17);
}
