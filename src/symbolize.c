/*
 * symbolize.c - what a return address means: its module, the function from
 * the ELF symbol tables, and file:line from the DWARF line table
 * (.debug_line, versions 2 to 5), all read in-process.
 *
 * Runs only when a report prints, possibly in a signal handler, with any
 * allocator lock held: it never calls malloc, takes no lock and starts no
 * process. Module files are mapped read-only (mmap of the file, the one
 * mapping not made through os.c) and kept in a fixed table whose slots are
 * claimed with a compare-and-swap; a slot, once ready, never changes, so the
 * strings handed out stay valid. Every read of a file is bounds-checked: a
 * truncated or odd file gives fewer names, never a fault.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYM_NMODULES 64
#define SYM_PATH 1024
#define SYM_ELFCLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)

/* DWARF constants (no system header has them). */
enum {
	DW_LNS_copy = 1, DW_LNS_advance_pc, DW_LNS_advance_line, DW_LNS_set_file,
	DW_LNS_set_column, DW_LNS_negate_stmt, DW_LNS_set_basic_block,
	DW_LNS_const_add_pc, DW_LNS_fixed_advance_pc,
	DW_LNE_end_sequence = 1, DW_LNE_set_address,
	DW_LNCT_path = 1, DW_LNCT_directory_index,
	DW_FORM_block2 = 0x03, DW_FORM_block4, DW_FORM_data2, DW_FORM_data4,
	DW_FORM_data8, DW_FORM_string, DW_FORM_block, DW_FORM_block1,
	DW_FORM_data1, DW_FORM_flag, DW_FORM_sdata, DW_FORM_strp, DW_FORM_udata,
	DW_FORM_sec_offset = 0x17, DW_FORM_flag_present = 0x19, DW_FORM_strx = 0x1a,
	DW_FORM_data16 = 0x1e, DW_FORM_line_strp = 0x1f,
	DW_FORM_strx1 = 0x25, DW_FORM_strx2, DW_FORM_strx3, DW_FORM_strx4,
};

/* A section of a mapped file; len 0 when absent. */
struct sect {
	const uint8_t *p;
	size_t len;
};

/* A function symbol, in a module's index sorted by address. */
struct fn_ent {
	uintptr_t value, size;    /* link address, bytes (0: unknown) */
	const char *name;         /* in the mapped file's string table */
	uint16_t shndx;
	uint8_t rank;             /* binding: 2 global, 1 weak, 0 local */
};

/* The address range covered by one line program of .debug_line. */
struct cu_range {
	size_t off;
	uintptr_t lo, hi;
};

struct sym_module {
	int state;                /* 0 free, 1 being filled, 2 ready (atomic) */
	bool is_main;             /* the program itself (no name from the loader) */
	uintptr_t base;           /* load bias: runtime address - link address */
	const uint8_t *map;       /* the whole file, NULL when it could not be read */
	size_t len;
	const ElfW(Shdr) *sh;     /* section headers, inside map */
	unsigned shnum;
	struct sect symtab, symstr, dynsym, dynstr;
	struct sect line, line_str, str;
	int fn_state;             /* function index: 0 none (or no memory when last tried), 1 building, 2 ready */
	struct fn_ent *fns;
	size_t nfns;
	int cu_state;             /* .debug_line index: the same states */
	struct cu_range *cus;
	size_t ncus;
	char path[SYM_PATH];
};

static struct sym_module mods[SYM_NMODULES];

/* ---- which module ---- */

struct mod_find {
	uintptr_t pc;
	uintptr_t base;
	const char *name;
	bool found, is_main;
	unsigned seen;
};

static int mod_find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mod_find *mf = arg;

	(void)size;
	mf->seen++;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && mf->pc >= lo && mf->pc < lo + ph->p_memsz) {
			mf->base = info->dlpi_addr;
			mf->name = info->dlpi_name ? info->dlpi_name : "";
			mf->is_main = mf->seen == 1 && mf->name[0] == '\0';
			mf->found = true;
			return 1;
		}
	}
	return 0;
}

/* ---- reading the ELF file ---- */

