/*
 * fuzz_suppress.c - fuzz target of the suppressions file parser
 * (src/suppress.c: suppress_parse, the code suppress_init runs on the
 * file's content).
 *
 * The input is a file's content. For each input:
 *   - at most SUPP_RULES_MAX rules, the count returned is the count kept;
 *   - the rules equal an oracle written here independently from the
 *     documented syntax (suppress.c's header, the man page): lines split at
 *     '\n', the content ends at its first NUL byte and after the last whole
 *     line within 64 KiB; blanks are ' ', '\t', '\r'; a rule is
 *     "KIND:PATTERN", KIND one of the report kinds, "leak" or "*", PATTERN
 *     not empty, both trimmed; blank and '#' lines are skipped; the line
 *     numbers count from 1;
 *   - every pattern lies inside the parser's buffer, NUL-terminated;
 *   - parsing the same input again gives the same rules;
 *   - the rules written back as "KIND:PATTERN" lines parse to the same
 *     rules (round trip);
 *   - suppress_match, with a stand-in bt_matches that matches patterns
 *     starting with 'x', is true exactly when a rule of that kind (or "*")
 *     has such a pattern; suppress_print_used formats every rule.
 * The stack depot (backtrace.c) is not linked: bt_matches and bt_capture
 * are the stand-ins below.
 */
#include "fuzz.h"

#include <string.h>

struct ft_options opt = { .suppressions = "fuzz.supp" };

bool bt_matches(uint32_t id, const char *glob)
{
	(void)id;
	return glob[0] == 'x';
}

uint32_t bt_capture(void)
{
	return 0;
}

#include "../../src/suppress.c"

struct want_rule {
	unsigned kind, line;
	const char *pattern;  /* into copy[] */
	size_t plen;
};

static struct want_rule want[SUPP_RULES_MAX + 1];
static unsigned nwant;
static char copy[SUPP_FILE_MAX + 1];
static struct { unsigned kind, line; const char *pattern; } first[SUPP_RULES_MAX];
static char pool[SUPP_FILE_MAX + 1];  /* the first parse's patterns */
static char roundtrip[SUPP_FILE_MAX + SUPP_RULES_MAX * 16];

FUZZ_HARNESS static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

FUZZ_HARNESS static int oracle_kind(const char *s, size_t n)
{
	static const char *const names[] = {
#define NAME(id, name) name,
		FT_KINDS(NAME)
#undef NAME
	};
	if (n == 1 && s[0] == '*')
		return SUPP_ANY;
	if (n == 4 && memcmp(s, "leak", 4) == 0)
		return KIND_MEMORY_LEAK;
	for (int k = 0; k < KIND_COUNT; k++)
		if (strlen(names[k]) == n && memcmp(s, names[k], n) == 0)
			return k;
	return -1;
}

FUZZ_HARNESS static void oracle(const char *data, size_t size)
{
	size_t len = size;

	if (len > SUPP_FILE_MAX) {
		len = SUPP_FILE_MAX;
		while (len > 0 && data[len - 1] != '\n')
			len--;
	}
	len = strnlen(data, len);
	memcpy(copy, data, len);
	nwant = 0;
	unsigned line = 0;
	for (size_t at = 0; at < len; ) {
		const char *b = copy + at, *e = memchr(b, '\n', len - at);
		if (!e)
			e = copy + len;
		at = (size_t)(e - copy) + 1;
		line++;
		while (b < e && blank(*b))
			b++;
		while (e > b && blank(e[-1]))
			e--;
		if (b == e || *b == '#')
			continue;
		const char *colon = memchr(b, ':', (size_t)(e - b));
		if (!colon)
			continue;
		const char *ke = colon, *p = colon + 1;
		while (ke > b && blank(ke[-1]))
			ke--;
		while (p < e && blank(*p))
			p++;
		int kind = oracle_kind(b, (size_t)(ke - b));
		if (kind < 0 || p == e)
			continue;
		if (nwant < SUPP_RULES_MAX)
			want[nwant++] = (struct want_rule){ (unsigned)kind, line, p, (size_t)(e - p) };
	}
}

