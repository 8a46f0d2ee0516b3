#include <stdlib.h>
#include "tsflat.h"

// Declared here rather than in the header: only this file walks trees.
TSTreeCursor ts_tree_cursor_new(TSNode node);
void ts_tree_cursor_delete(TSTreeCursor *self);
bool ts_tree_cursor_goto_first_child(TSTreeCursor *self);
bool ts_tree_cursor_goto_next_sibling(TSTreeCursor *self);
bool ts_tree_cursor_goto_parent(TSTreeCursor *self);
TSNode ts_tree_cursor_current_node(const TSTreeCursor *self);
uint16_t ts_tree_cursor_current_field_id(const TSTreeCursor *self);
uint16_t ts_node_symbol(TSNode self);
uint32_t ts_node_start_byte(TSNode self);
uint32_t ts_node_end_byte(TSNode self);
TSPoint ts_node_start_point(TSNode self);
TSPoint ts_node_end_point(TSNode self);
bool ts_node_is_named(TSNode self);
bool ts_node_is_missing(TSNode self);
bool ts_node_is_extra(TSNode self);
bool ts_node_is_error(TSNode self);

// Field ids are looked up only below these parent symbols: finding a
// node's field is the most expensive step of the walk, and most parents'
// fields are never read.
uint8_t r2c_field_parents[1 << 16];

void r2c_mark_field_parent(uint16_t symbol) { r2c_field_parents[symbol] = 1; }

uint32_t r2c_node_count(const TSTree *tree) {
  return ts_node_descendant_count(ts_tree_root_node(tree));
}

static inline uint8_t node_flags(TSNode node) {
  return (ts_node_is_named(node) ? FLAT_NAMED : 0) | (ts_node_is_missing(node) ? FLAT_MISSING : 0) |
         (ts_node_is_error(node) ? FLAT_ERROR : 0) | (ts_node_is_extra(node) ? FLAT_EXTRA : 0);
}

// subtree_key is the identity of a node's subtree: the address of its heap
// data. TSNode.id is not it: that is the address of the slot in the parent's
// child array (or in the TSTree for the root) that holds the subtree, so a
// reused subtree under a rebuilt parent gets a new id, and a freed tree's
// root slot is reused by the next tree. A Subtree is a union of that
// pointer and small inline leaf data whose first bit (is_inline, see
// tree-sitter's src/subtree.h) is 1; heap pointers are aligned, so their
// first bit is 0. Leaves are never looked up, but an inline one gets 0.
static inline uintptr_t subtree_key(TSNode node) {
  uintptr_t v = *(const uintptr_t *)node.id;
  return (v & 1) ? 0 : v;
}

// old_offset maps a byte offset of the current text back to the text of the
// previous flattening through the edits made since (undone last first), or
// returns -1 where the offset lies in text an edit inserted.
static int64_t old_offset(int64_t off, const flat_edit *edits, uint32_t n_edits) {
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

// find_reused returns the index in old of the node that is the subtree id
// (the same immutable tree-sitter subtree, kept alive by the caller), or -1.
// Pre-order start offsets never decrease, so the candidates starting at the
// old offset are found by binary search.
static int64_t find_reused(uintptr_t id, int64_t start, const flat_node *old, const uintptr_t *old_ids,
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

// r2c_flatten writes the tree in pre-order into out (at most cap nodes),
// with each node's subtree identity in ids, and returns how many it wrote.
// One call replaces tens of thousands of cgo crossings a Go-side walk would
// make.
//
// With a previous flattening (old, old_ids, old_n: non-empty) and the edits
// made since, a subtree the parser reused from the old tree (the same
// subtree pointer) is copied from the old flattening, shifted to where it
// now is, instead of walked again: after a keystroke only the nodes the
// parser rebuilt are visited. The caller keeps the old tree alive, so a
// pointer seen again is that subtree and not a new one at a freed address.
uint32_t r2c_flatten(const TSTree *tree, flat_node *out, uintptr_t *ids, uint32_t cap, const flat_node *old,
                     const uintptr_t *old_ids, uint32_t old_n, const flat_edit *edits, uint32_t n_edits) {
  if (cap == 0) return 0;
  TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
  uint32_t n = 0;
  int32_t parent = -1;
  int32_t prev = -1;  // previous sibling of the node being written
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&c);
    flat_node *f = &out[n];
    TSPoint s = ts_node_start_point(node);
    uint32_t start = ts_node_start_byte(node);
    int64_t k = -1;
    uint32_t count = 1;
    if (ids && old_n > 0 && (count = ts_node_descendant_count(node)) > 1 && count <= cap - n) {
      k = find_reused(subtree_key(node), old_offset(start, edits, n_edits), old, old_ids, old_n);
      if (k >= 0 && (uint64_t)k + count > old_n) k = -1;
    }
    if (k >= 0) {
      // Columns move only on the subtree's first row: after its first line
      // break the same text sits at the same columns.
      const flat_node *o = &old[k];
      int64_t dbyte = (int64_t)start - (int64_t)o->start_byte;
      int64_t drow = (int64_t)s.row - (int64_t)o->start_row;
      int64_t dcol = (int64_t)s.column - (int64_t)o->start_col;
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
    } else {
      TSPoint e = ts_node_end_point(node);
      f->start_byte = start;
      f->end_byte = ts_node_end_byte(node);
      f->start_row = s.row;
      f->start_col = s.column;
      f->end_row = e.row;
      f->end_col = e.column;
      f->first_child = -1;
      if (ids) ids[n] = subtree_key(node);
      count = 1;
    }
    // What the parent decides (its alias of the node, the field the node
    // fills, its siblings) is taken from this tree, for a copied subtree too.
    f->symbol = ts_node_symbol(node);
    f->flags = node_flags(node);
    f->parent = parent;
    f->next_sibling = -1;
    f->field = (parent >= 0 && r2c_field_parents[out[parent].symbol]) ? ts_tree_cursor_current_field_id(&c) : 0;
    if (prev >= 0) {
      out[prev].next_sibling = (int32_t)n;
    } else if (parent >= 0) {
      out[parent].first_child = (int32_t)n;
    }
    int32_t self = (int32_t)n;
    n += count;
    if (n >= cap) break;
    if (k < 0 && ts_tree_cursor_goto_first_child(&c)) {
      parent = self;
      prev = -1;
      continue;
    }
    prev = self;
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c)) {
        ts_tree_cursor_delete(&c);
        return n;
      }
      prev = parent;
      parent = out[parent].parent;
    }
  }
  ts_tree_cursor_delete(&c);
  return n;
}