static struct sect sect_of(const struct sym_module *m, const ElfW(Shdr) *sh)
{
	struct sect s = { NULL, 0 };

	if (sh->sh_type == SHT_NOBITS || (sh->sh_flags & SHF_COMPRESSED) ||
	    sh->sh_offset > m->len || sh->sh_size > m->len - sh->sh_offset)
		return s;
	s.p = m->map + sh->sh_offset;
	s.len = sh->sh_size;
	return s;
}

/* The NUL-terminated string at off in s, or NULL. */
static const char *str_at(struct sect s, uint64_t off)
{
	if (off >= s.len || !memchr(s.p + off, '\0', s.len - off))
		return NULL;
	return (const char *)s.p + off;
}

/* A symbol table and its string table, when both are sound. */
static void elf_symtab(const struct sym_module *m, const ElfW(Shdr) *sh, struct sect *tab, struct sect *str)
{
	*tab = sect_of(m, sh);
	if (sh->sh_link >= m->shnum || ((uintptr_t)tab->p % _Alignof(ElfW(Sym))) != 0) {
		tab->len = 0;
		return;
	}
	*str = sect_of(m, &m->sh[sh->sh_link]);
}

static void elf_sections(struct sym_module *m)
{
	const ElfW(Ehdr) *eh = (const void *)m->map;

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != SYM_ELFCLASS ||
	    eh->e_shentsize != sizeof(ElfW(Shdr)) || eh->e_shoff > m->len ||
	    eh->e_shnum > (m->len - eh->e_shoff) / sizeof(ElfW(Shdr)) ||
	    eh->e_shoff % _Alignof(ElfW(Shdr)) != 0 || eh->e_shstrndx >= eh->e_shnum)
		return;
	m->sh = (const void *)(m->map + eh->e_shoff);
	m->shnum = eh->e_shnum;
	struct sect names = sect_of(m, &m->sh[eh->e_shstrndx]);
	bool dwarf_ok = eh->e_ident[EI_DATA] == ELFDATA2LSB;  /* the reader below is little-endian */

	for (unsigned i = 0; i < m->shnum; i++) {
		const ElfW(Shdr) *sh = &m->sh[i];
		const char *name = str_at(names, sh->sh_name);
		if (sh->sh_type == SHT_SYMTAB)
			elf_symtab(m, sh, &m->symtab, &m->symstr);
		else if (sh->sh_type == SHT_DYNSYM)
			elf_symtab(m, sh, &m->dynsym, &m->dynstr);
		else if (!name || !dwarf_ok)
			continue;
		else if (strcmp(name, ".debug_line") == 0)
			m->line = sect_of(m, sh);
		else if (strcmp(name, ".debug_line_str") == 0)
			m->line_str = sect_of(m, sh);
		else if (strcmp(name, ".debug_str") == 0)
			m->str = sect_of(m, sh);
	}
}

/* A failure that may go away: no memory or address space, no descriptor. */
static bool transient(int err)
{
	return err == ENOMEM || err == EMFILE || err == ENFILE || err == EAGAIN || err == EINTR;
}

/* Map m's file; false when it could not be for a reason that may pass (the
 * module is then tried again by a later lookup). */
static bool mod_load(struct sym_module *m)
{
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return !transient(errno);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
		close(fd);
		return true;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int err = errno;
	close(fd);
	if (p == MAP_FAILED)
		return !transient(err);
	m->map = p;
	m->len = (size_t)st.st_size;
	elf_sections(m);
	return true;
}

static bool mod_is(const struct sym_module *m, const struct mod_find *mf)
{
	if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != 2 || m->base != mf->base)
		return false;
	return mf->is_main ? m->is_main : !m->is_main && strcmp(m->path, mf->name) == 0;
}

/* The cached module mf found, loaded now if need be; NULL when the table is
 * full or its path does not fit. */
