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

#endif
