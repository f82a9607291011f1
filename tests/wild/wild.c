/*
 * wild.c - the wild-pointer campaign of the wild suite (tests/wild/run.sh).
 *
 *     wild SEED EXPECT_FILE [POINTERS]
 *
 * One worker thread (an arena of its own: its zones hold only its blocks)
 * builds a realistic heap - TINY, SMALL and LARGE blocks full of patterns,
 * aligned ones, realloc-grown ones, freed blocks still in quarantine, freed
 * LARGE blocks unmapped, some of their address ranges mapped again by the
 * program or reused by new LARGE blocks - then throws POINTERS bad pointers
 * (default 2000), each at free(), realloc() and malloc_usable_size():
 * random 64-bit values, kernel-half and non-canonical addresses, NULL plus a
 * little, the stack, globals (the program's, libc's, the allocator's own),
 * memory the program mapped itself, any address of any mapping of the
 * process, every offset of zone slots (interior, redzone, unaligned, zone
 * head and tail, free and never-used slot starts), guard pages and the
 * bytes around LARGE blocks, freed LARGE blocks (in quarantine, unmapped,
 * mapped again), and blocks freed already (double frees).
 *
 * Every bad pointer is classified beforehand from a snapshot of the heap
 * (show_alloc_mem) and what the program itself did; a pointer that is the
 * exact start of a live block cannot be told from a valid one and is never
 * used. For each call the expected report ("KIND ADDRESS FUNCTION", KIND
 * possibly "double-free|invalid-free" where the address cannot be settled
 * from outside) is written to EXPECT_FILE, in order; run.sh compares it
 * with the reports. Expected semantics of a bad pointer: free does nothing,
 * realloc returns NULL, malloc_usable_size returns 0, errno is unchanged.
 *
 * Afterwards: show_alloc_mem() prints exactly what it printed before the
 * campaign and ftmalloc_get_stats() gives the same numbers; every live block
 * still holds its pattern, has its size, can be reallocated (grown, shrunk,
 * across kinds) and freed; new allocations work; show_alloc_mem_ex() is
 * written to stdout for run.sh to read; half the blocks stay live to the
 * exit-time heap check. Lines of its own start with "wild:"; a failed check
 * is "wild: FAIL: why" and exit status 1. WILD_DEBUG=1 in the environment
 * adds what it knows of every block; WILD_SELFTEST=1 changes a byte of a
 * live block after the campaign, which the checks must report. It never calls stdio (stdio
 * allocates): output is snprintf into a buffer and write(2).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ftmalloc.h"

#define MAXB 4096         /* blocks of the program */
#define MAXSNAP 65536     /* blocks in a show_alloc_mem snapshot */
#define MAXZ 8192         /* zone or LARGE headings in it */
#define MAXMAPS 4096      /* lines of /proc/self/maps */
#define PAGE 4096UL
#define ERRNO_MARK 12345  /* errno before each bad call: must be unchanged */

/* ---------------------------------------------------------------- output */

static int expect_fd = -1;
static unsigned long failures;

static void say_fd(int fd, const char *f, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), f, ap);

	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(fd, buf + off, (size_t)(n - off));
		if (w <= 0)
			break;
		off += (int)w;
	}
}

static void say(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	say_fd(1, f, ap);
	va_end(ap);
}

static void fail(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *f, ...)
{
	va_list ap;
	if (++failures > 50)
		return;
	say("wild: FAIL: ");
	va_start(ap, f);
	say_fd(1, f, ap);
	va_end(ap);
	say("\n");
}

/* Expectations: buffered, many lines. */
static char ebuf[1 << 16];
static size_t elen;

