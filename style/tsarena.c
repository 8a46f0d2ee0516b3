// Arenas for one-shot parses.
//
// A file parsed only to be flattened and analysed (Stats, Check, learning a
// profile) does not need tree-sitter's per-node frees: releasing a tree walks
// every subtree to drop its reference count and hands each one back to
// malloc, and that, with malloc's own work for the parse, was a fifth of a
// batch's CPU. Such a parse allocates from an arena instead: a bump
// pointer in a slot of one reserved address range, made empty again in
// one step when the flattened nodes have been copied out.
//
// The allocator tree-sitter is given sends an allocation to the arena of the
// calling thread while a one-shot parse runs on it (tl_arena, set only for
// the duration of that one C call), and to libc otherwise. free and realloc
// tell the two apart by address: arena memory lies inside the reserved
// range, libc memory never does. A small arena block freed during its parse
// goes on a free list of its size for the parse to reuse; otherwise freeing
// arena memory does nothing, and the slot is reset as a whole. Everything a one-shot parse allocates is its own: the
// parser is created and deleted inside the same call, so no object outside
// the returned tree points into the slot when it is reset.

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "tsflat.h"

// R2C_ARENA_SLOT_SIZE bounds one parse's allocations in its slot; past it an
// allocation falls back to libc (freed normally), so a huge file only loses
// the speed-up. The range is reserved inaccessible (PROT_NONE), which no
// memory limit counts (RLIMIT_DATA, overcommit), and made writable in
// R2C_ARENA_COMMIT steps as a parse reaches them; a step the kernel refuses
// sends the rest of that parse to libc.
#define R2C_ARENA_SLOT_SIZE ((size_t)256 << 20)
// R2C_ARENA_KEEP is how much of a slot's touched memory a reset keeps for the
// next parse; the rest goes back to the kernel, so a long-lived server does
// not hold the high-water mark of its largest file.
#define R2C_ARENA_KEEP ((size_t)8 << 20)
// Each block starts with a header holding the size asked for (realloc must
// copy that many bytes); it is 16 bytes to keep malloc's alignment.
#define R2C_ARENA_HEADER 16
#define R2C_ARENA_COMMIT ((size_t)2 << 20)
// Blocks up to (R2C_ARENA_CLASSES - 1) * 16 bytes are recycled by size.
#define R2C_ARENA_CLASSES 33

typedef struct r2c_arena {
  char *base, *cur, *end;
  char *committed; // [base, committed) is writable
  // overflowed is set when an allocation did not fit and went to libc: the
  // tree then holds libc blocks too, which only ts_tree_delete frees.
  bool overflowed;
  // freed[c] lists the blocks of size class c (c * 16 bytes) freed during the
  // parse, linked through their first word: the parser frees most of its
  // short-lived blocks soon after making them, and reusing them keeps its
  // memory in cache instead of always writing fresh lines.
  void *freed[R2C_ARENA_CLASSES];
} r2c_arena;

static char *region;
static size_t region_size;
static r2c_arena arenas[R2C_ARENA_SLOTS];
static __thread r2c_arena *tl_arena;

int r2c_arena_init(void) {
  size_t size = (size_t)R2C_ARENA_SLOTS * R2C_ARENA_SLOT_SIZE;
  struct rlimit as;
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    // Under an address-space limit (ulimit -v) the reservation itself would
    // count, and could starve the Go heap: libc only.
    return 0;
  }
  void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return 0; // strict overcommit (MAP_NORESERVE ignored): no arenas, libc only
  }
  region = p;
  region_size = size;
  for (int i = 0; i < R2C_ARENA_SLOTS; i++) {
    r2c_arena *a = &arenas[i];
    a->base = a->cur = a->committed = region + (size_t)i * R2C_ARENA_SLOT_SIZE;
    a->end = a->base + R2C_ARENA_SLOT_SIZE;
  }
  return R2C_ARENA_SLOTS;
}

// r2c_arena_set_limit lowers every slot's capacity (tests use it to make a
// parse overflow into libc); 0 restores the full size.
void r2c_arena_set_limit(size_t limit) {
  if (!region) {
    return;
  }
  if (limit == 0 || limit > R2C_ARENA_SLOT_SIZE) {
    limit = R2C_ARENA_SLOT_SIZE;
  }
  for (int i = 0; i < R2C_ARENA_SLOTS; i++) {
    arenas[i].end = arenas[i].base + limit;
  }
}

static inline int in_region(const void *p) {
  return (uintptr_t)p - (uintptr_t)region < region_size;
}

static inline size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

