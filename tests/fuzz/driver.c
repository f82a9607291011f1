/*
 * driver.c - a plain main() for a fuzz target, for where libFuzzer is not
 * available (no clang, or a clang without its fuzzer runtime). It takes a
 * subset of libFuzzer's command line, so run.sh drives both the same way:
 *
 *   replay_NAME [-runs=N] [-seed=S] [-max_total_time=T] [-max_len=L]
 *               [-dict=FILE] [-artifact_prefix=P] FILE|DIR...
 *
 * It runs the target once on every FILE and every file of every DIR, then
 * on N inputs (default 0) made with a seeded PRNG: mutations of those
 * files (bit flips, random bytes, dictionary tokens, separators, cut,
 * repeated and spliced ranges) and a few random buffers, until N or T
 * seconds. It ends with libFuzzer's "stat::number_of_executed_units: N".
 * When the target fails (an abort, a signal, a sanitizer's report), the
 * input is written to P"crash-replay" first. No coverage feedback: this
 * is a regression and smoke driver, not a fuzzer.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

struct buf { uint8_t *p; size_t n; };

static struct buf *pool;      /* the inputs read from files */
static size_t npool;
static struct buf *dict;      /* tokens of the -dict file */
static size_t ndict;
static const uint8_t *cur;    /* the input being run, for the crash file */
static size_t cur_n;
static char crash_path[4096] = "crash-replay";
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = (rng_state += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static void save_input(void)
{
	static int saved;
	if (saved++ || !cur)
		return;
	int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	for (size_t off = 0; off < cur_n; ) {
		ssize_t w = write(fd, cur + off, cur_n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	static const char msg[] = "driver: the failing input is in the crash file\n";
	write(2, msg, sizeof(msg) - 1);
}

static void on_signal(int sig)
{
	save_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void add(struct buf **v, size_t *n, const uint8_t *p, size_t len)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].p = malloc(len ? len : 1);
	memcpy((*v)[*n].p, p, len);
	(*v)[*n].n = len;
	(*n)++;
}

static void read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		fprintf(stderr, "driver: cannot read %s\n", path);
		exit(2);
	}
	do {
		if (n + 4096 > cap)
			p = realloc(p, cap = 2 * cap + 4096);
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	add(&pool, &npool, p, n);
	free(p);
}

static void read_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "driver: %s: no such file\n", path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		read_file(path);
		return;
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char full[4096];
		if (names[i]->d_name[0] != '.') {
			snprintf(full, sizeof(full), "%s/%s", path, names[i]->d_name);
			read_path(full);
		}
		free(names[i]);
	}
	free(names);
}

/* libFuzzer's dictionary lines: name="value" or "value", \\ \" \xNN. */
static void read_dict(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (!f) {
		fprintf(stderr, "driver: cannot read %s\n", path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char *q = strchr(line, '"');
		uint8_t tok[8192];
		size_t n = 0;
		if (!q || line[0] == '#')
			continue;
		for (q++; *q && *q != '"'; q++) {
			if (*q == '\\' && q[1] == 'x' && q[2] && q[3]) {
				char hex[3] = { q[2], q[3], 0 };
				tok[n++] = (uint8_t)strtoul(hex, NULL, 16);
				q += 3;
			} else if (*q == '\\' && q[1]) {
				tok[n++] = (uint8_t)*++q;
			} else {
				tok[n++] = (uint8_t)*q;
			}
		}
		add(&dict, &ndict, tok, n);
	}
	fclose(f);
}

static void run(const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);  /* exactly n bytes: ASan sees overreads */
	memcpy(copy, p, n);
	cur = copy;
	cur_n = n;
	LLVMFuzzerTestOneInput(copy, n);
	cur = NULL;
	free(copy);
}

/* One mutated input into out (capacity max), its length. */
static size_t mutate(uint8_t *out, size_t max)
{
	static const char seps[] = ":=\n#*\t \r0x";
	size_t n = 0;

	if (npool && below(16)) {
		const struct buf *b = &pool[below(npool)];
		n = b->n < max ? b->n : max;
		memcpy(out, b->p, n);
	} else {
		n = below(64);
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)rnd();
	}
	for (unsigned k = 1 + (unsigned)below(8); k > 0; k--) {
		size_t at = below(n + 1), len;
		switch (below(8)) {
		case 0:  /* flip a bit */
			if (n)
				out[below(n)] ^= (uint8_t)(1u << below(8));
			break;
		case 1:  /* a random byte */
			if (n)
				out[below(n)] = (uint8_t)rnd();
			break;
		case 2:  /* a separator or a syntax character, inserted */
			if (n < max) {
				memmove(out + at + 1, out + at, n - at);
				out[at] = (uint8_t)seps[below(sizeof(seps) - 1)];
				n++;
			}
			break;
		case 3:  /* a dictionary token, inserted */
		case 4:
			if (ndict) {
				const struct buf *t = &dict[below(ndict)];
				if (n + t->n <= max) {
					memmove(out + at + t->n, out + at, n - at);
					memcpy(out + at, t->p, t->n);
					n += t->n;
				}
			}
			break;
		case 5:  /* cut a range */
			len = below(n - at + 1);
			memmove(out + at, out + at + len, n - at - len);
			n -= len;
			break;
		case 6:  /* repeat a range */
			if (n) {
				size_t from = below(n);
				len = below(n - from) + 1;
				for (unsigned r = 1 + (unsigned)below(50); r > 0 && n + len <= max; r--) {
					memmove(out + at + len, out + at, n - at);
					memmove(out + at, out + from + (from >= at ? len : 0), len);
					n += len;
				}
			}
			break;
		case 7:  /* splice the end of another input */
			if (npool) {
				const struct buf *b = &pool[below(npool)];
				size_t from = below(b->n + 1);
				len = b->n - from;
				if (at + len > max)
					len = max - at;
				memcpy(out + at, b->p + from, len);
				n = at + len;
			}
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long long runs = 0, seed = 1, done = 0;
	double max_time = 0;
	size_t max_len = 4096;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "-runs=", 6) == 0)
			runs = strtoull(a + 6, NULL, 10);
		else if (strncmp(a, "-seed=", 6) == 0)
			seed = strtoull(a + 6, NULL, 10);
		else if (strncmp(a, "-max_total_time=", 16) == 0)
			max_time = strtod(a + 16, NULL);
		else if (strncmp(a, "-max_len=", 9) == 0)
			max_len = strtoull(a + 9, NULL, 10);
		else if (strncmp(a, "-dict=", 6) == 0)
			read_dict(a + 6);
		else if (strncmp(a, "-artifact_prefix=", 17) == 0)
			snprintf(crash_path, sizeof(crash_path), "%scrash-replay", a + 17);
		else if (a[0] != '-')
			read_path(a);
	}
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(save_input);
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGFPE, on_signal);
	signal(SIGILL, on_signal);

	for (size_t i = 0; i < npool; i++, done++)
		run(pool[i].p, pool[i].n);
	rng_state = seed;
	uint8_t *in = malloc(max_len + 1);
	time_t start = time(NULL);
	for (unsigned long long r = 0; r < runs; r++, done++) {
		if (max_time > 0 && (r & 255) == 0 && difftime(time(NULL), start) >= max_time)
			break;
		run(in, mutate(in, max_len));
	}
	free(in);
	fprintf(stderr, "stat::number_of_executed_units: %llu\n", done);
	return 0;
}
