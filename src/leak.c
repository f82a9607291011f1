/*
 * leak.c - the leak check at exit: which live blocks can the program still
 * reach?
 *
 * A conservative mark and sweep, as LeakSanitizer does it. Roots are every
 * readable and writable mapping that is not ours (data and bss of every
 * loaded object, other threads' stacks and TLS, the program's own mmaps),
 * the calling thread's stack from its stack pointer up, its registers and
 * its thread pointer. Every aligned word that points anywhere into a live
 * block (interior pointers count) marks the block, and marked blocks are
 * scanned in turn from a work list. What stays unmarked is lost: a lost
 * block no other lost block points to is "definitely" lost and heads the
 * lost blocks reachable only through it ("indirectly" lost); a cycle of lost
 * blocks gets one head, the first found, as in Valgrind.
 *
 * Every allocator lock is held while scanning; all scratch memory comes from
 * os_map (one mapping, its pages touched only as used) and is never
 * scanned. Roots are read with process_vm_readv, so an unmapped or PROT_NONE
 * page, or a file mapping past its end, is an error code and never a fault.
 * Pages of private mappings (and of big blocks) that /proc/self/pagemap
 * shows neither present nor swapped out were never written and are skipped:
 * reading them would only fault in zero pages (an 8 MiB page map leaf of
 * ours costs 2000 faults where the kernel cannot name our mappings).
 * /proc/self/maps is read twice: first which ranges are readable, then the
 * roots, every block a root reaches being scanned at once so that the work
 * list stays short. Results are copied out, the locks released, and only
 * then printed (symbolising may allocate).
 *
 * The other threads are stopped while the scan runs (see leak_stop_world), their
 * registers in signal frames on their stacks, so a block one of them has
 * just got is seen wherever it keeps it.
 *
 * May call: zone and LARGE walkers, pagemap.c, report.c, backtrace.c,
 * fmt.c, os.c, and open/read/pread/lseek/process_vm_readv/dl_iterate_phdr.
 * Never malloc, never stdio, never recursion.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <string.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define LEAK_MAX_SHOWN 50      /* groups printed per list; the rest are counted */
#define LEAK_BUF (64 * 1024)   /* bytes of roots copied and scanned at a time */
#define LEAK_MAPS_READ 4096    /* bytes of /proc/self/maps read at a time */
#define LEAK_MAPS_BUF (3 * 4096)  /* and kept: a line is at most about PATH_MAX */
#define LEAK_PM_BATCH 256      /* page map entries read at a time (per user) */
#define LEAK_SPARSE_MIN ((size_t)64 << 10)  /* blocks this big are scanned by touched page */
#define LEAK_MAX_LINES 65536   /* readable mappings remembered (vm.max_map_count) */
#define LEAK_MAX_SEGS 512      /* writable segments kept when /proc is missing */
#define LEAK_MAX_EXCL 16       /* ranges never scanned as roots */
#define LEAK_STACK_MAX ((uintptr_t)64 << 20)  /* stack scanned when /proc is missing */
#define LEAK_TLS_WINDOW ((uintptr_t)64 << 10)  /* and bytes either side of the TLS pointer */
#define LEAK_NO_REGION UINT32_MAX

/* Read the stack pointer of the function this is inlined into; the
 * interrupted pc of a signal's ucontext. */
