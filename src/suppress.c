/*
 * suppress.c - suppressions: reports the user asked not to see.
 *
 * The file opt.suppressions names is read once, at constructor time (after
 * bt_init), into a fixed buffer; each line is "KIND:PATTERN", KIND a report
 * kind name ("memory-leak", "heap-buffer-overflow", ...; "leak" for
 * memory-leak, "*" for any), PATTERN a shell glob ('*', '?') matched by
 * bt_matches against the function and module names of a stack. Blank lines
 * and lines starting with '#' are skipped; a line that is none of these gets
 * one warning naming the file and line number, and is ignored.
 *
 * suppress_parse() is the parser proper, over a buffer (tests/fuzz drives
 * it). Rules point into the buffer and never change after start-up, so
 * matching takes no lock. Nothing here allocates. May call: backtrace.c, fmt.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define SUPP_FILE_MAX (64 * 1024)  /* bytes of the file read */
#define SUPP_RULES_MAX 1024
#define SUPP_ANY KIND_COUNT        /* rule kind "*" */

struct rule {
	const char *pattern;  /* NUL-terminated, in text[] */
	unsigned line;        /* in the file, from 1 */
	unsigned kind;        /* enum report_kind, or SUPP_ANY */
	atomic_ulong hits;    /* reports it suppressed */
};

static char text[SUPP_FILE_MAX + 1];
static struct rule rules[SUPP_RULES_MAX];
static unsigned nrules;

static void warn_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_line(const char *fmt, ...)
{
	struct fmt_out o;
	va_list ap;

	fmt_init(&o, 2);
	fmt_puts(&o, "ftmalloc: warning: ");
	va_start(ap, fmt);
	fmt_vprintf(&o, fmt, ap);
	va_end(ap);
	fmt_putc(&o, '\n');
	fmt_flush(&o);
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* s[0..n) without blanks at either end, NUL-terminated in place. */
static char *trim(char *s, size_t n)
{
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	s[n] = '\0';
	while (is_blank(*s))
		s++;
	return s;
}

static const char *const kind_names[KIND_COUNT] = {
#define SUPP_KIND_NAME(id, name) name,
	FT_KINDS(SUPP_KIND_NAME)
#undef SUPP_KIND_NAME
};

static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* The kind name s[0..n) of a rule, or -1. */
static int kind_of(const char *s, size_t n)
{
	if (word_is(s, n, "*"))
		return SUPP_ANY;
	if (word_is(s, n, "leak"))
		return KIND_MEMORY_LEAK;
	for (int k = 0; k < KIND_COUNT; k++)
		if (word_is(s, n, kind_names[k]))
			return k;
	return -1;
}

/* One line, NUL-terminated in place (no '\n'). */
static void parse_line(char *line, unsigned lineno)
{
	char *s = trim(line, strlen(line));

	if (*s == '\0' || *s == '#')
		return;
	char *colon = strchr(s, ':');
	size_t klen = colon ? (size_t)(colon - s) : 0;
	while (klen > 0 && is_blank(s[klen - 1]))
		klen--;
	int kind = colon ? kind_of(s, klen) : -1;
	char *pattern = colon ? trim(colon + 1, strlen(colon + 1)) : NULL;
	if (kind < 0 || !*pattern) {
		warn_line("suppressions file '%s' line %u: '%s' ignored: expected KIND:PATTERN, "
		    "KIND a report kind (memory-leak, heap-buffer-overflow, ...) or *", opt.suppressions, lineno, s);
		return;
	}
	if (nrules >= SUPP_RULES_MAX) {
		if (nrules++ == SUPP_RULES_MAX)
			warn_line("suppressions file '%s' line %u: only the first %u rules are used",
			    opt.suppressions, lineno, SUPP_RULES_MAX);
		return;
	}
	rules[nrules].pattern = pattern;
	rules[nrules].line = lineno;
	rules[nrules].kind = (unsigned)kind;
	nrules++;
}

/* The whole file into text[]; its length, or -1 (warned). */
static ssize_t read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char more;

	if (fd < 0) {
		int err = errno;
		const char *why = fmt_errno_text(err);
		if (why)
			warn_line("suppressions file '%s' cannot be opened: %s; no suppressions", path, why);
		else
			warn_line("suppressions file '%s' cannot be opened: errno %d; no suppressions", path, err);
		return -1;
	}
	while (len < SUPP_FILE_MAX) {
		ssize_t n = read(fd, text + len, SUPP_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len == SUPP_FILE_MAX && read(fd, &more, 1) == 1) {
		warn_line("suppressions file '%s' is longer than %u KiB: the rest is ignored",
		    path, SUPP_FILE_MAX / 1024);
		while (len > 0 && text[len - 1] != '\n')
			len--;  /* no half line */
	}
	close(fd);
	text[len] = '\0';
	return (ssize_t)len;
}

/* The rules of a file's content buf[0..len), in place of any before; read
 * up to the first NUL byte, at most SUPP_FILE_MAX bytes (cut after the last
 * whole line). buf may be text[] itself (suppress_init) or any buffer
 * (tests/fuzz). Warnings name the file opt.suppressions. The rule count. */
unsigned suppress_parse(const char *buf, size_t len)
{
	for (unsigned i = 0; i < nrules && i < SUPP_RULES_MAX; i++)
		atomic_store(&rules[i].hits, 0);
	nrules = 0;
	if (len > SUPP_FILE_MAX) {
		len = SUPP_FILE_MAX;
		while (len > 0 && buf[len - 1] != '\n')
			len--;  /* no half line */
	}
	if (buf != text)
		memcpy(text, buf, len);
	text[len] = '\0';
	unsigned lineno = 1;
	for (char *line = text; *line; lineno++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		parse_line(line, lineno);
		if (!nl)
			break;
		line = nl + 1;
	}
	if (nrules > SUPP_RULES_MAX)
		nrules = SUPP_RULES_MAX;
	return nrules;
}

void suppress_init(void)
{
	if (!opt.suppressions[0])
		return;
	if (getauxval(AT_SECURE)) {
		warn_line("suppressions file '%s' ignored in a set-user-ID or set-group-ID program",
		    opt.suppressions);
		return;
	}
	ssize_t len = read_file(opt.suppressions);
	if (len >= 0)
		suppress_parse(text, (size_t)len);
}

bool suppress_match(enum report_kind kind, const struct report_block *blk)
{
	bool in_block = blk && blk->start;
	uint32_t here = 0;
	bool captured = false;

	for (unsigned i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];
		if (r->kind != SUPP_ANY && r->kind != (unsigned)kind)
			continue;
		bool hit;
		if (in_block) {
			hit = bt_matches(blk->alloc_stack, r->pattern) ||
			    (blk->freed && bt_matches(blk->free_stack, r->pattern));
		} else {
			if (!captured) {
				here = bt_capture();
				captured = true;
			}
			hit = bt_matches(here, r->pattern);
		}
		if (hit) {
			atomic_fetch_add(&r->hits, 1);
			return true;
		}
	}
	return false;
}

void suppress_print_used(struct fmt_out *o)
{
	for (unsigned i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];
		unsigned long n = atomic_load(&r->hits);
		if (n)
			fmt_printf(o, "ftmalloc: suppressed %lu by %s:%u %s:%s\n", n, opt.suppressions, r->line,
			    r->kind == SUPP_ANY ? "*" : kind_names[r->kind], r->pattern);
	}
}
