#!/usr/bin/perl
# Generates C sources for the gcc and make tests of the programs suite.
#   gen_c.pl single    -> one program on stdout (~3000 lines)
#   gen_c.pl project   -> common.h, mod*.c, main.c and a Makefile in the cwd
# The programs allocate a lot (lists, realloc growth, strdup, qsort, threads,
# fork) and print deterministic checksums.
use strict;
use warnings;

my $mode = shift // 'single';
my $seed = 777;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed >> 8; }

# One generated computational function: loops, switch, struct, arrays.
sub func {
	my ($name) = @_;
	my $k1 = 3 + rnd() % 17;
	my $k2 = 5 + rnd() % 31;
	my $n = 50 + rnd() % 200;
	my @cases = map { sprintf "\t\tcase %d: acc = acc * %d + %d; break;\n", $_, 1 + rnd() % 13, rnd() % 1000 } 0 .. 7;
	return <<"EOF";
unsigned long $name(unsigned long seed)
{
	struct pt { long x, y; char tag[8]; } pts[16];
	unsigned long acc = seed;
	int i, j;
	for (i = 0; i < 16; i++) {
		pts[i].x = (long)(seed % ($k1 + i)) - i;
		pts[i].y = (long)(seed >> (i % 7)) % $k2;
		snprintf(pts[i].tag, sizeof pts[i].tag, "t%d", i * $k1 % 97);
	}
	for (i = 0; i < $n; i++) {
		switch ((acc + (unsigned long)i) % 8) {
@cases\t\t}
		for (j = 0; j < 16; j++)
			acc ^= (unsigned long)(pts[j].x * $k1 + pts[j].y * i) + (unsigned char)pts[j].tag[1];
		acc = (acc << 3) | (acc >> 61);
	}
	return acc;
}
EOF
}

# The allocation-heavy part shared by both programs.
my $alloc_code = <<'EOF';
struct node { struct node *next; char *s; size_t n; };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned long hash_str(const char *s, unsigned long h)
{
	while (*s)
		h = h * 131 + (unsigned char)*s++;
	return h;
}

/* Lists of strdup'd strings, realloc-grown buffers, qsort, frees in mixed order. */
unsigned long alloc_work(unsigned long seed, int rounds)
{
	unsigned long h = seed;
	for (int r = 0; r < rounds; r++) {
		struct node *head = NULL;
		size_t cap = 4, len = 0;
		char **arr = malloc(cap * sizeof *arr);
		char buf[96];
		for (int i = 0; i < 3000; i++) {
			snprintf(buf, sizeof buf, "item-%lu-%d-%d", (seed * 2654435761u + (unsigned long)i * 40503u) % 100003u, r, i);
			struct node *nd = malloc(sizeof *nd);
			nd->s = strdup(buf);
			nd->n = strlen(buf) * (size_t)(1 + i % 37);
			nd->next = head;
			head = nd;
			if (len == cap) {
				cap *= 2;
				arr = realloc(arr, cap * sizeof *arr);
			}
			arr[len++] = nd->s;
		}
		qsort(arr, len, sizeof *arr, cmp_str);
		for (size_t i = 0; i < len; i += 97)
			h = hash_str(arr[i], h);
		char *big = NULL;
		size_t bl = 0;
		int k = 0;
		for (struct node *nd = head; nd; nd = nd->next, k++) {
			if (k % 5 == 0) {
				big = realloc(big, bl + nd->n + 1);
				memset(big + bl, 'a' + (int)(nd->n % 26), nd->n);
				bl += nd->n;
				big[bl] = 0;
			}
		}
		h = h * 31 + bl + (unsigned long)(unsigned char)big[bl / 2];
		free(big);
		while (head) {
			struct node *nx = head->next;
			free(head->s);
			free(head);
			head = nx;
		}
		free(arr);
		void *bigs[8];
		for (int i = 0; i < 8; i++) {
			bigs[i] = calloc(1, (size_t)(200000 + i * 70000));
			h += ((unsigned char *)bigs[i])[i * 1000];
		}
		for (int i = 7; i >= 0; i -= 2)
			free(bigs[i]);
		for (int i = 0; i < 8; i += 2)
			free(bigs[i]);
	}
	return h;
}

