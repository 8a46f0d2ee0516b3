// A flattening walk over tree-sitter's subtrees themselves.
//
// r2c_flatten (tsflat.c) walks with the public TSTreeCursor: a dozen calls
// into the runtime per node (move, build a TSNode, then ask it for its
// symbol, points, flags and field one call at a time), which was a seventh
// of a one-shot parse-and-analyse. This walk reads the same facts from the
// subtrees directly, with the runtime's own inline accessors, in one pass
// with an explicit stack (so deep nesting cannot overflow the C stack).
//
// It must give exactly what the cursor walk gives: the same visible nodes
// in the same order, each with the same symbol (an alias, mapped to its
// public symbol), flags, points and field. The rules copied from
// tree_cursor.c and node.c are marked where they are used; the test
// TestFastFlattenMatchesCursorWalk compares the two walks node for node,
// and TestVendoredHeadersMatchTheRuntime that the headers in tsrt/ are the
// linked runtime's own.

#include <stdlib.h>

#include "tsrt/src/language.h"
#include "tsrt/src/tree.h"
#include "tsflatnode.h"

// Tables filled once by r2c_fast_init: the runtime answers both through a
// function call per node.
static TSSymbol public_symbol[1 << 16];
static bool symbol_named[1 << 16];

void r2c_fast_init(const TSLanguage *language) {
  uint32_t count = ts_language_symbol_count(language);
  for (uint32_t s = 0; s < (1u << 16); s++) {
    public_symbol[s] = (TSSymbol)s;
  }
  for (uint32_t s = 0; s < count && s < ts_builtin_sym_error_repeat; s++) {
    public_symbol[s] = ts_language_public_symbol(language, (TSSymbol)s);
    symbol_named[s] = ts_language_symbol_metadata(language, (TSSymbol)s).named;
  }
  symbol_named[ts_builtin_sym_error] = ts_language_symbol_metadata(language, ts_builtin_sym_error).named;
}

// frame is a node whose children are being walked.
typedef struct {
  const Subtree *children;
  uint32_t count, next; // children, and the index of the next one
  uint32_t structural;  // structural (non-extra) index of the next child
  Length pos;           // where the next child starts
  const TSSymbol *aliases;
  uint16_t production_id;
  // visible is false for a hidden node: its children belong to the nearest
  // visible ancestor, frame vis_frame, flat node flat.
  bool visible, extra;
  uint32_t index_in_parent; // this node's structural index in its parent
  uint32_t vis_frame;
  int32_t flat;
  int32_t last_child; // visible frames: the flat index of the last child so far
} frame;

// field_of is ts_tree_cursor_current_field_id for a visible node that is
// child index k (structural) of frame d: look the node up in its parent's
// field map, then each hidden ancestor in its own parent's, up to the
// visible parent; an extra node on the way ends the search.
static TSFieldId field_of(const TSLanguage *language, const frame *stack, uint32_t d, uint32_t k, bool extra) {
  if (extra) return 0;
  for (;;) {
    const frame *fr = &stack[d];
    const TSFieldMapEntry *map, *end;
    ts_language_field_map(language, fr->production_id, &map, &end);
    for (; map < end; map++) {
      if (!map->inherited && map->child_index == k) return map->field_id;
    }
    if (fr->visible || fr->extra || d == 0) return 0;
    k = fr->index_in_parent;
    d--;
  }
}

extern uint8_t r2c_field_parents[1 << 16];

static inline void write_node(flat_node *f, Subtree t, Length pos, TSSymbol alias) {
  TSSymbol symbol = public_symbol[alias ? alias : ts_subtree_symbol(t)];
  bool named = alias ? symbol_named[alias] : ts_subtree_named(t);
  Length end = length_add(pos, ts_subtree_size(t));
  f->start_byte = pos.bytes;
  f->end_byte = end.bytes;
  f->start_row = pos.extent.row;
  f->start_col = pos.extent.column;
  f->end_row = end.extent.row;
  f->end_col = end.extent.column;
  f->symbol = symbol;
  f->flags = (named ? FLAT_NAMED : 0) | (ts_subtree_missing(t) ? FLAT_MISSING : 0) |
             (symbol == ts_builtin_sym_error ? FLAT_ERROR : 0) | (ts_subtree_extra(t) ? FLAT_EXTRA : 0);
  f->first_child = -1;
  f->next_sibling = -1;
}

// subtree_key is tsflat.c's identity of a subtree (the address of its heap
// data; 0 for an inline leaf), read from the Subtree itself.
static inline uintptr_t subtree_key(Subtree t) { return t.data.is_inline ? 0 : (uintptr_t)t.ptr; }

