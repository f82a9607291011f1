/*
 * fmt.c - formatted output that never allocates: a fixed buffer per caller,
 * flushed with write(2). Safe in a signal handler as long as each caller
 * uses its own struct fmt_out (on its stack).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

/* A descriptor the program made non-blocking may be full when a report
 * comes (a pipe whose reader is slow): wait for room, this long at most per
 * write_all, so that a reader that never comes back cannot stop the program. */
#define FMT_STALL_MS 2000
#define FMT_POLL_MS 100

/* A descriptor that stayed full that long: not waited for again until a
 * write to it goes through (a report is many writes). */
static atomic_int stalled_fd = -1;

/*
 * A report must never kill the program it reports on: a write to a pipe
 * whose reader went away would raise SIGPIPE. So SIGPIPE is blocked around
 * the write (for this thread only; pthread_sigmask and sigtimedwait are
 * async-signal-safe), and one our write raised is taken back before the
 * mask is restored - unless it was already pending for the program.
 */
int fmt_write_all(int fd, const char *buf, size_t len)
{
	int saved = errno, err = 0;
	int stalled_ms = atomic_load_explicit(&stalled_fd, memory_order_relaxed) == fd ? FMT_STALL_MS : 0;
	sigset_t pipe_only, old, pending;

	if (fd < 0)
		return 0;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);
	bool broke = false;
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && stalled_ms < FMT_STALL_MS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int r = poll(&p, 1, FMT_POLL_MS);
			if (r == 0)
				stalled_ms += FMT_POLL_MS;
			else if (r < 0 && errno != EINTR)
				stalled_ms = FMT_STALL_MS;
			if (stalled_ms >= FMT_STALL_MS)
				atomic_store_explicit(&stalled_fd, fd, memory_order_relaxed);
			continue;
		}
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			broke = err == EPIPE;
			break;  /* closed or broken output: nothing better to do */
		}
		if (FT_UNLIKELY(atomic_load_explicit(&stalled_fd, memory_order_relaxed) == fd))
			atomic_store_explicit(&stalled_fd, -1, memory_order_relaxed);
		buf += n;
		len -= (size_t)n;
	}
	if (broke && !was_pending) {
		struct timespec now = { 0, 0 };
		sigtimedwait(&pipe_only, NULL, &now);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return err;
}

/* The errors opening a file can give; the C library's table is not ours
 * to use (strerror may translate, and translating allocates). */
const char *fmt_errno_text(int e)
{
	static const struct { int e; const char *text; } texts[] = {
		{ EPERM, "Operation not permitted" },
		{ ENOENT, "No such file or directory" },
		{ EIO, "Input/output error" },
		{ EACCES, "Permission denied" },
		{ EEXIST, "File exists" },
		{ ENOTDIR, "Not a directory" },
		{ EISDIR, "Is a directory" },
		{ EINVAL, "Invalid argument" },
		{ ENFILE, "Too many open files in system" },
		{ EMFILE, "Too many open files" },
		{ ETXTBSY, "Text file busy" },
		{ EFBIG, "File too large" },
		{ ENOSPC, "No space left on device" },
		{ EROFS, "Read-only file system" },
		{ ENAMETOOLONG, "File name too long" },
		{ ELOOP, "Too many levels of symbolic links" },
		{ EDQUOT, "Disk quota exceeded" },
		{ ENXIO, "No such device or address" },
		{ ENOMEM, "Cannot allocate memory" },
		{ EAGAIN, "Resource temporarily unavailable" },
		{ EPIPE, "Broken pipe" },
		{ EBADF, "Bad file descriptor" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].e == e)
			return texts[i].text;
	return NULL;
}

void fmt_init(struct fmt_out *o, int fd)
{
	o->fd = fd;
	o->len = 0;
	o->style = 0;
	o->err = 0;
}

void fmt_flush(struct fmt_out *o)
{
	int err = fmt_write_all(o->fd, o->buf, o->len);

	if (err && !o->err)
		o->err = err;
	o->len = 0;
}

void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len == sizeof(o->buf))
		fmt_flush(o);
	o->buf[o->len++] = c;
}

void fmt_puts(struct fmt_out *o, const char *s)
{
	while (*s)
		fmt_putc(o, *s++);
}

static void pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		fmt_putc(o, c);
}

/* Digits of v in base (10 or 16) into the end of buf; returns the start. */
static char *digits(char *end, unsigned long long v, unsigned base, bool upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	*--end = '\0';
	do {
		*--end = set[v % base];
		v /= base;
	} while (v);
	return end;
}

struct spec {
	bool left, zero;
	int width;
	int prec;   /* %.Ns: at most N bytes of the string; -1: all */
	int longs;  /* 0 int, 1 long, 2 long long / size_t */
};

