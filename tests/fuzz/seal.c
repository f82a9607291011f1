/*
 * seal.c - are ftmalloc's parsed options read-only once it has started?
 *
 * Usage: FTMALLOC_OPTIONS=<run.sh's> LD_PRELOAD=libft_malloc.so seal OFFSET
 * OFFSET is where the symbol "opt" lies in the library (nm; it has hidden
 * visibility, so it is in the symbol table but cannot be looked up at run
 * time). The program:
 *   1. finds the library's load base (dl_iterate_phdr) and so opt's address;
 *   2. checks that this really is opt: the values FTMALLOC_OPTIONS set
 *      (quarantine=12345, alloc_fill=0x42, backtrace_depth=7) and the values
 *      start-up wrote over bad ones after parsing (format=bogus -> "text" by
 *      report_init, guard_side=bogus -> "after" and guard_align=99999 -> 16
 *      by hook_options: those late writers must all come before the seal);
 *   3. checks in /proc/self/maps that the mapping holding it is "r--p";
 *   4. writes the byte it read back to alloc_fill, with its own SIGSEGV
 *      handler: the write must fault (and the value stay);
 *   5. malloc and free still work;
 * then forks: the child does 1-5 again (fork keeps the protection) and
 * execs this program, which does 1-5 in a new process (exec starts over,
 * parses and seals again). Prints "ok: WHO" or "bad: WHO: why" lines;
 * exits 0 when every process passed.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uintptr_t base;
static int found;
static sigjmp_buf env;

static int find_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (info->dlpi_name && strstr(info->dlpi_name, "libft_malloc")) {
		base = info->dlpi_addr;
		found = 1;
		return 1;
	}
	return 0;
}

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(env, 1);
}

/* The permissions of the mapping holding addr ("r--p"), from /proc/self/maps. */
static int maps_perms(uintptr_t addr, char perms[5])
{
	static char buf[1 << 20];
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/maps", O_RDONLY);

	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	for (char *line = buf; line && *line; ) {
		unsigned long lo, hi;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && addr >= lo && addr < hi) {
			memcpy(perms, p, 5);
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

static int check(const char *who, unsigned long off)
{
	char perms[5];

	dl_iterate_phdr(find_lib, NULL);
	if (!found) {
		printf("bad: %s: libft_malloc is not loaded (LD_PRELOAD?)\n", who);
		return 1;
	}
	struct ft_options *o = (struct ft_options *)(base + off);
	if (o->quarantine != 12345 || o->alloc_fill != 0x42 || o->backtrace_depth != 7) {
		printf("bad: %s: offset 0x%lx is not the options (quarantine %zu alloc_fill 0x%x depth %u)\n",
		    who, off, o->quarantine, o->alloc_fill, o->backtrace_depth);
		return 1;
	}
	if (strcmp(o->format, "text") != 0 || strcmp(o->guard_side, "after") != 0 || o->guard_align != 16) {
		printf("bad: %s: start-up's corrections are missing (format %s guard_side %s guard_align %u)\n",
		    who, o->format, o->guard_side, o->guard_align);
		return 1;
	}
	if (maps_perms((uintptr_t)o, perms) != 0) {
		printf("bad: %s: no mapping holds %p in /proc/self/maps\n", who, (void *)o);
		return 1;
	}
	if (strcmp(perms, "r--p") != 0) {
		printf("bad: %s: the options page %p is %s, not r--p\n", who, (void *)o, perms);
		return 1;
	}
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	volatile uint8_t *target = &o->alloc_fill;
	int faulted = 0;
	if (sigsetjmp(env, 1) == 0)
		*target = *target;  /* the same value: harmless if it went through */
	else
		faulted = 1;
	sigaction(SIGSEGV, &old, NULL);
	if (!faulted) {
		printf("bad: %s: writing the options did not fault\n", who);
		return 1;
	}
	char *p = malloc(100);
	if (!p) {
		printf("bad: %s: malloc failed\n", who);
		return 1;
	}
	memset(p, 1, 100);
	free(p);
	printf("ok: %s: options at %p, %s, a write faulted\n", who, (void *)o, perms);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	unsigned long off = strtoul(argv[1], NULL, 16);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2)
		return check(argv[2], off);
	int bad = check("process", off);
	pid_t pid = fork();
	if (pid == 0) {
		bad = check("forked child", off);
		if (bad)
			_exit(1);
		execl("/proc/self/exe", argv[0], argv[1], "exec'd child", (char *)NULL);
		printf("bad: forked child: exec failed\n");
		_exit(1);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("bad: the child failed (status 0x%x)\n", st);
		bad = 1;
	}
	return bad;
}
