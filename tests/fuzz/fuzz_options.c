/*
 * fuzz_options.c - fuzz target of the FTMALLOC_OPTIONS parser
 * (src/options.c: opt_parse, the code opt_init runs on the variable).
 *
 * The input is the option string as bytes (NUL bytes included: the parser
 * must be safe on any buffer). For each input, from the defaults:
 *   - every field in its type's range (a bool stored as 0 or 1), every
 *     string option NUL-terminated within its 4096-byte buffer or its
 *     default, never anything else;
 *   - the result equals an oracle written here independently from the
 *     documented syntax (options.def, type hints): ':' separates, "help"
 *     and empty parts do nothing, an unknown name or a bad value leaves
 *     the option as it was, a later good value wins; numbers are decimal or
 *     0x hex with at least one digit, no overflow, size with one k/m/g
 *     suffix, uint at most 2^32-1, byte at most 255; strings < 4096 bytes;
 *   - parsing the same input again gives the same result;
 *   - the options in force, written back as "name=value:...", parse to
 *     the same result (round trip);
 *   - printing them (verbosity=1's line) and the help text work.
 */
#include "fuzz.h"
#include "../../src/options.c"

/* What options.c uses of init.c and os.c: opt_seal() is not fuzzed, and
 * with ft_ready 0 it does nothing. */
atomic_int ft_ready;
int os_seal(void *addr, size_t len)
{
	(void)addr;
	(void)len;
	return 0;
}

#include <errno.h>
#include <string.h>

#define NOPT (sizeof(opt_table) / sizeof(opt_table[0]))

/* The value of every option, strings copied out. */
struct snap {
	unsigned long long num[NOPT];
	char str[NOPT][OPT_STR_MAX];
};

static struct ft_options defaults;
static struct snap want, got, again;
static char roundtrip[NOPT * (OPT_STR_MAX + 64)];

/* opt as a snapshot, checking each field's range and where strings live. */
FUZZ_HARNESS static void take(struct snap *s)
{
	for (size_t i = 0; i < NOPT; i++) {
		const struct opt_desc *d = &opt_table[i];
		const char *field = (const char *)&opt + d->offset;
		const char *str, *def;
		uint8_t b;

		switch (d->type) {
		case T_bool:
			memcpy(&b, field, 1);  /* not as bool: a 2 would be UB to load */
			if (b > 1)
				fuzz_fail("bool option %s holds %u", d->name, b);
			s->num[i] = b;
			break;
		case T_size: s->num[i] = *(const size_t *)field; break;
		case T_uint: s->num[i] = *(const unsigned *)field; break;
		case T_byte: s->num[i] = *(const uint8_t *)field; break;
		case T_str:
			str = *(const char *const *)field;
			def = *(const char *const *)((const char *)&defaults + d->offset);
			if (str != def && str != d->buf)
				fuzz_fail("string option %s points outside its buffer", d->name);
			if (str == d->buf && !memchr(d->buf, '\0', OPT_STR_MAX))
				fuzz_fail("string option %s is not NUL-terminated in its buffer", d->name);
			strcpy(s->str[i], str);
			s->num[i] = 0;
			break;
		}
	}
}

FUZZ_HARNESS static void compare(const struct snap *a, const struct snap *b, const char *what)
{
	for (size_t i = 0; i < NOPT; i++) {
		if (a->num[i] != b->num[i])
			fuzz_fail("%s: option %s is %llu, expected %llu", what, opt_table[i].name,
			    a->num[i], b->num[i]);
		if (strcmp(a->str[i], b->str[i]) != 0)
			fuzz_fail("%s: option %s is '%.100s', expected '%.100s'", what, opt_table[i].name,
			    a->str[i], b->str[i]);
	}
}

/* ---- the oracle ---- */

FUZZ_HARNESS static bool same(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(s, w, n) == 0;
}

