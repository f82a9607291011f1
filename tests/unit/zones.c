/*
 * ftmalloc-only behaviour: size classes, zones, LARGE mappings, statistics and
 * show_alloc_mem(). Linked with -lft_malloc (the documented way to call
 * show_alloc_mem and ftmalloc_get_stats).
 */
#include "harness.h"

#include <ctype.h>
#include <sys/mman.h>

/* ---------- show_alloc_mem capture and parsing ---------- */

enum { MAX_LINES = 400000 };

struct sam_block {
	int kind;             /* FTMALLOC_TINY / SMALL / LARGE of the zone header above it */
	uintptr_t zone;       /* address in that header */
	uintptr_t start, end;
	size_t size;
};

struct sam {
	size_t nblocks, nzones;
	struct sam_block *blocks; /* in output order */
	size_t total;
};

/* Memory for the parser comes from mmap, so that parsing never changes the heap. */
static void *raw_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap for the test's own buffers failed");
	return p;
}

static int parse_hex(const char **s, uintptr_t *out)
{
	const char *p = *s;
	if (p[0] != '0' || p[1] != 'x')
		return 0;
	p += 2;
	uintptr_t v = 0;
	int n = 0;
	while ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F')) {
		v = v * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : *p - 'A' + 10);
		p++;
		n++;
	}
	if (n == 0 || n > 16 || (n > 1 && p[-n] == '0'))  /* no leading zeros */
		return 0;
	*s = p;
	*out = v;
	return 1;
}

static int parse_dec(const char **s, size_t *out)
{
	const char *p = *s;
	size_t v = 0;
	int n = 0;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (size_t)(*p - '0');
		p++;
		n++;
	}
	if (n == 0 || (n > 1 && p[-n] == '0'))
		return 0;
	*s = p;
	*out = v;
	return 1;
}

static int eat(const char **s, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*s, lit, n) != 0)
		return 0;
	*s += n;
	return 1;
}

/*
 * Runs show_alloc_mem() with fd 1 redirected to a memory file and parses the
 * output, failing the test on any line that is not exactly in the promised
 * format or on any ordering rule that does not hold.
 */