#if defined(__x86_64__)
static inline uintptr_t leak_context_pc(const void *uc)
{
	return (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
}
static inline __attribute__((always_inline)) uintptr_t leak_sp(void)
{
	uintptr_t sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return sp;
}
#elif defined(__aarch64__)
static inline uintptr_t leak_context_pc(const void *uc)
{
	return (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.pc;
}
static inline __attribute__((always_inline)) uintptr_t leak_sp(void)
{
	uintptr_t sp;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	return sp;
}
#else
static inline uintptr_t leak_context_pc(const void *uc)
{
	(void)uc;
	return 0;  /* unknown: never taken for our code */
}
static inline __attribute__((always_inline)) uintptr_t leak_sp(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}
#endif

enum mark {
	MARK_NONE = 0,  /* not a live block: never used, freed, cached, quarantined */
	MARK_LIVE,      /* live, no pointer to it found (yet) */
	MARK_REACHED,   /* reachable from a root */
	MARK_HEAD,      /* lost, no lost block outside its clique points to it */
	MARK_INDIRECT,  /* lost, pointed to by another lost block */
};

/* A zone or LARGE block, and where its blocks are numbered. */
struct lregion {
	struct region *r;
	uintptr_t lo, hi;   /* LARGE: [user, user + size), at least a byte */
	uint32_t first;     /* block number of slot 0 */
	uint32_t count;     /* zone: slots ever handed out (bump); LARGE: 1 */
	bool readable;      /* all of it readable in /proc/self/maps */
};

struct range { uintptr_t lo, hi; };

/* One allocation stack's blocks, lost or (kind 1) reachable. */
struct lgroup {
	bool used;
	uint8_t kind;
	uint16_t thread;      /* of the first block */
	uint32_t stack;
	uintptr_t first;      /* the first block, for the report's first line */
	size_t first_size;
	size_t bytes, blocks;          /* definitely lost, or reachable */
	size_t ind_bytes, ind_blocks;  /* indirectly lost through them */
};

struct leak_scan {
	struct lregion *regions;
	size_t nregions;
	uint32_t *hash;          /* region number + 1 by descriptor address, 0: empty */
	size_t hash_mask;
	struct region *last_r;   /* the last region looked up, and its number */
	uint32_t last_i;
	uint8_t *mark;           /* enum mark, by block number */
	uint32_t *owner;         /* MARK_INDIRECT: the head that reached it */
	uint64_t *work;          /* block number | region number << 32 */
	size_t nwork;
	size_t nblocks;
	uintptr_t lo, span;      /* every block lies in [lo, lo + span) */
	bool flooding;           /* false: marking from roots; true: lost cliques */
	uint32_t head;           /* the clique being flooded */

	struct range *lines;     /* readable mappings, merged, ascending */
	size_t nlines;
	bool lines_ok;           /* every readable mapping is in lines */
	struct range excl[LEAK_MAX_EXCL];
	size_t nexcl;
	char *buf;               /* LEAK_BUF bytes */
	char *maps_buf;          /* LEAK_MAPS_BUF bytes */
	uint64_t *pm_roots;      /* LEAK_PM_BATCH page map entries each: roots, */
	uint64_t *pm_blocks;     /* and LARGE blocks */
	int pm_fd;               /* /proc/self/pagemap, or -1 */
	bool vm_read;            /* process_vm_readv works */
	pid_t pid;
	uintptr_t sp;            /* the calling thread's stack below this is dead */
	uintptr_t tp;            /* its thread pointer */

	char *scratch;
	size_t scratch_len;
	struct lgroup *groups;
	size_t gcap, ngroups;
	struct leak_totals t;
};

/* Learnt before taking the locks (dl_iterate_phdr takes the loader's lock,
 * which a thread inside malloc may be waiting for with it held). */
static struct range self_segs[8];   /* our own writable segments: never roots */
static size_t nself_segs;
static struct range fallback_segs[LEAK_MAX_SEGS];  /* roots when /proc is missing */
static size_t nfallback_segs;
static char self_anchor;  /* an address inside our writable segment */

/* ---- stopping the other threads ---- */

/*
 * While the scan runs, every other thread waits in a signal handler: the
 * kernel saved all its registers in the signal frame on its stack, where
 * the scan sees them, and it cannot allocate, free or move a pointer.
 *
 * A thread caught inside our own code is let go and signalled again a
 * little later: between taking a slot and handing out its address it may
 * hold a live block only as a slot reference (or a LARGE descriptor), which
 * no scan can read as a pointer. A thread waiting for an allocator lock sits
 * in the kernel (libc's futex call), so it stops at once.
 *
 * The handler stays installed once used: a signal still pending in a thread
 * that blocks it must never meet the default action, which kills. It is not
 * installed over a handler of the program's. Threads that block the signal,
 * or do not stop in time, run on, and what only their registers hold is
 * not seen.
 */
#define LEAK_STOP_SIGNAL (SIGRTMAX - 3)
#define LEAK_STOP_WAIT_NS 200000000L  /* for all threads to stop */
#define LEAK_STOP_RETRY_NS 50000L     /* between signals to a thread not stopped yet */
#define LEAK_MAX_THREADS 4096         /* threads followed one by one; more are signalled once */

enum stop_state {
	STOP_GONE = 0,   /* exited, or never signalled */
	STOP_PENDING,    /* signalled, not handled yet */
	STOP_RETRY,      /* handled inside our code: to be signalled again */
	STOP_STOPPED,    /* waiting in the handler */
};
struct stop_slot {
	atomic_int tid;
	atomic_int state;
};

static struct stop_slot stop_slots[LEAK_MAX_THREADS];
static atomic_uint stop_nslots;
static atomic_int stop_hold;    /* futex word: 1 while the world is stopped */
static atomic_bool stop_installed;
static struct range self_text[4];  /* our code, when we are a library of our own */
static size_t nself_text;

static bool in_our_code(uintptr_t pc)
{
	for (size_t i = 0; i < nself_text; i++)
		if (pc - self_text[i].lo < self_text[i].hi - self_text[i].lo)
			return true;
	return false;
}

static struct stop_slot *stop_slot_of(int tid)
{
	unsigned n = atomic_load(&stop_nslots);

	for (unsigned i = 0; i < n; i++)
		if (atomic_load(&stop_slots[i].tid) == tid)
			return &stop_slots[i];
	return NULL;
}

static void stop_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)sig;
	(void)si;
	__builtin_unwind_init();
	struct stop_slot *me = stop_slot_of((int)syscall(SYS_gettid));
	if (!atomic_load(&stop_hold)) {
		errno = saved;  /* a late signal: the scan is over */
		return;
	}
	if (me && in_our_code(leak_context_pc(uc))) {
		atomic_store(&me->state, STOP_RETRY);
		errno = saved;
		return;
	}
	if (me)
		atomic_store(&me->state, STOP_STOPPED);
	while (atomic_load(&stop_hold))
		syscall(SYS_futex, &stop_hold, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	errno = saved;
}

static bool stop_handler_ready(void)
{
	struct sigaction sa, old;

	if (atomic_load(&stop_installed))
		return true;
	if (sigaction(LEAK_STOP_SIGNAL, NULL, &old) != 0)
		return false;
	if ((old.sa_flags & SA_SIGINFO) ? old.sa_sigaction != stop_handler
	    : old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
		return false;  /* the program's signal */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = stop_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);  /* no program handler runs while stopped */
	if (sigaction(LEAK_STOP_SIGNAL, &sa, NULL) != 0)
		return false;
	atomic_store(&stop_installed, true);
	return true;
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Sleep ns, to an absolute deadline: under a storm of signals a relative
 * nanosleep restarted with its remainder can sleep longer and longer (the
 * remainder it gives back is rounded up), never to end. */
static void nap(long ns)
{
	long long until = now_ns() + ns;
	struct timespec t = { (time_t)(until / 1000000000LL), (long)(until % 1000000000LL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

/* False when the thread is gone. */
static bool stop_signal(int tid)
{
	return syscall(SYS_tgkill, getpid(), tid, LEAK_STOP_SIGNAL) == 0 || errno != ESRCH;
}

/* Note and signal every thread in /proc/self/task but this one, reading the
 * directory into buf. */
static void signal_others(char *buf, size_t len)
{
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int self = (int)os_tid();
	long n;

	if (fd < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, len)) > 0) {
		for (long off = 0; off < n;) {
			const char *d = buf + off;
			unsigned short reclen;
			memcpy(&reclen, d + 16, sizeof reclen);  /* struct linux_dirent64 */
			off += reclen;
			int tid = 0;
			for (const char *c = d + 19; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid <= 0 || tid == self)
				continue;
			unsigned i = atomic_load(&stop_nslots);
			if (i < LEAK_MAX_THREADS) {
				atomic_store(&stop_slots[i].tid, tid);
				atomic_store(&stop_slots[i].state, STOP_PENDING);
				atomic_store(&stop_nslots, i + 1);
			}
			if (!stop_signal(tid) && i < LEAK_MAX_THREADS)
				atomic_store(&stop_slots[i].state, STOP_GONE);
		}
	}
	close(fd);
}

/* True when every followed thread has stopped (or gone); signals again
 * those that were caught inside our code. */
static bool all_stopped(void)
{
	unsigned n = atomic_load(&stop_nslots);
	bool all = true;

	for (unsigned i = 0; i < n; i++) {
		int st = atomic_load(&stop_slots[i].state);
		if (st == STOP_STOPPED || st == STOP_GONE)
			continue;
		all = false;
		if (st == STOP_RETRY) {
			atomic_store(&stop_slots[i].state, STOP_PENDING);
			if (!stop_signal(atomic_load(&stop_slots[i].tid)))
				atomic_store(&stop_slots[i].state, STOP_GONE);
		}
	}
	return all;
}

/* Stop every other thread. Call with every allocator lock held (so no
 * stopped thread holds one) and allocate nothing until leak_resume_world().
 * Best effort: see above. */
void leak_stop_world(void)
{
	char buf[4096];

	if (!stop_handler_ready())
		return;
	atomic_store(&stop_nslots, 0);
	atomic_store(&stop_hold, 1);
	signal_others(buf, sizeof buf);
	long long give_up = now_ns() + LEAK_STOP_WAIT_NS;  /* time, not naps: signals cut naps short */
	while (!all_stopped() && now_ns() < give_up)
		nap(LEAK_STOP_RETRY_NS);
}

void leak_resume_world(void)
{
	if (!atomic_load(&stop_hold))
		return;
	atomic_store(&stop_hold, 0);
	syscall(SYS_futex, &stop_hold, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* ---- block lookup ---- */

static inline size_t region_hash(const struct region *r, size_t mask)
{
	return (size_t)((((uintptr_t)r >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static void region_insert(struct leak_scan *s, uint32_t i)
{
	size_t h = region_hash(s->regions[i].r, s->hash_mask);

	while (s->hash[h])
		h = (h + 1) & s->hash_mask;
	s->hash[h] = i + 1;
}

static inline uint32_t region_number(struct leak_scan *s, struct region *r)
{
	if (r == s->last_r)
		return s->last_i;
	for (size_t h = region_hash(r, s->hash_mask); s->hash[h]; h = (h + 1) & s->hash_mask) {
		uint32_t i = s->hash[h] - 1;
		if (s->regions[i].r == r) {
			s->last_r = r;
			s->last_i = i;
			return i;
		}
	}
	return LEAK_NO_REGION;  /* a quarantined LARGE block, or a page of meta */
}

/* Where the block at slot of g starts and how many bytes it has. */
static inline uintptr_t block_start(const struct lregion *g, uint32_t slot, size_t *size)
{
	if (g->r->kind == REGION_LARGE) {
		const struct large *l = (const struct large *)g->r;
		*size = l->size;
		return (uintptr_t)l->user;
	}
	const struct zone *z = (const struct zone *)g->r;
	const struct rec *rec = &z->recs[slot];
	*size = rec->size;
	return (uintptr_t)zone_slot_user(z, slot) + (size_t)rec->align_off * FT_ALIGN;
}

/* The word w was found at address where: mark the block it points into.
 * A descriptor's own pointers into its memory (seen when meta memory is
 * scanned as a root because the kernel cannot name mappings) are not
 * references. */
static void consider(struct leak_scan *s, uintptr_t w, uintptr_t where)
{
	struct region *r = pagemap_get((const void *)w);

	if (!r)
		return;
	uint32_t ri = region_number(s, r);
	if (ri == LEAK_NO_REGION)
		return;
	const struct lregion *g = &s->regions[ri];
	uint32_t b;
	if (where - (uintptr_t)r < (r->kind == REGION_ZONE ? sizeof(struct zone) : sizeof(struct large)))
		return;
	if (r->kind == REGION_ZONE) {
		const struct zone *z = (const struct zone *)r;
		size_t slot = (w - (uintptr_t)z->base) / z->stride;
		if (slot >= g->count)
			return;
		b = g->first + (uint32_t)slot;
		if (s->mark[b] != MARK_LIVE && s->mark[b] != MARK_HEAD)
			return;
		uintptr_t user = (uintptr_t)zone_slot_user(z, (unsigned)slot);
		/* Anywhere from the block's start to its slot's end: generous
		 * to one-past-the-end pointers, never into the red zone. */
		if (w < user + (size_t)z->recs[slot].align_off * FT_ALIGN || w >= user + z->slot_size)
			return;
	} else {
		if (w < g->lo || w >= g->hi)
			return;
		b = g->first;
	}
	uint8_t m = s->mark[b];
	if (m == MARK_LIVE) {
		if (s->flooding) {
			s->mark[b] = MARK_INDIRECT;
			s->owner[b] = s->head;  /* owner[] is touched only for lost blocks */
		} else {
			s->mark[b] = MARK_REACHED;
		}
		s->work[s->nwork++] = b | (uint64_t)ri << 32;
	} else if (m == MARK_HEAD && s->flooding && b != s->head) {
		/* An earlier head is reachable from this one: it joins this
		 * clique, with the blocks it had gathered (already scanned). */
		s->mark[b] = MARK_INDIRECT;
		s->owner[b] = s->head;
	}
}

static void drain(struct leak_scan *s);

/* Roots: every block a word marks is scanned at once (with what it reaches),
 * so the work list stays as short as the chains of pointers, not as long as
 * the roots' list of blocks (each entry of which would be a page touched). */
static inline __attribute__((always_inline)) void scan_words(struct leak_scan *s,
    const uintptr_t *p, size_t n, uintptr_t origin, bool roots)
{
	for (size_t i = 0; i < n; i++) {
		uintptr_t w = p[i];
		if (FT_UNLIKELY(w - s->lo < s->span)) {
			consider(s, w, origin + i * sizeof(uintptr_t));
			if (roots && s->nwork)
				drain(s);
		}
	}
}

/* Read the page map entries of the n pages from the page at addr into e. */
static bool pm_read(struct leak_scan *s, uint64_t *e, uintptr_t addr, size_t n)
{
	uint64_t off = (uint64_t)(addr / os_page) * sizeof(uint64_t);
	size_t want = n * sizeof(uint64_t), got = 0;

	if (s->pm_fd < 0 || off > (uint64_t)INT64_MAX - want)
		return false;
	while (got < want) {
		ssize_t r = pread(s->pm_fd, (char *)e + got, want - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* A private page neither present nor swapped out was never written (or was
 * dropped): it reads as zeros, or as its file's bytes, and holds no pointer
 * the program stored. Reading it would only fault in a page. */
static inline bool pm_touched(uint64_t e)
{
	return (e >> 62) != 0;  /* bit 63: present; bit 62: swapped */
}

/* Call scan_root (roots) or scan_words on the touched pages of [lo, hi),
 * private memory; all of it where the page map cannot be read. */
static void scan_touched(struct leak_scan *s, uintptr_t lo, uintptr_t hi, bool roots);

static void scan_plain(struct leak_scan *s, uintptr_t lo, uintptr_t hi, bool roots);

/* Scan the blocks on the work list until it is empty. A big LARGE block is
 * scanned only where the program wrote it. */
static void drain(struct leak_scan *s)
{
	while (s->nwork) {
		uint64_t item = s->work[--s->nwork];
		const struct lregion *g = &s->regions[item >> 32];
		if (!g->readable)
			continue;
		size_t size;
		uintptr_t start = block_start(g, (uint32_t)item - g->first, &size);
		/* Whole words: past the end only when the block starts aligned (a
		 * guard_align block may end flush against its guard page). */
		size_t len = start & 7 ? size & ~(size_t)7 : ft_align_up(size, 8);
		if (size >= LEAK_SPARSE_MIN && s->pm_fd >= 0)
			scan_touched(s, start, start + len, false);
		else
			scan_words(s, (const uintptr_t *)start, len / 8, start, false);
	}
}

/* ---- roots ---- */

/* Copy [lo, hi) to the buffer a piece at a time and scan it; pages that
 * cannot be read (any more) are skipped. Where process_vm_readv is refused,
 * [lo, hi) is read directly: callers pass only ranges known readable (listed
 * in maps, segments of loaded objects, a probed stack). */
static void scan_root_range(struct leak_scan *s, uintptr_t lo, uintptr_t hi)
{
	lo = ft_align_up(lo, 8);
	hi = ft_align_down(hi, 8);
	while (lo < hi) {
		size_t n = hi - lo < LEAK_BUF ? hi - lo : LEAK_BUF;
		if (!s->vm_read) {
			scan_words(s, (const uintptr_t *)lo, n / 8, lo, true);
			lo += n;
			continue;
		}
		struct iovec here = { s->buf, n }, there = { (void *)lo, n };
		ssize_t got = process_vm_readv(s->pid, &here, 1, &there, 1, 0);
		if (got < 0 && errno != EFAULT && errno != ENOMEM) {
			s->vm_read = false;  /* refused (seccomp, old kernel) */
			continue;
		}
		if (got <= 0) {
			lo = ft_align_down(lo, os_page) + os_page;  /* an unreadable page */
			continue;
		}
		scan_words(s, (const uintptr_t *)s->buf, (size_t)got / 8, lo, true);
		lo += (size_t)got & ~(size_t)7;
	}
}

/* Scan [lo, hi) but the pages that are zones, LARGE blocks or other memory
 * the page map knows: those are scanned only as reachable blocks. */
static void scan_unowned(struct leak_scan *s, uintptr_t lo, uintptr_t hi)
{
	while (lo < hi) {
		uintptr_t next = ft_align_down(lo, os_page) + os_page;
		if (next > hi || next < lo)
			next = hi;
		if (pagemap_get((const void *)lo)) {
			lo = next;
			continue;
		}
		while (next < hi && !pagemap_get((const void *)next))
			next = next + os_page < hi ? next + os_page : hi;
		scan_root_range(s, lo, next);
		lo = next;
	}
}

/* A root range, less our own writable segments and scratch memory. */
static void scan_root(struct leak_scan *s, uintptr_t lo, uintptr_t hi)
{
	for (size_t i = 0; i < s->nexcl && lo < hi; i++) {
		const struct range *e = &s->excl[i];
		if (e->hi <= lo || e->lo >= hi)
			continue;
		if (e->lo > lo)
			scan_unowned(s, lo, e->lo);
		lo = e->hi;
	}
	if (lo < hi)
		scan_unowned(s, lo, hi);
}

static void scan_plain(struct leak_scan *s, uintptr_t lo, uintptr_t hi, bool roots)
{
	if (roots)
		scan_root(s, lo, hi);
	else
		scan_words(s, (const uintptr_t *)lo, (hi - lo) / 8, lo, false);
}

static void scan_touched(struct leak_scan *s, uintptr_t lo, uintptr_t hi, bool roots)
{
	uint64_t *e = roots ? s->pm_roots : s->pm_blocks;  /* drain runs inside a root scan */
	uintptr_t page = ft_align_down(lo, os_page);

	while (page < hi) {
		size_t n = (hi - page + os_page - 1) / os_page;
		if (n > LEAK_PM_BATCH)
			n = LEAK_PM_BATCH;
		if (!pm_read(s, e, page, n)) {
			scan_plain(s, page > lo ? page : lo, hi, roots);
			return;
		}
		for (size_t i = 0; i < n;) {
			if (!pm_touched(e[i])) {
				i++;
				continue;
			}
			size_t j = i + 1;
			while (j < n && pm_touched(e[j]))
				j++;
			uintptr_t a = page + i * os_page, b = page + j * os_page;
			scan_plain(s, a > lo ? a : lo, b < hi ? b : hi, roots);
			i = j;
		}
		page += n * os_page;
	}
}

static void add_excl(struct leak_scan *s, uintptr_t lo, uintptr_t hi)
{
	if (s->nexcl == LEAK_MAX_EXCL)
		return;
	size_t i = s->nexcl++;
	for (; i > 0 && s->excl[i - 1].lo > lo; i--)
		s->excl[i] = s->excl[i - 1];
	s->excl[i] = (struct range){ lo, hi };
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* One line of /proc/self/maps: "lo-hi perm offset dev inode   path". */
struct map_line {
	uintptr_t lo, hi;
	char perm[4];
	const char *path;
	size_t path_len;
};

static const char *parse_hex(const char *p, const char *end, uintptr_t *v)
{
	uintptr_t x = 0;

	for (; p < end; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			break;
		x = x << 4 | d;
	}
	*v = x;
	return p;
}

static const char *skip_field(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	while (p < end && *p == ' ')
		p++;
	return p;
}

static bool parse_line(const char *p, const char *end, struct map_line *m)
{
	p = parse_hex(p, end, &m->lo);
	if (p >= end || *p != '-')
		return false;
	p = parse_hex(p + 1, end, &m->hi);
	if (end - p < 6 || *p != ' ')
		return false;
	memcpy(m->perm, p + 1, 4);
	p = skip_field(p + 1, end);  /* perm */
	p = skip_field(p, end);      /* offset */
	p = skip_field(p, end);      /* dev */
	p = skip_field(p, end);      /* inode */
	m->path = p;
	m->path_len = (size_t)(end - p);
	return m->lo < m->hi;
}

/* Writable memory that may hold the program's pointers. Ours is named
 * [anon:ftmalloc:...] where the kernel names mappings; elsewhere the page
 * map finds zones and LARGE blocks. Device memory is never read. */
static bool is_root_mapping(const struct map_line *m)
{
	if (m->perm[0] != 'r' || m->perm[1] != 'w')
		return false;
	if (starts_with(m->path, m->path_len, "[anon:ftmalloc:sigaltstack]"))
		return true;  /* a thread's signal stack: its frames are roots */
	if (starts_with(m->path, m->path_len, "[anon:ftmalloc") ||
	    starts_with(m->path, m->path_len, "[vvar") ||
	    starts_with(m->path, m->path_len, "[vsyscall]") ||
	    starts_with(m->path, m->path_len, "[vdso]"))
		return false;
	if (m->perm[3] == 's' && starts_with(m->path, m->path_len, "/dev/") &&
	    !starts_with(m->path, m->path_len, "/dev/shm/") &&
	    !starts_with(m->path, m->path_len, "/dev/zero"))
		return false;
	return true;
}

static void remember_readable(struct leak_scan *s, uintptr_t lo, uintptr_t hi)
{
	if (s->nlines && s->lines[s->nlines - 1].hi == lo) {
		s->lines[s->nlines - 1].hi = hi;
		return;
	}
	if (s->nlines == LEAK_MAX_LINES) {
		s->lines_ok = false;
		return;
	}
	s->lines[s->nlines++] = (struct range){ lo, hi };
}

/* One line of the maps: on the first pass (!roots) remember it if readable,
 * on the second scan it if a root. */
static void handle_line(struct leak_scan *s, const char *p, const char *end, bool roots)
{
	struct map_line m;

	if (!parse_line(p, end, &m))
		return;
	if (!roots) {
		if (m.perm[0] == 'r')
			remember_readable(s, m.lo, m.hi);
		return;
	}
	if (!is_root_mapping(&m))
		return;
	if (s->sp >= m.lo && s->sp < m.hi)
		m.lo = s->sp;  /* the calling thread's stack: below sp is dead */
	if (m.perm[3] == 'p')
		scan_touched(s, m.lo, m.hi, true);
	else
		scan_root(s, m.lo, m.hi);  /* shared: its pages may be elsewhere */
}

/* Read /proc/self/maps (fd) from where it is, a line at a time. Small reads:
 * the pages of the buffer touched do not grow with the file. False when
 * nothing could be read. */
static bool read_maps(struct leak_scan *s, int fd, bool roots)
{
	char *buf = s->maps_buf;
	size_t have = 0;
	bool any = false;

	for (;;) {
		size_t room = LEAK_MAPS_BUF - have;
		ssize_t n = read(fd, buf + have, room < LEAK_MAPS_READ ? room : LEAK_MAPS_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		any = true;
		have += (size_t)n;
		char *line = buf, *end = buf + have, *nl;
		while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
			handle_line(s, line, nl, roots);
			line = nl + 1;
		}
		have = (size_t)(end - line);
		if (have == LEAK_MAPS_BUF)  /* a line longer than the buffer: drop it */
			have = 0;
		memmove(buf, line, have);
	}
	if (have)
		handle_line(s, buf, buf + have, roots);
	return any;
}

/* First pass over /proc/self/maps: the readable ranges, so that which
 * regions can be scanned is known before the roots are (each block a root
 * reaches is scanned at once). False when the file could not be read. */
static bool read_lines(struct leak_scan *s, int fd)
{
	s->lines_ok = true;
	bool any = read_maps(s, fd, false);
	if (!any)
		s->lines_ok = false;
	return any;
}

/* Second pass: scan every root mapping it lists. */
static bool scan_maps(struct leak_scan *s, int fd)
{
	return lseek(fd, 0, SEEK_SET) == 0 && read_maps(s, fd, true);
}

static bool page_readable(struct leak_scan *s, uintptr_t page)
{
	struct iovec here = { s->buf, 8 }, there = { (void *)page, 8 };

	return s->vm_read && process_vm_readv(s->pid, &here, 1, &there, 1, 0) == 8;
}

/* Scan the pages of [lo, hi) that can be read (up to the first that cannot,
 * when stop_at_hole), found by probing each one. */
static void scan_probed(struct leak_scan *s, uintptr_t lo, uintptr_t hi, bool stop_at_hole)
{
	while (lo < hi) {
		uintptr_t end = ft_align_down(lo, os_page);
		while (end < hi && page_readable(s, end))
			end += os_page;
		if (end > lo)
			scan_root(s, lo, end < hi ? end : hi);
		if (stop_at_hole || end >= hi)
			return;
		lo = end + os_page;
	}
}

/*
 * Without /proc: the writable segments of the loaded objects, the stack from
 * sp up to the first page that cannot be read, and the static TLS and thread
 * control block around the thread pointer (below it on x86_64 and with
 * glibc's layout; a window either side, not below sp). Other threads' stacks
 * and the program's own mappings are not found this way, so blocks only
 * they point to are reported lost.
 */
static void scan_fallback_roots(struct leak_scan *s)
{
	for (size_t i = 0; i < nfallback_segs; i++)
		scan_root(s, fallback_segs[i].lo, fallback_segs[i].hi);
	scan_probed(s, s->sp, s->sp + LEAK_STACK_MAX, true);
	uintptr_t lo = s->tp > LEAK_TLS_WINDOW ? s->tp - LEAK_TLS_WINDOW : 0;
	if (s->sp > lo && s->sp < s->tp)
		lo = s->sp;
	scan_probed(s, lo, s->tp + LEAK_TLS_WINDOW, false);
}

/* Before the locks: our own writable segments (excluded from the roots,
 * unless we are linked into the program itself) and, for the fallback, all
 * objects' writable segments. */
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	bool self = false;

	(void)size;
	(void)arg;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (uintptr_t)&self_anchor - lo < ph->p_memsz)
			self = info->dlpi_name && info->dlpi_name[0];
	}
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (self && ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    nself_text < sizeof(self_text) / sizeof(self_text[0]))
			self_text[nself_text++] = (struct range){ info->dlpi_addr + ph->p_vaddr,
			    info->dlpi_addr + ph->p_vaddr + ph->p_memsz };
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		uintptr_t lo = ft_align_down(info->dlpi_addr + ph->p_vaddr, os_page);
		uintptr_t hi = ft_align_up(info->dlpi_addr + ph->p_vaddr + ph->p_memsz, os_page);
		if (self && nself_segs < sizeof(self_segs) / sizeof(self_segs[0]))
			self_segs[nself_segs++] = (struct range){ lo, hi };
		else if (!self && nfallback_segs < LEAK_MAX_SEGS)
			fallback_segs[nfallback_segs++] = (struct range){ lo, hi };
	}
	return 0;
}

/* True when [lo, hi) is inside one readable range. */
static bool is_readable(const struct leak_scan *s, uintptr_t lo, uintptr_t hi)
{
	size_t a = 0, b = s->nlines;

	if (!s->lines_ok)
		return true;  /* nothing better known */
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (s->lines[m].hi <= lo)
			a = m + 1;
		else
			b = m;
	}
	return a < s->nlines && s->lines[a].lo <= lo && hi <= s->lines[a].hi;
}

/* ---- the heap snapshot ---- */

struct census { size_t nregions, nblocks; };

static void count_zone(struct zone *z, void *arg)
{
	struct census *c = arg;

	c->nregions++;
	c->nblocks += z->bump;
}

static void count_large(struct large *l, void *arg)
{
	struct census *c = arg;

	(void)l;
	c->nregions++;
	c->nblocks++;
}

static void add_region(struct leak_scan *s, struct region *r, uintptr_t lo, uintptr_t hi, uint32_t count)
{
	uint32_t i = (uint32_t)s->nregions++;

	s->regions[i] = (struct lregion){ r, lo, hi, (uint32_t)s->nblocks, count, true };
	s->nblocks += count;
	region_insert(s, i);
}

static void snap_zone(struct zone *z, void *arg)
{
	struct leak_scan *s = arg;
	uint32_t first = (uint32_t)s->nblocks;

	add_region(s, &z->hdr, (uintptr_t)z->base, (uintptr_t)z->base + z->map_len, z->bump);
	for (unsigned i = 0; i < z->bump; i++)
		s->mark[first + i] = __atomic_load_n(&z->recs[i].state, __ATOMIC_ACQUIRE) == REC_LIVE
		    ? MARK_LIVE : MARK_NONE;
}

static void snap_large(struct large *l, void *arg)
{
	struct leak_scan *s = arg;
	uint32_t b = (uint32_t)s->nblocks;

	add_region(s, &l->hdr, (uintptr_t)l->user, (uintptr_t)l->user + (l->size ? l->size : 1), 1);
	s->mark[b] = l->state == REC_LIVE ? MARK_LIVE : MARK_NONE;
}

/*
 * Map the scratch memory for c, with every lock held (os_map takes none).
 * One mapping, its pages touched only as used: first the buffers, whose
 * pages touched do not depend on the heap, then, packed on the pages after
 * them, what grows with it: per region its entry and hash slots, per block
 * its mark, then its work list entry and owner, which a heap with no lost
 * block and short pointer chains barely touches (owner[] and the work list
 * past its depth are written only for lost blocks). So a small heap costs
 * the buffers' pages and one or two more.
 */
static bool scratch_map(struct leak_scan *s, const struct census *c)
{
	size_t hash_len = 16;

	while (hash_len < 2 * c->nregions)
		hash_len *= 2;
	size_t off_maps = LEAK_BUF;
	size_t off_pm = off_maps + LEAK_MAPS_BUF;
	size_t off_lines = off_pm + 2 * LEAK_PM_BATCH * sizeof(uint64_t);
	size_t off_regions = ft_align_up(off_lines + LEAK_MAX_LINES * sizeof(struct range), os_page);
	size_t off_hash = off_regions + c->nregions * sizeof(struct lregion);
	size_t off_mark = off_hash + hash_len * sizeof(uint32_t);
	size_t off_work = ft_align_up(off_mark + c->nblocks, sizeof(uint64_t));
	size_t off_owner = off_work + c->nblocks * sizeof(uint64_t);
	s->scratch_len = ft_align_up(off_owner + c->nblocks * sizeof(uint32_t), os_page);
	s->scratch = os_map(s->scratch_len, true);
	if (!s->scratch)
		return false;
	os_name(s->scratch, s->scratch_len, "ftmalloc:leak");
	s->buf = s->scratch;
	s->maps_buf = s->scratch + off_maps;
	s->pm_roots = (uint64_t *)(s->scratch + off_pm);
	s->pm_blocks = s->pm_roots + LEAK_PM_BATCH;
	s->lines = (struct range *)(s->scratch + off_lines);
	s->regions = (struct lregion *)(s->scratch + off_regions);
	s->hash = (uint32_t *)(s->scratch + off_hash);
	s->hash_mask = hash_len - 1;
	s->mark = (uint8_t *)(s->scratch + off_mark);
	s->work = (uint64_t *)(s->scratch + off_work);
	s->owner = (uint32_t *)(s->scratch + off_owner);
	return true;
}

/* The page map is believed only if it shows the page under our feet. */
static void pm_check(struct leak_scan *s)
{
	if (s->pm_fd >= 0 && !(pm_read(s, s->pm_roots, ft_align_down(leak_sp(), os_page), 1) &&
	    (s->pm_roots[0] >> 63)))
		s->pm_fd = -1;
}

/* Number the blocks and note which are live. */
static void snapshot(struct leak_scan *s)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;

	zone_foreach(snap_zone, s);
	large_foreach(snap_large, s);
	for (size_t i = 0; i < s->nregions; i++) {
		if (s->regions[i].lo < lo)
			lo = s->regions[i].lo;
		if (s->regions[i].hi > hi)
			hi = s->regions[i].hi;
	}
	s->lo = lo;
	s->span = hi > lo ? hi - lo : 0;
}

/* A region's blocks are scanned only if the program left them readable. */
static void check_readable(struct leak_scan *s)
{
	for (size_t i = 0; i < s->nregions; i++) {
		struct lregion *g = &s->regions[i];
		g->readable = is_readable(s, ft_align_down(g->lo, os_page), g->hi);
	}
}

/* ---- classification ---- */

/* Every block no root reaches heads a clique of the lost blocks it reaches,
 * unless an earlier clique already took it. */
static void flood_lost(struct leak_scan *s)
{
	s->flooding = true;
	for (size_t ri = 0; ri < s->nregions; ri++) {
		const struct lregion *g = &s->regions[ri];
		for (uint32_t b = g->first; b < g->first + g->count; b++) {
			if (s->mark[b] != MARK_LIVE)
				continue;
			s->mark[b] = MARK_HEAD;
			s->head = b;
			s->work[s->nwork++] = b | (uint64_t)ri << 32;
			drain(s);
		}
	}
}

/* The head an indirectly lost block belongs to, shortening the path. */
static uint32_t find_head(struct leak_scan *s, uint32_t b)
{
	uint32_t h = b;

	while (s->mark[h] == MARK_INDIRECT)
		h = s->owner[h];
	while (s->mark[b] == MARK_INDIRECT && s->owner[b] != h) {
		uint32_t next = s->owner[b];
		s->owner[b] = h;
		b = next;
	}
	return h;
}

/* Per head, the bytes and count of the blocks lost through it: bytes in
 * work[head], count in owner[head]. */
static void tally_indirect(struct leak_scan *s)
{
	for (uint32_t b = 0; b < s->nblocks; b++)
		if (s->mark[b] == MARK_INDIRECT)
			s->owner[b] = find_head(s, b);
	for (uint32_t b = 0; b < s->nblocks; b++)
		if (s->mark[b] == MARK_HEAD)
			s->work[b] = s->owner[b] = 0;
	for (size_t ri = 0; ri < s->nregions; ri++) {
		const struct lregion *g = &s->regions[ri];
		for (uint32_t b = g->first; b < g->first + g->count; b++) {
			if (s->mark[b] != MARK_INDIRECT)
				continue;
			size_t size;
			block_start(g, b - g->first, &size);
			s->work[s->owner[b]] += size;
			s->owner[s->owner[b]]++;
			s->t.ind_bytes += size;
			s->t.ind_blocks++;
		}
	}
}

static size_t group_hash(uint8_t kind, uint32_t stack, size_t cap)
{
	return (size_t)(((uint64_t)stack * 2 + kind) * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
}

static struct lgroup *group_slot(struct lgroup *tab, size_t cap, uint8_t kind, uint32_t stack)
{
	size_t h = group_hash(kind, stack, cap);

	while (tab[h].used && (tab[h].kind != kind || tab[h].stack != stack))
		h = (h + 1) & (cap - 1);
	return &tab[h];
}

/* Double the group table; false when out of memory. */
static bool groups_grow(struct leak_scan *s)
{
	size_t cap = s->gcap ? s->gcap * 2 : 1024;
	struct lgroup *tab = os_map(ft_align_up(cap * sizeof(*tab), os_page), true);

	if (!tab)
		return false;
	os_name(tab, ft_align_up(cap * sizeof(*tab), os_page), "ftmalloc:leak");
	for (size_t i = 0; i < s->gcap; i++)
		if (s->groups[i].used)
			*group_slot(tab, cap, s->groups[i].kind, s->groups[i].stack) = s->groups[i];
	if (s->groups)
		os_unmap(s->groups, ft_align_up(s->gcap * sizeof(*tab), os_page));
	s->groups = tab;
	s->gcap = cap;
	return true;
}

/* The group of a block; NULL when out of memory (the totals still count). */
static struct lgroup *group_of(struct leak_scan *s, uint8_t kind, uint32_t stack,
    uintptr_t start, size_t size, uint16_t thread)
{
	if (2 * (s->ngroups + 1) > s->gcap && !groups_grow(s))
		return NULL;
	struct lgroup *g = group_slot(s->groups, s->gcap, kind, stack);
	if (!g->used) {
		*g = (struct lgroup){ .used = true, .kind = kind, .thread = thread, .stack = stack,
		    .first = start, .first_size = size };
		s->ngroups++;
	}
	return g;
}

static void block_owner_info(const struct lregion *g, uint32_t slot, uint32_t *stack, uint16_t *thread)
{
	if (g->r->kind == REGION_LARGE) {
		const struct large *l = (const struct large *)g->r;
		*stack = l->alloc_stack;
		*thread = l->alloc_thread;
		return;
	}
	const struct rec *rec = &((const struct zone *)g->r)->recs[slot];
	*stack = rec->alloc_stack;
	*thread = rec->alloc_thread;
}

/* In a forked child, the live blocks of the parent's other threads: those
 * threads are not in this process (the C library even takes their stacks
 * back for its own threads), so nothing here may reach those blocks, yet
 * they are the parent's to lose, not this process's. They count as
 * reachable, and so does what they point to. */
static void adopt_inherited(struct leak_scan *s)
{
	for (size_t ri = 0; ri < s->nregions; ri++) {
		const struct lregion *g = &s->regions[ri];
		for (uint32_t b = g->first; b < g->first + g->count; b++) {
			uint32_t stack;
			uint16_t thread;
			if (s->mark[b] != MARK_LIVE)
				continue;
			block_owner_info(g, b - g->first, &stack, &thread);
			if (!os_thread_inherited(thread))
				continue;
			s->mark[b] = MARK_REACHED;
			s->work[s->nwork++] = b | (uint64_t)ri << 32;
			drain(s);
		}
	}
}

/* Sum the definitely lost heads (and what they hold) and, when asked, the
 * reachable blocks by allocation stack. */
static void group_blocks(struct leak_scan *s, bool show_reachable)
{
	for (size_t ri = 0; ri < s->nregions; ri++) {
		const struct lregion *g = &s->regions[ri];
		for (uint32_t b = g->first; b < g->first + g->count; b++) {
			uint8_t m = s->mark[b];
			if (m != MARK_HEAD && m != MARK_REACHED)
				continue;
			size_t size;
			uintptr_t start = block_start(g, b - g->first, &size);
			uint32_t stack;
			uint16_t thread;
			block_owner_info(g, b - g->first, &stack, &thread);
			if (m == MARK_REACHED) {
				s->t.reach_bytes += size;
				s->t.reach_blocks++;
				struct lgroup *gr = show_reachable ? group_of(s, 1, stack, start, size, thread) : NULL;
				if (gr) {
					gr->bytes += size;
					gr->blocks++;
				}
				continue;
			}
			s->t.def_bytes += size;
			s->t.def_blocks++;
			struct lgroup *gr = group_of(s, 0, stack, start, size, thread);
			if (gr) {
				gr->bytes += size;
				gr->blocks++;
				gr->ind_bytes += s->work[b];
				gr->ind_blocks += s->owner[b];
			}
		}
	}
}

/* Lost groups first, then reachable; biggest first in each. */
static bool group_before(const struct lgroup *a, const struct lgroup *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind;
	size_t ta = a->bytes + a->ind_bytes, tb = b->bytes + b->ind_bytes;
	if (ta != tb)
		return ta > tb;
	if (a->blocks != b->blocks)
		return a->blocks > b->blocks;
	return a->stack < b->stack;
}

static void sift_down(struct lgroup *g, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		/* A max-heap in "comes later" order. */
		if (child + 1 < n && group_before(&g[child], &g[child + 1]))
			child++;
		if (!group_before(&g[root], &g[child]))
			return;
		struct lgroup t = g[root];
		g[root] = g[child];
		g[child] = t;
		root = child;
	}
}

/* Pack the used groups to the front and heap sort them: no recursion. */
static void sort_groups(struct leak_scan *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->gcap; i++)
		if (s->groups[i].used)
			s->groups[n++] = s->groups[i];
	for (size_t i = n / 2; i-- > 0;)
		sift_down(s->groups, i, n);
	for (size_t end = n; end > 1; end--) {
		struct lgroup t = s->groups[0];
		s->groups[0] = s->groups[end - 1];
		s->groups[end - 1] = t;
		sift_down(s->groups, 0, end - 1);
	}
	s->ngroups = n;
}

/* ---- output, with no allocator lock held ---- */

/* What a scan is for: the exit check (errors on the report fd) or a listing
 * of the candidates now (show_alloc_mem_ex, on fd, not counted as errors). */
struct leak_request {
	bool at_exit;
	bool show_reachable;
	int fd;
};

static void print_stack(struct fmt_out *o, uint32_t stack)
{
	if (stack)
		bt_print_id(o, stack);
	else
		fmt_puts(o, "    <no stack recorded>\n");
}

static void print_lost(const struct lgroup *g)
{
	struct report_block blk = { .start = g->first, .size = g->first_size,
	    .alloc_stack = g->stack, .alloc_thread = g->thread };
	struct fmt_out o;

	report_begin(&o, KIND_MEMORY_LEAK, g->first, &blk, "exit");
	report_field_num(&o, "bytes", g->bytes);
	report_field_num(&o, "blocks", g->blocks);
	report_field_num(&o, "indirect_bytes", g->ind_bytes);
	report_field_num(&o, "indirect_blocks", g->ind_blocks);
	if (!report_is_json(&o)) {
		fmt_printf(&o, "  %zu bytes in %zu blocks are definitely lost\n", g->bytes, g->blocks);
		if (g->ind_blocks)
			fmt_printf(&o, "  (and %zu bytes in %zu indirectly lost blocks reachable only from them)\n",
			    g->ind_bytes, g->ind_blocks);
	}
	report_thread_stack(&o, "allocated", g->thread, g->stack);
	report_end(&o);
}

static void print_candidate(const struct lgroup *g, int fd)
{
	struct fmt_out o;

	fmt_init(&o, fd);
	fmt_printf(&o, "  %zu bytes in %zu blocks definitely lost", g->bytes, g->blocks);
	if (g->ind_blocks)
		fmt_printf(&o, " (and %zu bytes in %zu indirectly lost blocks reachable only from them)",
		    g->ind_bytes, g->ind_blocks);
	fmt_printf(&o, ", first at %p, allocated by thread T%u at:\n", (void *)g->first, (unsigned)g->thread);
	print_stack(&o, g->stack);
	fmt_flush(&o);
}

/* Listed at exit only (show_reachable): a note, no error. */
static void print_reachable(const struct lgroup *g)
{
	struct fmt_out o;

	report_note_begin(&o, "still-reachable");
	report_field_num(&o, "bytes", g->bytes);
	report_field_num(&o, "blocks", g->blocks);
	if (report_is_json(&o)) {
		report_thread_stack(&o, "allocated", g->thread, g->stack);
	} else {
		fmt_printf(&o, "ftmalloc: reachable: %zu bytes in %zu blocks allocated at:\n", g->bytes, g->blocks);
		print_stack(&o, g->stack);
	}
	report_note_end(&o);
}

static void print_line(int fd, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void print_line(int fd, const char *f, ...)
{
	struct fmt_out o;
	va_list ap;

	fmt_init(&o, fd);
	va_start(ap, f);
	fmt_vprintf(&o, f, ap);
	va_end(ap);
	fmt_flush(&o);
}

static void print_groups(const struct leak_scan *s, const struct leak_request *rq, uint8_t kind)
{
	size_t shown = 0, more = 0, more_bytes = 0, more_blocks = 0;

	for (size_t i = 0; i < s->ngroups; i++) {
		const struct lgroup *g = &s->groups[i];
		if (g->kind != kind)
			continue;
		if (shown == LEAK_MAX_SHOWN) {
			more++;
			more_bytes += g->bytes + g->ind_bytes;
			more_blocks += g->blocks + g->ind_blocks;
			continue;
		}
		shown++;
		if (kind == 1)
			print_reachable(g);
		else if (rq->at_exit)
			print_lost(g);
		else
			print_candidate(g, rq->fd);
	}
	if (more && rq->at_exit) {
		struct fmt_out o;
		report_note_begin(&o, "omitted");
		report_field_str(&o, "of", kind ? "still-reachable" : "memory-leak");
		report_field_num(&o, "groups", more);
		report_field_num(&o, "bytes", more_bytes);
		report_field_num(&o, "blocks", more_blocks);
		if (!report_is_json(&o))
			fmt_printf(&o, "ftmalloc: %zu more %s groups (%zu bytes in %zu blocks) not shown\n",
			    more, kind ? "reachable" : "leak", more_bytes, more_blocks);
		report_note_end(&o);
	} else if (more) {
		print_line(rq->fd, "  %zu more leak groups (%zu bytes in %zu blocks) not shown\n",
		    more, more_bytes, more_blocks);
	}
}

/* "ftmalloc: SUMMARY: leaks: ..." at exit; in JSON the exit summary
 * (report_summary) carries the totals instead. */
static void print_exit_totals(const struct leak_totals *t, bool lost, bool show_reachable)
{
	struct fmt_out o;

	report_leak_totals(t, show_reachable);
	if ((!lost && !show_reachable) || (report_style(-1) & FMT_JSON))
		return;
	report_note_begin(&o, "leak-totals");
	fmt_color(&o, FMT_SGR_TITLE);
	fmt_printf(&o, "ftmalloc: SUMMARY: leaks: %zu bytes definitely lost in %zu blocks, "
	    "%zu bytes indirectly lost in %zu blocks, %zu bytes still reachable in %zu blocks",
	    t->def_bytes, t->def_blocks, t->ind_bytes, t->ind_blocks, t->reach_bytes, t->reach_blocks);
	fmt_color_end(&o);
	fmt_putc(&o, '\n');
	report_note_end(&o);
}

static void print_skipped(void)
{
	static const char why[] = "leak check skipped: no memory for its scratch space";
	struct fmt_out o;

	report_note_begin(&o, "notice");
	report_field_str(&o, "message", why);
	if (!report_is_json(&o))
		fmt_printf(&o, "ftmalloc: %s\n", why);
	report_note_end(&o);
}

static void print_results(const struct leak_scan *s, const struct leak_request *rq)
{
	const struct leak_totals *t = &s->t;
	bool lost = t->def_blocks || t->ind_blocks;

	if (!rq->at_exit)
		print_line(rq->fd, "Leak candidates (blocks no pointer reaches now):%s\n", lost ? "" : " none");
	print_groups(s, rq, 0);
	if (rq->show_reachable)
		print_groups(s, rq, 1);
	if (rq->at_exit)
		print_exit_totals(t, lost, rq->show_reachable);
	else
		print_line(rq->fd, "Leak candidates: %zu bytes definitely lost in %zu blocks, "
		    "%zu bytes indirectly lost in %zu blocks, %zu bytes still reachable in %zu blocks\n",
		    t->def_bytes, t->def_blocks, t->ind_bytes, t->ind_blocks, t->reach_bytes, t->reach_blocks);
}

/* ---- the check ---- */

/* Mark, flood and group with every lock held; false when out of memory. */
static bool scan_locked(struct leak_scan *s, int maps_fd, bool show_reachable)
{
	struct census c = {0};

	zone_foreach(count_zone, &c);
	large_foreach(count_large, &c);
	if (c.nblocks == 0 || c.nblocks >= UINT32_MAX)
		return c.nblocks == 0;
	if (!scratch_map(s, &c))
		return false;
	pm_check(s);
	leak_stop_world();
	snapshot(s);
	add_excl(s, (uintptr_t)s->scratch, (uintptr_t)s->scratch + s->scratch_len);
	for (size_t i = 0; i < nself_segs; i++)
		add_excl(s, self_segs[i].lo, self_segs[i].hi);

	bool maps = maps_fd >= 0 && read_lines(s, maps_fd);
	check_readable(s);  /* before any block is scanned */
	if (s->tp - s->lo < s->span)  /* TLS inside a heap block (a custom thread library) */
		consider(s, s->tp, 0);
	if (!maps || !scan_maps(s, maps_fd))
		scan_fallback_roots(s);
	drain(s);
	adopt_inherited(s);
	flood_lost(s);
	tally_indirect(s);
	group_blocks(s, show_reachable);
	sort_groups(s);
	return true;
}

/* One check at a time (they share the statics above). Held by the pid of
 * the process running one: a child forked meanwhile takes it over. */
static atomic_int leak_busy;

static void leak_busy_take(void)
{
	int me = getpid(), expect = 0;

	while (!atomic_compare_exchange_strong(&leak_busy, &expect, me)) {
		if (expect != me && atomic_compare_exchange_strong(&leak_busy, &expect, me))
			return;  /* left over from the parent of this child */
		nap(1000000);
		expect = 0;
	}
}

/* sp: the caller's stack pointer; its registers are saved above it. */
static FT_NOINLINE void leak_run(const struct leak_request *rq, uintptr_t sp, uintptr_t tp)
{
	struct leak_scan s = { .pid = getpid(), .vm_read = true, .sp = sp, .tp = tp, .pm_fd = -1 };
	int saved = errno;

	leak_busy_take();
	nself_segs = nfallback_segs = nself_text = 0;
	if (bt_loader_enter(1000000)) {
		dl_iterate_phdr(phdr_cb, NULL);
		bt_loader_leave();
	}
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	int pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	s.pm_fd = pm_fd;
	ft_lock_all();
	bool ok = scan_locked(&s, fd, rq->show_reachable);
	leak_resume_world();
	ft_unlock_all();
	if (fd >= 0)
		close(fd);
	if (pm_fd >= 0)
		close(pm_fd);
	if (s.scratch)
		os_unmap(s.scratch, s.scratch_len);
	if (ok)
		print_results(&s, rq);
	else if (rq->at_exit)
		print_skipped();
	else
		print_line(rq->fd, "ftmalloc: leak check skipped: no memory for its scratch space\n");
	if (s.groups)
		os_unmap(s.groups, ft_align_up(s.gcap * sizeof(struct lgroup), os_page));
	atomic_store(&leak_busy, 0);
	errno = saved;
}

/*
 * The stack from the caller's stack pointer up is a root; the scan's own
 * frames are all below it. The callee-saved registers are spilled into the
 * caller's frame (and a jmp_buf there), so a pointer that only a register
 * held is found in the stack range. A macro: it must run in the frame of
 * the exported function itself. The jmp_buf is cleared first: setjmp fills
 * only part of it, and the rest would hold whatever an earlier call left in
 * this stack area (a block address printed by show_alloc_mem_ex, say).
 */
#define LEAK_RUN(rq) do { \
	jmp_buf regs_; \
	memset(&regs_, 0, sizeof regs_);  /* no stale words from earlier calls */ \
	__builtin_unwind_init(); \
	setjmp(regs_); \
	leak_run((rq), leak_sp(), (uintptr_t)__builtin_thread_pointer()); \
	__asm__ volatile("" : : "r"(&regs_) : "memory"); \
} while (0)

FT_NOINLINE void leak_check(bool show_reachable)
{
	struct leak_request rq = { .at_exit = true, .show_reachable = show_reachable, .fd = report_fd };

	ft_init();
	LEAK_RUN(&rq);
}

FT_NOINLINE void leak_candidates(int fd)
{
	struct leak_request rq = { .at_exit = false, .show_reachable = false, .fd = fd };

	ft_init();
	LEAK_RUN(&rq);
}
