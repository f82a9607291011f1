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
 * Reports go to stderr, or to the file log_path names: opened at the first
 * report of each process (a forked child opens its own, %p in the path
 * being its pid), never in a set-user-ID program. A report that a
 * suppression matches is formatted as usual into an output with no
 * descriptor (nothing is written) and counted apart: it is no error for the
 * summary, for exitcode or for abort_on_error.
 *
 * Two formats (opt.format): text for people, and JSON Lines for tools, where
 * each report is one object on one line, built as it is written: the calls
 * that write a text section (report_stack, report_thread_stack, ...) add a
 * field to the open object instead, and report_end closes it. The style is
 * decided per output (struct fmt_out.style): JSON, text in color (opt.color),
 * or plain text.
 *
 * May call: suppress.c, backtrace.c (printing stacks), fmt.c, os.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PATH_MAX 4096

static const char *const kind_names[KIND_COUNT] = {
#define FT_KIND_NAME(id, name) name,
	FT_KINDS(FT_KIND_NAME)
#undef FT_KIND_NAME
};

static atomic_ulong kind_counts[KIND_COUNT];
static atomic_ulong suppressed_count;
static atomic_ulong capped_count;   /* counted but not printed: over max_reports */
static atomic_uint report_owner;  /* kernel tid holding the report lock, 0: free */
static unsigned report_depth;     /* nesting of the owner */

/* The log file, under the report lock. */
static pid_t log_pid;             /* the process out_fd was chosen for, 0: none yet */
static int log_fd = -1;           /* our descriptor of the file, -1: not open */
static dev_t log_dev;             /* its identity, to notice that the program */
static ino_t log_ino;             /* closed log_fd and reused the number */
static int out_fd = 2;            /* where reports go: log_fd or 2 */
static char log_name[LOG_PATH_MAX]; /* log_path expanded for log_pid */
static bool log_own_file;         /* we created it, and its name has our pid */

/* Set once by report_init(), read by report_style(). */
static bool style_ready;          /* report_init() ran: color=auto may decide */
static bool no_color;             /* NO_COLOR set and not empty */

/* The leak check's results at exit, for the JSON summary. */
static struct leak_totals leak_sum;
static bool leak_ran, leak_listed;  /* it ran; it reported (lost or listed) */

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

/* In a forked child: the lock as if free, and the child's own errors only
 * (the parent reports its own); the log is reopened at the child's first
 * report, as its pid differs. */
void report_lock_reset(void)
{
	atomic_store(&report_owner, 0);
	report_depth = 0;
	for (int k = 0; k < KIND_COUNT; k++)
		atomic_store(&kind_counts[k], 0);
	atomic_store(&suppressed_count, 0);
	atomic_store(&capped_count, 0);
	leak_ran = leak_listed = false;
}

unsigned long report_suppressed_total(void)
{
	return atomic_load(&suppressed_count);
}

/* "ftmalloc: warning: log_path 'PATH' WHAT: ERRNO TEXT; reports go to stderr" */
static void log_warn(const char *path, const char *what, int err)
{
	struct fmt_out o;
	const char *text = err ? fmt_errno_text(err) : NULL;

	fmt_init(&o, 2);
	fmt_printf(&o, "ftmalloc: warning: log_path '%s' %s", path, what);
	if (text)
		fmt_printf(&o, ": %s", text);
	else if (err)
		fmt_printf(&o, ": errno %d", err);
	fmt_puts(&o, "; reports go to stderr\n");
	fmt_flush(&o);
}

/* opt.log_path with each %p replaced by pid and %% by %; false when it
 * does not fit. *has_pid: a %p was replaced. */
static bool log_expand(char *out, size_t cap, const char *path, pid_t pid, bool *has_pid)
{
	char num[24];
	size_t n = 0, k = 0;

	*has_pid = false;
	for (unsigned long v = (unsigned long)pid; k == 0 || v; v /= 10)
		num[k++] = (char)('0' + v % 10);
	for (const char *s = path; *s; s++) {
		if (s[0] == '%' && (s[1] == 'p' || s[1] == '%')) {
			if (*++s == 'p') {
				*has_pid = true;
				for (size_t i = k; i-- > 0;)
					if (n < cap)
						out[n++] = num[i];
				continue;
			}
		}
		if (n < cap)
			out[n++] = *s;
	}
	if (n >= cap)
		return false;
	out[n] = '\0';
	return true;
}

