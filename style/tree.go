package style

/*
#cgo CFLAGS: -I${SRCDIR}/tsrt/include
#include "tsflat.h"
uint32_t ts_language_symbol_type(const TSLanguage *self, uint16_t symbol);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	// The tree-sitter runtime: this package calls its C API directly (see
	// tsflat.h) because a Go-side walk makes one cgo call per node step.
	_ "github.com/tree-sitter/go-tree-sitter"
	python "github.com/tree-sitter/tree-sitter-python/bindings/go"
)

func init() {
	// go-tree-sitter routes every allocation of the C runtime through a Go
	// callback that calls C.malloc again (C→Go→C per allocation), which
	// measured ~20% of parse time. Its default callbacks only wrap the libc
	// functions; ours call them directly, or an arena during a one-shot
	// parse (tsarena.c).
	C.r2c_use_allocator()
	lang := (*C.TSLanguage)(python.Language())
	pythonLang = lang
	C.r2c_fast_init(lang)
	for id := uint32(0); id < uint32(C.ts_language_symbol_count(lang)); id++ {
		name := C.GoString(C.ts_language_symbol_name(lang, C.uint16_t(id)))
		named := C.ts_language_symbol_type(lang, C.uint16_t(id)) == 0 // TSSymbolTypeRegular
		if k, ok := kindByName[kindKey{name, named}]; ok {
			kindOfSymbol[id] = k
			if fieldParents[k] {
				C.r2c_mark_field_parent(C.uint16_t(id))
			}
		}
	}
	for id := uint32(1); id <= uint32(C.ts_language_field_count(lang)); id++ {
		name := C.GoString(C.ts_language_field_name_for_id(lang, C.uint16_t(id)))
		if f, ok := fieldByName[name]; ok {
			fieldOfID[id] = f
		}
	}
}

var pythonLang *C.TSLanguage

// kind is this package's name for a tree-sitter-python node type.
type kind uint8

const (
	kOther kind = iota
	kError
	kModule
	kFunctionDef
	kClassDef
	kDecoratedDef
	kDecorator
	kParameters
	kLambdaParameters
	kIdentifier
	kTypedParameter
	kDefaultParameter
	kTypedDefaultParameter
	kListSplatPattern
	kDictSplatPattern
	kBlock
	kExpressionStatement
	kString
	kConcatenatedString
	kStringStart
	kStringContent
	kInterpolation
	kListComp
	kSetComp
	kDictComp
	kGeneratorExp
	kLambda
	kImport
	kImportFrom
	kFutureImport
	kRelativeImport
	kAliasedImport
	kDottedName
	kTry
	kExceptClause
	kExceptGroupClause
	kFor
	kWhile
	kWith
	kReturn
	kRaise
	kIf
	kElseClause
	kCall
	kAttribute
	kArgumentList
	kAssignment
	kBinaryOperator
	kComment
	kParenthesized
	kPatternList
	kTuplePattern
	kListPattern
	kTuple
	kList
	kDictionary
	kSet
	kPair
	kSubscript
	kType
	kInteger
	kFloat
	kTrue
	kFalse
	kNone
	kUnaryOperator
	kKeywordArgument
	kExpressionList
	kContinue
	kComparison
	kGenericType
	kAsPattern
	kAugmentedAssignment
	kAnonPercent
	kAnonPipe
	kAnonComma
	kAnonCloseParen
	kAnonCloseBracket
	kAnonCloseBrace
	kAnonExcept
	kAnonColon
	kAnonEquals
	numKinds
)

type kindKey struct {
	name  string
	named bool
}

var kindByName = map[kindKey]kind{
	{"ERROR", true}: kError, {"module", true}: kModule, {"function_definition", true}: kFunctionDef,
	{"class_definition", true}: kClassDef, {"decorated_definition", true}: kDecoratedDef,
	{"decorator", true}: kDecorator, {"parameters", true}: kParameters, {"lambda_parameters", true}: kLambdaParameters,
	{"identifier", true}: kIdentifier, {"typed_parameter", true}: kTypedParameter,
	{"default_parameter", true}: kDefaultParameter, {"typed_default_parameter", true}: kTypedDefaultParameter,
	{"list_splat_pattern", true}: kListSplatPattern, {"dictionary_splat_pattern", true}: kDictSplatPattern,
	{"block", true}: kBlock, {"expression_statement", true}: kExpressionStatement, {"string", true}: kString,
	{"concatenated_string", true}: kConcatenatedString, {"string_start", true}: kStringStart,
	{"string_content", true}: kStringContent, {"interpolation", true}: kInterpolation,
	{"list_comprehension", true}: kListComp, {"set_comprehension", true}: kSetComp,
	{"dictionary_comprehension", true}: kDictComp, {"generator_expression", true}: kGeneratorExp,
	{"lambda", true}: kLambda, {"import_statement", true}: kImport, {"import_from_statement", true}: kImportFrom,
	{"future_import_statement", true}: kFutureImport, {"relative_import", true}: kRelativeImport,
	{"aliased_import", true}: kAliasedImport, {"dotted_name", true}: kDottedName, {"try_statement", true}: kTry,
	{"except_clause", true}: kExceptClause, {"except_group_clause", true}: kExceptGroupClause,
	{"for_statement", true}: kFor, {"while_statement", true}: kWhile, {"with_statement", true}: kWith,
	{"return_statement", true}: kReturn, {"raise_statement", true}: kRaise, {"if_statement", true}: kIf,
	{"else_clause", true}: kElseClause, {"call", true}: kCall, {"attribute", true}: kAttribute,
	{"argument_list", true}: kArgumentList, {"assignment", true}: kAssignment,
	{"binary_operator", true}: kBinaryOperator, {"comment", true}: kComment,
	{"parenthesized_expression", true}: kParenthesized, {"pattern_list", true}: kPatternList,
	{"tuple_pattern", true}: kTuplePattern, {"list_pattern", true}: kListPattern, {"tuple", true}: kTuple,
	{"list", true}: kList, {"dictionary", true}: kDictionary, {"set", true}: kSet, {"pair", true}: kPair,
	{"subscript", true}: kSubscript, {"type", true}: kType, {"integer", true}: kInteger, {"float", true}: kFloat,
	{"true", true}: kTrue, {"false", true}: kFalse, {"none", true}: kNone, {"unary_operator", true}: kUnaryOperator,
	{"keyword_argument", true}: kKeywordArgument, {"expression_list", true}: kExpressionList,
	{"continue_statement", true}: kContinue, {"comparison_operator", true}: kComparison,
	{"generic_type", true}: kGenericType, {"as_pattern", true}: kAsPattern, {"augmented_assignment", true}: kAugmentedAssignment,
	{"%", false}: kAnonPercent, {"|", false}: kAnonPipe, {",", false}: kAnonComma,
	{")", false}: kAnonCloseParen, {"]", false}: kAnonCloseBracket, {"}", false}: kAnonCloseBrace,
	{"except", false}: kAnonExcept, {":", false}: kAnonColon, {"=", false}: kAnonEquals,
}

// fieldParents are the node kinds whose children's fields the analysis
// reads; children of other nodes get fNone, which keeps flattening cheap.
// A kind read with childByField or fieldKind must be listed here.
// The frequent call, attribute, binary_operator, subscript, assignment and
// keyword_argument nodes are not listed: analyzer.childByField finds their
// fields by position, as their grammar rules fix it.
var fieldParents = map[kind]bool{
	kFunctionDef: true, kClassDef: true, kDefaultParameter: true, kTypedDefaultParameter: true,
	kImport: true, kImportFrom: true, kFutureImport: true, kAliasedImport: true, kFor: true,
	kIf: true, kElseClause: true,
}

// field is this package's name for a tree-sitter-python field.
type field uint8

const (
	fNone field = iota
	fName
	fParameters
	fBody
	fReturnType
	fType
	fLeft
	fRight
	fOperator
	fFunction
	fArguments
	fAttribute
	fObject
	fValue
	fAlias
	fModuleName
	fSuperclasses
	fDefinition
	fConsequence
	fAlternative
	fCondition
)

var fieldByName = map[string]field{
	"name": fName, "parameters": fParameters, "body": fBody, "return_type": fReturnType, "type": fType,
	"left": fLeft, "right": fRight, "operator": fOperator, "function": fFunction, "arguments": fArguments,
	"attribute": fAttribute, "object": fObject, "value": fValue, "alias": fAlias, "module_name": fModuleName,
	"superclasses": fSuperclasses, "definition": fDefinition, "consequence": fConsequence,
	"alternative": fAlternative, "condition": fCondition,
}

// Lookup tables indexed by tree-sitter ids, filled by init.
var (
	kindOfSymbol [1 << 16]kind
	fieldOfID    [1 << 16]field
)

// node is one syntax node, flattened by r2c_flatten; same layout as
// flat_node.
type node C.flat_node

// nodeIdx is the type of a node's indexes into its flattening (parent,
// first_child, next_sibling).
type nodeIdx = C.int32_t

// nodePos is the type of a node's byte offsets, rows and columns.
type nodePos = C.uint32_t

func (n *node) kind() kind       { return kindOfSymbol[n.symbol] }
func (n *node) fieldKind() field { return fieldOfID[n.field] }

// flatExtra marks extras (comments) that may sit between any two children.
const flatExtra = C.FLAT_EXTRA

func (n *node) named() bool     { return n.flags&C.FLAT_NAMED != 0 }
func (n *node) missing() bool   { return n.flags&C.FLAT_MISSING != 0 }
func (n *node) isError() bool   { return n.flags&C.FLAT_ERROR != 0 }
func (n *node) parentIdx() int  { return int(n.parent) }
func (n *node) firstChild() int { return int(n.first_child) }
func (n *node) next() int       { return int(n.next_sibling) }
func (n *node) startByte() int  { return int(n.start_byte) }
func (n *node) endByte() int    { return int(n.end_byte) }
func (n *node) rng() Range {
	return Range{Position{int(n.start_row), int(n.start_col)}, Position{int(n.end_row), int(n.end_col)}}
}
func (n *node) symbolName() string {
	return C.GoString(C.ts_language_symbol_name(pythonLang, n.symbol))
}

// parser owns a C tree-sitter parser; it is not safe for concurrent use.
type parser struct{ p *C.TSParser }

func newParser() (*parser, error) {
	p := C.ts_parser_new()
	if p == nil {
		return nil, errors.New("tree-sitter: cannot create a parser")
	}
	if !C.ts_parser_set_language(p, pythonLang) {
		C.ts_parser_delete(p)
		return nil, errors.New("tree-sitter-python's ABI does not match the tree-sitter runtime")
	}
	return &parser{p: p}, nil
}

func (p *parser) close() {
	if p.p != nil {
		C.ts_parser_delete(p.p)
		p.p = nil
	}
}

// tree is a parsed source; close releases the C tree.
type tree struct {
	t *C.TSTree
	// arenaSlot is one more than the arena slot holding the tree
	// (parseOnce); 0 for a tree of libc memory.
	arenaSlot int
}

// arenaSlots are the arena slots not in use, last freed on top: reusing the
// most recent one reuses memory the kernel has already given it. The range
// is reserved on the first one-shot parse, not at start-up: a process that
// never parses (a paper worker under its memory limits) never maps it.
var arenaSlots struct {
	sync.Mutex
	once sync.Once
	free []int
}

// parseOnce parses src into an arena when a slot is free, else as parse
// does. The tree cannot be edited or re-parsed (incremental parsing keeps
// old trees alive, which an arena cannot), only flattened and closed.
func parseOnce(src []byte) (*tree, error) {
	arenaSlots.once.Do(func() {
		for slot := range int(C.r2c_arena_init()) {
			arenaSlots.free = append(arenaSlots.free, slot)
		}
	})
	arenaSlots.Lock()
	slot := -1
	if n := len(arenaSlots.free); n > 0 {
		slot = arenaSlots.free[n-1]
		arenaSlots.free = arenaSlots.free[:n-1]
	}
	arenaSlots.Unlock()
	if slot < 0 {
		p, err := getParser()
		if err != nil {
			return nil, err
		}
		defer putParser(p)
		return p.parse(src, nil)
	}
	t := C.r2c_parse_in_arena(C.int(slot), pythonLang, cSource(src), C.uint32_t(len(src)))
	runtime.KeepAlive(src)
	if t == nil {
		releaseArena(slot, nil)
		return nil, fmt.Errorf("tree-sitter returned no tree for %d bytes", len(src))
	}
	return &tree{t: t, arenaSlot: slot + 1}, nil
}

// setArenaLimit caps each arena slot at n bytes (0: the full slot), so that
// tests can make a parse overflow into libc. Not for use while parsing.
func setArenaLimit(n int) { C.r2c_arena_set_limit(C.size_t(n)) }

// releaseArena empties the slot, freeing t (nil: no tree) and all else the
// parse allocated, and makes the slot free again.
func releaseArena(slot int, t *C.TSTree) {
	C.r2c_arena_release(C.int(slot), t)
	arenaSlots.Lock()
	arenaSlots.free = append(arenaSlots.free, slot)
	arenaSlots.Unlock()
}

// parse parses src, reusing old (already edited to match src) when non-nil.
func (p *parser) parse(src []byte, old *tree) (*tree, error) {
	var oldT *C.TSTree
	if old != nil {
		oldT = old.t
	}
	t := C.ts_parser_parse_string(p.p, oldT, cSource(src), C.uint32_t(len(src)))
	runtime.KeepAlive(src)
	if t == nil {
		return nil, fmt.Errorf("tree-sitter returned no tree for %d bytes", len(src))
	}
	return &tree{t: t}, nil
}

var emptySource = []byte{0}

// cSource is src as the C parser reads it: a valid pointer even for an
// empty source. The caller keeps src alive across the call.
func cSource(src []byte) *C.char {
	if len(src) == 0 {
		return (*C.char)(unsafe.Pointer(&emptySource[0]))
	}
	return (*C.char)(unsafe.Pointer(&src[0]))
}

func (t *tree) close() {
	switch {
	case t.t == nil:
	case t.arenaSlot > 0:
		// The whole tree lies in the slot: emptying it frees every node.
		releaseArena(t.arenaSlot-1, t.t)
		t.arenaSlot = 0
	default:
		C.ts_tree_delete(t.t)
	}
	t.t = nil
}

// hasError reports whether the tree holds an ERROR or a MISSING node.
func (t *tree) hasError() bool { return bool(C.ts_node_has_error(C.ts_tree_root_node(t.t))) }

// edit tells the tree about a text change before an incremental re-parse.
func (t *tree) edit(startByte, oldEndByte, newEndByte int, start, oldEnd, newEnd Position) {
	pt := func(p Position) C.TSPoint { return C.TSPoint{row: C.uint32_t(p.Line), column: C.uint32_t(p.Column)} }
	e := C.TSInputEdit{
		start_byte: C.uint32_t(startByte), old_end_byte: C.uint32_t(oldEndByte), new_end_byte: C.uint32_t(newEndByte),
		start_point: pt(start), old_end_point: pt(oldEnd), new_end_point: pt(newEnd),
	}
	C.ts_tree_edit(t.t, &e)
}

// flatten returns the tree's nodes in pre-order, reusing buf's storage, by
// the public cursor walk (tsflat.c) without subtree identities: the
// reference the tests hold flattenFast and reflatten to; the package itself
// uses those two.
func (t *tree) flatten(buf []node) []node {
	n := int(C.r2c_node_count(t.t))
	if cap(buf) < n {
		buf = make([]node, n)
	}
	buf = buf[:n]
	if n == 0 {
		return buf
	}
	got := int(C.r2c_flatten(t.t, (*C.flat_node)(unsafe.Pointer(&buf[0])), nil, C.uint32_t(n)))
	return buf[:got]
}

// flattenFast is flatten by a walk over the runtime's subtrees (tsfast.c)
// instead of a TSTreeCursor: the same nodes, several times faster.
func (t *tree) flattenFast(buf []node) ([]node, error) {
	n := int(C.r2c_node_count(t.t))
	if cap(buf) < n {
		buf = make([]node, n)
	}
	buf = buf[:n]
	if n == 0 {
		return buf, nil
	}
	got := int(C.r2c_flatten_fast(t.t, (*C.flat_node)(unsafe.Pointer(&buf[0])), nil, C.uint32_t(n), nil, nil, 0, nil, 0))
	if got == 0 {
		return nil, errors.New("tree-sitter: out of memory flattening the tree")
	}
	return buf[:got], nil
}

// identities returns the subtree identities of the tree's nodes in
// pre-order, recorded by the subtree walk (fast) or the cursor walk: the
// two must agree for reflatten to copy after either (a test's check).
func (t *tree) identities(fast bool) []uint64 {
	n := int(C.r2c_node_count(t.t))
	if n == 0 {
		return nil
	}
	nodes, ids := make([]node, n), make([]C.uintptr_t, n)
	var got int
	if fast {
		got = int(C.r2c_flatten_fast(t.t, (*C.flat_node)(unsafe.Pointer(&nodes[0])), &ids[0], C.uint32_t(n), nil, nil, 0, nil, 0))
	} else {
		got = int(C.r2c_flatten(t.t, (*C.flat_node)(unsafe.Pointer(&nodes[0])), &ids[0], C.uint32_t(n)))
	}
	out := make([]uint64, got)
	for i := range out {
		out[i] = uint64(ids[i])
	}
	return out
}

// flattening is a tree's nodes in pre-order with each node's subtree
// identity, kept so that the next flattening, of the tree re-parsed after an
// edit, can copy what the parser reused instead of walking it again. It
// holds a copy of the tree the nodes came from: while that copy lives, every
// subtree it names stays allocated, so an identity seen again is the same
// immutable subtree and not a new one at a freed address.
type flattening struct {
	t     *C.TSTree
	nodes []node
	ids   []C.uintptr_t // subtree identities (C addresses, never dereferenced)
	// edits are the text changes since the nodes were taken, oldest first.
	edits []C.flat_edit
	// overflowed: too many edits to map offsets back; the next flattening
	// walks the whole tree.
	overflowed bool
}

// maxTrackedEdits bounds the edits remembered between two flattenings; a
// burst of more (a paste of many changes) makes the next one a full walk.
const maxTrackedEdits = 64

// edited records a text change made after the flattening.
func (f *flattening) edited(start, oldEnd, newEnd int) {
	if f.t == nil {
		return
	}
	if len(f.edits) == maxTrackedEdits {
		f.overflowed = true
		return
	}
	f.edits = append(f.edits, C.flat_edit{start: C.uint32_t(start), old_end: C.uint32_t(oldEnd), new_end: C.uint32_t(newEnd)})
}

// forgetTree drops the tree the nodes came from and the edits since: when
// a new flattening replaces them (reflatten), and once the nodes have been
// changed without the tree (spliceWindow), after which the next flattening
// walks the whole tree instead of copying what the parser reused.
func (f *flattening) forgetTree() {
	if old := f.t; old != nil {
		// Releasing the copy frees what the new tree did not reuse; like
		// Document.Apply's release of the old tree it need not delay the
		// check.
		go C.ts_tree_delete(old)
		f.t = nil
	}
	f.edits, f.overflowed = f.edits[:0], false
}

// close releases the tree copy.
func (f *flattening) close() {
	if f.t != nil {
		C.ts_tree_delete(f.t)
		f.t = nil
	}
}

// reflatten returns t's nodes, copying from prev's what the parser reused,
// and makes prev describe t. The returned nodes are valid until the next
// call; prev's old buffers become the next call's storage.
func (prev *flattening) reflatten(t *tree, spare *flattening) []node {
	n := int(C.r2c_node_count(t.t))
	nodes, ids := spare.nodes, spare.ids
	if cap(nodes) < n {
		nodes = make([]node, n)
	}
	if cap(ids) < n {
		ids = make([]C.uintptr_t, n)
	}
	nodes, ids = nodes[:n], ids[:n]
	got := 0
	if n > 0 {
		var old *C.flat_node
		var oldIDs *C.uintptr_t
		oldN := 0
		if prev.t != nil && !prev.overflowed && len(prev.nodes) > 0 {
			old, oldIDs, oldN = (*C.flat_node)(unsafe.Pointer(&prev.nodes[0])), &prev.ids[0], len(prev.nodes)
		}
		var edits *C.flat_edit
		if len(prev.edits) > 0 {
			edits = &prev.edits[0]
		}
		got = int(C.r2c_flatten_fast(t.t, (*C.flat_node)(unsafe.Pointer(&nodes[0])), &ids[0], C.uint32_t(n),
			old, oldIDs, C.uint32_t(oldN), edits, C.uint32_t(len(prev.edits))))
	}
	prev.forgetTree()
	spare.nodes, spare.ids = prev.nodes[:0], prev.ids[:0]
	prev.t = C.ts_tree_copy(t.t)
	prev.nodes, prev.ids = nodes[:got], ids[:got]
	return prev.nodes
}
