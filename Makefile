# ftmalloc - build the preloadable library, its tests and its benchmark.

ifeq ($(HOSTTYPE),)
HOSTTYPE := $(shell uname -m)_$(shell uname -s)
endif

NAME     := libft_malloc_$(HOSTTYPE).so
LINK     := libft_malloc.so
CC       ?= cc
PREFIX   ?= /usr/local

SRCS     := $(sort $(wildcard src/*.c))
OBJDIR   := obj
OBJS     := $(SRCS:src/%.c=$(OBJDIR)/%.o)
DEPS     := $(OBJS:.o=.d)

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -std=gnu11 -fPIC -fvisibility=hidden \
            -fno-strict-aliasing -fno-omit-frame-pointer -fno-builtin-malloc \
            -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
            -ftls-model=initial-exec -Iinclude -MMD -MP
LDFLAGS  += -shared -Wl,-z,defs -Wl,-z,now -Wl,--no-undefined
LDLIBS   += -lpthread -ldl

all: $(LINK)

$(LINK): $(NAME)
	ln -sf $(NAME) $(LINK)

$(NAME): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(OBJDIR)/%.o: src/%.c | $(OBJDIR)
	$(CC) $(CFLAGS) -c $< -o $@

$(OBJDIR):
	mkdir -p $@

clean:
	rm -rf $(OBJDIR)
	$(MAKE) -C tests clean

fclean: clean
	rm -f $(LINK) libft_malloc_*.so

re: fclean
	$(MAKE) all

# The README's test command: every suite, ending with "N passed, N failed".
test: all
	$(MAKE) -C tests run

bench: all
	$(MAKE) -C tests bench

demo: all
	$(MAKE) -C tests demo

# Not part of "make test": a 10-minute steady workload whose RSS must stay flat
# (SOAK_SECONDS=N to change), and the parser fuzzers for FUZZ_SECONDS each.
soak: all
	$(MAKE) -C tests soak

fuzz: all
	$(MAKE) -C tests fuzz

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	           $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(NAME) $(DESTDIR)$(PREFIX)/lib/$(NAME)
	ln -sf $(NAME) $(DESTDIR)$(PREFIX)/lib/$(LINK)
	install -m 644 include/ftmalloc.h $(DESTDIR)$(PREFIX)/include/ftmalloc.h
	for t in tools/*; do case "$$t" in */install-deps|*/gen-man-options) ;; *) [ -f "$$t" ] && install -m 755 "$$t" $(DESTDIR)$(PREFIX)/bin/;; esac; done; true
	for m in man/*.3; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man3/; done; true

.PHONY: all clean fclean re test bench demo soak fuzz install

-include $(DEPS)

# ---- man page ----------------------------------------------------------------
# The OPTIONS list of man/ftmalloc.3 is generated from src/options.def:
# "make man" rewrites it after the table changed; "make man-check" fails (with a
# diff) while it is out of date. tests/man checks the same.
man:
	tools/gen-man-options --update man/ftmalloc.3

man-check:
	tools/gen-man-options --check man/ftmalloc.3

.PHONY: man man-check