static bool log_still_ours(void)
{
	struct stat st;

	return fstat(log_fd, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino;
}

/* Choose out_fd for process pid: the log file, opened now, or stderr. */
static void log_open(pid_t pid)
{
	const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	const char *path = log_name;
	bool has_pid;
	struct stat st;

	if (log_fd >= 0 && log_still_ours())
		close(log_fd);  /* the parent's, inherited by fork */
	log_fd = -1;
	out_fd = 2;
	log_pid = pid;
	log_own_file = false;
	if (getauxval(AT_SECURE)) {
		log_warn(opt.log_path, "ignored in a set-user-ID or set-group-ID program", 0);
		return;
	}
	if (!log_expand(log_name, sizeof(log_name), opt.log_path, pid, &has_pid)) {
		log_warn(opt.log_path, "is too long once expanded", 0);
		return;
	}
	int fd = open(path, flags | O_EXCL, 0644);
	bool created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, flags, 0644);
	if (fd < 0) {
		log_warn(path, "cannot be opened", errno);
		return;
	}
	if (fd <= 2) {
		/* The program closed a standard descriptor; leave the number
		 * to it and keep ours above. */
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 3), err = errno;
		close(fd);
		if (high < 0) {
			log_warn(path, "cannot be opened", err);
			return;
		}
		fd = high;
	}
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		log_warn(path, "cannot be opened", err);
		return;
	}
	log_dev = st.st_dev;
	log_ino = st.st_ino;
	log_fd = out_fd = fd;
	log_own_file = created && has_pid;
}

/* The leak check at exit asks for the output before it knows whether it
 * has anything to say, so every process would leave a log file. One that
 * is this process's own (created by it, %p in its name) and still empty
 * is removed; a later report (a fault in a later destructor) opens it again. */
void report_log_done(void)
{
	struct stat st;

	report_lock();
	if (log_fd >= 0 && log_own_file && log_pid == getpid() && log_still_ours() &&
	    fstat(log_fd, &st) == 0 && st.st_size == 0 &&
	    lstat(log_name, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino) {
		unlink(log_name);
		close(log_fd);
		log_fd = -1;
		out_fd = 2;
		log_pid = 0;
	}
	report_unlock();
}

/* A write to the log file failed (a full disk, a quota, an I/O error, a
 * file like /dev/full): say so once on stderr and send what follows there.
 * The report lock is held. */
static void log_check_write(const struct fmt_out *o)
{
	if (!o->err || o->fd < 0 || o->fd != log_fd || o->err == EBADF || o->err == EAGAIN)
		return;
	log_warn(log_name, "cannot be written, a report was lost", o->err);
	close(log_fd);
	log_fd = -1;
	out_fd = 2;
	log_own_file = false;
}

int report_out_fd(void)
{
	if (!opt.log_path[0])
		return 2;
	int saved = errno;
	report_lock();
	pid_t pid = getpid();
	if (pid != log_pid || (log_fd >= 0 && !log_still_ours()))
		log_open(pid);
	int fd = out_fd;
	report_unlock();
	errno = saved;
	return fd;
}

/* ---- format and color ---- */

static bool want_json(void)
{
	return strcmp(opt.format, "json") == 0;
}

/* A value that is none of words: the parser's warning, and the option goes
 * back to its default (the first word). */
static void check_choice(const char **value, const char *name, const char *const *words, size_t n)
{
	char expected[128];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(*value, words[i]) == 0)
			return;
	for (size_t i = 0; i < n; i++) {  /* "a, b or c" */
		const char *sep = i == 0 ? "" : i + 1 < n ? ", " : " or ";
		for (const char *p = sep; *p && len + 1 < sizeof(expected); p++)
			expected[len++] = *p;
		for (const char *p = words[i]; *p && len + 1 < sizeof(expected); p++)
			expected[len++] = *p;
	}
	expected[len] = '\0';
	opt_warn_value(name, *value, expected);
	*value = words[0];
}