static void emit(struct fmt_out *o, const struct spec *sp, const char *prefix, const char *body)
{
	size_t plen = 0, blen = 0;

	while (prefix[plen])
		plen++;
	while (body[blen] && (sp->prec < 0 || blen < (size_t)sp->prec))
		blen++;
	int fill = sp->width - (int)(plen + blen);
	if (!sp->left && !sp->zero)
		pad(o, ' ', fill);
	fmt_puts(o, prefix);
	if (!sp->left && sp->zero)
		pad(o, '0', fill);
	for (size_t i = 0; i < blen; i++)
		fmt_putc(o, body[i]);
	if (sp->left)
		pad(o, ' ', fill);
}

static unsigned long long arg_unsigned(va_list *ap, int longs)
{
	if (longs == 0)
		return va_arg(*ap, unsigned int);
	if (longs == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned long long);
}

static long long arg_signed(va_list *ap, int longs)
{
	if (longs == 0)
		return va_arg(*ap, int);
	if (longs == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, long long);
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		sp->prec = 0;
		while (*++f >= '0' && *f <= '9')
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	while (*f == 'l' || *f == 'z') {
		sp->longs += (*f == 'z') ? 2 : 1;
		f++;
	}
	if (sp->longs > 2)
		sp->longs = 2;
	return f;
}

void fmt_vprintf(struct fmt_out *o, const char *f, va_list ap)
{
	char num[32];
	va_list args;

	va_copy(args, ap);
	for (; *f; f++) {
		if (*f != '%') {
			fmt_putc(o, *f);
			continue;
		}
		struct spec sp;
		f = parse_spec(f + 1, &sp);
		if (*f != 's')
			sp.prec = -1;  /* a precision bounds strings only */
		switch (*f) {
		case 's': {
			const char *s = va_arg(args, const char *);
			emit(o, &sp, "", s ? s : "(null)");
			break;
		}
		case 'c':
			num[0] = (char)va_arg(args, int);
			num[1] = '\0';
			emit(o, &sp, "", num);
			break;
		case 'd':
		case 'i': {
			long long v = arg_signed(&args, sp.longs);
			unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
			emit(o, &sp, v < 0 ? "-" : "", digits(num + sizeof(num), m, 10, false));
			break;
		}
		case 'u':
			emit(o, &sp, "", digits(num + sizeof(num), arg_unsigned(&args, sp.longs), 10, false));
			break;
		case 'x':
		case 'X':
			emit(o, &sp, "", digits(num + sizeof(num), arg_unsigned(&args, sp.longs), 16, *f == 'X'));
			break;
		case 'p':
			emit(o, &sp, "0x", digits(num + sizeof(num),
			    (uintptr_t)va_arg(args, void *), 16, false));
			break;
		case '%':
			fmt_putc(o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			fmt_putc(o, '%');
			fmt_putc(o, *f);
			break;
		}
	}
	va_end(args);
}

void fmt_printf(struct fmt_out *o, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	fmt_vprintf(o, f, ap);
	va_end(ap);
}

void fmt_warn_once(atomic_bool *once, const char *f, ...)
{
	struct fmt_out o;
	va_list ap;

	if (atomic_exchange(once, true))
		return;
	fmt_init(&o, 2);
	va_start(ap, f);
	fmt_vprintf(&o, f, ap);
	va_end(ap);
	fmt_flush(&o);
}

void fmt_color(struct fmt_out *o, const char *sgr)
{
	if (!(o->style & FMT_COLOR))
		return;
	fmt_puts(o, "\033[");
	fmt_puts(o, sgr);
	fmt_putc(o, 'm');
}

void fmt_color_end(struct fmt_out *o)
{
	if (o->style & FMT_COLOR)
		fmt_puts(o, "\033[0m");
}

/* JSON (RFC 8259) wants '"', '\\' and the control characters escaped. The
 * bytes of a name are no promise of UTF-8 (a file name is any bytes), so
 * each byte above 0x7e is written as the code point of the same number:
 * the text stays valid JSON whatever it held. */
void fmt_json_str(struct fmt_out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		fmt_puts(o, "null");
		return;
	}
	fmt_putc(o, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '"': fmt_puts(o, "\\\""); break;
		case '\\': fmt_puts(o, "\\\\"); break;
		case '\n': fmt_puts(o, "\\n"); break;
		case '\t': fmt_puts(o, "\\t"); break;
		case '\r': fmt_puts(o, "\\r"); break;
		default:
			if (*c < 0x20 || *c > 0x7e) {
				fmt_puts(o, "\\u00");
				fmt_putc(o, hex[*c >> 4]);
				fmt_putc(o, hex[*c & 15]);
			} else {
				fmt_putc(o, (char)*c);
			}
		}
	}
	fmt_putc(o, '"');
}

void fmt_die(const char *file, int line, const char *what)
{
	struct fmt_out o;

	fmt_init(&o, 2);
	fmt_printf(&o, "ftmalloc: internal error: %s at %s:%d\n", what, file, line);
	fmt_flush(&o);
	abort();
}
