/*
 * The malloc API with glibc semantics. Runs under LD_PRELOAD=$FTMALLOC_LIB
 * (UNIT_ALLOCATOR=glibc: against glibc, to validate the tests themselves).
 */
#include "harness.h"

#include <malloc.h>

#define TINY_MAX  127
#define SMALL_MAX 1024

static const size_t PAGE = 4096;

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* Stops the compiler from reasoning about (and warning on) what we pass to free. */
static void *launder(void *p)
{
	void *volatile v = p;
	return v;
}

/* ---------- alignment ---------- */

static void test_align16(void)
{
	enum { N = 2100 };
	static void *ptrs[N];
	/* every size from 0 to 2099, all live at once, then a few LARGE ones */
	for (size_t i = 0; i < N; i++) {
		ptrs[i] = malloc(i);
		CHECK(ptrs[i] != NULL, "malloc(%zu) returned NULL", i);
		CHECK(aligned(ptrs[i], 16), "malloc(%zu) = %p not 16-byte aligned", i, ptrs[i]);
		memset(ptrs[i], (int)(i & 0xff), i);
	}
	for (size_t i = 0; i < N; i++) {
		const unsigned char *c = ptrs[i];
		for (size_t j = 0; j < i; j++)
			CHECK(c[j] == (i & 0xff), "block of size %zu overwritten at offset %zu", i, j);
		free(ptrs[i]);
	}
	size_t big[] = { 4095, 4096, 4097, 10000, 65536, 131071, 131073, 1 << 20, (3 << 20) + 5 };
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		void *p = malloc(big[i]);
		CHECK(p && aligned(p, 16), "malloc(%zu) = %p", big[i], p);
		void *q = calloc(1, big[i]);
		CHECK(q && aligned(q, 16), "calloc(1, %zu) = %p", big[i], q);
		void *r = realloc(NULL, big[i]);
		CHECK(r && aligned(r, 16), "realloc(NULL, %zu) = %p", big[i], r);
		r = realloc(r, big[i] / 3 + 1);
		CHECK(r && aligned(r, 16), "realloc(r, %zu) = %p", big[i] / 3 + 1, r);
		free(p);
		free(q);
		free(r);
	}
}

/* ---------- memalign family ---------- */

enum afn { A_POSIX, A_ALIGNED, A_MEMALIGN };
static const char *const afn_name[] = { "posix_memalign", "aligned_alloc", "memalign" };

static void *do_align(enum afn f, size_t al, size_t n)
{
	void *p = NULL;
	switch (f) {
	case A_POSIX: {
		int rc = posix_memalign(&p, al, n);
		CHECK(rc == 0, "posix_memalign(%zu, %zu) returned %d", al, n, rc);
		break;
	}
	case A_ALIGNED:
		p = aligned_alloc(al, n);
		break;
	case A_MEMALIGN:
		p = memalign(al, n);
		break;
	}
	return p;
}

static void memalign_family(enum afn f)
{
	static const size_t als[] = { 16, 32, 64, 4096, 65536, 1 << 20 };
	static const size_t sizes[] = { 0, 1, 100, 127, 128, 1000, 1024, 1025, 5000, 200000 };
	enum { NA = sizeof als / sizeof als[0] };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		void *ps[NA];
		size_t n = sizes[s];
		for (size_t a = 0; a < NA; a++) {
			ps[a] = do_align(f, als[a], n);
			CHECK(ps[a] != NULL, "%s(%zu, %zu) returned NULL", afn_name[f], als[a], n);
			CHECK(aligned(ps[a], als[a]), "%s(%zu, %zu) = %p is misaligned",
			      afn_name[f], als[a], n, ps[a]);
			CHECK(malloc_usable_size(ps[a]) >= n, "%s(%zu, %zu): usable size %zu",
			      afn_name[f], als[a], n, malloc_usable_size(ps[a]));
			fill_pattern(ps[a], n, (unsigned)(a + 1));
		}
		/* all live together: no block overlaps another */
		for (size_t a = 0; a < NA; a++) {
			size_t bad = check_pattern(ps[a], n, (unsigned)(a + 1));
			CHECK(bad == (size_t)-1, "%s(%zu, %zu) block corrupted at offset %zu",
			      afn_name[f], als[a], n, bad);
		}
		/* they can be realloc'ed (content kept) and freed */
		for (size_t a = 0; a < NA; a++) {
			errno = 0;
			void *q = realloc(ps[a], n + 3000);
			CHECK(q != NULL, "realloc(%s(%zu, %zu), %zu) returned NULL, errno %d",
			      afn_name[f], als[a], n, n + 3000, errno);
			size_t bad = check_pattern(q, n, (unsigned)(a + 1));
			CHECK(bad == (size_t)-1, "realloc of %s(%zu, %zu) block lost content at %zu",
			      afn_name[f], als[a], n, bad);
			free(q);
		}
	}
}

