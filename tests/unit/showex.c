/*
 * show_alloc_mem_ex(): linked with -lft_malloc, output captured from fd 1
 * and checked: every block listed with its state, canary status, thread and
 * allocation stack; errors so far; nothing it does counts as an error.
 */
#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE char *alloc_here_tiny(void) { return malloc(13); }
static NOINLINE char *alloc_here_small(void) { return malloc(1000); }
static NOINLINE char *alloc_here_freed(void) { return malloc(64); }

/* Run show_alloc_mem_ex() with stdout in a file; return its text. */
static char *capture(void)
{
	static char text[1 << 20];
	char path[] = "/tmp/ftshowexXXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	fflush(stdout);
	int saved = dup(1);
	dup2(fd, 1);
	show_alloc_mem_ex();
	dup2(saved, 1);
	close(saved);
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	CHECK(n > 0, "show_alloc_mem_ex printed nothing");
	text[n] = '\0';
	return text;
}

/* The listing of the block at p: from its line to the next block line. */
static char *block_text(char *all, void *p, char *out, size_t cap)
{
	char head[64];
	snprintf(head, sizeof(head), "0x%lX - ", (unsigned long)(uintptr_t)p);
	char *s = strstr(all, head);
	if (!s)
		return NULL;
	char *e = strstr(s + 1, "\n0x");
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

static void test_states(void)
{
	REQUIRE_FTMALLOC("show_alloc_mem_ex");
	char *tiny = alloc_here_tiny(), *small = alloc_here_small(), *gone = alloc_here_freed();
	char bt[4096], bs[4096], bg[4096];
	memset(tiny, 'a', 13);
	memset(small, 'b', 1000);
	free(gone);
	volatile char *v = tiny;
	char kept = v[13];
	v[13] = (char)~kept;  /* damage the canary right after the block */
	char *out = capture();
	v[13] = kept;          /* and mend it: no report at exit */

	CHECK(block_text(out, tiny, bt, sizeof bt), "the 13-byte block is not listed:\n%.600s", out);
	CHECK(strstr(bt, ": 13 bytes"), "no size on the 13-byte block's line: %.300s", bt);
	CHECK(strstr(bt, "live"), "13-byte block not shown live: %.300s", bt);
	CHECK(strstr(bt, "DAMAGED at offset 13"), "damaged canary not shown: %.300s", bt);
	CHECK(strstr(bt, "thread T"), "no thread: %.300s", bt);
	CHECK(strstr(bt, "alloc_here_tiny"), "allocation stack does not name alloc_here_tiny: %.600s", bt);
	CHECK(strstr(bt, "61 61 61"), "no hexdump of its bytes: %.300s", bt);
	CHECK(block_text(out, small, bs, sizeof bs), "the 1000-byte block is not listed");
	CHECK(strstr(bs, "canary intact"), "1000-byte block's canary not intact: %.300s", bs);
	CHECK(strstr(bs, "alloc_here_small"), "allocation stack does not name alloc_here_small");
	CHECK(block_text(out, gone, bg, sizeof bg), "the freed block is not listed (quarantined)");
	CHECK(strstr(bg, "quarantined"), "freed block not shown quarantined: %.300s", bg);
	CHECK(strstr(out, "Errors so far:"), "no errors line");
	CHECK(strstr(out, "SMALL : 0x") && strstr(out, "TINY : 0x"), "zone headers missing");
	CHECK(strstr(out, "slots in use"), "no zone occupancy");
	free(tiny);
	free(small);
}

static void test_not_an_error(void)
{
	REQUIRE_FTMALLOC("show_alloc_mem_ex");
	char *p = malloc(100);
	char *out = capture();
	CHECK(strstr(out, "Errors so far: none"), "a clean heap shows errors: %.400s", strstr(out, "Errors") ? strstr(out, "Errors") : out);
	out = capture();
	CHECK(strstr(out, "Errors so far: none"), "show_alloc_mem_ex counted itself as an error");
	free(p);
}

static const struct unit_test tests[] = {
	T("show_alloc_mem_ex-states", test_states),
	T("show_alloc_mem_ex-no-error", test_not_an_error),
};
TEST_MAIN(tests)
