/*
 * segv.c - the fault handler: turns a SIGSEGV on a LARGE block's guard page,
 * or on a freed LARGE block held PROT_NONE in quarantine, into a report,
 * then lets the program die of the original signal.
 *
 * Async-signal-safe: it reads the page map and the block's descriptor
 * without a lock (a lock could be held by the very thread that faulted),
 * formats with fmt.c into a stack buffer and writes with write(2). A fault
 * that is not ours goes to the handler the program had before us, or to the
 * default action, untouched.
 *
 * May call: report.c, backtrace.c (capture from the signal context),
 * pagemap.c, large.c (large_at only), os.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <sys/mman.h>

#define ALT_STACK_LEN (64 * 1024)

/* The handler we chain to, set by segv_init() and then sealed
 * (FT_SEALED): a stray write cannot make a fault call somewhere else. */
struct segv_setup {
	struct sigaction previous;
	bool installed;
};
static FT_SEALED(struct segv_setup) segv_setup_page;
static const struct sigaction *const previous = &segv_setup_page.v.previous;

/* Page-fault error code bit 1: the access was a write (x86). */
static const char *access_kind(const void *ucontext)
{
#if defined(__x86_64__)
	const ucontext_t *uc = ucontext;
	return (uc->uc_mcontext.gregs[REG_ERR] & 2) ? "WRITE" : "READ";
#else
	(void)ucontext;
	return "ACCESS";
#endif
}

static void pass_on(int sig, siginfo_t *info, void *ucontext)
{
	if (previous->sa_flags & SA_SIGINFO) {
		if (previous->sa_sigaction) {
			previous->sa_sigaction(sig, info, ucontext);
			return;
		}
	} else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
		previous->sa_handler(sig);
		return;
	}
	/* Default action: uninstall ourselves and return; the faulting
	 * instruction runs again and the kernel kills the process with the
	 * original signal (and a core dump where enabled). */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

/* Which error a fault at addr in LARGE block l is, and how far from it. */
static enum report_kind classify(const struct large *l, uintptr_t addr)
{
	uintptr_t data = (uintptr_t)l->map + l->guard_len;

	if (l->state != REC_LIVE && addr >= data && addr < data + l->data_len)
		return KIND_USE_AFTER_FREE;
	return addr < (uintptr_t)l->user ? KIND_HEAP_BUFFER_UNDERFLOW : KIND_HEAP_BUFFER_OVERFLOW;
}

static void on_fault(int sig, siginfo_t *info, void *ucontext)
{
	uintptr_t addr = (uintptr_t)info->si_addr;
	struct large *l = large_at((void *)addr);

	if (!l) {
		pass_on(sig, info, ucontext);
		return;
	}
	struct report_block blk;
	struct fmt_out o;
	uintptr_t pcs[BT_MAX_DEPTH];
	char func[32];
	enum report_kind kind = classify(l, addr);

	large_describe(l, (void *)addr, &blk);
	if (kind != KIND_USE_AFTER_FREE)
		blk.freed = false;
	strcpy(func, access_kind(ucontext));
	strcat(func, " access");
	report_begin(&o, kind, addr, &blk, func);
	report_field_str(&o, "access", access_kind(ucontext));
	unsigned n = bt_capture_context(ucontext, pcs, BT_MAX_DEPTH);
	report_pcs(&o, "detected at", pcs, n);
	report_block_stacks(&o, &blk);
	report_field_str(&o, "page", kind == KIND_USE_AFTER_FREE ? "quarantined" : "guard");
	report_field_str(&o, "signal", "SIGSEGV");
	if (!report_is_json(&o))
		fmt_printf(&o, "  the access hit a %s page of the block's mapping; the program gets %s\n",
		    kind == KIND_USE_AFTER_FREE ? "freed (quarantined)" : "guard", "SIGSEGV");
	report_end(&o);
	pass_on(sig, info, ucontext);
}

/* An alternate stack for the calling thread, so a report can be written
 * even when the fault is a stack overflow. */
static void alt_stack(void)
{
	stack_t ss;

	ss.ss_sp = os_map(ALT_STACK_LEN, true);
	if (!ss.ss_sp)
		return;
	os_name(ss.ss_sp, ALT_STACK_LEN, "ftmalloc:sigaltstack");
	ss.ss_size = ALT_STACK_LEN;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
}

void segv_init(void)
{
	struct sigaction sa;

	struct segv_setup *setup = &segv_setup_page.v;

	if (setup->installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	alt_stack();
	if (sigaction(SIGSEGV, &sa, &setup->previous) == 0) {
		setup->installed = true;
		os_seal(&segv_setup_page, sizeof(segv_setup_page));  /* a refusal only loses the protection */
	}
}