static void capture_sam(struct sam *out)
{
	static char *text;
	static size_t cap = 64u << 20;
	if (!text)
		text = raw_alloc(cap);
	static struct sam_block *blocks;
	if (!blocks)
		blocks = raw_alloc(sizeof *blocks * MAX_LINES);

	fflush(stdout);
	int fd = memfd_create("show_alloc_mem", 0);
	CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	int saved = dup(1);
	CHECK(saved >= 0 && dup2(fd, 1) == 1, "dup2");
	show_alloc_mem();
	CHECK(dup2(saved, 1) == 1, "dup2 back");
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	CHECK(len > 0, "show_alloc_mem wrote nothing to standard output");
	CHECK((size_t)len < cap - 1, "show_alloc_mem output too big (%lld bytes)", (long long)len);
	CHECK(pread(fd, text, (size_t)len, 0) == len, "pread");
	close(fd);
	text[len] = '\0';
	CHECK(text[len - 1] == '\n', "output does not end with a newline");

	memset(out, 0, sizeof *out);
	out->blocks = blocks;
	int kind = -1;
	uintptr_t zone = 0, prev_zone = 0, prev_end = 0;
	int have_total = 0;
	size_t sum = 0, lineno = 0;
	for (const char *line = text; *line; ) {
		const char *nl = strchr(line, '\n');
		const char *s = line;
		lineno++;
		CHECK(!have_total, "line %zu after the Total line: %.60s", lineno, line);
		static const char *const names[] = { "TINY : ", "SMALL : ", "LARGE : " };
		int k;
		for (k = 0; k < 3; k++)
			if (strncmp(s, names[k], strlen(names[k])) == 0)
				break;
		uintptr_t a, b;
		size_t n;
		if (k < 3) {
			s += strlen(names[k]);
			CHECK(parse_hex(&s, &a) && s == nl, "bad zone header line %zu: '%.*s'", lineno, (int)(nl - line), line);
			CHECK(a > prev_zone, "zone at %#lx listed after zone at %#lx: not in increasing address order",
			      (unsigned long)a, (unsigned long)prev_zone);
			CHECK(a >= prev_end, "zone at %#lx starts before the end of the previous block (%#lx)",
			      (unsigned long)a, (unsigned long)prev_end);
			prev_zone = zone = a;
			kind = k;
			out->nzones++;
		} else if (strncmp(s, "Total : ", 8) == 0) {
			s += 8;
			CHECK(parse_dec(&s, &n) && eat(&s, " bytes") && s == nl, "bad Total line: '%.*s'", (int)(nl - line), line);
			out->total = n;
			have_total = 1;
		} else {
			CHECK(parse_hex(&s, &a) && eat(&s, " - ") && parse_hex(&s, &b) && eat(&s, " : ") &&
			      parse_dec(&s, &n) && eat(&s, " bytes") && s == nl,
			      "bad line %zu (want '0xSTART - 0xEND : N bytes', upper-case hex): '%.*s'",
			      lineno, (int)(nl - line), line);
			CHECK(kind >= 0, "block line %zu before any zone header", lineno);
			CHECK(b - a == n, "line '%.*s': END - START != N", (int)(nl - line), line);
			CHECK(a >= zone, "block %#lx listed under zone %#lx that starts after it", (unsigned long)a, (unsigned long)zone);
			CHECK(a >= prev_end && (a > prev_end || out->nblocks == 0 || blocks[out->nblocks - 1].start < a),
			      "block %#lx not in increasing order / overlaps the previous one (ends %#lx)",
			      (unsigned long)a, (unsigned long)prev_end);
			CHECK(out->nblocks < MAX_LINES, "too many lines");
			blocks[out->nblocks++] = (struct sam_block){ kind, zone, a, b, n };
			prev_end = b;
			sum += n;
		}
		line = nl + 1;
	}
	CHECK(have_total, "no 'Total : N bytes' line");
	/* every LARGE block has a zone header of its own */
	for (size_t i = 1; i < out->nblocks; i++)
		if (blocks[i].kind == FTMALLOC_LARGE)
			CHECK(blocks[i].zone != blocks[i - 1].zone, "two LARGE blocks under one header %#lx",
			      (unsigned long)blocks[i].zone);
	CHECK(sum == out->total, "Total says %zu bytes but the listed blocks add up to %zu", out->total, sum);
}

static const struct sam_block *sam_find(const struct sam *s, const void *p)
{
	const struct sam_block *found = NULL;
	for (size_t i = 0; i < s->nblocks; i++)
		if (s->blocks[i].start == (uintptr_t)p) {
			CHECK(!found, "block %p listed twice by show_alloc_mem", p);
			found = &s->blocks[i];
		}
	return found;
}

static const char *const kind_name[] = { "TINY", "SMALL", "LARGE" };

static int kind_of(size_t n)
{
	return n <= 127 ? FTMALLOC_TINY : n <= 1024 ? FTMALLOC_SMALL : FTMALLOC_LARGE;
}

/* ---------- statistics ---------- */

static void test_stats_classes(void)
{
	/* the size class boundaries, seen through the counters */
	size_t sizes[] = { 0, 1, 16, 127, 128, 129, 500, 1023, 1024, 1025, 4096, 100000, 2 << 20 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct ftmalloc_stats a, b, c;
		int k = kind_of(sizes[i]);
		get_stats(&a);
		void *p = malloc(sizes[i]);
		CHECK(p != NULL, "malloc(%zu)", sizes[i]);
		get_stats(&b);
		for (int j = 0; j < 3; j++) {
			size_t want_blocks = a.live_blocks[j] + (j == k);
			size_t want_bytes = a.live_bytes[j] + (j == k ? sizes[i] : 0);
			CHECK(b.live_blocks[j] == want_blocks && b.live_bytes[j] == want_bytes,
			      "after malloc(%zu) (a %s block): live_blocks[%s] %zu -> %zu, live_bytes %zu -> %zu",
			      sizes[i], kind_name[k], kind_name[j], a.live_blocks[j], b.live_blocks[j],
			      a.live_bytes[j], b.live_bytes[j]);
		}
		free(p);
		get_stats(&c);
		for (int j = 0; j < 3; j++)
			CHECK(c.live_blocks[j] == a.live_blocks[j] && c.live_bytes[j] == a.live_bytes[j],
			      "after free of malloc(%zu): live_blocks[%s] %zu (was %zu before malloc)",
			      sizes[i], kind_name[j], c.live_blocks[j], a.live_blocks[j]);
	}
	/* realloc changes the accounted requested size; calloc counts n * size */
	struct ftmalloc_stats a, b;
	get_stats(&a);
	void *p = malloc(100);
	p = realloc(p, 60);
	void *q = calloc(7, 9);
	get_stats(&b);
	CHECK(b.live_bytes[FTMALLOC_TINY] == a.live_bytes[FTMALLOC_TINY] + 60 + 63,
	      "malloc(100)->realloc(60) + calloc(7,9): live_bytes[TINY] grew by %zu, want 123",
	      b.live_bytes[FTMALLOC_TINY] - a.live_bytes[FTMALLOC_TINY]);
	free(p);
	free(q);
}