static void eflush(void)
{
	for (size_t off = 0; off < elen;) {
		ssize_t w = write(expect_fd, ebuf + off, elen - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	elen = 0;
}

static void expect_line(const char *kind, uintptr_t a, const char *func)
{
	if (elen + 128 > sizeof(ebuf))
		eflush();
	elen += (size_t)snprintf(ebuf + elen, sizeof(ebuf) - elen, "%s 0x%lx %s\n", kind,
	    (unsigned long)a, func);
}

/* ---------------------------------------------------------------- random */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* ---------------------------------------------------------------- options */

static bool opt_canary = true, opt_quarantine = true, opt_guard_all = false;

static void read_options(void)
{
	const char *s = getenv("FTMALLOC_OPTIONS");

	if (!s)
		return;
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", s);
	for (char *tok = strtok(copy, ":"); tok; tok = strtok(NULL, ":")) {
		if (!strcmp(tok, "canary=0"))
			opt_canary = false;
		else if (!strcmp(tok, "quarantine=0"))
			opt_quarantine = false;
		else if (!strcmp(tok, "guard_all=1"))
			opt_guard_all = true;
	}
}

/* ---------------------------------------------------------------- blocks */

enum where { W_ZONE, W_MAP };  /* in a zone, or a mapping of its own */
enum bstate { B_LIVE, B_FREED, B_GONE /* freed and taken off the lists */ };

struct blk {
	char *p;
	size_t size;
	size_t cs;       /* class size, for a zone block */
	uint8_t seed;
	uint8_t where;
	uint8_t state;
	uintptr_t map_lo;    /* W_MAP: its mapping's start, 0 until a snapshot shows it */
	bool evicted;        /* W_MAP freed: out of the LARGE quarantine, unmapped */
	bool remapped;       /* evicted, and its range mapped again by the program */
};

static struct blk blks[MAXB];
static int nblks;

static uint8_t pat(const struct blk *b, size_t i)
{
	return (uint8_t)(b->seed + i * 7 + (i >> 8) * 13);
}

static void fill(struct blk *b)
{
	for (size_t i = 0; i < b->size; i++)
		b->p[i] = (char)pat(b, i);
}

static bool intact(const struct blk *b, size_t n)
{
	for (size_t i = 0; i < n && i < b->size; i++)
		if ((uint8_t)b->p[i] != pat(b, i))
			return false;
	return true;
}

static size_t class_of(size_t n)
{
	if (n <= 16)
		return 16;
	return (n + 15) & ~(size_t)15;
}

static struct blk *add_block(void *p, size_t size, size_t cs)
{
	if (!p) {
		fail("allocation of %zu bytes failed", size);
		return NULL;
	}
	if (nblks == MAXB)
		return NULL;
	struct blk *b = &blks[nblks++];
	*b = (struct blk){ .p = p, .size = size, .cs = cs, .seed = (uint8_t)rnd(), .state = B_LIVE };
	fill(b);
	return b;
}

/* realloc moved a block from q to p: q is a freed block too. */
static void moved_from(char *q, char *p, size_t size, size_t cs)
{
	if (!p || p == q || nblks == MAXB)
		return;
	blks[nblks++] = (struct blk){ .p = q, .size = size, .cs = cs, .state = B_FREED,
	    .where = cs && !opt_guard_all ? W_ZONE : W_MAP };
}

static size_t tiny_size(void) { return below(128); }
static size_t small_size(void) { return 128 + below(1024 - 128 + 1); }
static size_t large_size(void)
{
	switch (below(4)) {
	case 0: return 1025 + below(3000);
	case 1: return PAGE * (1 + below(8));    /* flush against the guard */
	case 2: return 4096 + below(60000);
	default: return 60000 + below(200000);
	}
}

static void alloc_one(int kind)
{
	size_t n = kind == 0 ? tiny_size() : kind == 1 ? small_size() : large_size();
	unsigned how = (unsigned)below(10);
	void *p;

	if (how == 0) {
		p = calloc(1, n);
		add_block(p, n, class_of(n));
	} else if (how == 1 && kind < 2) {
		size_t al = kind == 0 ? 32 << below(2) : 128 << below(2);
		if (n + al - 16 > 1024)
			n = 1024 + 16 - al;
		p = memalign(al, n);
		add_block(p, n, class_of((n ? n : 1) + al - 16));
	} else if (how == 1) {
		size_t al = below(3) == 0 ? 65536 : 4096;
		p = NULL;
		if (posix_memalign(&p, al, n) != 0)
			p = NULL;
		add_block(p, n, 0);
	} else if (how == 2 && kind == 2) {
		/* grown by realloc: room to grow in place */
		size_t first = 1025 + below(2000);
		char *q = malloc(first);
		memset(q, 1, first);
		p = realloc(q, n > first ? n : first + 5000);
		add_block(p, n > first ? n : first + 5000, 0);
		moved_from(q, p, first, 0);
	} else if (how == 3 && kind < 2) {
		/* realloc from the other kind: a SMALL block shrunk to TINY stays
		 * in its slot, a TINY one grown to SMALL moves */
		char *q = malloc(kind == 0 ? 300 : 20);
		n += n == 0;  /* realloc(q, 0) would free q */
		p = realloc(q, n);
		add_block(p, n, kind == 0 && p == q ? class_of(300) : class_of(n));
		moved_from(q, p, kind == 0 ? 300 : 20, class_of(kind == 0 ? 300 : 20));
	} else {
		p = malloc(n);
		add_block(p, n, class_of(n));
	}
}

/* ---------------------------------------------------------------- snapshot */

struct zinfo {
	uintptr_t base, len;  /* len: 0 for a LARGE heading */
	bool tiny, large;
	size_t cs, stride, nslots;  /* cs 0: geometry unknown */
};

static struct zinfo zs[MAXZ];
static int nzs;
static uintptr_t live_start[MAXSNAP];  /* sorted */
static size_t live_size[MAXSNAP];
static int live_zone[MAXSNAP];         /* heading index */
static int nlive;
static char snapbuf[8 << 20], snapbuf2[8 << 20];
static size_t rz;  /* redzone: 16 with canaries, 0 without */

/* fn's standard output, in buf. */
static size_t capture(void (*fn)(void), char *buf, size_t cap)
{
	int fd = memfd_create("wild-snapshot", 0);
	int saved = dup(1);
	size_t len = 0;

	if (fd < 0 || saved < 0) {
		fail("memfd_create/dup: %s", strerror(errno));
		return 0;
	}
	dup2(fd, 1);
	fn();
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	close(fd);
	return len;
}

static size_t zone_len(bool tiny)
{
	size_t widest = (tiny ? 128 : 1024) + rz, slots = tiny ? 100 : 106;
	return (slots * widest + rz / 2 + PAGE - 1) & ~(PAGE - 1);
}

static void (*p_show)(void), (*p_show_ex)(void);
static void (*p_stats)(struct ftmalloc_stats *);

/* Parse show_alloc_mem_ex: headings (zones with live or quarantined blocks,
 * LARGE mappings) and live blocks. */
static bool snapshot(void)
{
	size_t len = capture(p_show_ex, snapbuf, sizeof(snapbuf));
	char *line = snapbuf, *end = snapbuf + len;
	bool pending = false;  /* a block line read, its state line not yet */

	nzs = nlive = 0;
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		*nl = 0;
		unsigned long a, b;
		size_t n, used, slots;
		char kind[16];
		if (!strncmp(line, "Total :", 7)) {
			*nl = '\n';
			break;
		}
		if (sscanf(line, "%15s : 0x%lX", kind, &a) == 2 && nzs < MAXZ) {
			struct zinfo *z = &zs[nzs++];
			*z = (struct zinfo){ .base = a, .tiny = !strcmp(kind, "TINY"),
			    .large = !strcmp(kind, "LARGE") };
			z->len = z->large ? 0 : zone_len(z->tiny);
			if (sscanf(line, "%15s : 0x%lX (%zu of %zu slots", kind, &a, &used, &slots) == 4)
				z->nslots = slots;  /* checked against the layout by learn_geometry */
		} else if (sscanf(line, "0x%lX - 0x%lX : %zu bytes", &a, &b, &n) == 3 && nlive < MAXSNAP && nzs) {
			live_start[nlive] = a;
			live_size[nlive] = n;
			live_zone[nlive] = nzs - 1;
			pending = true;
		} else if (pending && sscanf(line, " %15s", kind) == 1) {
			if (!strcmp(kind, "live"))
				nlive++;  /* a quarantined block is not kept */
			pending = false;
		}
		*nl = '\n';
		line = nl + 1;
	}
	/* sort the blocks by start (insertion sort on an almost sorted list) */
	for (int i = 1; i < nlive; i++) {
		uintptr_t s = live_start[i];
		size_t n = live_size[i];
		int z = live_zone[i], j = i;
		for (; j > 0 && live_start[j - 1] > s; j--) {
			live_start[j] = live_start[j - 1];
			live_size[j] = live_size[j - 1];
			live_zone[j] = live_zone[j - 1];
		}
		live_start[j] = s;
		live_size[j] = n;
		live_zone[j] = z;
	}
	for (int i = 1; i < nzs; i++)
		if (zs[i].base <= zs[i - 1].base) {
			fail("show_alloc_mem headings not in increasing address order");
			return false;
		}
	return true;
}

static int find_live(uintptr_t a)  /* index of the live block starting at a, or -1 */
{
	int lo = 0, hi = nlive - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (live_start[mid] == a)
			return mid;
		if (live_start[mid] < a)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* First live block starting at or after a: index, or nlive. */
static int live_from(uintptr_t a)
{
	int lo = 0, hi = nlive;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (live_start[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The zone (not LARGE) heading whose zone holds a, or -1. */
static int zone_of(uintptr_t a)
{
	int lo = 0, hi = nzs - 1, best = -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (zs[mid].base <= a) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	/* a LARGE mapping is never inside a zone: only the nearest heading below can hold a */
	if (best >= 0 && !zs[best].large && a < zs[best].base + zs[best].len)
		return best;
	return -1;
}

/* Part of the mapping of a live LARGE (or guarded) block: from its mapping's
 * start (the heading) to a page past the page its end is on. Every address
 * in it is ours. -1 if a is in none. */
static int large_covering(uintptr_t a)
{
	for (int i = 0; i < nlive; i++) {
		const struct zinfo *z = &zs[live_zone[i]];
		if (!z->large)
			continue;
		uintptr_t hi = ((live_start[i] + live_size[i] + PAGE - 1) & ~(PAGE - 1)) + PAGE;
		if (a >= z->base && a < hi)
			return i;
	}
	return -1;
}

/* Geometry of the zones holding the program's blocks (live ones, then freed
 * ones); where each live block is. A freed block whose zone went away and
 * whose range a zone of another class took is dropped (B_GONE). */
static void learn_geometry(void)
{
	for (int pass = 0; pass < 2; pass++)
	for (int i = 0; i < nblks; i++) {
		struct blk *b = &blks[i];
		int z = zone_of((uintptr_t)b->p);
		if (pass == 0 ? b->state != B_LIVE : b->state != B_FREED || b->where != W_ZONE)
			continue;
		if (z < 0) {
			int l = find_live((uintptr_t)b->p);
			if (pass == 0)
				b->where = W_MAP;
			if (pass == 0 && l >= 0 && zs[live_zone[l]].large)
				b->map_lo = zs[live_zone[l]].base;
			continue;
		}
		b->where = W_ZONE;
		struct zinfo *zi = &zs[z];
		if (zi->cs == 0) {
			size_t listed = zi->nslots;
			zi->cs = b->cs;
			zi->stride = b->cs + rz;
			zi->nslots = (zi->len - rz / 2) / zi->stride;
			if (listed && listed != zi->nslots)
				fail("zone at %#lx: %zu slots listed, the layout gives %zu", (unsigned long)zi->base,
				    listed, zi->nslots);
		} else if (zi->cs != b->cs && pass == 1) {
			b->state = B_GONE;
			continue;
		} else if (zi->cs != b->cs) {
			fail("zone at %#lx holds blocks of class %zu and %zu", (unsigned long)zi->base,
			    zi->cs, b->cs);
		}
		size_t off = (uintptr_t)b->p - zi->base - rz;
		if ((uintptr_t)b->p < zi->base + rz || (off % zi->stride) % 16 || off % zi->stride >= zi->cs ||
		    off / zi->stride >= zi->nslots)
			fail("block %p (class %zu) is not where the zone layout puts a slot", (void *)b->p, b->cs);
	}
}

/* ---------------------------------------------------------------- classes */

enum expect { E_SKIP, E_IF, E_DF, E_AMBIG };
static const char *const expect_name[] = { "-", "invalid-free", "double-free", "double-free|invalid-free" };

static bool mapped(uintptr_t a)
{
	unsigned char v;
	return mincore((void *)(a & ~(PAGE - 1)), PAGE, &v) == 0 || errno != ENOMEM;
}

/* Part of b's mapping (guards included): from its heading when a snapshot
 * saw it live, else a page below the page of its start; to a page past
 * the page of its end. */
static bool map_covers(const struct blk *b, uintptr_t a)
{
	uintptr_t lo = b->map_lo ? b->map_lo : ((uintptr_t)b->p & ~(PAGE - 1)) - PAGE;
	uintptr_t hi = (((uintptr_t)b->p + b->size + PAGE - 1) & ~(PAGE - 1)) + PAGE;
	return a >= lo && a < hi;
}

/* What free() / realloc() must report for a. */
static enum expect classify(uintptr_t a)
{
	if (find_live(a) >= 0)
		return E_SKIP;
	int z = zone_of(a);
	if (z >= 0) {
		const struct zinfo *zi = &zs[z];
		if (zi->cs == 0)  /* not one of ours: which slots are free is unknown */
			return a % 16 ? E_IF : E_AMBIG;
		if (a < zi->base + rz || (a - zi->base - rz) / zi->stride >= zi->nslots)
			return E_IF;
		uintptr_t slot = zi->base + rz + (a - zi->base - rz) / zi->stride * zi->stride;
		int l = live_from(slot);
		if (l < nlive && live_start[l] < slot + zi->cs)
			return E_IF;  /* the slot holds a live block that does not start at a */
		for (int i = 0; i < nblks; i++)
			if (blks[i].state == B_FREED && blks[i].where == W_ZONE && (uintptr_t)blks[i].p == a)
				return E_DF;
		return E_IF;
	}
	if (large_covering(a) >= 0)
		return E_IF;
	for (int i = nblks - 1; i >= 0; i--) {
		const struct blk *b = &blks[i];
		if (b->state == B_LIVE || b->where != W_MAP || !map_covers(b, a))
			continue;
		if ((uintptr_t)b->p != a)
			return E_IF;  /* a newer block's mapping, in the LARGE quarantine */
		if (b->evicted && !b->remapped && mapped(a))
			return E_AMBIG;  /* something new was mapped there */
		return E_DF;  /* in the LARGE quarantine, or unmapped: the graveyard */
	}
	for (int i = nblks - 1; i >= 0; i--)
		if (blks[i].state == B_FREED && blks[i].where == W_ZONE && (uintptr_t)blks[i].p == a)
			return mapped(a) ? E_AMBIG : E_IF;  /* its zone is not listed: spare or gone */
	return E_IF;
}

/* ---------------------------------------------------------------- the calls */

enum cat {
	C_RANDOM, C_KERNEL, C_NEAR_NULL, C_STACK, C_GLOBALS, C_OWN_MMAP, C_ANY_MAPPING,
	C_ZONE_INTERIOR, C_ZONE_SLOTS, C_ZONE_EDGES, C_UNALIGNED, C_LARGE_AROUND,
	C_LARGE_GUARDS, C_FREED_LARGE, C_UNMAPPED_LARGE, C_DOUBLE_FREE, C_NCATS
};
static const char *const cat_name[C_NCATS] = {
	"random-64-bit", "kernel-half-non-canonical", "null-plus-small", "stack", "globals",
	"program-mmap", "any-mapping", "zone-slot-interior", "zone-slot-starts", "zone-head-tail",
	"unaligned-block-start", "large-around-block", "large-guard-pages", "freed-large-quarantined",
	"freed-large-unmapped-or-reused", "double-free-quarantined",
};
static unsigned long tried[C_NCATS][4];  /* per category and expectation */
static unsigned long calls_expected[4];
static unsigned long reports_if, reports_df, reports_ip, reports_ambig;

struct range { uintptr_t lo, hi; };
static struct range maps[MAXMAPS];
static int nmaps;
static struct range wsegs[256];  /* writable segments of loaded objects */
static int nwsegs;
static char *own_map;            /* the program's own mapping */
static size_t own_map_len;
static volatile char global_bytes[4096];

static void read_maps(void)
{
	static char buf[1 << 20];
	int fd = open("/proc/self/maps", O_RDONLY);
	size_t len = 0;

	nmaps = 0;
	if (fd < 0)
		return;
	for (ssize_t r; (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0;)
		len += (size_t)r;
	close(fd);
	buf[len] = 0;
	for (char *s = buf; *s && nmaps < MAXMAPS;) {
		unsigned long lo, hi;
		if (sscanf(s, "%lx-%lx", &lo, &hi) == 2)
			maps[nmaps++] = (struct range){ lo, hi };
		char *nl = strchr(s, '\n');
		if (!nl)
			break;
		s = nl + 1;
	}
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	for (int i = 0; i < info->dlpi_phnum && nwsegs < 256; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz)
			wsegs[nwsegs++] = (struct range){ info->dlpi_addr + ph->p_vaddr,
			    info->dlpi_addr + ph->p_vaddr + ph->p_memsz };
	}
	return 0;
}

static struct blk *pick(int where, int state)
{
	for (int tries = 0; tries < 10000; tries++) {
		struct blk *b = &blks[below((size_t)nblks)];
		if ((where < 0 || b->where == where) && b->state == state)
			return b;
	}
	return NULL;
}

static uintptr_t stack_lo, stack_hi;

/* One bad pointer of category c (0 when none could be made). */
static uintptr_t make(enum cat c)
{
	struct blk *b;
	uintptr_t a;

	switch (c) {
	case C_RANDOM:
		return rnd();
	case C_KERNEL: {
		static const uintptr_t fixed[] = { 0xffffffffffffffffUL, 0xfffffffffffffff0UL,
		    0xffff800000000000UL, 0xffffffffff600000UL, 0x8000000000000000UL,
		    0x0001000000000000UL, 0x00007ffffffff000UL + 0x1000 };
		if (below(4) == 0)
			return fixed[below(sizeof(fixed) / sizeof(fixed[0]))];
		switch (below(3)) {
		case 0: return 0xffff800000000000UL | (rnd() & 0x7fffffffffffUL);  /* kernel half */
		case 1: return 0x0000800000000000UL | (rnd() & 0x7fffffffffffUL);  /* above user space, below 2^48 */
		default: return (rnd() | 0x0001000000000000UL) & 0x7fffffffffffffffUL;  /* non-canonical */
		}
	}
	case C_NEAR_NULL:
		return 1 + below(below(2) ? 64 : 1 << 20);
	case C_STACK:
		return stack_lo + below(stack_hi - stack_lo);
	case C_GLOBALS:
		if (below(3) == 0 || nwsegs == 0)
			return (uintptr_t)&global_bytes[below(sizeof(global_bytes))];
		{
			struct range *r = &wsegs[below((size_t)nwsegs)];
			return r->lo + below(r->hi - r->lo);
		}
	case C_OWN_MMAP:
		return (uintptr_t)own_map + (below(2) ? below(own_map_len) : below(own_map_len / 16) * 16);
	case C_ANY_MAPPING: {
		if (!nmaps)
			return 0;
		struct range *r = &maps[below((size_t)nmaps)];
		a = r->lo + below(r->hi - r->lo);
		return below(2) ? a & ~(uintptr_t)15 : a;
	}
	case C_ZONE_INTERIOR:
		if (!(b = pick(W_ZONE, below(4) ? B_LIVE : B_FREED)))
			return 0;
		return (uintptr_t)b->p + 1 + below(b->cs + 8);  /* into the next redzone too */
	case C_ZONE_SLOTS: {
		int z = zone_of((uintptr_t)((b = pick(W_ZONE, B_LIVE)) ? b->p : 0));
		if (z < 0 || !zs[z].cs)
			return 0;
		a = zs[z].base + rz + below(zs[z].nslots) * zs[z].stride;
		return below(4) ? a : a + 16 * below(zs[z].cs / 16);
	}
	case C_ZONE_EDGES: {
		int z = zone_of((uintptr_t)((b = pick(W_ZONE, B_LIVE)) ? b->p : 0));
		if (z < 0 || !zs[z].cs)
			return 0;
		uintptr_t tail = zs[z].base + rz + zs[z].nslots * zs[z].stride;
		switch (below(4)) {
		case 0: return zs[z].base + below(rz + 1);                 /* zone head */
		case 1: return zs[z].base + zs[z].len - 1 - below(16);      /* last bytes */
		case 2: return tail + below(zs[z].base + zs[z].len - tail);  /* after the last slot */
		default: /* a redzone between two slots */
			return zs[z].base + below(zs[z].nslots) * zs[z].stride + below(rz ? rz : 1);
		}
	}
	case C_UNALIGNED:
		if (!(b = pick(-1, B_LIVE)))
			return 0;
		return (uintptr_t)b->p + 1 + below(15);
	case C_LARGE_AROUND:
		if (!(b = pick(W_MAP, B_LIVE)))
			return 0;
		switch (below(6)) {
		case 0: return (uintptr_t)b->p - 1 - below(16);
		case 1: return (uintptr_t)b->p + b->size + below(16);
		case 2: return (uintptr_t)b->p + 1 + below(b->size ? b->size : 1);
		case 3: return ((uintptr_t)b->p & ~(PAGE - 1)) + below(16) * 16;  /* the slack */
		case 4: return (uintptr_t)b->p + b->size - 1;
		default: return (uintptr_t)b->p + 16 * (1 + below(b->size / 16 + 1));
		}
	case C_LARGE_GUARDS:
		if (!(b = pick(W_MAP, B_LIVE)))
			return 0;
		if (below(2))
			return ((uintptr_t)b->p & ~(PAGE - 1)) - PAGE + below(PAGE);
		return (((uintptr_t)b->p + b->size + PAGE - 1) & ~(PAGE - 1)) + below(PAGE);
	case C_FREED_LARGE:
	case C_UNMAPPED_LARGE:
		for (int tries = 0; tries < 200; tries++) {
			b = pick(W_MAP, B_FREED);
			if (b && b->evicted == (c == C_UNMAPPED_LARGE))
				break;
			b = NULL;
		}
		if (!b)
			return 0;
		switch (below(4)) {
		case 0:
		case 1: return (uintptr_t)b->p;
		case 2: return (uintptr_t)b->p + 1 + below(b->size ? b->size : 1);
		default: return ((uintptr_t)b->p & ~(PAGE - 1)) - below(PAGE);
		}
	case C_DOUBLE_FREE:
		if (!(b = pick(opt_guard_all ? -1 : W_ZONE, B_FREED)))
			return 0;
		return (uintptr_t)b->p;
	default:
		return 0;
	}
}

/* A random live block still holds its pattern at both ends. */
static void spot_check(uintptr_t after)
{
	const struct blk *b = pick(-1, B_LIVE);
	size_t from = b && b->size > 64 ? b->size - 64 : 0;

	if (!b)
		return;
	for (size_t i = 0; i < 64 && i < b->size; i++)
		if ((uint8_t)b->p[i] != pat(b, i) || (uint8_t)b->p[from + i] != pat(b, from + i)) {
			fail("block %p lost its pattern after the bad calls on %#lx", (void *)b->p,
			    (unsigned long)after);
			return;
		}
}

static void bad_calls(uintptr_t a, enum expect e)
{
	const char *k = expect_name[e];
	static const size_t sizes[] = { 0, 1, 17, 200, 1000, 5000, 1 << 20, (size_t)PTRDIFF_MAX + 1, SIZE_MAX };
	size_t rs = sizes[below(sizeof(sizes) / sizeof(sizes[0]))];

	expect_line(k, a, "free");
	errno = ERRNO_MARK;
	free((void *)a);
	if (errno != ERRNO_MARK)
		fail("free(%#lx) changed errno to %d", (unsigned long)a, errno);

	expect_line(k, a, "realloc");
	errno = ERRNO_MARK;
	void *r = realloc((void *)a, rs);
	if (r != NULL)
		fail("realloc(%#lx, %zu) returned %p, not NULL", (unsigned long)a, rs, r);
	if (errno != ERRNO_MARK)
		fail("realloc(%#lx, %zu) changed errno to %d", (unsigned long)a, rs, errno);

	expect_line("invalid-pointer", a, "malloc_usable_size");
	errno = ERRNO_MARK;
	size_t u = malloc_usable_size((void *)a);
	if (u != 0)
		fail("malloc_usable_size(%#lx) = %zu, not 0", (unsigned long)a, u);
	if (errno != ERRNO_MARK)
		fail("malloc_usable_size(%#lx) changed errno to %d", (unsigned long)a, errno);

	calls_expected[e] += 2;
	reports_ip++;
	if (e == E_IF)
		reports_if += 2;
	else if (e == E_DF)
		reports_df += 2;
	else
		reports_ambig += 2;
	spot_check(a);
}

/* ---------------------------------------------------------------- phases */

static void build_heap(void)
{
	for (int i = 0; i < 420; i++)
		alloc_one(i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2);
	for (int i = 0; i < 10; i++)  /* malloc(0): unique pointers */
		add_block(malloc(0), 0, 16);
}

static void free_some(void)
{
	for (int i = 0; i < nblks; i++)
		if (blks[i].state == B_LIVE && below(100) < 35) {
			free(blks[i].p);
			blks[i].state = B_FREED;
		}
}

/* Freed LARGE mappings: some unmapped (pushed out of the LARGE quarantine),
 * some of those mapped again by the program, some reused by new blocks. */
static void large_dance(void)
{
	enum { NDOOMED = 12, NPUSH = 6 };
	int doomed[NDOOMED];
	char *push[NPUSH];

	for (int i = 0; i < NDOOMED; i++) {
		doomed[i] = nblks;
		add_block(malloc(2000 + below(60000)), 0, 0);
		if (doomed[i] == nblks)
			return;
		blks[doomed[i]].where = W_MAP;
		blks[doomed[i]].size = malloc_usable_size(blks[doomed[i]].p);
		fill(&blks[doomed[i]]);
	}
	for (int i = 0; i < NPUSH; i++)
		push[i] = malloc(6 << 20);
	for (int i = 0; i < NDOOMED; i++) {
		free(blks[doomed[i]].p);
		blks[doomed[i]].state = B_FREED;
	}
	for (int i = 0; i < NPUSH; i++)
		free(push[i]);
	for (int i = 0; i < NDOOMED; i++)
		blks[doomed[i]].evicted = !mapped((uintptr_t)blks[doomed[i]].p);
	/* the ones unmapped: map some of their ranges ourselves */
	for (int i = 0; i < NDOOMED; i += 2) {
		struct blk *b = &blks[doomed[i]];
		uintptr_t lo = ((uintptr_t)b->p & ~(PAGE - 1)) - PAGE;
		uintptr_t hi = (((uintptr_t)b->p + b->size + PAGE - 1) & ~(PAGE - 1)) + PAGE;
		if (!b->evicted || mapped((uintptr_t)b->p))
			continue;
		void *m = mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m == MAP_FAILED)
			continue;
		if (m != (void *)lo) {
			munmap(m, hi - lo);
			continue;
		}
		memset(m, 0x5a, hi - lo);
		b->remapped = true;
	}
	/* new blocks of the same sizes: the allocator reuses an unmapped range
	 * once the holes above it are taken (a few tries) */
	for (int i = 1; i < NDOOMED; i += 4) {
		struct blk *d = &blks[doomed[i]];
		for (int t = 0; t < 8 && !mapped((uintptr_t)d->p); t++) {
			struct blk *nb = add_block(malloc(d->size), d->size, 0);
			if (!nb)
				break;
			nb->where = W_MAP;
			if (getenv("WILD_DEBUG"))
				say("wild: reuser %p for doomed %p\n", (void *)nb->p, (void *)d->p);
		}
	}
}

static void after_checks(void)
{
	/* every live block: pattern, size, realloc, half of them freed */
	int nl = 0;
	for (int i = 0; i < nblks; i++) {
		struct blk *b = &blks[i];
		if (b->state != B_LIVE)
			continue;
		nl++;
		if (!intact(b, b->size))
			fail("block %p (%zu bytes) lost its pattern", (void *)b->p, b->size);
		size_t u = malloc_usable_size(b->p);
		if (u != b->size)
			fail("malloc_usable_size(%p) = %zu, expected %zu", (void *)b->p, u, b->size);
	}
	int nr = 0;
	for (int i = 0; i < nblks; i++) {
		struct blk *b = &blks[i];
		if (b->state != B_LIVE)
			continue;
		size_t n;
		switch (below(4)) {
		case 0: n = b->size / 2 + 1; break;
		case 1: n = b->size + 1 + below(64); break;
		case 2: n = tiny_size() + 1; break;
		default: n = large_size(); break;
		}
		char *q = realloc(b->p, n);
		if (!q) {
			fail("realloc(%p, %zu) of a live block failed", (void *)b->p, n);
			continue;
		}
		size_t keep = n < b->size ? n : b->size;
		b->p = q;
		if (!intact(b, keep))
			fail("realloc(.., %zu) to %p lost the content", n, (void *)q);
		b->size = n;
		fill(b);
		nr++;
		if (below(2)) {
			free(b->p);
			b->state = B_GONE;
		}
	}
	/* new allocations work and keep their content */
	static struct blk fresh[300];
	for (int i = 0; i < 300; i++) {
		size_t n = i % 3 == 0 ? tiny_size() : i % 3 == 1 ? small_size() : large_size();
		fresh[i] = (struct blk){ .p = malloc(n), .size = n, .seed = (uint8_t)rnd() };
		if (!fresh[i].p) {
			fail("malloc(%zu) after the campaign failed", n);
			return;
		}
		fill(&fresh[i]);
	}
	for (int i = 0; i < 300; i++) {
		if (!intact(&fresh[i], fresh[i].size))
			fail("new block %p lost its content", (void *)fresh[i].p);
		free(fresh[i].p);
	}
	say("wild: after: %d live blocks intact, %d reallocated, 300 new blocks\n", nl, nr);
}

static unsigned npointers = 2000;

static void *worker(void *arg)
{
	char stack_area[8192];
	(void)arg;

	memset(stack_area, 0x33, sizeof(stack_area));
	stack_lo = (uintptr_t)stack_area;
	stack_hi = stack_lo + sizeof(stack_area);
	own_map_len = 16 * PAGE;
	own_map = mmap(NULL, own_map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(own_map + 8 * PAGE, 8 * PAGE, PROT_NONE);

	build_heap();
	/* where each block lives: zone or mapping of its own */
	if (!snapshot())
		return NULL;
	learn_geometry();
	large_dance();
	if (!snapshot())  /* where the new blocks are mapped */
		return NULL;
	learn_geometry();
	free_some();  /* LARGE blocks freed now stay in the LARGE quarantine */
	for (int i = 0; i < 90; i++)
		alloc_one(i % 3 == 2 ? 1 : 0);

	/* the snapshot the classification uses, and the state to compare */
	if (!snapshot())
		return NULL;
	for (int i = 0; i < nblks; i++) {
		struct blk *b = &blks[i];
		if (b->state == B_LIVE && find_live((uintptr_t)b->p) < 0)
			fail("live block %p (%zu bytes) missing from show_alloc_mem", (void *)b->p, b->size);
		if (b->state == B_LIVE && b->where == W_ZONE && zone_of((uintptr_t)b->p) < 0)
			b->where = W_MAP;
		if (b->state == B_LIVE && zone_of((uintptr_t)b->p) >= 0)
			b->where = W_ZONE;
	}
	learn_geometry();
	if (getenv("WILD_DEBUG"))
		for (int i = 0; i < nblks; i++)
				say("wild: block %d %p size %zu cs %zu where %d state %d evicted %d remapped %d mapped %d covered %d zone %d\n",
				    i, (void *)blks[i].p, blks[i].size, blks[i].cs, blks[i].where, blks[i].state, blks[i].evicted, blks[i].remapped,
				    mapped((uintptr_t)blks[i].p), large_covering((uintptr_t)blks[i].p),
				    zone_of((uintptr_t)blks[i].p));
	size_t before_len = capture(p_show, snapbuf2, sizeof(snapbuf2));
	struct ftmalloc_stats st0, st1;
	p_stats(&st0);
	read_maps();
	dl_iterate_phdr(phdr_cb, NULL);

	/* the campaign */
	unsigned made = 0;
	for (unsigned n = 0; made < npointers && n < npointers * 20; n++) {
		enum cat c = (enum cat)(n % C_NCATS);
		uintptr_t a = make(c);
		if (!a)
			continue;
		enum expect e = classify(a);
		tried[c][e]++;
		if (e == E_SKIP)
			continue;
		bad_calls(a, e);
		made++;
	}
	eflush();

	/* nothing changed */
	size_t after_len = capture(p_show, snapbuf, sizeof(snapbuf));
	p_stats(&st1);
	if (after_len != before_len || memcmp(snapbuf, snapbuf2, before_len) != 0)
		fail("show_alloc_mem prints something else after the campaign");
	if (memcmp(&st0, &st1, sizeof(st0)) != 0)
		fail("ftmalloc_get_stats differs after the campaign (live %zu/%zu/%zu -> %zu/%zu/%zu, "
		    "mapped %zu -> %zu, mmap calls %zu -> %zu)",
		    st0.live_blocks[0], st0.live_blocks[1], st0.live_blocks[2], st1.live_blocks[0],
		    st1.live_blocks[1], st1.live_blocks[2], st0.mapped_bytes, st1.mapped_bytes,
		    st0.mmap_calls, st1.mmap_calls);
	for (int c = 0; c < C_NCATS; c++)
		say("wild: tried %-32s %5lu invalid-free %5lu double-free %5lu either %5lu skipped\n",
		    cat_name[c], tried[c][E_IF], tried[c][E_DF], tried[c][E_AMBIG], tried[c][E_SKIP]);
	say("wild: expected %u pointers, %lu calls: %lu invalid-free %lu double-free %lu either "
	    "%lu invalid-pointer\n", made, 3UL * made, reports_if, reports_df, reports_ambig, reports_ip);

	if (getenv("WILD_SELFTEST")) {  /* the checks below must notice this */
		struct blk *b = pick(-1, B_LIVE);
		if (b && b->size)
			b->p[b->size - 1] ^= 1;
	}
	after_checks();
	say("wild: show_alloc_mem_ex follows\n");
	p_show_ex();
	say("\nwild: end of show_alloc_mem_ex\n");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		say("usage: wild SEED EXPECT_FILE [POINTERS]\n");
		return 2;
	}
	rng = strtoull(argv[1], NULL, 0);
	say("wild: seed %s\n", argv[1]);
	expect_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (expect_fd < 0) {
		say("wild: cannot open %s\n", argv[2]);
		return 2;
	}
	if (argc > 3)
		npointers = (unsigned)strtoul(argv[3], NULL, 0);
	read_options();
	rz = opt_canary ? 16 : 0;
	p_show = (void (*)(void))dlsym(RTLD_DEFAULT, "show_alloc_mem");
	p_show_ex = (void (*)(void))dlsym(RTLD_DEFAULT, "show_alloc_mem_ex");
	p_stats = (void (*)(struct ftmalloc_stats *))dlsym(RTLD_DEFAULT, "ftmalloc_get_stats");
	if (!p_show || !p_show_ex || !p_stats) {
		say("wild: FAIL: not running under ftmalloc (no show_alloc_mem)\n");
		return 1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0) {
		say("wild: FAIL: pthread_create\n");
		return 1;
	}
	pthread_join(t, NULL);
	if (failures)
		say("wild: %lu failures\n", failures);
	else
		say("wild: ok\n");
	return failures ? 1 : 0;
}