// r2c_flatten_fast writes tree's visible nodes in pre-order into out (at most
// cap) and, when ids is not NULL, each one's subtree identity into ids, as
// r2c_flatten does; it returns how many it wrote, or 0 when it runs out of
// memory.
//
// With a previous flattening (old, old_ids, old_n: non-empty; ids then
// required) it copies what the parser reused, as r2c_flatten does.
uint32_t r2c_flatten_fast(const TSTree *tree, flat_node *out, uintptr_t *ids, uint32_t cap, const flat_node *old,
                          const uintptr_t *old_ids, uint32_t old_n, const flat_edit *edits, uint32_t n_edits) {
  if (cap == 0) return 0;
  const TSLanguage *language = tree->language;
  Subtree root = tree->root;
  // The root: ts_tree_root_node starts it after its padding, unaliased.
  Length root_pos = ts_subtree_padding(root);
  write_node(&out[0], root, root_pos, 0);
  if (ids) ids[0] = subtree_key(root);
  out[0].parent = -1;
  out[0].field = 0;
  uint32_t n = 1;
  if (ts_subtree_visible_child_count(root) == 0 || n >= cap) return n;

  uint32_t depth = 0, room = 64;
  frame *stack = malloc(room * sizeof(frame));
  if (!stack) return 0;
  stack[depth++] = (frame){
    .children = ts_subtree_children(root), .count = root.ptr->child_count, .pos = root_pos,
    .aliases = ts_language_alias_sequence(language, root.ptr->production_id),
    .production_id = root.ptr->production_id, .visible = true, .vis_frame = 0, .flat = 0, .last_child = -1,
  };
  while (depth > 0) {
    frame *f = &stack[depth - 1];
    if (f->next == f->count) {
      depth--;
      continue;
    }
    // As ts_tree_cursor_child_iterator_next: the child starts at pos; the
    // next one after this one's size and the next one's padding.
    Subtree child = f->children[f->next++];
    Length pos = f->pos;
    f->pos = length_add(pos, ts_subtree_size(child));
    if (f->next < f->count) f->pos = length_add(f->pos, ts_subtree_padding(f->children[f->next]));
    bool extra = ts_subtree_extra(child);
    bool visible = ts_subtree_visible(child);
    TSSymbol alias = 0;
    uint32_t index = f->structural;
    if (!extra) {
      if (f->aliases) {
        alias = f->aliases[index];
        visible |= alias != 0;
      }
      f->structural++;
    }
    if (!visible && ts_subtree_visible_child_count(child) == 0) continue; // hidden, nothing visible below
    uint32_t vis_frame = f->vis_frame;
    int32_t self = stack[vis_frame].flat;
    if (visible) {
      frame *vf = &stack[vis_frame];
      flat_node *g = &out[n];
      int64_t k = -1;
      uint32_t count = 1;
      if (ids && old_n > 0 && (count = ts_subtree_visible_descendant_count(child) + 1) > 1 && count <= cap - n) {
        k = flat_find_reused(subtree_key(child), flat_old_offset(pos.bytes, edits, n_edits), old, old_ids, old_n);
        if (k >= 0 && (uint64_t)k + count > old_n) k = -1;
      }
      if (k >= 0) {
        // A subtree the parser reused: copied, then what the parent
        // decides (alias, field, siblings) is taken from this tree.
        flat_copy_reused(out, ids, n, old, old_ids, k, count, pos.bytes, pos.extent.row, pos.extent.column);
        int32_t first_child = g->first_child;
        write_node(g, child, pos, alias);
        g->first_child = first_child;
      } else {
        count = 1;
        write_node(g, child, pos, alias);
        if (ids) ids[n] = subtree_key(child);
      }
      g->parent = vf->flat;
      g->field = r2c_field_parents[out[vf->flat].symbol] ? field_of(language, stack, depth - 1, index, extra) : 0;
      if (vf->last_child >= 0) {
        out[vf->last_child].next_sibling = (int32_t)n;
      } else {
        out[vf->flat].first_child = (int32_t)n;
      }
      vf->last_child = (int32_t)n;
      self = (int32_t)n;
      vis_frame = depth; // the frame pushed below, if any
      n += count;
      if (n >= cap) break;
      if (k >= 0 || ts_subtree_visible_child_count(child) == 0) continue;
    }
    if (depth == room) {
      frame *grown = realloc(stack, 2 * room * sizeof(frame));
      if (!grown) {
        free(stack);
        return 0;
      }
      stack = grown;
      room *= 2;
    }
    stack[depth++] = (frame){
      .children = ts_subtree_children(child), .count = child.ptr->child_count, .pos = pos,
      .aliases = ts_language_alias_sequence(language, child.ptr->production_id),
      .production_id = child.ptr->production_id, .visible = visible, .extra = extra, .index_in_parent = index,
      .vis_frame = vis_frame, .flat = self, .last_child = -1,
    };
  }
  free(stack);
  return n;
}
