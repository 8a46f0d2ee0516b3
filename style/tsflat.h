// The subset of tree-sitter's C API (include/tree_sitter/api.h, ABI of
// tree-sitter 0.25) that r2c's style package calls directly. The runtime
// itself is compiled and linked by github.com/tree-sitter/go-tree-sitter.
#ifndef R2C_TSFLAT_H
#define R2C_TSFLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct TSTree TSTree;
typedef struct TSParser TSParser;
typedef struct TSLanguage TSLanguage;
typedef struct TSPoint { uint32_t row; uint32_t column; } TSPoint;
typedef struct TSNode { uint32_t context[4]; const void *id; const TSTree *tree; } TSNode;
typedef struct TSTreeCursor { const void *tree; const void *id; uint32_t context[3]; } TSTreeCursor;
typedef struct TSInputEdit {
  uint32_t start_byte, old_end_byte, new_end_byte;
  TSPoint start_point, old_end_point, new_end_point;
} TSInputEdit;

TSParser *ts_parser_new(void);
void ts_parser_delete(TSParser *self);
bool ts_parser_set_language(TSParser *self, const TSLanguage *language);
TSTree *ts_parser_parse_string(TSParser *self, const TSTree *old_tree, const char *string, uint32_t length);
void ts_tree_delete(TSTree *self);
void ts_tree_edit(TSTree *self, const TSInputEdit *edit);
TSNode ts_tree_root_node(const TSTree *self);
bool ts_node_has_error(TSNode self);
uint32_t ts_node_descendant_count(TSNode self);
uint32_t ts_language_symbol_count(const TSLanguage *self);
const char *ts_language_symbol_name(const TSLanguage *self, uint16_t symbol);
uint32_t ts_language_field_count(const TSLanguage *self);
const char *ts_language_field_name_for_id(const TSLanguage *self, uint16_t id);
void ts_set_allocator(void *(*new_malloc)(size_t), void *(*new_calloc)(size_t, size_t),
                      void *(*new_realloc)(void *, size_t), void (*new_free)(void *));

#include "tsflatnode.h"

uint32_t r2c_flatten(const TSTree *tree, flat_node *out, uintptr_t *ids, uint32_t cap);
TSTree *ts_tree_copy(const TSTree *self);
uint32_t r2c_node_count(const TSTree *tree);
uint32_t r2c_flatten_fast(const TSTree *tree, flat_node *out, uintptr_t *ids, uint32_t cap, const flat_node *old,
                          const uintptr_t *old_ids, uint32_t old_n, const flat_edit *edits, uint32_t n_edits);
void r2c_fast_init(const TSLanguage *language);
void r2c_use_allocator(void);

// Arenas for one-shot parses (tsarena.c).
#define R2C_ARENA_SLOTS 32
int r2c_arena_init(void);
TSTree *r2c_parse_in_arena(int slot, const TSLanguage *language, const char *src, uint32_t length);
void r2c_arena_release(int slot, TSTree *tree);
void r2c_arena_set_limit(size_t limit);
void r2c_mark_field_parent(uint16_t symbol);

#endif