static void test_zone_slots(void)
{
	struct ftmalloc_stats st;
	get_stats(&st);
	CHECK(st.zone_slots[0] >= 100, "zone_slots[TINY] = %zu < 100", st.zone_slots[0]);
	CHECK(st.zone_slots[1] >= 100, "zone_slots[SMALL] = %zu < 100", st.zone_slots[1]);
	note("TINY zone %zu slots, SMALL zone %zu slots", st.zone_slots[0], st.zone_slots[1]);
}

/*
 * 100 blocks of a class's largest size fit in one zone. Startup allocations may
 * have used part of the current zone, so allocate 300 and require that one
 * zone (per show_alloc_mem) holds at least 100 of them, and that 300 blocks
 * need at most 4 zones.
 */
static void hundred_in_one_zone(size_t size, int kind)
{
	enum { N = 300 };
	void *p[N];
	struct ftmalloc_stats a, b;
	get_stats(&a);
	for (int i = 0; i < N; i++) {
		p[i] = malloc(size);
		CHECK(p[i] != NULL, "malloc(%zu)", size);
	}
	get_stats(&b);
	size_t newzones = b.zones[kind] - a.zones[kind];
	CHECK(newzones <= 3, "300 blocks of %zu bytes needed %zu new %s zones (%zu slots per zone promised >= 100)",
	      size, newzones, kind_name[kind], b.zone_slots[kind]);
	struct sam s;
	capture_sam(&s);
	uintptr_t zones[N];
	size_t count[N], nz = 0, best = 0;
	for (int i = 0; i < N; i++) {
		const struct sam_block *blk = sam_find(&s, p[i]);
		CHECK(blk != NULL, "block %p (malloc(%zu)) missing from show_alloc_mem", p[i], size);
		CHECK(blk->kind == kind, "malloc(%zu) block listed under %s, want %s", size, kind_name[blk->kind], kind_name[kind]);
		CHECK(blk->size == size, "malloc(%zu) block listed with %zu bytes", size, blk->size);
		size_t z;
		for (z = 0; z < nz && zones[z] != blk->zone; z++)
			;
		if (z == nz) {
			zones[nz] = blk->zone;
			count[nz++] = 0;
		}
		count[z]++;
		if (count[z] > best)
			best = count[z];
	}
	CHECK(nz <= 4, "300 blocks of %zu bytes spread over %zu zones", size, nz);
	CHECK(best >= 100, "no %s zone holds 100 blocks of %zu bytes (best: %zu)", kind_name[kind], size, best);
	note("300 x %zu bytes: %zu zones, up to %zu blocks in one", size, nz, best);
	for (int i = 0; i < N; i++)
		free(p[i]);
}

static void test_tiny_zone_100(void) { hundred_in_one_zone(127, FTMALLOC_TINY); }
static void test_small_zone_100(void) { hundred_in_one_zone(1024, FTMALLOC_SMALL); }

