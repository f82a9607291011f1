/*
 * options.c - the options table (options.def) and its parser.
 *
 * Read once, at start-up, from FTMALLOC_OPTIONS=name=value:name=value with
 * secure_getenv, so set-user-ID programs ignore them. Parsing never
 * allocates: it walks the environment string in place. A bad name or value
 * gets one warning line naming it and what is accepted; the default stays.
 * "help" prints the table and the program runs on. A string option is
 * copied into a fixed buffer of its own (the program may change its
 * environment later); "verbosity=1" prints the options in force.
 *
 * opt_parse() is the parser proper, over a buffer (tests/fuzz drives it).
 * Once start-up has checked and adjusted the values (init.c, report.c),
 * opt_seal() makes the page holding opt read-only (FT_SEALED: nothing else
 * shares that page).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* opt, alone in its page (FT_SEALED), and "opt" an alias of the page's
 * first member (the name every module knows). */
_Static_assert(sizeof(struct ft_options) <= FT_SEAL_PAGE, "options outgrew their page");
static FT_SEALED(struct ft_options) opt_page __attribute__((used)) = { .v = {
#define OPT(name, type, def, desc) .name = def,
#include "options.def"
#undef OPT
} };
extern struct ft_options opt __attribute__((alias("opt_page")));

/* A buffer for each string option's value, NUL included. */
#define OPT_STR_MAX 4096
#define OPT_BUF_DECL_bool(n)
#define OPT_BUF_DECL_size(n)
#define OPT_BUF_DECL_uint(n)
#define OPT_BUF_DECL_byte(n)
#define OPT_BUF_DECL_str(n) static char opt_buf_##n[OPT_STR_MAX];
#define OPT(n, type, def, desc) OPT_BUF_DECL_##type(n)
#include "options.def"
#undef OPT
#define OPT_BUF_bool(n) NULL
#define OPT_BUF_size(n) NULL
#define OPT_BUF_uint(n) NULL
#define OPT_BUF_byte(n) NULL
#define OPT_BUF_str(n) opt_buf_##n

enum opt_type { T_bool, T_size, T_uint, T_byte, T_str };

static const struct opt_desc {
	const char *name;
	enum opt_type type;
	const char *def;
	const char *desc;
	size_t offset;
	char *buf;  /* T_str: where the value is kept */
} opt_table[] = {
#define OPT(n, type, def, desc) { #n, T_##type, #def, desc, offsetof(struct ft_options, n), OPT_BUF_##type(n) },
#include "options.def"
#undef OPT
};

static const char *const type_hint[] = {
	[T_bool] = "0|1|true|false|yes|no|on|off",
	[T_size] = "a byte count, k/m/g suffix allowed",
	[T_uint] = "a non-negative integer",
	[T_byte] = "0..255, decimal or 0xNN",
	[T_str] = "at most 4095 bytes",
};
static const char *const type_name[] = { "bool", "size", "uint", "byte", "str" };

static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncmp(s, w, n) == 0;
}

static bool parse_number(const char *s, size_t n, unsigned long long *out, bool suffix)
{
	unsigned long long v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	size_t first = i;
	for (; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			return false;
	}
	if (i == first)
		return false;  /* no digit: "k", "0xk" are not numbers */
	if (i < n) {
		unsigned shift;
		if (!suffix || i + 1 != n)
			return false;
		switch (s[i] | 0x20) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		default: return false;
		}
		if (v > (~0ULL >> shift))
			return false;
		v <<= shift;
	}
	*out = v;
	return true;
}

static bool parse_value(const struct opt_desc *d, const char *v, size_t n)
{
	unsigned long long x;
	char *field = (char *)&opt + d->offset;

	switch (d->type) {
	case T_bool:
		if (word_is(v, n, "1") || word_is(v, n, "true") || word_is(v, n, "yes") || word_is(v, n, "on"))
			x = 1;
		else if (word_is(v, n, "0") || word_is(v, n, "false") || word_is(v, n, "no") || word_is(v, n, "off"))
			x = 0;
		else
			return false;
		*(bool *)field = x;
		return true;
	case T_size:
		if (!parse_number(v, n, &x, true))
			return false;
		*(size_t *)field = (size_t)x;
		return true;
	case T_uint:
		if (!parse_number(v, n, &x, false) || x > 0xffffffffULL)
			return false;
		*(unsigned *)field = (unsigned)x;
		return true;
	case T_byte:
		if (!parse_number(v, n, &x, false) || x > 255)
			return false;
		*(uint8_t *)field = (uint8_t)x;
		return true;
	case T_str:
		if (n >= OPT_STR_MAX)
			return false;
		memcpy(d->buf, v, n);
		d->buf[n] = '\0';
		*(const char **)field = d->buf;
		return true;
	}
	return false;
}

