/*
 * report.c - the one writer of error reports, and the exit summary.
 *
 * A report is written with write(2) through a struct fmt_out on the
 * caller's stack: no malloc, no stdio, complete on the descriptor even if
 * the process dies right after. Reports from several threads never
 * interleave: the report lock is a spin lock that its owner may take again
 * (a fault inside a report, or a report from inside the fault handler), so
 * it can never deadlock the thread that holds it.
 *
 * May call: backtrace.c (printing stacks), fmt.c, os.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdlib.h>
#include <unistd.h>

static const char *const kind_names[KIND_COUNT] = {
#define FT_KIND_NAME(id, name) name,
	FT_KINDS(FT_KIND_NAME)
#undef FT_KIND_NAME
};

static atomic_ulong kind_counts[KIND_COUNT];
static atomic_uint report_owner;  /* kernel tid holding the report lock, 0: free */
static unsigned report_depth;     /* nesting of the owner */
int report_fd = 2;

const char *report_kind_name(enum report_kind k)
{
	return k < KIND_COUNT ? kind_names[k] : "unknown";
}

unsigned long report_count(enum report_kind k)
{
	return atomic_load(&kind_counts[k]);
}

unsigned long report_total(void)
{
	unsigned long n = 0;

	for (int k = 0; k < KIND_COUNT; k++)
		n += atomic_load(&kind_counts[k]);
	return n;
}

static void report_lock(void)
{
	unsigned self = os_tid(), expect = 0;

	if (atomic_load(&report_owner) == self) {
		report_depth++;
		return;
	}
	while (!atomic_compare_exchange_weak(&report_owner, &expect, self)) {
		expect = 0;
		ft_cpu_relax();
	}
	report_depth = 1;
}

static void report_unlock(void)
{
	if (--report_depth == 0)
		atomic_store(&report_owner, 0);
}

void report_lock_reset(void)
{
	atomic_store(&report_owner, 0);
	report_depth = 0;
}

void report_begin(struct fmt_out *o, enum report_kind kind, uintptr_t addr,
    const struct report_block *blk, const char *func)
{
	report_lock();
	atomic_fetch_add(&kind_counts[kind], 1);
	fmt_init(o, report_fd);
	fmt_printf(o, "ftmalloc: ERROR: %s on address %p (", report_kind_name(kind), (void *)addr);
	if (blk && blk->start) {
		uintptr_t end = blk->start + blk->size;
		if (addr < blk->start)
			fmt_printf(o, "%zu bytes before", (size_t)(blk->start - addr));
		else if (addr >= end && !(addr == blk->start && blk->size == 0))
			fmt_printf(o, "%zu bytes after", (size_t)(addr - end));
		else
			fmt_printf(o, "%zu bytes inside", (size_t)(addr - blk->start));
		fmt_printf(o, " a %zu-byte block at %p", blk->size, (void *)blk->start);
	} else {
		fmt_puts(o, "not in any heap block");
	}
	fmt_printf(o, ") in %s, thread T%u\n", func, (unsigned)os_thread_serial());
}

void report_stack(struct fmt_out *o, const char *title, uint32_t id)
{
	fmt_printf(o, "  %s:\n", title);
	if (id)
		bt_print_id(o, id);
	else
		fmt_puts(o, "    <no stack recorded>\n");
}

void report_thread_stack(struct fmt_out *o, const char *what, uint16_t thread, uint32_t id)
{
	fmt_printf(o, "  %s by thread T%u at:\n", what, (unsigned)thread);
	if (id)
		bt_print_id(o, id);
	else
		fmt_puts(o, "    <no stack recorded>\n");
}

/* The sections every block report ends with. */
void report_block_stacks(struct fmt_out *o, const struct report_block *blk)
{
	if (!blk || !blk->start)
		return;
	if (blk->freed)
		report_thread_stack(o, "freed", blk->free_thread, blk->free_stack);
	report_thread_stack(o, "allocated", blk->alloc_thread, blk->alloc_stack);
}

static void hexdump(struct fmt_out *o, const uint8_t *bytes, uintptr_t at, size_t len, uintptr_t mark)
{
	fmt_puts(o, "  bytes around it ([..] first damaged):\n");
	for (size_t row = 0; row < len; row += 16) {
		fmt_printf(o, "    %p:", (void *)(at + row));
		for (size_t i = row; i < row + 16 && i < len; i++) {
			if (at + i == mark)
				fmt_printf(o, "[%02x]", bytes[i]);
			else
				fmt_printf(o, " %02x ", bytes[i]);
		}
		fmt_putc(o, '\n');
	}
}

void report_finding(const struct finding *f, const char *func, uint32_t stack)
{
	struct fmt_out o;

	report_begin(&o, f->kind, f->bad, &f->blk, func);
	if (f->corrupt)
		fmt_printf(&o, "  the allocator's own records of the zone at %p are inconsistent: %s;\n"
		    "  its blocks are no longer checked\n", (void *)f->bad, f->corrupt);
	report_stack(&o, "detected at", stack ? stack : bt_capture());
	report_block_stacks(&o, &f->blk);
	if (f->bytes_len)
		hexdump(&o, f->bytes, f->bytes_at, f->bytes_len, f->bad);
	report_end(&o);
}

void report_end(struct fmt_out *o)
{
	fmt_puts(o, "ftmalloc: end of report\n");
	fmt_flush(o);
	report_unlock();
	if (opt.abort_on_error)
		abort();
}

/* Last words at exit: one line counting every error by kind. */
void report_summary(void)
{
	unsigned long total = report_total();
	struct fmt_out o;
	bool first = true;

	if (!total)
		return;
	report_lock();
	fmt_init(&o, report_fd);
	fmt_printf(&o, "ftmalloc: SUMMARY: %lu error%s:", total, total == 1 ? "" : "s");
	for (int k = 0; k < KIND_COUNT; k++) {
		unsigned long n = atomic_load(&kind_counts[k]);
		if (!n)
			continue;
		fmt_printf(&o, "%s %lu %s", first ? "" : ",", n, kind_names[k]);
		first = false;
	}
	fmt_putc(&o, '\n');
	fmt_flush(&o);
	report_unlock();
}