/* Fill several zones of one class, free everything, zones must be given back. */
static void zone_release(size_t size, int kind)
{
	enum { MAXN = 400000 };
	void **p = raw_alloc(sizeof *p * MAXN);
	struct ftmalloc_stats a, b, c;
	get_stats(&a);
	size_t n = 0;
	for (;;) {
		CHECK(n < MAXN, "%zu blocks of %zu bytes and still fewer than 4 new %s zones", n, size, kind_name[kind]);
		p[n] = malloc(size);
		CHECK(p[n] != NULL, "malloc(%zu)", size);
		memset(p[n], 1, size);
		n++;
		if (n % 64 == 0) {
			get_stats(&b);
			if (b.zones[kind] >= a.zones[kind] + 6 && n >= 5000)
				break;
		}
	}
	get_stats(&b);
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	get_stats(&c);
	CHECK(c.zones[kind] <= a.zones[kind] + 2,
	      "%s zones: %zu before, %zu with %zu blocks of %zu bytes, still %zu after freeing them all",
	      kind_name[kind], a.zones[kind], b.zones[kind], n, size, c.zones[kind]);
	CHECK(c.munmap_calls > b.munmap_calls, "no munmap after freeing %zu blocks", n);
	CHECK(c.mapped_bytes < b.mapped_bytes, "mapped_bytes did not drop (%zu -> %zu)", b.mapped_bytes, c.mapped_bytes);
	CHECK(c.live_blocks[kind] == a.live_blocks[kind], "live_blocks[%s] %zu, was %zu", kind_name[kind],
	      c.live_blocks[kind], a.live_blocks[kind]);
	note("%zu x %zu bytes: %s zones %zu -> %zu -> %zu, munmap_calls +%zu", n, size, kind_name[kind],
	     a.zones[kind], b.zones[kind], c.zones[kind], c.munmap_calls - b.munmap_calls);
	munmap(p, sizeof *p * MAXN);
}

static void test_zone_release_tiny(void) { zone_release(64, FTMALLOC_TINY); }
static void test_zone_release_small(void) { zone_release(1000, FTMALLOC_SMALL); }

static void test_large_own_mapping(void)
{
	size_t sizes[] = { 1025, 2000, 4096, 4097, 50000, 1 << 20, (3 << 20) + 1 };
	enum { N = sizeof sizes / sizeof sizes[0] };
	void *p[N];
	struct ftmalloc_stats a, b;
	get_stats(&a);
	CHECK(a.zones[FTMALLOC_LARGE] == a.live_blocks[FTMALLOC_LARGE],
	      "at start zones[LARGE] = %zu but live_blocks[LARGE] = %zu", a.zones[FTMALLOC_LARGE], a.live_blocks[FTMALLOC_LARGE]);
	for (int i = 0; i < N; i++) {
		get_stats(&a);
		p[i] = malloc(sizes[i]);
		CHECK(p[i] != NULL, "malloc(%zu)", sizes[i]);
		memset(p[i], 2, sizes[i]);
		get_stats(&b);
		CHECK(b.zones[FTMALLOC_LARGE] == a.zones[FTMALLOC_LARGE] + 1,
		      "malloc(%zu): zones[LARGE] %zu -> %zu, want +1", sizes[i], a.zones[FTMALLOC_LARGE], b.zones[FTMALLOC_LARGE]);
		CHECK(b.zones[FTMALLOC_LARGE] == b.live_blocks[FTMALLOC_LARGE],
		      "zones[LARGE] %zu != live_blocks[LARGE] %zu", b.zones[FTMALLOC_LARGE], b.live_blocks[FTMALLOC_LARGE]);
		CHECK(b.mmap_calls > a.mmap_calls, "malloc(%zu) made no mmap call", sizes[i]);
		CHECK(b.mapped_bytes >= a.mapped_bytes + sizes[i], "mapped_bytes %zu -> %zu after malloc(%zu)",
		      a.mapped_bytes, b.mapped_bytes, sizes[i]);
	}
	for (int i = 0; i < N; i++) {
		get_stats(&a);
		free(p[i]);
		get_stats(&b);
		CHECK(b.zones[FTMALLOC_LARGE] == a.zones[FTMALLOC_LARGE] - 1,
		      "free of a %zu-byte block: zones[LARGE] %zu -> %zu, want -1", sizes[i], a.zones[FTMALLOC_LARGE], b.zones[FTMALLOC_LARGE]);
		CHECK(b.zones[FTMALLOC_LARGE] == b.live_blocks[FTMALLOC_LARGE], "zones[LARGE] != live_blocks[LARGE] after free");
		CHECK(b.munmap_calls > a.munmap_calls, "free of a %zu-byte LARGE block made no munmap", sizes[i]);
		CHECK(b.mapped_bytes + sizes[i] <= a.mapped_bytes, "mapped_bytes %zu -> %zu after free(%zu bytes)",
		      a.mapped_bytes, b.mapped_bytes, sizes[i]);
	}
}

