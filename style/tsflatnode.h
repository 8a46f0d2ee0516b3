// flat_node, shared by the two flattening walks: tsflat.c (public cursor
// API) and tsfast.c (the runtime's own headers), which cannot include each
// other's declarations of tree-sitter's types.
#ifndef R2C_TSFLATNODE_H
#define R2C_TSFLATNODE_H

#include <stdint.h>

// flat_node is one node of a tree in pre-order. Indexes refer to the same
// array; -1 means none.
typedef struct flat_node {
  uint32_t start_byte, end_byte;
  uint32_t start_row, start_col, end_row, end_col;
  int32_t parent, first_child, next_sibling;
  uint16_t symbol, field;
  uint8_t flags;
} flat_node;

enum { FLAT_NAMED = 1, FLAT_MISSING = 2, FLAT_ERROR = 4, FLAT_EXTRA = 8 };

// flat_edit is one text change, as byte offsets: [start, old_end) of the
// text before it became [start, new_end).
typedef struct flat_edit { uint32_t start, old_end, new_end; } flat_edit;

// flat_old_offset maps a byte offset of the current text back to the text
// of the previous flattening through the edits made since (undone last
// first), or returns -1 where the offset lies in text an edit inserted.
static inline int64_t flat_old_offset(int64_t off, const flat_edit *edits, uint32_t n_edits) {
  for (uint32_t i = n_edits; i-- > 0;) {
    const flat_edit *e = &edits[i];
    if (off >= (int64_t)e->new_end) {
      off -= (int64_t)e->new_end - (int64_t)e->old_end;
    } else if (off > (int64_t)e->start) {
      return -1;
    }
  }
  return off;
}

// flat_find_reused returns the index in old of the node that is the subtree
// id (the same immutable tree-sitter subtree, kept alive by the caller), or
// -1. Pre-order start offsets never decrease, so the candidates starting at
// the old offset are found by binary search.
static inline int64_t flat_find_reused(uintptr_t id, int64_t start, const flat_node *old, const uintptr_t *old_ids,
                                       uint32_t old_n) {
  if (start < 0 || id == 0) return -1;
  uint32_t lo = 0, hi = old_n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if ((int64_t)old[mid].start_byte < start) lo = mid + 1; else hi = mid;
  }
  for (uint32_t k = lo; k < old_n && (int64_t)old[k].start_byte == start; k++) {
    if (old_ids[k] == id) return (int64_t)k;
  }
  return -1;
}

// flat_copy_reused copies the count nodes of a reused subtree from old[k]
// to out[n], moved to start at byte start, row row, column col: bytes and
// rows throughout, columns only on the subtree's first row (after its
// first line break the same text sits at the same columns), indexes by the
// distance between the two places.
static inline void flat_copy_reused(flat_node *out, uintptr_t *ids, uint32_t n, const flat_node *old,
                                    const uintptr_t *old_ids, int64_t k, uint32_t count, uint32_t start,
                                    uint32_t row, uint32_t col) {
  const flat_node *o = &old[k];
  int64_t dbyte = (int64_t)start - (int64_t)o->start_byte;
  int64_t drow = (int64_t)row - (int64_t)o->start_row;
  int64_t dcol = (int64_t)col - (int64_t)o->start_col;
  int64_t didx = (int64_t)n - k;
  uint32_t first_row = o->start_row;
  for (uint32_t i = 0; i < count; i++) {
    flat_node *g = &out[n + i];
    *g = o[i];
    ids[n + i] = old_ids[k + i];
    if (g->start_row == first_row) g->start_col = (uint32_t)((int64_t)g->start_col + dcol);
    if (g->end_row == first_row) g->end_col = (uint32_t)((int64_t)g->end_col + dcol);
    g->start_byte = (uint32_t)((int64_t)g->start_byte + dbyte);
    g->end_byte = (uint32_t)((int64_t)g->end_byte + dbyte);
    g->start_row = (uint32_t)((int64_t)g->start_row + drow);
    g->end_row = (uint32_t)((int64_t)g->end_row + drow);
    if (g->parent >= 0) g->parent = (int32_t)((int64_t)g->parent + didx);
    if (g->first_child >= 0) g->first_child = (int32_t)((int64_t)g->first_child + didx);
    if (g->next_sibling >= 0) g->next_sibling = (int32_t)((int64_t)g->next_sibling + didx);
  }
}

#endif
