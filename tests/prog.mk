# tests/prog.mk - included by the suites' Makefiles after their "all:" line.
# Test programs are built at -O0 -g with -fno-builtin and frame pointers: the
# compiler must keep every bug exactly as written and every frame visible.
# BUG_WARNINGS silences what compilers say about those deliberate bugs. A suite
# adds its own flags with "EXTRA_CFLAGS = ..." and "EXTRA_LDLIBS = ..." (set
# with "=", before the include).
CC       ?= cc
CXX      ?= c++
TEST_CFLAGS   := -O0 -g -fno-builtin -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -pthread
TEST_CXXFLAGS := -O0 -g -fno-omit-frame-pointer -std=gnu++17 -Wall -Wextra -pthread
BUG_WARNINGS  := -Wno-array-bounds -Wno-free-nonheap-object -Wno-use-after-free \
                 -Wno-stringop-overflow -Wno-unknown-warning-option
CFLAGS   := $(TEST_CFLAGS) $(EXTRA_CFLAGS)
CXXFLAGS := $(TEST_CXXFLAGS)
LDLIBS   := -pthread -ldl $(EXTRA_LDLIBS)

build/%: %.c Makefile ../prog.mk | build
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

build/%: %.cpp Makefile ../prog.mk | build
	$(CXX) $(CXXFLAGS) -o $@ $< $(LDLIBS)

build:
	mkdir -p $@

clean:
	rm -rf build

.PHONY: all clean