void report_init(void)
{
	static const char *const formats[] = { "text", "json" };
	static const char *const colors[] = { "auto", "always", "never" };
	const char *nc = secure_getenv("NO_COLOR");

	ft_init();  /* the options are read */
	check_choice(&opt.format, "format", formats, sizeof(formats) / sizeof(formats[0]));
	check_choice(&opt.color, "color", colors, sizeof(colors) / sizeof(colors[0]));
	no_color = nc && nc[0];
	style_ready = true;
}

unsigned report_style(int fd)
{
	if (want_json())
		return FMT_JSON;
	if (strcmp(opt.color, "always") == 0)
		return FMT_COLOR;
	if (!style_ready || no_color || fd < 0 || strcmp(opt.color, "auto") != 0)
		return 0;
	int saved = errno;  /* isatty sets it on anything but a terminal */
	bool tty = isatty(fd);
	errno = saved;
	return tty ? FMT_COLOR : 0;
}

/* ---- JSON pieces ---- */

/* ,"key": with spaces of key made underscores ("detected at"). */
static void json_key(struct fmt_out *o, const char *key, const char *suffix)
{
	fmt_puts(o, ",\"");
	for (const char *c = key; *c; c++)
		fmt_putc(o, *c == ' ' ? '_' : *c);
	fmt_puts(o, suffix);
	fmt_puts(o, "\":");
}

void report_field_str(struct fmt_out *o, const char *key, const char *value)
{
	if (!report_is_json(o))
		return;
	json_key(o, key, "");
	fmt_json_str(o, value);
}

void report_field_num(struct fmt_out *o, const char *key, unsigned long long n)
{
	if (!report_is_json(o))
		return;
	json_key(o, key, "");
	fmt_printf(o, "%llu", n);
}

/* {"version":1,"kind":KIND,"pid":N - every object starts so. */
static void json_open(struct fmt_out *o, const char *kind)
{
	fmt_puts(o, "{\"version\":1,\"kind\":");
	fmt_json_str(o, kind);
	fmt_printf(o, ",\"pid\":%d", (int)getpid());
}

/* "block":{"start":"0x..","size":N,"offset":ADDR-START,"relation":R} or null */
static void json_block(struct fmt_out *o, uintptr_t addr, const struct report_block *blk,
    const char *relation)
{
	if (!blk || !blk->start) {
		fmt_puts(o, ",\"block\":null");
		return;
	}
	long long off = (long long)(addr - blk->start);
	fmt_printf(o, ",\"block\":{\"start\":\"%p\",\"size\":%zu,\"offset\":%lld,\"relation\":\"%s\"}",
	    (void *)blk->start, blk->size, off, relation);
}

/* ---- reports ---- */

/* Where addr lies against blk: "after", "before" or "inside", and by how
 * many bytes (from the end, the start, the start). */
static const char *relation(uintptr_t addr, const struct report_block *blk, size_t *dist)
{
	uintptr_t end = blk->start + blk->size;

	if (addr < blk->start) {
		*dist = (size_t)(blk->start - addr);
		return "before";
	}
	if (addr >= end && !(addr == blk->start && blk->size == 0)) {
		*dist = (size_t)(addr - end);
		return "after";
	}
	*dist = (size_t)(addr - blk->start);
	return "inside";
}

void report_begin(struct fmt_out *o, enum report_kind kind, uintptr_t addr,
    const struct report_block *blk, const char *func)
{
	report_lock();
	bool quiet = suppress_match(kind, blk);
	unsigned long nth = atomic_fetch_add(quiet ? &suppressed_count : &kind_counts[kind], 1) + 1;
	if (!quiet && opt.max_reports && nth > opt.max_reports) {
		/* A bug in a loop: count it, print it no more (bounded output). */
		if (atomic_fetch_add(&capped_count, 1) == 0 && !want_json()) {
			struct fmt_out n;
			fmt_init(&n, report_out_fd());
			fmt_printf(&n, "ftmalloc: more than %u reports of one kind (%s): the rest are only "
			    "counted (max_reports)\n", opt.max_reports, report_kind_name(kind));
			fmt_flush(&n);
		}
		quiet = true;
	}
	int fd = quiet ? -1 : report_out_fd();
	fmt_init(o, fd);
	o->style = (uint8_t)report_style(fd);
	bool known = blk && blk->start;
	size_t dist = 0;
	const char *rel = known ? relation(addr, blk, &dist) : NULL;
	unsigned thread = os_thread_serial();

	if (report_is_json(o)) {
		json_open(o, report_kind_name(kind));
		fmt_printf(o, ",\"address\":\"%p\",\"function\":", (void *)addr);
		fmt_json_str(o, func);
		fmt_printf(o, ",\"thread\":%u", thread);
		json_block(o, addr, blk, rel);
		return;
	}
	fmt_color(o, FMT_SGR_ERROR);
	fmt_printf(o, "ftmalloc: ERROR: %s", report_kind_name(kind));
	fmt_color_end(o);
	fmt_printf(o, " on address %p (", (void *)addr);
	if (known)
		fmt_printf(o, "%zu bytes %s a %zu-byte block at %p", dist, rel, blk->size, (void *)blk->start);
	else
		fmt_puts(o, "not in any heap block");
	fmt_printf(o, ") in %s, thread T%u\n", func, thread);
}