// commit makes [base, to) writable, a step at a time.
static bool commit(r2c_arena *a, char *to) {
  if (to <= a->committed) {
    return true;
  }
  size_t want = (size_t)(to - a->committed);
  size_t step = (want + R2C_ARENA_COMMIT - 1) / R2C_ARENA_COMMIT * R2C_ARENA_COMMIT;
  if (step > (size_t)(a->end - a->committed)) {
    step = (size_t)(a->end - a->committed);
  }
  if (mprotect(a->committed, step, PROT_READ | PROT_WRITE) != 0) {
    return false;
  }
  a->committed += step;
  return to <= a->committed;
}

static void *arena_alloc(r2c_arena *a, size_t n) {
  if (n > (size_t)(a->end - a->base)) {
    return NULL;
  }
  size_t rounded = round16(n);
  size_t class = rounded / 16;
  if (class < R2C_ARENA_CLASSES && a->freed[class]) {
    void *p = a->freed[class];
    a->freed[class] = *(void **)p;
    *(size_t *)((char *)p - R2C_ARENA_HEADER) = n;
    return p;
  }
  size_t need = R2C_ARENA_HEADER + rounded;
  if ((size_t)(a->end - a->cur) < need) {
    return NULL;
  }
  if (!commit(a, a->cur + need)) {
    return NULL;
  }
  char *b = a->cur;
  a->cur += need;
  *(size_t *)b = n;
  return b + R2C_ARENA_HEADER;
}

static inline size_t arena_block_size(const void *p) {
  return *(const size_t *)((const char *)p - R2C_ARENA_HEADER);
}

static void *r2c_malloc(size_t n) {
  r2c_arena *a = tl_arena;
  if (a) {
    void *p = arena_alloc(a, n);
    if (p) {
      return p;
    }
    a->overflowed = true;
  }
  return malloc(n);
}

static void *r2c_calloc(size_t count, size_t n) {
  r2c_arena *a = tl_arena;
  size_t total;
  if (a && !__builtin_mul_overflow(count, n, &total)) {
    void *p = arena_alloc(a, total);
    if (p) {
      // A reset slot holds the last parse's bytes.
      memset(p, 0, total);
      return p;
    }
    a->overflowed = true;
  }
  return calloc(count, n);
}

static void r2c_free(void *p) {
  if (!p) {
    return;
  }
  if (!in_region(p)) {
    free(p);
    return;
  }
  r2c_arena *a = tl_arena;
  if (a && (char *)p > a->base && (char *)p < a->cur) {
    size_t class = round16(arena_block_size(p)) / 16;
    if (class > 0 && class < R2C_ARENA_CLASSES) {
      *(void **)p = a->freed[class];
      a->freed[class] = p;
    }
  }
}

static void *r2c_realloc(void *p, size_t n) {
  if (!p || !in_region(p)) {
    // libc memory stays libc memory (a parser buffer made before the arena
    // was active is freed by libc later).
    return p ? realloc(p, n) : r2c_malloc(n);
  }
  size_t old = arena_block_size(p);
  if (n <= old) {
    return p;
  }
  r2c_arena *a = tl_arena;
  char *b = (char *)p - R2C_ARENA_HEADER;
  if (a && (char *)p + round16(old) == a->cur && b >= a->base && n <= (size_t)(a->end - a->base) &&
      (size_t)(a->end - b) >= R2C_ARENA_HEADER + round16(n)) {
    // The last block grows in place: tree-sitter's arrays double as they
    // fill, and copying each time would waste half the slot.
    char *cur = b + R2C_ARENA_HEADER + round16(n);
    if (commit(a, cur)) {
      a->cur = cur;
      *(size_t *)b = n;
      return p;
    }
  }
  void *q = r2c_malloc(n);
  if (q) {
    memcpy(q, p, old);
    r2c_free(p);
  }
  return q;
}

void r2c_use_allocator(void) { ts_set_allocator(r2c_malloc, r2c_calloc, r2c_realloc, r2c_free); }

TSTree *r2c_parse_in_arena(int slot, const TSLanguage *language, const char *src, uint32_t length) {
  r2c_arena *a = &arenas[slot];
  tl_arena = a;
  TSTree *tree = NULL;
  TSParser *parser = ts_parser_new();
  if (parser && ts_parser_set_language(parser, language)) {
    tree = ts_parser_parse_string(parser, NULL, src, length);
  }
  if (parser) {
    ts_parser_delete(parser);
  }
  tl_arena = NULL;
  return tree;
}

void r2c_arena_release(int slot, TSTree *tree) {
  r2c_arena *a = &arenas[slot];
  if (tree && a->overflowed) {
    // Frees the libc blocks; the arena's are let go by the reset below.
    ts_tree_delete(tree);
  }
  a->overflowed = false;
  memset(a->freed, 0, sizeof a->freed);
  char *keep = a->base + R2C_ARENA_KEEP;
  if (a->committed > keep) {
    // Back to reserved: the pages go to the kernel and stop counting.
    if (mmap(keep, (size_t)(a->committed - keep), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != MAP_FAILED) {
      a->committed = keep;
    }
  }
  a->cur = a->base;
}