static void no_churn(size_t size)
{
	struct ftmalloc_stats a, b;
	void *keep = malloc(size); /* the class is in use before the loop */
	get_stats(&a);
	for (int i = 0; i < 1024; i++) {
		char *p = malloc(size);
		CHECK(p != NULL, "malloc(%zu)", size);
		p[0] = 1;
		p[size - 1] = 2;
		free(p);
	}
	get_stats(&b);
	size_t calls = (b.mmap_calls - a.mmap_calls) + (b.munmap_calls - a.munmap_calls);
	CHECK(calls <= 4, "1024 x (malloc(%zu) + free) made %zu mmap and %zu munmap calls", size,
	      b.mmap_calls - a.mmap_calls, b.munmap_calls - a.munmap_calls);
	free(keep);
	/* and without a block kept: the spare zone must absorb the loop */
	get_stats(&a);
	for (int i = 0; i < 1024; i++) {
		char *p = malloc(size);
		CHECK(p != NULL, "malloc(%zu)", size);
		free(p);
	}
	get_stats(&b);
	size_t calls2 = (b.mmap_calls - a.mmap_calls) + (b.munmap_calls - a.munmap_calls);
	CHECK(calls2 <= 4, "1024 x (malloc(%zu) + free) with no other live block made %zu mmap and %zu munmap calls",
	      size, b.mmap_calls - a.mmap_calls, b.munmap_calls - a.munmap_calls);
	note("%zu and %zu system calls", calls, calls2);
}

static void test_no_churn_1024(void) { no_churn(1024); }
static void test_no_churn_64(void) { no_churn(64); }

/* ---------- show_alloc_mem ---------- */

static const size_t sam_sizes[] = {
	0, 1, 42, 100, 127, 0, 16,                    /* TINY */
	128, 500, 1000, 1024, 129,                    /* SMALL */
	1025, 5000, 48847, 200000, 1 << 20,           /* LARGE */
};
enum { NSAM = sizeof sam_sizes / sizeof sam_sizes[0] };

/*
 * Each live p[i] is listed exactly once, with size sizes[i], under a header of
 * kind kinds[i] (kinds == NULL: the kind of its size); each freed one is absent.
 */
static void check_listed(const struct sam *s, void *const *p, const size_t *sizes, const int *live, int n,
			 const int *kinds)
{
	for (int i = 0; i < n; i++) {
		const struct sam_block *b = sam_find(s, p[i]);
		if (!live[i]) {
			CHECK(b == NULL, "freed block %p (malloc(%zu)) still listed by show_alloc_mem", p[i], sizes[i]);
			continue;
		}
		CHECK(b != NULL, "block %p (malloc(%zu)) not listed by show_alloc_mem", p[i], sizes[i]);
		CHECK(b->size == sizes[i], "block %p (malloc(%zu)) listed as %zu bytes", p[i], sizes[i], b->size);
		int want = kinds ? kinds[i] : kind_of(sizes[i]);
		CHECK(b->kind == want, "block %p (%zu bytes) listed under %s, want %s",
		      p[i], sizes[i], kind_name[b->kind], kind_name[want]);
		CHECK(b->zone <= (uintptr_t)p[i], "zone header above it is above the block");
	}
}

