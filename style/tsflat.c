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
static uint8_t field_parents[1 << 16];

void r2c_mark_field_parent(uint16_t symbol) { field_parents[symbol] = 1; }

void r2c_use_libc_allocator(void) { ts_set_allocator(malloc, calloc, realloc, free); }

uint32_t r2c_node_count(const TSTree *tree) {
  return ts_node_descendant_count(ts_tree_root_node(tree));
}

// r2c_flatten writes the tree in pre-order into out (at most cap nodes) and
// returns how many it wrote. One call replaces tens of thousands of cgo
// crossings a Go-side walk would make.
uint32_t r2c_flatten(const TSTree *tree, flat_node *out, uint32_t cap) {
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
    f->parent = parent;
    f->first_child = -1;
    f->next_sibling = -1;
    f->symbol = ts_node_symbol(node);
    f->field = (parent >= 0 && field_parents[out[parent].symbol]) ? ts_tree_cursor_current_field_id(&c) : 0;
    f->flags = (ts_node_is_named(node) ? FLAT_NAMED : 0) | (ts_node_is_missing(node) ? FLAT_MISSING : 0) |
               (ts_node_is_error(node) ? FLAT_ERROR : 0) | (ts_node_is_extra(node) ? FLAT_EXTRA : 0);
    if (prev >= 0) {
      out[prev].next_sibling = (int32_t)n;
    } else if (parent >= 0) {
      out[parent].first_child = (int32_t)n;
    }
    int32_t self = (int32_t)n;
    n++;
    if (n == cap) break;
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