static void test_posix_memalign(void) { memalign_family(A_POSIX); }
static void test_aligned_alloc(void) { memalign_family(A_ALIGNED); }
static void test_memalign(void) { memalign_family(A_MEMALIGN); }

static void test_valloc_pvalloc(void)
{
	size_t sizes[] = { 1, 100, 4095, 4096, 4097, 10000, 300000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		void *v = valloc(n);
		CHECK(v && aligned(v, PAGE), "valloc(%zu) = %p", n, v);
		CHECK(malloc_usable_size(v) >= n, "valloc(%zu): usable %zu", n, malloc_usable_size(v));
		memset(v, 0x5a, n);
		void *p = pvalloc(n);
		size_t rounded = (n + PAGE - 1) & ~(PAGE - 1);
		CHECK(p && aligned(p, PAGE), "pvalloc(%zu) = %p", n, p);
		CHECK(malloc_usable_size(p) >= rounded, "pvalloc(%zu): usable %zu < %zu",
		      n, malloc_usable_size(p), rounded);
		memset(p, 0xa5, rounded); /* pvalloc gives the whole rounded-up size */
		free(v);
		free(p);
	}
}

static void test_posix_memalign_einval(void)
{
	size_t bad[] = { 0, 1, 2, 3, 4, 12, 24, 48, 100, 4097, (size_t)1 << 20 | 8, SIZE_MAX / 2 + 2, SIZE_MAX };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *p = (void *)&bad; /* sentinel: glibc leaves *memptr alone on error */
		errno = 0;
		int rc = posix_memalign(&p, bad[i], 100);
		CHECK(rc == EINVAL, "posix_memalign(&p, %zu, 100) returned %d, want EINVAL", bad[i], rc);
		CHECK(p == (void *)&bad, "posix_memalign(%zu) failed but changed *memptr to %p", bad[i], p);
		CHECK(errno == 0, "posix_memalign(%zu) changed errno to %d (it returns the error)", bad[i], errno);
	}
	/* sizeof(void *) itself is a valid alignment */
	void *p = NULL;
	CHECK(posix_memalign(&p, sizeof(void *), 100) == 0 && p != NULL, "posix_memalign(sizeof(void*), 100) failed");
	free(p);
}

/*
 * aligned_alloc and memalign with an alignment that is not a power of two.
 * glibc 2.36 (Debian 12) does NOT fail: it rounds the alignment up to the
 * next power of two (alignments <= 16 just give a malloc'ed block); only an
 * alignment above SIZE_MAX/2+1 gives NULL with errno EINVAL.  ftmalloc
 * promises glibc semantics, so we expect exactly that.
 */
static void memalign_nonpow2(int f)
{
	struct { size_t al, want; } cases[] = {
		{ 0, 16 }, { 1, 16 }, { 3, 16 }, { 12, 16 }, { 24, 32 }, { 48, 64 },
		{ 100, 128 }, { 3000, 4096 }, { 100000, 131072 }, { (1 << 19) + 1, 1 << 20 },
	};
	const char *name = f ? "memalign" : "aligned_alloc";
	char bad[600] = "";
	size_t len = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		errno = 0;
		void *p = f ? memalign(cases[i].al, 100) : aligned_alloc(cases[i].al, 100);
		if (!p || !aligned(p, cases[i].want)) {
			if (len < sizeof bad - 80)
				len += (size_t)snprintf(bad + len, sizeof bad - len, "%s(%zu, 100) = %p errno %d; ",
						name, cases[i].al, p, errno);
		} else {
			memset(p, 1, 100);
		}
		free(p);
	}
	CHECK(bad[0] == 0, "glibc 2.36 rounds such alignments up to the next power of two and succeeds, but %s", bad);
	size_t huge[] = { SIZE_MAX / 2 + 2, SIZE_MAX - 4095, SIZE_MAX };
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		errno = 0;
		void *p = f ? memalign(huge[i], 100) : aligned_alloc(huge[i], 100);
		CHECK(p == NULL && errno == EINVAL, "%s(%#zx, 100) = %p errno %d, want NULL/EINVAL",
		      name, huge[i], p, errno);
	}
}