static void test_sam_format(void)
{
	void *p[NSAM];
	int live[NSAM];
	size_t mine = 0;
	for (int i = 0; i < NSAM; i++) {
		p[i] = malloc(sam_sizes[i]);
		CHECK(p[i] != NULL, "malloc(%zu)", sam_sizes[i]);
		memset(p[i], 'x', sam_sizes[i]);
		live[i] = 1;
		mine += sam_sizes[i];
	}
	struct ftmalloc_stats st;
	get_stats(&st);
	struct sam s;
	capture_sam(&s);
	check_listed(&s, p, sam_sizes, live, NSAM, NULL);
	CHECK(s.total == sum3(st.live_bytes), "Total %zu bytes, but ftmalloc_get_stats live_bytes sum is %zu",
	      s.total, sum3(st.live_bytes));
	CHECK(s.nblocks == sum3(st.live_blocks), "%zu block lines, but live_blocks sum is %zu",
	      s.nblocks, sum3(st.live_blocks));
	CHECK(s.total >= mine, "Total %zu < the %zu bytes this test holds", s.total, mine);
	note("%zu zones, %zu blocks, Total %zu bytes", s.nzones, s.nblocks, s.total);
	for (int i = 0; i < NSAM; i++)
		free(p[i]);
}

static void test_sam_after_free(void)
{
	void *p[NSAM];
	int live[NSAM];
	for (int i = 0; i < NSAM; i++) {
		p[i] = malloc(sam_sizes[i]);
		CHECK(p[i] != NULL, "malloc");
		live[i] = 1;
	}
	struct sam s;
	capture_sam(&s);
	check_listed(&s, p, sam_sizes, live, NSAM, NULL);
	size_t total0 = s.total, freed = 0;
	for (int i = 0; i < NSAM; i += 2) {
		free(p[i]);
		live[i] = 0;
		freed += sam_sizes[i];
	}
	capture_sam(&s);
	check_listed(&s, p, sam_sizes, live, NSAM, NULL);
	CHECK(s.total == total0 - freed, "Total %zu after freeing %zu bytes, was %zu", s.total, freed, total0);
	/* realloc'ed blocks are listed with their new size (a block shrunk in
	 * place stays in the zone, so under the header, of its old class) */
	size_t newsz[NSAM];
	int kinds[NSAM];
	memcpy(newsz, sam_sizes, sizeof newsz);
	for (int i = 0; i < NSAM; i++)
		kinds[i] = kind_of(sam_sizes[i]);
	for (int i = 1; i < NSAM; i += 2) {
		newsz[i] = sam_sizes[i] / 2 + 3;
		void *q = realloc(p[i], newsz[i]);
		CHECK(q != NULL, "realloc");
		if (q != p[i])
			kinds[i] = kind_of(newsz[i]);
		p[i] = q;
	}
	capture_sam(&s);
	check_listed(&s, p, newsz, live, NSAM, kinds);
	for (int i = 1; i < NSAM; i += 2) {
		free(p[i]);
		live[i] = 0;
	}
	capture_sam(&s);
	check_listed(&s, p, newsz, live, NSAM, kinds);
	/* (the pointer comparisons above are only on addresses, never dereferenced) */
}

/* show_alloc_mem "never allocates": no block, zone or mapping of user memory appears */
static void test_sam_does_not_allocate(void)
{
	void *keep[3] = { malloc(10), malloc(300), malloc(3000) };
	struct ftmalloc_stats a, b;
	struct sam s;
	capture_sam(&s); /* first call: anything lazy happens here */
	get_stats(&a);
	for (int i = 0; i < 5; i++)
		capture_sam(&s);
	get_stats(&b);
	for (int k = 0; k < 3; k++)
		CHECK(a.zones[k] == b.zones[k] && a.live_blocks[k] == b.live_blocks[k] && a.live_bytes[k] == b.live_bytes[k],
		      "%s: zones %zu -> %zu, live blocks %zu -> %zu, live bytes %zu -> %zu across 5 show_alloc_mem calls",
		      kind_name[k], a.zones[k], b.zones[k], a.live_blocks[k], b.live_blocks[k], a.live_bytes[k], b.live_bytes[k]);
	CHECK(a.mapped_bytes == b.mapped_bytes, "mapped_bytes %zu -> %zu across show_alloc_mem calls",
	      a.mapped_bytes, b.mapped_bytes);
	for (int i = 0; i < 3; i++)
		free(keep[i]);
}