static void warn(const char *what, const char *s, size_t n, const char *hint)
{
	struct fmt_out o;

	fmt_init(&o, 2);
	fmt_puts(&o, "ftmalloc: warning: ");
	fmt_puts(&o, what);
	fmt_puts(&o, " '");
	for (size_t i = 0; i < n && i < 200; i++)
		fmt_putc(&o, s[i]);
	fmt_printf(&o, "' in FTMALLOC_OPTIONS ignored%s%s\n", hint ? ": expected " : "", hint ? hint : "");
	fmt_flush(&o);
}

/* The one wording of a bad option value, for the parser and for the
 * modules that judge a value themselves (format, guard_side, fail_rate...):
 * "ftmalloc: warning: bad value for option 'NAME=VALUE' in FTMALLOC_OPTIONS
 * ignored: expected EXPECTED". The value is cut at 200 bytes. */
void opt_warn_value(const char *name, const char *value, const char *expected)
{
	struct fmt_out o;

	fmt_init(&o, 2);
	fmt_printf(&o, "ftmalloc: warning: bad value for option '%s=%.200s' in FTMALLOC_OPTIONS "
	    "ignored: expected %s\n", name, value, expected);
	fmt_flush(&o);
}

void opt_help(void)
{
	struct fmt_out o;

	fmt_init(&o, 2);
	fmt_puts(&o, "ftmalloc: options (FTMALLOC_OPTIONS=name=value:name=value):\n");
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_desc *d = &opt_table[i];
		fmt_printf(&o, "  %-18s %-5s default %-9s %s\n", d->name, type_name[d->type], d->def, d->desc);
	}
	fmt_flush(&o);
}

/* "ftmalloc: options: name=value:..." - what verbosity=1 shows at start. */
static void print_in_force(void)
{
	struct fmt_out o;

	fmt_init(&o, 2);
	fmt_puts(&o, "ftmalloc: options:");
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_desc *d = &opt_table[i];
		const char *field = (const char *)&opt + d->offset;
		fmt_printf(&o, "%s%s=", i ? ":" : " ", d->name);
		switch (d->type) {
		case T_bool: fmt_putc(&o, *(const bool *)field ? '1' : '0'); break;
		case T_size: fmt_printf(&o, "%zu", *(const size_t *)field); break;
		case T_uint: fmt_printf(&o, "%u", *(const unsigned *)field); break;
		case T_byte: fmt_printf(&o, "0x%02x", (unsigned)*(const uint8_t *)field); break;
		case T_str: fmt_puts(&o, *(const char *const *)field); break;
		}
	}
	fmt_putc(&o, '\n');
	fmt_flush(&o);
}

static void parse_one(const char *s, size_t n)
{
	if (n == 0)
		return;
	if (word_is(s, n, "help")) {
		opt_help();
		return;
	}
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_desc *d = &opt_table[i];
		if (!word_is(s, nlen, d->name))
			continue;
		if (!eq || !parse_value(d, eq + 1, n - nlen - 1))
			warn("bad value for option", s, n, type_hint[d->type]);
		return;
	}
	warn("unknown option", s, nlen, "one of the names FTMALLOC_OPTIONS=help lists");
}

/* Parse s[0..len) ("name=value:name=value") into opt, over what it holds. */
void opt_parse(const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		const char *colon = memchr(s, ':', (size_t)(end - s));
		size_t n = colon ? (size_t)(colon - s) : (size_t)(end - s);
		parse_one(s, n);
		s += n;
		if (s < end)
			s++;  /* the ':' */
	}
}

void opt_init(void)
{
	const char *env = secure_getenv("FTMALLOC_OPTIONS");

	if (!env)
		return;
	opt_parse(env, strlen(env));
	if (opt.verbosity >= 1)
		print_in_force();
}

/* opt's page read-only from now on. Only once start-up is done with it
 * (ft_ready: hook_options() has run; skipped while another thread is still
 * initialising, as no writer may meet a read-only page). Idempotent; a fork
 * inherits the protection. */
void opt_seal(void)
{
	static atomic_int sealed;

	if (!atomic_load_explicit(&ft_ready, memory_order_acquire) || atomic_exchange(&sealed, 1))
		return;
	if (os_seal(&opt_page, sizeof(opt_page)) != 0)
		atomic_store(&sealed, 0);  /* a kernel refusal only loses the protection */
}