FUZZ_HARNESS static void check_rules(const char *what, unsigned n)
{
	if (n != nrules || nrules > SUPP_RULES_MAX)
		fuzz_fail("%s: returned %u rules, holds %u (at most %u)", what, n, nrules, SUPP_RULES_MAX);
	for (unsigned i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];
		if (r->pattern < text || r->pattern > text + SUPP_FILE_MAX ||
		    !memchr(r->pattern, '\0', (size_t)(text + SUPP_FILE_MAX + 1 - r->pattern)))
			fuzz_fail("%s: rule %u's pattern is not a string in the buffer", what, i);
		if (r->kind > SUPP_ANY || r->line == 0 || (i && r->line <= rules[i - 1].line))
			fuzz_fail("%s: rule %u has kind %u line %u", what, i, r->kind, r->line);
	}
}

FUZZ_HARNESS static void compare_want(void)
{
	if (nrules != nwant)
		fuzz_fail("parse vs oracle: %u rules, expected %u", nrules, nwant);
	for (unsigned i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];
		const struct want_rule *w = &want[i];
		if (r->kind != w->kind || r->line != w->line || strlen(r->pattern) != w->plen ||
		    memcmp(r->pattern, w->pattern, w->plen) != 0)
			fuzz_fail("parse vs oracle: rule %u is kind %u line %u '%.80s', expected kind %u line %u '%.*s'",
			    i, r->kind, r->line, r->pattern, w->kind, w->line, (int)(w->plen > 80 ? 80 : w->plen), w->pattern);
	}
}

FUZZ_HARNESS static void check_match(void)
{
	struct report_block blk = { .start = 1, .alloc_stack = 1, .free_stack = 2, .freed = true };

	for (unsigned k = 0; k < KIND_COUNT; k++) {
		bool expect = false;
		for (unsigned i = 0; i < nrules && !expect; i++)
			expect = (rules[i].kind == k || rules[i].kind == SUPP_ANY) && rules[i].pattern[0] == 'x';
		if (suppress_match((enum report_kind)k, &blk) != expect)
			fuzz_fail("suppress_match for kind %u is %d, expected %d", k, !expect, expect);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	oracle(s, size);
	unsigned n = suppress_parse(s, size);
	check_rules("first parse", n);
	compare_want();
	size_t used = 0;
	for (unsigned i = 0; i < nrules; i++) {
		size_t plen = strlen(rules[i].pattern) + 1;
		if (used + plen > sizeof(pool))
			fuzz_fail("first parse: the patterns are longer than the content");
		first[i].kind = rules[i].kind;
		first[i].line = rules[i].line;
		first[i].pattern = memcpy(pool + used, rules[i].pattern, plen);
		used += plen;
	}
	check_match();
	struct fmt_out o;
	for (unsigned i = 0; i < nrules; i++)
		atomic_store(&rules[i].hits, i + 1);
	fmt_init(&o, -1);
	suppress_print_used(&o);
	fmt_flush(&o);

	n = suppress_parse(s, size);
	check_rules("second parse", n);
	for (unsigned i = 0; i < nrules; i++)
		if (rules[i].kind != first[i].kind || rules[i].line != first[i].line ||
		    strcmp(rules[i].pattern, first[i].pattern) != 0)
			fuzz_fail("second parse: rule %u differs", i);
	for (unsigned i = 0; i < nrules; i++)
		if (atomic_load(&rules[i].hits) != 0)
			fuzz_fail("second parse: rule %u kept its hits", i);

	size_t len = 0;
	unsigned count = nrules;
	for (unsigned i = 0; i < count; i++)
		len += (size_t)sprintf(roundtrip + len, "%s:%s\n",
		    first[i].kind == SUPP_ANY ? "*" : first[i].kind == KIND_MEMORY_LEAK ? "leak" : kind_names[first[i].kind],
		    first[i].pattern);
	if (len > SUPP_FILE_MAX)
		return 0;  /* only when the content was all rules and had no last '\n' */
	n = suppress_parse(roundtrip, len);
	check_rules("round trip", n);
	if (n != count)
		fuzz_fail("round trip: %u rules, expected %u", n, count);
	for (unsigned i = 0; i < n; i++)
		if (rules[i].kind != first[i].kind || rules[i].line != i + 1 ||
		    strcmp(rules[i].pattern, first[i].pattern) != 0)
			fuzz_fail("round trip: rule %u differs", i);
	return 0;
}
