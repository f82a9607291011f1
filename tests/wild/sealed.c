/*
 * sealed.c - is ftmalloc's start-up state read-only once it has started?
 *
 * Usage: FTMALLOC_OPTIONS=<run.sh's> LD_PRELOAD=libft_malloc.so \
 *            sealed NAME=OFFSET...
 * Each NAME is one of ftmalloc's sealed pages (FT_SEALED in src/internal.h)
 * and OFFSET where nm says it lies in the library (hidden symbols: in the
 * symbol table, but not to be looked up at run time). For each, the program
 *   1. finds the library's load base (dl_iterate_phdr), so the address;
 *   2. checks that this really is that state, as start-up left it:
 *        opt_page         the values FTMALLOC_OPTIONS set (quarantine=12345,
 *                         alloc_fill=0x42, backtrace_depth=7) and those
 *                         start-up wrote over bad ones after parsing
 *                         (format=bogus -> "text", guard_side=bogus ->
 *                         "after", guard_align=99999 -> 16): those late
 *                         writers must all come before the seal;
 *        canary_secret    a 64-bit value, odd (start-up sets the low bit);
 *        bt_setup_page    its first word is libunwind's unw_backtrace;
 *        segv_setup_page  the SIGSEGV handler chained to (SIG_DFL: this
 *                         program had none) and the "installed" flag;
 *   3. checks in /proc/self/maps that the mapping holding it is "r--p";
 *   4. writes its first byte back, under a SIGSEGV handler of its own: the
 *      write must fault (and the value stay);
 * and checks 3 and 4 can tell: a page-aligned object of this program's own
 * is "rw-p" and written without a fault. Then malloc and free must still
 * work. All of it in the process, in a forked child (fork keeps the
 * protection) and in a program the child execs (start-up seals again).
 * Prints "ok: WHO: NAME ..." or "bad: WHO: ..." lines; exits 0 when every
 * check passed.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OBJ 8

struct obj {
	const char *name;
	unsigned long off;
};

static struct obj objs[MAX_OBJ];
static int nobj;
static uintptr_t base;
static sigjmp_buf env;
static char own_page[4096] __attribute__((aligned(4096)));  /* the control */

/* The layout of segv.c's sealed state. */
struct segv_state {
	struct sigaction previous;
	bool installed;
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (info->dlpi_name && strstr(info->dlpi_name, "libft_malloc")) {
		base = info->dlpi_addr;
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

/* 1 when writing the byte at p back faults. */
static int write_faults(volatile uint8_t *p)
{
	struct sigaction sa, old;
	int faulted = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(env, 1) == 0)
		*p = *p;  /* the same value: harmless if it went through */
	else
		faulted = 1;
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

/* What start-up left in the object, or why it is not that object. */
static const char *identify(const char *name, const void *at, char *why, size_t len)
{
	if (strcmp(name, "opt_page") == 0) {
		const struct ft_options *o = at;
		if (o->quarantine != 12345 || o->alloc_fill != 0x42 || o->backtrace_depth != 7)
			snprintf(why, len, "not the options (quarantine %zu alloc_fill 0x%x depth %u)",
			    o->quarantine, o->alloc_fill, o->backtrace_depth);
		else if (strcmp(o->format, "text") != 0 || strcmp(o->guard_side, "after") != 0 || o->guard_align != 16)
			snprintf(why, len, "start-up's corrections are missing (format %s guard_side %s guard_align %u)",
			    o->format, o->guard_side, o->guard_align);
		else
			return NULL;
	} else if (strcmp(name, "canary_secret") == 0) {
		uint64_t s;
		memcpy(&s, at, sizeof(s));
		if (!(s & 1))
			snprintf(why, len, "no secret: the low bit is clear");
		else
			return NULL;
	} else if (strcmp(name, "bt_setup_page") == 0) {
		void *fn;
		Dl_info di;
		memcpy(&fn, at, sizeof(fn));
		if (!fn || !dladdr(fn, &di) || !di.dli_fname || !strstr(di.dli_fname, "libunwind"))
			snprintf(why, len, "its first word %p is not in libunwind", fn);
		else
			return NULL;
	} else if (strcmp(name, "segv_setup_page") == 0) {
		const struct segv_state *s = at;
		if (!s->installed || (s->previous.sa_flags & SA_SIGINFO) || s->previous.sa_handler != SIG_DFL)
			snprintf(why, len, "not the fault handler's state (installed %d, previous %p)",
			    (int)s->installed, (void *)s->previous.sa_handler);
		else
			return NULL;
	} else {
		snprintf(why, len, "no check known for %s", name);
	}
	return why;
}

static int check(const char *who)
{
	char perms[5], why[256];
	int bad = 0;

	base = 0;
	dl_iterate_phdr(find_lib, NULL);
	if (!base) {
		printf("bad: %s: libft_malloc is not loaded (LD_PRELOAD?)\n", who);
		return 1;
	}
	/* The control: this program's own page is writable, and the checks say so. */
	if (maps_perms((uintptr_t)own_page, perms) != 0 || strcmp(perms, "rw-p") != 0 ||
	    write_faults((volatile uint8_t *)own_page)) {
		printf("bad: %s: the checks cannot tell: a writable page of our own is not seen as one\n", who);
		return 1;
	}
	for (int i = 0; i < nobj; i++) {
		const char *name = objs[i].name;
		uint8_t *at = (uint8_t *)(base + objs[i].off);
		if (identify(name, at, why, sizeof(why))) {
			printf("bad: %s: %s at %p: %s\n", who, name, (void *)at, why);
			bad = 1;
		} else if (maps_perms((uintptr_t)at, perms) != 0) {
			printf("bad: %s: %s: no mapping holds %p in /proc/self/maps\n", who, name, (void *)at);
			bad = 1;
		} else if (strcmp(perms, "r--p") != 0) {
			printf("bad: %s: %s at %p is %s, not r--p\n", who, name, (void *)at, perms);
			bad = 1;
		} else if (!write_faults(at)) {
			printf("bad: %s: %s: a write did not fault\n", who, name);
			bad = 1;
		} else {
			printf("ok: %s: %s at %p, %s, a write faulted\n", who, name, (void *)at, perms);
		}
	}
	char *p = malloc(100);
	if (!p) {
		printf("bad: %s: malloc failed\n", who);
		return 1;
	}
	memset(p, 1, 100);
	free(p);
	return bad;
}

int main(int argc, char **argv)
{
	int first = 1;
	const char *who = "process";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strncmp(argv[1], "--who=", 6) == 0) {
		who = argv[1] + 6;
		first = 2;
	}
	for (int i = first; i < argc && nobj < MAX_OBJ; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			return 2;
		*eq = '\0';
		objs[nobj].name = argv[i];
		objs[nobj].off = strtoul(eq + 1, NULL, 16);
		nobj++;
	}
	if (nobj == 0)
		return 2;
	int bad = check(who);
	if (first == 2)
		return bad;  /* the exec'd child */
	pid_t pid = fork();
	if (pid == 0) {
		if (check("forked child"))
			_exit(1);
		char *args[MAX_OBJ + 3];
		char bufs[MAX_OBJ][64];
		int n = 0;
		args[n++] = argv[0];
		args[n++] = "--who=exec'd child";
		for (int i = 0; i < nobj; i++) {
			snprintf(bufs[i], sizeof(bufs[i]), "%s=%lx", objs[i].name, objs[i].off);
			args[n++] = bufs[i];
		}
		args[n] = NULL;
		execv("/proc/self/exe", args);
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