FUZZ_HARNESS static bool oracle_number(const char *v, size_t n, bool suffix, unsigned long long max,
    unsigned long long *out)
{
	bool hex = n >= 3 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
	size_t i = hex ? 2 : 0, end = n;
	unsigned shift = 0;
	char digits[32];

	if (suffix && end > i) {
		switch (v[end - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
		if (shift)
			end--;
	}
	if (end == i)
		return false;
	for (size_t k = i; k < end; k++)
		if (!(hex ? (v[k] >= '0' && v[k] <= '9') || ((v[k] | 0x20) >= 'a' && (v[k] | 0x20) <= 'f')
		    : v[k] >= '0' && v[k] <= '9'))
			return false;
	while (i < end - 1 && v[i] == '0')
		i++;  /* leading zeros are allowed, and do not count */
	if (end - i > (hex ? 16u : 20u))
		return false;
	memcpy(digits, v + i, end - i);
	digits[end - i] = '\0';
	errno = 0;
	unsigned long long x = strtoull(digits, NULL, hex ? 16 : 10);
	if (errno == ERANGE)
		return false;
	if (shift && x > (~0ULL >> shift))
		return false;
	x <<= shift;
	if (x > max)
		return false;
	*out = x;
	return true;
}

FUZZ_HARNESS static void oracle(const char *s, size_t len, struct snap *w)
{
	const char *end = s + len;

	while (s <= end) {
		const char *colon = memchr(s, ':', (size_t)(end - s));
		const char *part_end = colon ? colon : end;
		size_t n = (size_t)(part_end - s);
		const char *eq = memchr(s, '=', n);
		size_t nlen = eq ? (size_t)(eq - s) : n;

		for (size_t i = 0; n && !same(s, n, "help") && i < NOPT; i++) {
			const struct opt_desc *d = &opt_table[i];
			if (!same(s, nlen, d->name))
				continue;
			if (!eq)
				break;
			const char *v = eq + 1;
			size_t vn = (size_t)(part_end - v);
			unsigned long long x;
			switch (d->type) {
			case T_bool:
				if (same(v, vn, "1") || same(v, vn, "true") || same(v, vn, "yes") || same(v, vn, "on"))
					w->num[i] = 1;
				else if (same(v, vn, "0") || same(v, vn, "false") || same(v, vn, "no") || same(v, vn, "off"))
					w->num[i] = 0;
				break;
			case T_size:
				if (oracle_number(v, vn, true, SIZE_MAX, &x))
					w->num[i] = x;
				break;
			case T_uint:
				if (oracle_number(v, vn, false, 0xffffffffULL, &x))
					w->num[i] = x;
				break;
			case T_byte:
				if (oracle_number(v, vn, false, 255, &x))
					w->num[i] = x;
				break;
			case T_str:
				if (vn < OPT_STR_MAX) {
					size_t c = strnlen(v, vn);  /* what a C string of it shows */
					memcpy(w->str[i], v, c);
					w->str[i][c] = '\0';
				}
				break;
			}
			break;
		}
		if (!colon)
			break;
		s = colon + 1;
	}
}

/* ---- the round trip ---- */

FUZZ_HARNESS static size_t write_back(const struct snap *s)
{
	size_t n = 0;

	for (size_t i = 0; i < NOPT; i++) {
		const struct opt_desc *d = &opt_table[i];
		n += (size_t)sprintf(roundtrip + n, "%s%s=", i ? ":" : "", d->name);
		switch (d->type) {
		case T_byte: n += (size_t)sprintf(roundtrip + n, "0x%llx", s->num[i]); break;
		case T_str: n += (size_t)sprintf(roundtrip + n, "%s", s->str[i]); break;
		default: n += (size_t)sprintf(roundtrip + n, "%llu", s->num[i]); break;
		}
	}
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	defaults = opt;  /* nothing parsed yet */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	opt = defaults;
	take(&want);
	oracle(s, size, &want);

	opt = defaults;
	opt_parse(s, size);
	take(&got);
	compare(&got, &want, "parse vs oracle");
	print_in_force();
	for (size_t i = 0; i < NOPT; i++)
		if (opt_table[i].type == T_str)
			opt_warn_value(opt_table[i].name, got.str[i], type_hint[T_str]);

	opt = defaults;
	opt_parse(s, size);
	take(&again);
	compare(&again, &got, "second parse");

	size_t n = write_back(&got);
	opt = defaults;
	opt_parse(roundtrip, n);
	take(&again);
	compare(&again, &got, "round trip");
	return 0;
}