/* glibc functions that allocate internally (open_memstream, getline, asprintf,
 * strdup) and the aligned/usable-size part of the malloc family. */
unsigned long libc_work(unsigned long seed)
{
	unsigned long h = seed;
	char *mbuf = NULL;
	size_t msz = 0;
	FILE *ms = open_memstream(&mbuf, &msz);
	for (unsigned long i = 0; i < 20000; i++)
		fprintf(ms, "%lu%c", (seed + i) * 2654435761u % 99991u, i % 16 == 15 ? '\n' : ',');
	fclose(ms);
	h = hash_str(mbuf, h) + msz;
	FILE *in = fmemopen(mbuf, msz, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int nl = 0;
	while ((n = getline(&line, &cap, in)) > 0) {
		char *cp;
		if (asprintf(&cp, "%d:%.*s", nl++, (int)(n > 20 ? 20 : n), line) < 0)
			abort();
		h = hash_str(cp, h);
		free(cp);
	}
	free(line);
	fclose(in);
	free(mbuf);
	int bad = 0, count = 0;
	for (size_t a = 16; a <= 65536; a *= 2) {
		for (size_t sz = 1; sz < 300000; sz = sz * 3 + 5) {
			void *p1 = NULL, *p2, *p3, *p4;
			if (posix_memalign(&p1, a, sz) != 0)
				abort();
			p2 = aligned_alloc(a, (sz + a - 1) / a * a);
			p3 = memalign(a, sz);
			p4 = valloc(sz);
			bad += ((uintptr_t)p1 % a != 0) + ((uintptr_t)p2 % a != 0) + ((uintptr_t)p3 % a != 0) + ((uintptr_t)p4 % 4096 != 0);
			bad += (malloc_usable_size(p1) < sz) + (malloc_usable_size(p3) < sz) + (malloc_usable_size(p4) < sz);
			memset(p1, 1, sz);
			memset(p2, 2, (sz + a - 1) / a * a);
			memset(p3, 3, sz);
			memset(p4, 4, sz);
			free(p3);
			free(p1);
			free(p4);
			free(p2);
			count += 4;
		}
	}
	unsigned *arr = NULL;
	for (size_t k = 1; k <= 4096; k *= 2) {
		arr = reallocarray(arr, k, sizeof *arr);
		for (size_t i = k / 2; i < k; i++)
			arr[i] = (unsigned)(i * 7);
	}
	for (size_t k = 4096; k > 1; k /= 4) {
		arr = realloc(arr, k * sizeof *arr);
		for (size_t i = 0; i < k; i++)
			bad += arr[i] != (unsigned)(i * 7);
	}
	free(arr);
	unsigned char *z = calloc(100000, 3);
	for (size_t i = 0; i < 300000; i += 997)
		bad += z[i] != 0;
	free(z);
	free(NULL);
	char *e = realloc(NULL, 10);
	strcpy(e, "realloc0");
	h = hash_str(e, h);
	free(e);
	printf("libc %lu aligned %d bad %d\n", h, count, bad);
	return h;
}

struct targ { unsigned long seed, out; };

static void *thread_main(void *p)
{
	struct targ *t = p;
	t->out = alloc_work(t->seed, 6);
	return NULL;
}

/* 4 threads allocating concurrently, a fork while they run (the child allocates
 * and exits), then the results in order. */
unsigned long thread_work(unsigned long seed)
{
	pthread_t th[4];
	struct targ ta[4];
	unsigned long h = 0;
	for (int i = 0; i < 4; i++) {
		ta[i].seed = seed + (unsigned long)i;
		pthread_create(&th[i], NULL, thread_main, &ta[i]);
	}
	for (int f = 0; f < 3; f++) {
		pid_t pid = fork();
		if (pid == 0) {
			unsigned long c = alloc_work(seed * 7 + (unsigned long)f, 1);
			char *s = malloc(64);
			snprintf(s, 64, "%lu", c);
			_exit((int)(hash_str(s, 0) % 200));
		}
		int st = 0;
		waitpid(pid, &st, 0);
		h = h * 1000003 + (WIFEXITED(st) ? (unsigned long)WEXITSTATUS(st) : 999);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		h = h * 1000003 + ta[i].out;
	}
	return h;
}
EOF

my $headers = "#define _GNU_SOURCE\n#include <stdio.h>\n#include <stdlib.h>\n#include <stdint.h>\n#include <malloc.h>\n#include <string.h>\n#include <pthread.h>\n#include <unistd.h>\n#include <sys/wait.h>\n";

if ($mode eq 'single') {
	print $headers, "\n", $alloc_code, "\n";
	my @names = map { "gen_f$_" } 0 .. 59;
	print func($_), "\n" for @names;
	print "typedef unsigned long (*fn_t)(unsigned long);\nstatic const fn_t table[] = {\n";
	print "\t$_,\n" for @names;
	print "};\n\nint main(void)\n{\n\tunsigned long h = 1;\n";
	print "\tfor (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {\n";
	print "\t\th = table[i](h + i);\n\t\tif (i % 10 == 9)\n\t\t\tprintf(\"f%zu %lu\\n\", i, h);\n\t}\n";
	print "\tprintf(\"alloc %lu\\n\", alloc_work(h, 5));\n";
	print "\tlibc_work(h);\n";
	print "\tprintf(\"threads %lu\\n\", thread_work(h));\n";
	print "\treturn 0;\n}\n";
} elsif ($mode eq 'project') {
	my $nmod = 10;
	open my $h, '>', 'common.h' or die $!;
	print $h "#ifndef COMMON_H\n#define COMMON_H\n$headers";
	print $h "unsigned long alloc_work(unsigned long seed, int rounds);\nunsigned long thread_work(unsigned long seed);\nunsigned long libc_work(unsigned long seed);\n";
	for my $m (1 .. $nmod) {
		print $h "unsigned long mod${m}_f$_(unsigned long);\n" for 0 .. 9;
		print $h "unsigned long mod${m}_all(unsigned long);\n";
	}
	print $h "#endif\n";
	close $h;
	open my $a, '>', 'alloc.c' or die $!;
	print $a "#include \"common.h\"\n\n$alloc_code";
	close $a;
	for my $m (1 .. $nmod) {
		open my $f, '>', "mod$m.c" or die $!;
		print $f "#include \"common.h\"\n\n";
		print $f func("mod${m}_f$_"), "\n" for 0 .. 9;
		print $f "unsigned long mod${m}_all(unsigned long s)\n{\n";
		print $f "\ts = mod${m}_f$_(s);\n" for 0 .. 9;
		print $f "\treturn s;\n}\n";
		close $f;
	}
	open my $mn, '>', 'main.c' or die $!;
	print $mn "#include \"common.h\"\n\nint main(void)\n{\n\tunsigned long h = 42;\n";
	print $mn "\th = mod${_}_all(h);\n\tprintf(\"mod$_ %lu\\n\", h);\n" for 1 .. $nmod;
	print $mn "\tlibc_work(h);\n\tprintf(\"alloc %lu\\n\", alloc_work(h, 3));\n\tprintf(\"threads %lu\\n\", thread_work(h));\n\treturn 0;\n}\n";
	close $mn;
	open my $mk, '>', 'Makefile' or die $!;
	my $mods = join ' ', map { "mod$_.o" } 1 .. $nmod;
	print $mk <<"EOF";
CC = gcc
CFLAGS = -O1 -Wall -pthread -MMD -MP
LIBOBJS = $mods alloc.o

all: app

app: main.o libmods.a
\t\$(CC) -pthread -o \$@ main.o -L. -lmods

libmods.a: \$(LIBOBJS)
\tar rcs \$@ \$^

%.o: %.c
\t\$(CC) \$(CFLAGS) -c -o \$@ \$<

check: app
\t./app > run.out
\t\@sort run.out | md5sum | cut -c1-32
\t\@wc -l < run.out

clean:
\trm -f *.o *.d *.a app run.out

-include \$(LIBOBJS:.o=.d) main.d
.PHONY: all check clean
EOF
	close $mk;
} else {
	die "usage: $0 single|project\n";
}
