// exitcode with C++ streams: cout's buffer is flushed by a static
// destructor; the output must not be lost.
#include <cstdlib>
#include <iostream>

static void *volatile keep;

int main()
{
	keep = std::malloc(29);
	keep = nullptr;
	std::cout << "cout-output";  // no newline, no flush
	return 0;
}