static struct sym_module *mod_get(const struct mod_find *mf)
{
	for (unsigned i = 0; i < SYM_NMODULES; i++) {
		if (mod_is(&mods[i], mf))
			return &mods[i];
	}
	if (!mf->is_main && strlen(mf->name) >= SYM_PATH)
		return NULL;
	for (unsigned i = 0; i < SYM_NMODULES; i++) {
		struct sym_module *m = &mods[i];
		int expect = 0;
		if (!__atomic_compare_exchange_n(&m->state, &expect, 1, false,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		m->base = mf->base;
		m->is_main = mf->is_main;
		if (mf->is_main) {
			ssize_t n = readlink("/proc/self/exe", m->path, SYM_PATH - 1);
			m->path[n > 0 ? n : 0] = '\0';
		} else {
			memcpy(m->path, mf->name, strlen(mf->name) + 1);
		}
		if (m->path[0] && !mod_load(m)) {
			/* Out of memory or descriptors now: the slot is given back,
			 * so that a report made later has names again. */
			__atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
			return NULL;
		}
		__atomic_store_n(&m->state, 2, __ATOMIC_RELEASE);
		return m;
	}
	return NULL;
}

/* ---- functions ---- */

static bool is_func(const ElfW(Sym) *s)
{
	unsigned type = ELF64_ST_TYPE(s->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF;
}

static int bind_rank(const ElfW(Sym) *s)
{
	unsigned b = ELF64_ST_BIND(s->st_info);

	return b == STB_GLOBAL ? 2 : b == STB_WEAK ? 1 : 0;
}

/* Does section shndx of m hold addr (link address)? */
static bool sect_holds(const struct sym_module *m, unsigned shndx, uintptr_t addr)
{
	if (shndx == SHN_UNDEF || shndx >= m->shnum)
		return false;
	const ElfW(Shdr) *sh = &m->sh[shndx];
	return addr >= sh->sh_addr && addr - sh->sh_addr < sh->sh_size;
}

/* The function symbol of tab holding addr: the one whose [value, value+size)
 * contains it, else the closest symbol before it when that one is sizeless
 * (hand-written assembly) and in the same section. */
static const ElfW(Sym) *sym_find(const struct sym_module *m, struct sect tab, uintptr_t addr)
{
	const ElfW(Sym) *syms = (const void *)tab.p;
	size_t n = tab.len / sizeof(ElfW(Sym));
	const ElfW(Sym) *best = NULL, *near = NULL;

	for (size_t i = 0; i < n; i++) {
		const ElfW(Sym) *s = &syms[i];
		if (!is_func(s) || s->st_value > addr)
			continue;
		if (s->st_size != 0 && addr - s->st_value < s->st_size &&
		    (!best || s->st_value > best->st_value ||
		     (s->st_value == best->st_value && bind_rank(s) > bind_rank(best))))
			best = s;
		if (!near || s->st_value > near->st_value || (s->st_value == near->st_value && s->st_size == 0))
			near = s;
	}
	if (!best && near && near->st_size == 0 && sect_holds(m, near->st_shndx, addr))
		best = near;
	return best;
}

/* Function symbols of a table into e, or only counted when e is NULL. */
static size_t fn_collect(struct sect tab, struct sect str, struct fn_ent *e)
{
	const ElfW(Sym) *syms = (const void *)tab.p;
	size_t n = tab.len / sizeof(ElfW(Sym)), k = 0;

	for (size_t i = 0; i < n; i++) {
		const ElfW(Sym) *s = &syms[i];
		const char *name = is_func(s) ? str_at(str, s->st_name) : NULL;
		if (!name || !name[0])
			continue;
		if (e)
			e[k] = (struct fn_ent){ s->st_value, s->st_size, name, (uint16_t)s->st_shndx,
			    (uint8_t)bind_rank(s) };
		k++;
	}
	return k;
}

static bool fn_before(const struct fn_ent *a, const struct fn_ent *b)
{
	return a->value != b->value ? a->value < b->value : a->rank < b->rank;
}

static void fn_sift(struct fn_ent *e, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && fn_before(&e[child], &e[child + 1]))
			child++;
		if (!fn_before(&e[root], &e[child]))
			return;
		struct fn_ent t = e[root];
		e[root] = e[child];
		e[child] = t;
	}
}

/* Heapsort: no memory, no recursion. */
static void fn_sort(struct fn_ent *e, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		fn_sift(e, i, n);
	for (size_t end = n; end-- > 1;) {
		struct fn_ent t = e[0];
		e[0] = e[end];
		e[end] = t;
		fn_sift(e, 0, end);
	}
}

/* The function symbols (.symtab's, or .dynsym's when there are none) sorted
 * by address, built on first use. False when it cannot be (yet). */
static bool fn_index_ready(struct sym_module *m)
{
	int expect = 0;

	if (__atomic_load_n(&m->fn_state, __ATOMIC_ACQUIRE) == 2)
		return true;
	if (!__atomic_compare_exchange_n(&m->fn_state, &expect, 1, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	struct sect tab = m->symtab, str = m->symstr;
	size_t n = fn_collect(tab, str, NULL);
	if (n == 0) {
		tab = m->dynsym;
		str = m->dynstr;
		n = fn_collect(tab, str, NULL);
	}
	size_t bytes = ft_align_up((n ? n : 1) * sizeof(struct fn_ent), os_page);
	struct fn_ent *e = os_map(bytes, true);
	if (!e) {  /* out of memory: built by a later lookup */
		__atomic_store_n(&m->fn_state, 0, __ATOMIC_RELEASE);
		return false;
	}
	os_name(e, bytes, "ftmalloc:symbols");
	fn_collect(tab, str, e);
	fn_sort(e, n);
	m->fns = e;
	m->nfns = n;
	__atomic_store_n(&m->fn_state, 2, __ATOMIC_RELEASE);
	return true;
}

/* The indexed symbol holding addr, with sym_find's rules (a symbol spanning
 * more than 16 later ones is missed: fine for functions). */
static const struct fn_ent *fn_lookup(const struct sym_module *m, uintptr_t addr)
{
	size_t lo = 0, hi = m->nfns;

	while (lo < hi) {  /* lo: the first entry above addr */
		size_t mid = lo + (hi - lo) / 2;
		if (m->fns[mid].value <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	for (size_t j = lo, k = 0; j-- > 0 && k < 16; k++) {
		const struct fn_ent *e = &m->fns[j];
		if (e->size != 0 && addr - e->value < e->size)
			return e;
	}
	const struct fn_ent *top = &m->fns[lo - 1];
	return top->size == 0 && sect_holds(m, top->shndx, addr) ? top : NULL;
}

/* Name and link address of the function holding addr: .symtab, then .dynsym. */
static const char *func_find(struct sym_module *m, uintptr_t addr, uintptr_t *value)
{
	if (fn_index_ready(m)) {
		const struct fn_ent *e = fn_lookup(m, addr);
		if (!e)
			return NULL;
		*value = e->value;
		return e->name;
	}
	/* the index is being built by another thread, or could not be */
	const ElfW(Sym) *s = sym_find(m, m->symtab, addr);
	struct sect str = m->symstr;

	if (!s) {
		s = sym_find(m, m->dynsym, addr);
		str = m->dynstr;
	}
	const char *name = s ? str_at(str, s->st_name) : NULL;
	if (!name || !name[0])
		return NULL;
	*value = s->st_value;
	return name;
}

/* ---- DWARF reading ---- */

/* A bounded cursor; a read past the end clears ok and yields 0. */
struct rd {
	const uint8_t *p, *end;
	bool ok;
};

static uint64_t rd_fixed(struct rd *r, unsigned n)
{
	uint64_t v = 0;

	if (!r->ok || n > 8 || (size_t)(r->end - r->p) < n) {
		r->ok = false;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static void rd_skip(struct rd *r, uint64_t n)
{
	if (!r->ok || (uint64_t)(r->end - r->p) < n)
		r->ok = false;
	else
		r->p += n;
}

static uint64_t rd_leb(struct rd *r, bool is_signed)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	do {
		if (!r->ok || r->p >= r->end) {
			r->ok = false;
			return 0;
		}
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (is_signed && shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return v;
}

static uint64_t rd_uleb(struct rd *r) { return rd_leb(r, false); }

static const char *rd_str(struct rd *r)
{
	const uint8_t *z = r->ok ? memchr(r->p, '\0', (size_t)(r->end - r->p)) : NULL;
	const char *s = (const char *)r->p;

	if (!z) {
		r->ok = false;
		return NULL;
	}
	r->p = z + 1;
	return s;
}

/* One line program of .debug_line, its header decoded. */
struct lp {
	const uint8_t *prog, *end;     /* the opcodes */
	const uint8_t *dirs, *files;   /* the directory and file tables */
	const uint8_t *dir_fmt, *file_fmt;  /* v5: entry formats */
	unsigned ndir_fmt, nfile_fmt;
	const uint8_t *std_lens;       /* operand counts of standard opcodes */
	unsigned version, offset_size;
	unsigned min_inst, line_range, opcode_base;
	int line_base;
};

static void form_skip(const struct lp *lp, struct rd *r, uint64_t form)
{
	switch (form) {
	case DW_FORM_string: rd_str(r); break;
	case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_sec_offset:
		rd_skip(r, lp->offset_size); break;
	case DW_FORM_data1: case DW_FORM_flag: case DW_FORM_strx1: rd_skip(r, 1); break;
	case DW_FORM_data2: case DW_FORM_strx2: rd_skip(r, 2); break;
	case DW_FORM_strx3: rd_skip(r, 3); break;
	case DW_FORM_data4: case DW_FORM_strx4: rd_skip(r, 4); break;
	case DW_FORM_data8: rd_skip(r, 8); break;
	case DW_FORM_data16: rd_skip(r, 16); break;
	case DW_FORM_udata: case DW_FORM_sdata: case DW_FORM_strx: rd_uleb(r); break;
	case DW_FORM_flag_present: break;
	case DW_FORM_block: rd_skip(r, rd_uleb(r)); break;
	case DW_FORM_block1: rd_skip(r, rd_fixed(r, 1)); break;
	case DW_FORM_block2: rd_skip(r, rd_fixed(r, 2)); break;
	case DW_FORM_block4: rd_skip(r, rd_fixed(r, 4)); break;
	default: r->ok = false; break;
	}
}

static const char *form_str(const struct sym_module *m, const struct lp *lp, struct rd *r, uint64_t form)
{
	if (form == DW_FORM_string)
		return rd_str(r);
	if (form == DW_FORM_line_strp)
		return str_at(m->line_str, rd_fixed(r, lp->offset_size));
	if (form == DW_FORM_strp)
		return str_at(m->str, rd_fixed(r, lp->offset_size));
	form_skip(lp, r, form);
	return NULL;
}

static uint64_t form_uint(const struct lp *lp, struct rd *r, uint64_t form)
{
	switch (form) {
	case DW_FORM_data1: return rd_fixed(r, 1);
	case DW_FORM_data2: return rd_fixed(r, 2);
	case DW_FORM_data4: return rd_fixed(r, 4);
	case DW_FORM_data8: return rd_fixed(r, 8);
	case DW_FORM_udata: return rd_uleb(r);
	default: form_skip(lp, r, form); return 0;
	}
}

/* One v5 directory or file entry: its path and directory index. */
static void entry_read(const struct sym_module *m, const struct lp *lp, struct rd *r,
    const uint8_t *fmt, unsigned nfmt, const char **path, uint64_t *dir)
{
	struct rd f = { fmt, lp->end, true };

	for (unsigned i = 0; i < nfmt && r->ok; i++) {
		uint64_t type = rd_uleb(&f), form = rd_uleb(&f);
		if (!f.ok)
			r->ok = false;
		else if (type == DW_LNCT_path)
			*path = form_str(m, lp, r, form);
		else if (type == DW_LNCT_directory_index)
			*dir = form_uint(lp, r, form);
		else
			form_skip(lp, r, form);
	}
}

/* Skips a v5 entry format list and the entries that follow it. */
static void v5_table(const struct sym_module *m, const struct lp *lp, struct rd *r,
    const uint8_t **fmt, unsigned *nfmt, const uint8_t **entries)
{
	*nfmt = (unsigned)rd_fixed(r, 1);
	*fmt = r->p;
	for (unsigned i = 0; i < *nfmt; i++) {
		rd_uleb(r);
		rd_uleb(r);
	}
	uint64_t count = rd_uleb(r);
	*entries = r->p;
	for (uint64_t i = 0; i < count && r->ok; i++) {
		const char *path = NULL;
		uint64_t dir = 0;
		entry_read(m, lp, r, *fmt, *nfmt, &path, &dir);
	}
}

/* Decodes the header of the line program at unit. *next is the following
 * unit, or NULL when even the length is unreadable. */
static bool lp_parse(const struct sym_module *m, const uint8_t *unit, struct lp *lp, const uint8_t **next)
{
	struct rd r = { unit, m->line.p + m->line.len, true };
	uint64_t len = rd_fixed(&r, 4);

	*next = NULL;
	lp->offset_size = 4;
	if (len == 0xffffffff) {
		len = rd_fixed(&r, 8);
		lp->offset_size = 8;
	}
	if (!r.ok || len > (uint64_t)(r.end - r.p))
		return false;
	lp->end = r.end = r.p + len;
	*next = lp->end;
	lp->version = (unsigned)rd_fixed(&r, 2);
	if (lp->version < 2 || lp->version > 5)
		return false;
	if (lp->version >= 5)
		rd_skip(&r, 2);  /* address and segment selector sizes */
	uint64_t hlen = rd_fixed(&r, lp->offset_size);
	if (!r.ok || hlen > (uint64_t)(r.end - r.p))
		return false;
	lp->prog = r.p + hlen;
	lp->min_inst = (unsigned)rd_fixed(&r, 1);
	if (lp->version >= 4)
		rd_skip(&r, 1);  /* maximum operations per instruction: VLIW only */
	rd_skip(&r, 1);          /* default_is_stmt */
	lp->line_base = (int8_t)rd_fixed(&r, 1);
	lp->line_range = (unsigned)rd_fixed(&r, 1);
	lp->opcode_base = (unsigned)rd_fixed(&r, 1);
	if (lp->line_range == 0 || lp->opcode_base == 0)
		return false;
	lp->std_lens = r.p;
	rd_skip(&r, lp->opcode_base - 1);
	if (lp->version >= 5) {
		v5_table(m, lp, &r, &lp->dir_fmt, &lp->ndir_fmt, &lp->dirs);
		v5_table(m, lp, &r, &lp->file_fmt, &lp->nfile_fmt, &lp->files);
	} else {
		const char *dir;
		lp->dirs = r.p;
		while ((dir = rd_str(&r)) != NULL && dir[0])
			;
		lp->files = r.p;
	}
	return r.ok && r.p <= lp->prog;
}

struct lp_row {
	uint64_t file;
	unsigned line;
};

/* Runs the line program; true with *row set when a row covers addr. Widens
 * [*lo, *hi) to every sequence passed (those at address 0, discarded code,
 * excepted). */
static bool lp_run(const struct lp *lp, uintptr_t addr, struct lp_row *row, uintptr_t *lo, uintptr_t *hi)
{
	struct rd r = { lp->prog, lp->end, true };
	uint64_t a = 0, file = 1, seq_start = 0;
	int64_t line = 1;
	struct { uint64_t a, file; int64_t line; bool valid; } prev = { 0, 0, 0, false };
	bool seq_new = true;

	while (r.ok && r.p < r.end) {
		unsigned op = (unsigned)rd_fixed(&r, 1);
		bool emit = false, end_seq = false;
		if (op >= lp->opcode_base) {
			unsigned adj = op - lp->opcode_base;
			a += (uint64_t)(adj / lp->line_range) * lp->min_inst;
			line += lp->line_base + (int)(adj % lp->line_range);
			emit = true;
		} else if (op == 0) {
			uint64_t len = rd_uleb(&r);
			if (len == 0 || len > (uint64_t)(r.end - r.p))
				break;
			const uint8_t *after = r.p + len;
			unsigned sub = (unsigned)rd_fixed(&r, 1);
			if (sub == DW_LNE_end_sequence)
				emit = end_seq = true;
			else if (sub == DW_LNE_set_address)
				a = rd_fixed(&r, (unsigned)(len - 1));
			r.p = after;
		} else if (op == DW_LNS_copy) {
			emit = true;
		} else if (op == DW_LNS_advance_pc) {
			a += rd_uleb(&r) * lp->min_inst;
		} else if (op == DW_LNS_advance_line) {
			line += (int64_t)rd_leb(&r, true);
		} else if (op == DW_LNS_set_file) {
			file = rd_uleb(&r);
		} else if (op == DW_LNS_const_add_pc) {
			a += (uint64_t)((255 - lp->opcode_base) / lp->line_range) * lp->min_inst;
		} else if (op == DW_LNS_fixed_advance_pc) {
			a += rd_fixed(&r, 2);
		} else {
			for (unsigned i = 0; i < lp->std_lens[op - 1]; i++)
				rd_uleb(&r);
		}
		if (!emit)
			continue;
		if (prev.valid && prev.a <= addr && addr < a && r.ok) {
			row->file = prev.file;
			row->line = prev.line > 0 ? (unsigned)prev.line : 0;
			return true;
		}
		if (seq_new) {
			seq_start = a;
			seq_new = false;
		}
		if (end_seq) {
			if (seq_start != 0 && seq_start < *lo)
				*lo = (uintptr_t)seq_start;
			if (seq_start != 0 && a > *hi)
				*hi = (uintptr_t)a;
			a = 0;
			file = 1;
			line = 1;
			prev.valid = false;
			seq_new = true;
		} else {
			prev.a = a;
			prev.file = file;
			prev.line = line;
			prev.valid = true;
		}
	}
	return false;
}

/* Index of the line programs by address range, built on first use. False
 * when it cannot be (the caller then scans them all). */
static bool cu_index_ready(struct sym_module *m)
{
	int expect = 0;

	if (__atomic_load_n(&m->cu_state, __ATOMIC_ACQUIRE) == 2)
		return true;
	if (!__atomic_compare_exchange_n(&m->cu_state, &expect, 1, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	const uint8_t *u, *next;
	struct lp lp;
	size_t n = 0;
	for (u = m->line.p; u && u < m->line.p + m->line.len; u = next, n++)
		lp_parse(m, u, &lp, &next);
	size_t bytes = ft_align_up((n ? n : 1) * sizeof(struct cu_range), os_page);
	struct cu_range *idx = os_map(bytes, true);
	if (!idx) {  /* out of memory: built by a later lookup */
		__atomic_store_n(&m->cu_state, 0, __ATOMIC_RELEASE);
		return false;
	}
	os_name(idx, bytes, "ftmalloc:symbols");
	size_t k = 0;
	for (u = m->line.p; u && u < m->line.p + m->line.len && k < n; u = next) {
		struct lp_row row;
		struct cu_range c = { (size_t)(u - m->line.p), UINTPTR_MAX, 0 };
		if (lp_parse(m, u, &lp, &next)) {
			lp_run(&lp, UINTPTR_MAX, &row, &c.lo, &c.hi);
			if (c.lo < c.hi)
				idx[k++] = c;
		}
	}
	m->cus = idx;
	m->ncus = k;
	__atomic_store_n(&m->cu_state, 2, __ATOMIC_RELEASE);
	return true;
}

/* The row covering addr (link address), with its line program. */
static bool line_find(struct sym_module *m, uintptr_t addr, struct lp *lp, struct lp_row *row)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	const uint8_t *next;

	if (m->line.len == 0)
		return false;
	if (cu_index_ready(m)) {
		for (size_t i = 0; i < m->ncus; i++) {
			const struct cu_range *c = &m->cus[i];
			if (addr >= c->lo && addr < c->hi && lp_parse(m, m->line.p + c->off, lp, &next) &&
			    lp_run(lp, addr, row, &lo, &hi))
				return true;
		}
		return false;
	}
	for (const uint8_t *u = m->line.p; u && u < m->line.p + m->line.len; u = next) {
		if (lp_parse(m, u, lp, &next) && lp_run(lp, addr, row, &lo, &hi))
			return true;
	}
	return false;
}

/* Path and directory index of file number idx of a line program. */
static bool file_entry(const struct sym_module *m, const struct lp *lp, uint64_t idx,
    const char **path, uint64_t *dir)
{
	struct rd r = { lp->files, lp->prog, true };

	if (lp->version >= 5) {
		for (uint64_t i = 0; i <= idx && r.ok; i++) {
			*path = NULL;
			entry_read(m, lp, &r, lp->file_fmt, lp->nfile_fmt, path, dir);
		}
		return r.ok && *path;
	}
	for (uint64_t i = 1; r.ok; i++) {
		*path = rd_str(&r);
		if (!r.ok || !**path)
			return false;
		*dir = rd_uleb(&r);
		rd_uleb(&r);  /* modification time */
		rd_uleb(&r);  /* length */
		if (i == idx)
			return r.ok;
	}
	return false;
}

/* Directory number idx of a line program (in v2-4, 0 is the compilation
 * directory, which only .debug_info knows: NULL). */
static const char *dir_entry(const struct sym_module *m, const struct lp *lp, uint64_t idx)
{
	struct rd r = { lp->dirs, lp->files, true };
	const char *path = NULL;
	uint64_t unused = 0;

	if (lp->version >= 5) {
		for (uint64_t i = 0; i <= idx && r.ok; i++) {
			path = NULL;
			entry_read(m, lp, &r, lp->dir_fmt, lp->ndir_fmt, &path, &unused);
		}
		return r.ok ? path : NULL;
	}
	for (uint64_t i = 1; idx && r.ok; i++) {
		path = rd_str(&r);
		if (!r.ok || !*path)
			return NULL;
		if (i == idx)
			return path;
	}
	return NULL;
}

static void buf_add(char *buf, size_t buflen, size_t *at, const char *s)
{
	while (*s && *at + 1 < buflen)
		buf[(*at)++] = *s++;
	buf[*at] = '\0';
}

/* "dir/name" of the file of row into buf. */
static const char *file_name(const struct sym_module *m, const struct lp *lp,
    const struct lp_row *row, char *buf, size_t buflen)
{
	const char *path = NULL;
	uint64_t dir = 0;
	size_t at = 0;

	if (!file_entry(m, lp, row->file, &path, &dir))
		return NULL;
	const char *d = path[0] == '/' ? NULL : dir_entry(m, lp, dir);
	if (d && d[0]) {
		buf_add(buf, buflen, &at, d);
		buf_add(buf, buflen, &at, "/");
	}
	buf_add(buf, buflen, &at, path);
	return buf;
}

/* ---- the entry point ---- */

/* Function names and file:line are looked up for pc - 1: a return address
 * is the instruction after the call, which may belong to the next line or,
 * after a call to a noreturn function, to the next function. A buflen of 0
 * asks for names only (no file:line). */
void bt_symbolize(uintptr_t pc, struct bt_sym *sym, char *buf, size_t buflen)
{
	struct mod_find mf = { .pc = pc };
	int saved = errno;

	memset(sym, 0, sizeof(*sym));
	/* 0.1 s at most for a fork to end: a report may be printed with the
	 * orphan quarantine's lock held, which the fork waits for. */
	if (pc == 0 || !bt_loader_enter(100000)) {
		errno = saved;
		return;
	}
	int found = dl_iterate_phdr(mod_find_cb, &mf);
	bt_loader_leave();
	if (!found || !mf.found) {
		errno = saved;
		return;
	}
	sym->module_off = pc - mf.base;
	struct sym_module *m = mod_get(&mf);
	sym->module = m ? (m->path[0] ? m->path : NULL) : (mf.name[0] ? mf.name : NULL);
	if (!m && mf.is_main && buf && buflen > 1) {  /* its file could not be read now */
		ssize_t n = readlink("/proc/self/exe", buf, buflen - 1);
		if (n > 0) {
			buf[n] = '\0';
			sym->module = buf;
		}
	}
	if (m && m->map) {
		uintptr_t addr = pc - 1 - mf.base, value;
		struct lp lp;
		struct lp_row row;
		sym->function = func_find(m, addr, &value);
		if (sym->function)
			sym->function_off = pc - mf.base - value;
		if (buf && buflen > 1 && line_find(m, addr, &lp, &row) && row.line > 0) {
			sym->file = file_name(m, &lp, &row, buf, buflen);
			sym->line = sym->file ? row.line : 0;
		}
	}
	errno = saved;
}