/*
 * mmap_calls / munmap_calls count "system calls made for user memory":
 * show_alloc_mem (which allocates no user memory) must not move them.
 */
static void test_sam_syscall_counters(void)
{
	void *keep[3] = { malloc(10), malloc(300), malloc(3000) };
	struct ftmalloc_stats a, b;
	struct sam s;
	capture_sam(&s);
	get_stats(&a);
	for (int i = 0; i < 5; i++)
		capture_sam(&s);
	get_stats(&b);
	CHECK(a.mmap_calls == b.mmap_calls && a.munmap_calls == b.munmap_calls,
	      "5 show_alloc_mem calls moved mmap_calls %zu -> %zu and munmap_calls %zu -> %zu "
	      "(they count system calls for user memory only)",
	      a.mmap_calls, b.mmap_calls, a.munmap_calls, b.munmap_calls);
	for (int i = 0; i < 3; i++)
		free(keep[i]);
}

static void test_sam_many_blocks(void)
{
	/* enough blocks to span several zones of each kind; all listed, in order */
	enum { N = 2000 };
	static void *p[N];
	static size_t sz[N];
	static int live[N];
	for (int i = 0; i < N; i++) {
		sz[i] = (size_t)(i * 7919) % 1500;
		if (i % 50 == 0)
			sz[i] = 20000 + (size_t)i;
		p[i] = malloc(sz[i]);
		CHECK(p[i] != NULL, "malloc");
		live[i] = 1;
	}
	for (int i = 0; i < N; i += 3) {
		free(p[i]);
		live[i] = 0;
	}
	struct sam s;
	capture_sam(&s);
	check_listed(&s, p, sz, live, N, NULL);
	struct ftmalloc_stats st;
	get_stats(&st);
	CHECK(s.total == sum3(st.live_bytes), "Total %zu != live_bytes %zu", s.total, sum3(st.live_bytes));
	note("%zu zones, %zu blocks", s.nzones, s.nblocks);
	for (int i = 0; i < N; i++)
		if (live[i])
			free(p[i]);
}

static void test_sam_memalign_blocks(void)
{
	/* aligned blocks are listed with their requested size, at the returned address */
	void *p[4];
	size_t sizes[4] = { 100, 1000, 5000, 64 };
	size_t als[4] = { 64, 4096, 65536, 1 << 20 };
	for (int i = 0; i < 4; i++)
		CHECK(posix_memalign(&p[i], als[i], sizes[i]) == 0, "posix_memalign");
	struct sam s;
	capture_sam(&s);
	for (int i = 0; i < 4; i++) {
		const struct sam_block *b = sam_find(&s, p[i]);
		CHECK(b != NULL, "posix_memalign(%zu, %zu) block %p not listed", als[i], sizes[i], p[i]);
		CHECK(b->size == sizes[i], "posix_memalign(%zu, %zu) block listed as %zu bytes", als[i], sizes[i], b->size);
	}
	for (int i = 0; i < 4; i++)
		free(p[i]);
}

static const struct unit_test tests[] = {
	T("stats-size-classes", test_stats_classes),
	T("zone-slots-100", test_zone_slots),
	T("tiny-100x127-one-zone", test_tiny_zone_100),
	T("small-100x1024-one-zone", test_small_zone_100),
	T("zone-release-tiny", test_zone_release_tiny),
	T("zone-release-small", test_zone_release_small),
	T("large-own-mapping", test_large_own_mapping),
	T("no-mmap-churn-1024", test_no_churn_1024),
	T("no-mmap-churn-64", test_no_churn_64),
	T("show_alloc_mem-format", test_sam_format),
	T("show_alloc_mem-after-free", test_sam_after_free),
	T("show_alloc_mem-no-allocation", test_sam_does_not_allocate),
	T("show_alloc_mem-not-counted-as-user-mmap", test_sam_syscall_counters),
	T("show_alloc_mem-many-blocks", test_sam_many_blocks),
	T("show_alloc_mem-aligned-blocks", test_sam_memalign_blocks),
};

TEST_MAIN(tests)