static void test_memalign_nonpow2(void) { memalign_nonpow2(1); }
static void test_aligned_alloc_nonpow2(void) { memalign_nonpow2(0); }

/* ---------- malloc(0), free(NULL), realloc corner cases ---------- */

static void test_malloc0_unique(void)
{
	enum { N = 200 };
	void *p[N];
	for (int i = 0; i < N; i++) {
		p[i] = malloc(0);
		CHECK(p[i] != NULL, "malloc(0) #%d returned NULL", i);
		CHECK(aligned(p[i], 16), "malloc(0) = %p not aligned", p[i]);
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			CHECK(p[i] != p[j], "malloc(0) returned %p twice (#%d and #%d)", p[i], i, j);
	for (int i = 0; i < N; i++)
		free(p[i]);
	void *a = calloc(0, 10), *b = calloc(10, 0), *c = calloc(0, 0);
	CHECK(a && b && c && a != b && b != c && a != c, "calloc with 0: %p %p %p", a, b, c);
	free(a);
	free(b);
	free(c);
	a = malloc(0);
	b = malloc(0);
	CHECK(a && b && a != b, "malloc(0) twice after frees: %p %p", a, b);
	free(b);
	free(a);
}

static void test_free_null(void)
{
	errno = 77;
	free(NULL);
	CHECK(errno == 77, "free(NULL) changed errno to %d", errno);
	void *p = malloc(10);
	CHECK(p != NULL, "malloc after free(NULL)");
	free(p);
}

static void test_realloc_null(void)
{
	size_t sizes[] = { 0, 1, 42, 127, 128, 1024, 1025, 100000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		void *p = realloc(NULL, sizes[i]);
		CHECK(p != NULL && aligned(p, 16), "realloc(NULL, %zu) = %p", sizes[i], p);
		CHECK(malloc_usable_size(p) >= sizes[i], "realloc(NULL, %zu): usable %zu", sizes[i], malloc_usable_size(p));
		memset(p, 0x33, sizes[i]);
		free(p);
	}
}

static void test_realloc_zero_frees(void)
{
	size_t sizes[] = { 1, 100, 500, 5000, 300000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct ftmalloc_stats a, b;
		void *p = malloc(sizes[i]);
		CHECK(p != NULL, "malloc(%zu)", sizes[i]);
		if (g_ftmalloc)
			get_stats(&a);
		void *q = realloc(p, 0);
		CHECK(q == NULL, "realloc(p, 0) returned %p, want NULL (glibc frees and returns NULL)", q);
		if (g_ftmalloc) {
			get_stats(&b);
			CHECK(sum3(b.live_blocks) == sum3(a.live_blocks) - 1,
			      "realloc(p(%zu), 0) did not free p: live blocks %zu -> %zu",
			      sizes[i], sum3(a.live_blocks), sum3(b.live_blocks));
		}
	}
}

static void shrink_inplace(const char *cls, size_t from, size_t to)
{
	unsigned char *p = malloc(from);
	CHECK(p != NULL, "malloc(%zu)", from);
	fill_pattern(p, from, 9);
	void *q = realloc(p, to);
	CHECK(q == p, "%s: realloc(p, %zu) of a %zu-byte block moved it (%p -> %p)", cls, to, from, (void *)p, q);
	size_t bad = check_pattern(q, to, 9);
	CHECK(bad == (size_t)-1, "%s: shrink lost content at %zu", cls, bad);
	CHECK(malloc_usable_size(q) >= to, "usable size after shrink");
	free(q);
}

static void test_realloc_shrink_tiny(void)
{
	shrink_inplace("TINY", 100, 50);
	shrink_inplace("TINY", 127, 1);
	shrink_inplace("TINY", 64, 63);
}

static void test_realloc_shrink_small(void)
{
	shrink_inplace("SMALL", 1000, 600);
	shrink_inplace("SMALL", 1024, 128);
	shrink_inplace("SMALL", 700, 699);
}

static void test_realloc_shrink_large(void)
{
	shrink_inplace("LARGE", 100000, 50000);
	shrink_inplace("LARGE", 5000, 1025);
	shrink_inplace("LARGE", 3 << 20, 1 << 20);
}

static void test_realloc_grow_classes(void)
{
	/* TINY -> TINY -> SMALL -> SMALL -> LARGE -> bigger LARGE -> much bigger LARGE */
	size_t steps[] = { 16, 100, 127, 128, 700, 1024, 1025, 5000, 100000, 1 << 20, 5 << 20 };
	size_t n = steps[0];
	unsigned char *p = malloc(n);
	CHECK(p != NULL, "malloc");
	fill_pattern(p, n, 3);
	/* a neighbour in each class so that growing in place is not always possible */
	void *keep[3] = { malloc(64), malloc(600), malloc(3000) };
	for (size_t i = 1; i < sizeof steps / sizeof steps[0]; i++) {
		unsigned char *q = realloc(p, steps[i]);
		CHECK(q != NULL, "realloc(%zu -> %zu) returned NULL", n, steps[i]);
		CHECK(aligned(q, 16), "realloc result %p misaligned", (void *)q);
		size_t bad = check_pattern(q, n, 3);
		CHECK(bad == (size_t)-1, "realloc %zu -> %zu: byte %zu of the old content changed", n, steps[i], bad);
		/* extend the pattern over the new part */
		fill_pattern(q, steps[i], 3);
		p = q;
		n = steps[i];
	}
	free(p);
	for (int i = 0; i < 3; i++)
		free(keep[i]);
}

static void test_realloc_shrink_classes(void)
{
	/* LARGE -> SMALL -> TINY -> 0: content kept up to the new size */
	size_t steps[] = { 3 << 20, 100000, 1025, 1024, 500, 128, 127, 40, 1 };
	unsigned char *p = malloc(steps[0]);
	CHECK(p != NULL, "malloc");
	fill_pattern(p, steps[0], 4);
	void *keep[3] = { malloc(64), malloc(600), malloc(3000) };
	for (size_t i = 1; i < sizeof steps / sizeof steps[0]; i++) {
		unsigned char *q = realloc(p, steps[i]);
		CHECK(q != NULL && aligned(q, 16), "realloc(%zu -> %zu) = %p", steps[i - 1], steps[i], (void *)q);
		size_t bad = check_pattern(q, steps[i], 4);
		CHECK(bad == (size_t)-1, "realloc %zu -> %zu: byte %zu changed", steps[i - 1], steps[i], bad);
		CHECK(malloc_usable_size(q) >= steps[i], "usable size");
		p = q;
	}
	CHECK(realloc(p, 0) == NULL, "realloc(p, 0)");
	for (int i = 0; i < 3; i++)
		free(keep[i]);
}

static void test_realloc_grow_steps(void)
{
	/* grow one block by small steps through all classes, checking every byte each time */
	unsigned char *p = NULL;
	size_t n = 0;
	void *between[64];
	int nb = 0;
	for (size_t sz = 1; sz <= 6000; sz += 1 + sz / 16) {
		unsigned char *q = realloc(p, sz);
		CHECK(q != NULL, "realloc(%zu) returned NULL", sz);
		size_t bad = check_pattern(q, n, 11);
		CHECK(bad == (size_t)-1, "realloc %zu -> %zu lost byte %zu", n, sz, bad);
		fill_pattern(q, sz, 11);
		p = q;
		n = sz;
		if (nb < 64)
			between[nb++] = malloc(sz / 2); /* interleave other allocations */
	}
	free(p);
	for (int i = 0; i < nb; i++)
		free(between[i]);
}

static void test_reallocarray_basic(void)
{
	int *a = reallocarray(NULL, 10, sizeof(int));
	CHECK(a != NULL, "reallocarray(NULL, 10, 4)");
	for (int i = 0; i < 10; i++)
		a[i] = i * 3;
	int *b = reallocarray(a, 1000, sizeof(int));
	CHECK(b != NULL, "reallocarray(a, 1000, 4)");
	for (int i = 0; i < 10; i++)
		CHECK(b[i] == i * 3, "reallocarray lost element %d", i);
	free(b);
}

/* ---------- overflow / huge sizes ---------- */

/* Hides a constant from the compiler (no -Walloc-size-larger-than warnings). */
static size_t opaque(size_t v)
{
	volatile size_t x = v;
	return x;
}

static void test_overflow_calloc(void)
{
	errno = 0;
	void *p = calloc(opaque(SIZE_MAX / 2), 4);
	CHECK(p == NULL && errno == ENOMEM, "calloc(SIZE_MAX/2, 4) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(4, opaque(SIZE_MAX / 2));
	CHECK(p == NULL && errno == ENOMEM, "calloc(4, SIZE_MAX/2) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(opaque((size_t)1 << 33), (size_t)1 << 31); /* product wraps to 0 */
	CHECK(p == NULL && errno == ENOMEM, "calloc(2^33, 2^31) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(1, opaque(SIZE_MAX));
	CHECK(p == NULL && errno == ENOMEM, "calloc(1, SIZE_MAX) = %p errno %d", p, errno);
}

static void test_overflow_reallocarray(void)
{
	size_t sizes[] = { 10, 500, 5000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		void *p = malloc(sizes[i]);
		CHECK(p != NULL, "malloc");
		fill_pattern(p, sizes[i], 5);
		errno = 0;
		void *q = reallocarray(p, opaque(SIZE_MAX / 2), 4);
		CHECK(q == NULL && errno == ENOMEM, "reallocarray(p, SIZE_MAX/2, 4) = %p errno %d", q, errno);
		errno = 0;
		q = reallocarray(p, opaque((size_t)1 << 33), (size_t)1 << 31);
		CHECK(q == NULL && errno == ENOMEM, "reallocarray(p, 2^33, 2^31) = %p errno %d", q, errno);
		size_t bad = check_pattern(p, sizes[i], 5);
		CHECK(bad == (size_t)-1, "p changed by failed reallocarray at byte %zu", bad);
		q = realloc(p, sizes[i] * 2); /* p still valid */
		CHECK(q != NULL && check_pattern(q, sizes[i], 5) == (size_t)-1, "p unusable after failed reallocarray");
		free(q);
	}
	errno = 0;
	void *q = reallocarray(NULL, opaque(SIZE_MAX / 2), 4);
	CHECK(q == NULL && errno == ENOMEM, "reallocarray(NULL, SIZE_MAX/2, 4) = %p errno %d", q, errno);
}

static void huge_malloc(size_t n)
{
	errno = 0;
	void *p = malloc(n);
	CHECK(p == NULL && errno == ENOMEM, "malloc(%#zx) = %p errno %d, want NULL/ENOMEM", n, p, errno);
}

static void test_overflow_malloc_max(void) { huge_malloc(SIZE_MAX); }
static void test_overflow_malloc_max_4096(void)
{
	huge_malloc(SIZE_MAX - 4096);
	huge_malloc(SIZE_MAX - 4095);
	huge_malloc(SIZE_MAX - 15);
	huge_malloc(SIZE_MAX / 2 + 1);
	huge_malloc(PTRDIFF_MAX);
	/* the allocator still works afterwards */
	void *p = malloc(100);
	CHECK(p != NULL, "malloc(100) after huge failures");
	free(p);
}

static void test_overflow_posix_memalign(void)
{
	size_t sizes[] = { SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX - 100, SIZE_MAX / 2 + 1 };
	size_t als[] = { 16, 64, 4096, 1 << 20 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (size_t j = 0; j < sizeof als / sizeof als[0]; j++) {
			void *p = (void *)&sizes;
			int rc = posix_memalign(&p, als[j], sizes[i]);
			CHECK(rc == ENOMEM, "posix_memalign(&p, %zu, %#zx) returned %d, want ENOMEM",
			      als[j], sizes[i], rc);
			CHECK(p == (void *)&sizes, "posix_memalign failed but changed *memptr to %p", p);
			errno = 0;
			p = aligned_alloc(als[j], sizes[i]);
			CHECK(p == NULL && errno == ENOMEM, "aligned_alloc(%zu, %#zx) = %p errno %d",
			      als[j], sizes[i], p, errno);
			errno = 0;
			p = memalign(als[j], sizes[i]);
			CHECK(p == NULL && errno == ENOMEM, "memalign(%zu, %#zx) = %p errno %d",
			      als[j], sizes[i], p, errno);
		}
	errno = 0;
	void *p = valloc(opaque(SIZE_MAX - 10));
	CHECK(p == NULL && errno == ENOMEM, "valloc(SIZE_MAX-10) = %p errno %d", p, errno);
	errno = 0;
	p = pvalloc(opaque(SIZE_MAX - 10));
	CHECK(p == NULL && errno == ENOMEM, "pvalloc(SIZE_MAX-10) = %p errno %d", p, errno);
}

static void test_overflow_realloc(void)
{
	size_t sizes[] = { 10, 500, 5000 };
	size_t huge[] = { SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX / 2 + 1 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		void *p = malloc(sizes[i]);
		CHECK(p != NULL, "malloc");
		fill_pattern(p, sizes[i], 6);
		for (size_t j = 0; j < sizeof huge / sizeof huge[0]; j++) {
			errno = 0;
			void *q = realloc(p, huge[j]);
			CHECK(q == NULL && errno == ENOMEM, "realloc(p, %#zx) = %p errno %d", huge[j], q, errno);
		}
		CHECK(check_pattern(p, sizes[i], 6) == (size_t)-1, "p changed by failed realloc");
		free(p);
	}
	errno = 0;
	void *q = realloc(NULL, opaque(SIZE_MAX));
	CHECK(q == NULL && errno == ENOMEM, "realloc(NULL, SIZE_MAX) = %p errno %d", q, errno);
}

/* ---------- calloc ---------- */

static void calloc_reuse(size_t n)
{
	enum { N = 32 };
	void *p[N];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			p[i] = malloc(n);
			CHECK(p[i] != NULL, "malloc(%zu)", n);
			memset(p[i], 0xAB, malloc_usable_size(p[i]));
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
		for (int i = 0; i < N; i++) {
			p[i] = calloc(1, n);
			CHECK(p[i] != NULL, "calloc(1, %zu)", n);
			const unsigned char *c = p[i];
			for (size_t j = 0; j < n; j++)
				CHECK(c[j] == 0, "calloc(1, %zu) round %d block %d: byte %zu = %#x", n, round, i, j, c[j]);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
	}
	/* calloc(nmemb, size) form too */
	unsigned char *q = calloc(n / 4 + 1, 4);
	CHECK(q != NULL, "calloc");
	for (size_t j = 0; j < (n / 4 + 1) * 4; j++)
		CHECK(q[j] == 0, "calloc(%zu, 4) byte %zu = %#x", n / 4 + 1, j, q[j]);
	free(q);
}

static void test_calloc_zero_tiny(void) { calloc_reuse(1); calloc_reuse(64); calloc_reuse(127); }
static void test_calloc_zero_small(void) { calloc_reuse(128); calloc_reuse(800); calloc_reuse(1024); }
static void test_calloc_zero_large(void) { calloc_reuse(1025); calloc_reuse(50000); calloc_reuse(300000); }

/* ---------- errno, usable size ---------- */

static void test_free_preserves_errno(void)
{
	size_t sizes[] = { 0, 10, 127, 128, 1000, 1025, 100000, 4 << 20 };
	enum { NS = sizeof sizes / sizeof sizes[0] };
	void *p[NS];
	for (int i = 0; i < NS; i++)
		p[i] = malloc(sizes[i]);
	for (int i = 0; i < NS; i++) {
		errno = 1234;
		free(p[i]);
		CHECK(errno == 1234, "free(malloc(%zu)) changed errno to %d", sizes[i], errno);
	}
	errno = 1234;
	free(NULL);
	CHECK(errno == 1234, "free(NULL) changed errno");
	/* frees that release whole zones (munmap) */
	enum { M = 20000 };
	static void *many[M];
	for (int i = 0; i < M; i++)
		many[i] = malloc(i % 2 ? 48 : 900);
	for (int i = 0; i < M; i++) {
		errno = 1234;
		free(many[i]);
		CHECK(errno == 1234, "free #%d changed errno to %d", i, errno);
	}
	/* realloc(p, 0) is a free as well */
	void *q = malloc(50);
	errno = 1234;
	q = realloc(q, 0);
	CHECK(q == NULL && errno == 1234, "realloc(p, 0) changed errno to %d", errno);
}

static void test_usable_size(void)
{
	CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu", malloc_usable_size(NULL));
	for (size_t n = 0; n < 3000; n += (n < 300 ? 1 : 37)) {
		unsigned char *p = malloc(n);
		CHECK(p != NULL, "malloc(%zu)", n);
		size_t u = malloc_usable_size(p);
		CHECK(u >= n, "malloc_usable_size(malloc(%zu)) = %zu", n, u);
		CHECK(u < n + 1024 * 1024, "malloc_usable_size(malloc(%zu)) = %zu is absurd", n, u);
		memset(p, 0x77, u); /* the whole usable size is ours */
		free(p);
	}
	size_t big[] = { 5000, 100000, 1 << 20 };
	for (size_t i = 0; i < 3; i++) {
		void *p = malloc(big[i]);
		size_t u = malloc_usable_size(p);
		CHECK(u >= big[i], "malloc_usable_size(malloc(%zu)) = %zu", big[i], u);
		memset(p, 0x77, u);
		void *q = calloc(3, big[i]);
		CHECK(malloc_usable_size(q) >= 3 * big[i], "usable size of calloc(3, %zu)", big[i]);
		free(p);
		free(q);
	}
}

/* ---------- many blocks, no overlap ---------- */

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static size_t rnd_size(void)
{
	switch (rnd() % 8) {
	case 0: return rnd() % 16;
	case 1: case 2: case 3: return rnd() % 128;
	case 4: case 5: return 128 + rnd() % 897;
	case 6: return 1025 + rnd() % 8000;
	default: return rnd() % 300000 + 1;
	}
}

static void test_random_no_overlap(void)
{
	enum { N = 3000, ROUNDS = 6 };
	static unsigned char *p[N];
	static size_t sz[N];
	static unsigned seed[N];
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < N; i++) {
			if (p[i] && rnd() % 2 == 0)
				continue;
			if (p[i]) {
				size_t bad = check_pattern(p[i], sz[i], seed[i]);
				CHECK(bad == (size_t)-1, "block %d (%zu bytes) corrupted at %zu", i, sz[i], bad);
				if (rnd() % 3 == 0) { /* realloc instead of free */
					size_t n = rnd_size();
					unsigned char *q = realloc(p[i], n);
					CHECK(q != NULL || n == 0, "realloc(%zu)", n);
					bad = check_pattern(q, n < sz[i] ? n : sz[i], seed[i]);
					CHECK(bad == (size_t)-1, "realloc %zu -> %zu lost byte %zu", sz[i], n, bad);
					p[i] = q;
					sz[i] = n;
					fill_pattern(q, n, seed[i]);
					continue;
				}
				free(p[i]);
			}
			sz[i] = rnd_size();
			seed[i] = rnd();
			p[i] = malloc(sz[i]);
			CHECK(p[i] != NULL, "malloc(%zu)", sz[i]);
			CHECK(aligned(p[i], 16), "misaligned");
			fill_pattern(p[i], sz[i], seed[i]);
		}
	}
	for (int i = 0; i < N; i++) {
		if (!p[i])
			continue;
		size_t bad = check_pattern(p[i], sz[i], seed[i]);
		CHECK(bad == (size_t)-1, "block %d (%zu bytes) corrupted at %zu", i, sz[i], bad);
		free(p[i]);
	}
}

/* ---------- invalid pointers: reported, never a crash ---------- */

static void still_usable(unsigned char *p, size_t n, unsigned seed)
{
	size_t bad = check_pattern(p, n, seed);
	CHECK(bad == (size_t)-1, "valid block changed by an invalid free (byte %zu)", bad);
	unsigned char *q = realloc(p, n * 3);
	CHECK(q != NULL, "realloc of the valid block failed");
	CHECK(check_pattern(q, n, seed) == (size_t)-1, "realloc of the valid block lost content");
	free(q);
	/* and the allocator as a whole still works */
	void *a[100];
	for (int i = 0; i < 100; i++) {
		a[i] = malloc((size_t)i * 13);
		CHECK(a[i] != NULL, "malloc after invalid free");
		memset(a[i], i, (size_t)i * 13);
	}
	for (int i = 0; i < 100; i++)
		free(a[i]);
}

static void test_invalid_free_interior(void)
{
	REQUIRE_FTMALLOC("glibc aborts on an invalid free");
	unsigned char *p = malloc(42);
	CHECK(p != NULL, "malloc(42)");
	fill_pattern(p, 42, 21);
	free(launder(p + 5));
	void *q = realloc(launder(p + 5), 10);
	CHECK(q == NULL, "realloc(p + 5, 10) returned %p, want NULL", q);
	still_usable(p, 42, 21);
}

static void test_invalid_free_interior_aligned(void)
{
	REQUIRE_FTMALLOC("glibc aborts on an invalid free");
	/* an interior pointer that is 16-byte aligned, in TINY, SMALL and LARGE blocks */
	size_t sizes[] = { 100, 1000, 50000 };
	for (int i = 0; i < 3; i++) {
		unsigned char *p = malloc(sizes[i]);
		CHECK(p != NULL, "malloc(%zu)", sizes[i]);
		fill_pattern(p, sizes[i], 22);
		free(launder(p + 16));
		free(launder(p + 64));
		void *q = realloc(launder(p + 32), 10);
		CHECK(q == NULL, "realloc(p + 32, 10) on a %zu-byte block returned %p, want NULL", sizes[i], q);
		still_usable(p, sizes[i], 22);
	}
}

static void test_invalid_free_stack(void)
{
	REQUIRE_FTMALLOC("glibc aborts on an invalid free");
	unsigned char *p = malloc(42);
	fill_pattern(p, 42, 23);
	char local[64] __attribute__((aligned(16)));
	memset(local, 0, sizeof local);
	free(launder(local));
	free(launder(local + 16));
	void *q = realloc(launder(local), 100);
	CHECK(q == NULL, "realloc(stack address) returned %p, want NULL", q);
	still_usable(p, 42, 23);
}

static char global_buf[256] __attribute__((aligned(64)));

static void test_invalid_free_global(void)
{
	REQUIRE_FTMALLOC("glibc aborts on an invalid free");
	unsigned char *p = malloc(42);
	fill_pattern(p, 42, 24);
	free(launder(global_buf));
	free(launder(global_buf + 16));
	free(launder((void *)&rnd_state));
	void *q = realloc(launder(global_buf), 100);
	CHECK(q == NULL, "realloc(global address) returned %p, want NULL", q);
	still_usable(p, 42, 24);
}

static void test_invalid_free_misaligned(void)
{
	REQUIRE_FTMALLOC("glibc aborts on an invalid free");
	unsigned char *p = malloc(42);
	fill_pattern(p, 42, 25);
	unsigned char *big = malloc(5000);
	fill_pattern(big, 5000, 26);
	free(launder(p + 1));
	free(launder(p + 3));
	free(launder(p - 1));
	free(launder(big + 1));
	free(launder(big - 8));
	free(launder((void *)(uintptr_t)0x7));
	void *q = realloc(launder(p + 1), 10);
	CHECK(q == NULL, "realloc(p + 1, 10) returned %p, want NULL", q);
	still_usable(big, 5000, 26);
	still_usable(p, 42, 25);
}

static const struct unit_test tests[] = {
	T("align16-all-sizes", test_align16),
	T("posix_memalign-alignments", test_posix_memalign),
	T("aligned_alloc-alignments", test_aligned_alloc),
	T("memalign-alignments", test_memalign),
	T("valloc-pvalloc", test_valloc_pvalloc),
	T("posix_memalign-einval", test_posix_memalign_einval),
	T("memalign-nonpow2-like-glibc", test_memalign_nonpow2),
	T("aligned_alloc-nonpow2-like-glibc", test_aligned_alloc_nonpow2),
	T("malloc0-unique", test_malloc0_unique),
	T("free-null", test_free_null),
	T("realloc-null-is-malloc", test_realloc_null),
	T("realloc-zero-frees", test_realloc_zero_frees),
	T("realloc-shrink-inplace-tiny", test_realloc_shrink_tiny),
	T("realloc-shrink-inplace-small", test_realloc_shrink_small),
	T("realloc-shrink-inplace-large", test_realloc_shrink_large),
	T("realloc-grow-across-classes", test_realloc_grow_classes),
	T("realloc-shrink-across-classes", test_realloc_shrink_classes),
	T("realloc-grow-small-steps", test_realloc_grow_steps),
	T("reallocarray-basic", test_reallocarray_basic),
	T("overflow-calloc", test_overflow_calloc),
	T("overflow-reallocarray", test_overflow_reallocarray),
	T("overflow-malloc-size_max", test_overflow_malloc_max),
	T("overflow-malloc-size_max-4096", test_overflow_malloc_max_4096),
	T("overflow-memalign-family", test_overflow_posix_memalign),
	T("overflow-realloc", test_overflow_realloc),
	T("calloc-zero-reuse-tiny", test_calloc_zero_tiny),
	T("calloc-zero-reuse-small", test_calloc_zero_small),
	T("calloc-zero-reuse-large", test_calloc_zero_large),
	T("free-preserves-errno", test_free_preserves_errno),
	T("malloc_usable_size", test_usable_size),
	T("random-blocks-no-overlap", test_random_no_overlap),
	T("invalid-free-interior", test_invalid_free_interior),
	T("invalid-free-interior-aligned", test_invalid_free_interior_aligned),
	T("invalid-free-stack", test_invalid_free_stack),
	T("invalid-free-global", test_invalid_free_global),
	T("invalid-free-misaligned", test_invalid_free_misaligned),
};

TEST_MAIN(tests)