/* "  TITLE:" in bold. */
static void section_title(struct fmt_out *o, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void section_title(struct fmt_out *o, const char *f, ...)
{
	va_list ap;

	fmt_puts(o, "  ");
	fmt_color(o, FMT_SGR_TITLE);
	va_start(ap, f);
	fmt_vprintf(o, f, ap);
	va_end(ap);
	fmt_color_end(o);
	fmt_putc(o, '\n');
}

/* Frames: text lines, or a JSON array (null: none recorded). */
static void frames(struct fmt_out *o, const uintptr_t *pcs, unsigned n)
{
	if (n)
		bt_print(o, pcs, n);
	else
		fmt_puts(o, report_is_json(o) ? "null" : "    <no stack recorded>\n");
}

void report_pcs(struct fmt_out *o, const char *title, const uintptr_t *pcs, unsigned n)
{
	if (report_is_json(o))
		json_key(o, title, "");
	else
		section_title(o, "%s:", title);
	frames(o, pcs, n);
}

void report_stack(struct fmt_out *o, const char *title, uint32_t id)
{
	uintptr_t pcs[BT_MAX_DEPTH];

	report_pcs(o, title, pcs, id ? bt_get(id, pcs, BT_MAX_DEPTH) : 0);
}

/* "allocated by thread T3 at:", or "allocated_by":{"thread":3,"frames":[..]} */
void report_thread_stack(struct fmt_out *o, const char *what, uint16_t thread, uint32_t id)
{
	uintptr_t pcs[BT_MAX_DEPTH];
	unsigned n = id ? bt_get(id, pcs, BT_MAX_DEPTH) : 0;

	if (report_is_json(o)) {
		json_key(o, what, "_by");
		fmt_printf(o, "{\"thread\":%u,\"frames\":", (unsigned)thread);
		frames(o, pcs, n);
		fmt_putc(o, '}');
		return;
	}
	section_title(o, "%s by thread T%u at:", what, (unsigned)thread);
	frames(o, pcs, n);
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

/* Text: rows of 16 bytes, the first damaged in brackets. JSON: "bytes" as
 * one hex string and "bytes_at", the address of its first byte. */
static void hexdump(struct fmt_out *o, const uint8_t *bytes, uintptr_t at, size_t len, uintptr_t mark)
{
	/* Intact canary bytes are shown as "--", never their value: one canary
	 * word and its address would give away the secret of all. */
	uint64_t hide = opt.canary ? canary_intact_mask(bytes, at, len) : 0;

	if (report_is_json(o)) {
		fmt_puts(o, ",\"bytes\":\"");
		for (size_t i = 0; i < len; i++)
			if (at + i != mark && (hide >> i & 1))
				fmt_puts(o, "--");
			else
				fmt_printf(o, "%02x", bytes[i]);
		fmt_printf(o, "\",\"bytes_at\":\"%p\"", (void *)at);
		return;
	}
	section_title(o, "bytes around it ([..] first damaged, -- intact canary):");
	for (size_t row = 0; row < len; row += 16) {
		fmt_printf(o, "    %p:", (void *)(at + row));
		for (size_t i = row; i < row + 16 && i < len; i++) {
			if (at + i == mark)
				fmt_printf(o, "[%02x]", bytes[i]);
			else if (hide >> i & 1)
				fmt_puts(o, " -- ");
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
	if (f->corrupt && report_is_json(&o))
		report_field_str(&o, "corruption", f->corrupt);
	else if (f->corrupt)
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
	bool printed = o->fd >= 0;  /* fd -1: suppressed (report_begin) */

	fmt_puts(o, report_is_json(o) ? "}\n" : "ftmalloc: end of report\n");
	fmt_flush(o);
	log_check_write(o);
	report_unlock();
	if (printed && opt.abort_on_error)
		abort();
}

void report_note_begin(struct fmt_out *o, const char *kind)
{
	report_lock();
	int fd = report_out_fd();
	fmt_init(o, fd);
	o->style = (uint8_t)report_style(fd);
	if (report_is_json(o))
		json_open(o, kind);
}

void report_note_end(struct fmt_out *o)
{
	if (report_is_json(o))
		fmt_puts(o, "}\n");
	fmt_flush(o);
	log_check_write(o);
	report_unlock();
}

void report_leak_totals(const struct leak_totals *t, bool listed_reachable)
{
	report_lock();
	leak_sum = *t;
	leak_ran = true;
	leak_listed = t->def_blocks || t->ind_blocks || listed_reachable;
	report_unlock();
}

/* {"version":1,"kind":"summary","pid":N,"errors":N,"counts":{KIND:N,...},
 * "suppressed":N,"leaks":{...} or null} */
static void summary_json(struct fmt_out *o, unsigned long total, unsigned long quiet)
{
	const struct leak_totals *t = &leak_sum;

	json_open(o, "summary");
	fmt_printf(o, ",\"errors\":%lu,\"counts\":{", total);
	for (int k = 0; k < KIND_COUNT; k++)
		fmt_printf(o, "%s\"%s\":%lu", k ? "," : "", kind_names[k], atomic_load(&kind_counts[k]));
	fmt_printf(o, "},\"suppressed\":%lu,\"leaks\":", quiet);
	if (leak_ran)
		fmt_printf(o, "{\"definitely_lost_bytes\":%zu,\"definitely_lost_blocks\":%zu,"
		    "\"indirectly_lost_bytes\":%zu,\"indirectly_lost_blocks\":%zu,"
		    "\"still_reachable_bytes\":%zu,\"still_reachable_blocks\":%zu}",
		    t->def_bytes, t->def_blocks, t->ind_bytes, t->ind_blocks, t->reach_bytes, t->reach_blocks);
	else
		fmt_puts(o, "null");
	fmt_puts(o, "}\n");
}

/* Last words at exit: one line counting every error by kind, and the
 * suppressed reports; in JSON one object, with the leak totals too. */
void report_summary(void)
{
	unsigned long total = report_total(), quiet = report_suppressed_total();
	struct fmt_out o;
	bool first = true;

	if (!total && !quiet && !(want_json() && leak_listed))
		return;
	report_lock();
	fmt_init(&o, report_out_fd());
	o.style = (uint8_t)report_style(o.fd);
	if (report_is_json(&o)) {
		summary_json(&o, total, quiet);
		fmt_flush(&o);
		log_check_write(&o);
		report_unlock();
		return;
	}
	fmt_color(&o, FMT_SGR_TITLE);
	fmt_printf(&o, "ftmalloc: SUMMARY: %lu error%s%s", total, total == 1 ? "" : "s", total ? ":" : "");
	for (int k = 0; k < KIND_COUNT; k++) {
		unsigned long n = atomic_load(&kind_counts[k]);
		if (!n)
			continue;
		fmt_printf(&o, "%s %lu %s", first ? "" : ",", n, kind_names[k]);
		first = false;
	}
	if (quiet)
		fmt_printf(&o, ", %lu suppressed", quiet);
	unsigned long capped = atomic_load(&capped_count);
	if (capped)
		fmt_printf(&o, ", %lu not shown (max_reports)", capped);
	fmt_color_end(&o);
	fmt_putc(&o, '\n');
	if (quiet && opt.verbosity >= 1)
		suppress_print_used(&o);
	fmt_flush(&o);
	log_check_write(&o);
	report_unlock();
}
