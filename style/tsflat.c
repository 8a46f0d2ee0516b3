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

// r2c_flatten writes the tree in pre-order into out (at most cap nodes),
// with each node's subtree identity in ids when not NULL, and returns how
// many it wrote, by the public cursor API: the reference the tests hold the
// subtree walk (tsfast.c), which the package uses, to.
uint32_t r2c_flatten(const TSTree *tree, flat_node *out, uintptr_t *ids, uint32_t cap) {
  if (cap == 0) return 0;
  TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
  uint32_t n = 0;
  int32_t parent = -1;
  int32_t prev = -1;  // previous sibling of the node being written
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&c);
    flat_node *f = &out[n];
    TSPoint s = ts_node_start_point(node), e = ts_node_end_point(node);
    f->start_byte = ts_node_start_byte(node);
    f->end_byte = ts_node_end_byte(node);
    f->start_row = s.row;
    f->start_col = s.column;
    f->end_row = e.row;
    f->end_col = e.column;
    f->first_child = -1;
    if (ids) ids[n] = subtree_key(node);
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
    if (++n >= cap) break;
    if (ts_tree_cursor_goto_first_child(&c)) {
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
