package style

import (
	"bytes"
	"fmt"
)

// Edit replaces the bytes [StartByte, OldEndByte) of a Document's source
// with NewText.
type Edit struct {
	StartByte, OldEndByte int
	NewText               []byte
}

// Document is one open Python file that is re-parsed incrementally as it is
// edited, as an editor buffer is. It is not safe for concurrent use; Close
// releases its parser and tree.
type Document struct {
	src []byte
	// parsed is src as parsed: the same slice, or a copy with lone "\r"
	// line ends made "\n" (see normalizeLineEnds). Such a document is
	// re-parsed in full, since an edit can turn an earlier "\r" from a line
	// end into half of a "\r\n".
	parsed []byte
	loneCR bool // src has a lone "\r"
	parser *parser
	// tree is the last parse. After an edit spliceWindow handled, it is
	// only edited (treeStale): nothing reads it until an edit it cannot
	// handle, whose incremental re-parse then takes in every edit since.
	tree      *tree
	treeStale bool
	// flat is the last flattening, which the next one copies the
	// subtrees the parser reused from; spare holds the buffers the two
	// alternate between. flatFresh: flat describes src (a check or
	// spliceWindow made it after the last re-parse); flatClean: and it
	// has no ERROR or MISSING node and is shaped as Python (pythonShaped).
	flat, spare          flattening
	flatFresh, flatClean bool
	// Scratch buffers of spliceWindow.
	winText                                          []byte
	winNodes                                         []node
	winBlocks, winKids, winWKids, winOuter, winGroup []nodeIdx
	// windowEdits counts the edits spliceWindow handled, edits those it
	// was tried on (all but texts with a lone "\r"); lastWindow is the
	// size in bytes of the last window re-parsed, lastWindowDepth the
	// number of blocks it was in.
	windowEdits, edits, lastWindow, lastWindowDepth int

	tails tailCache
	obs   []observation // the last analysis' observations, for reuse
}

// NewDocument parses src. It fails for input that is not Python source
// (binary or larger than MaxSourceSize); invalid UTF-8 and syntax errors
// become diagnostics instead.
func NewDocument(src []byte) (*Document, error) {
	if err := checkInput(src); err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	p, err := newParser()
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	d := &Document{src: append([]byte(nil), src...), parser: p}
	d.parsed, d.loneCR = normalizeLineEnds(d.src), hasLoneCR(d.src)
	if d.tree, err = p.parse(d.parsed, nil); err != nil {
		p.close()
		return nil, fmt.Errorf("style: %w", err)
	}
	return d, nil
}

// Source returns the current text. The caller must not modify it.
func (d *Document) Source() []byte { return d.src }

// Apply edits the text and re-parses incrementally, reusing the unchanged
// parts of the previous tree. On error the document is unchanged.
func (d *Document) Apply(e Edit) error {
	if d.tree == nil {
		return fmt.Errorf("style: document is closed")
	}
	if e.StartByte < 0 || e.OldEndByte < e.StartByte || e.OldEndByte > len(d.src) {
		return fmt.Errorf("style: edit [%d,%d) outside the %d-byte document", e.StartByte, e.OldEndByte, len(d.src))
	}
	newSrc := make([]byte, 0, len(d.src)-(e.OldEndByte-e.StartByte)+len(e.NewText))
	newSrc = append(newSrc, d.src[:e.StartByte]...)
	newSrc = append(newSrc, e.NewText...)
	newSrc = append(newSrc, d.src[e.OldEndByte:]...)
	if err := checkInput(newSrc); err != nil {
		return fmt.Errorf("style: %w", err)
	}
	parsed, loneCR := normalizeLineEnds(newSrc), hasLoneCR(newSrc)
	var reuse *tree
	if !d.loneCR && !loneCR {
		// No lone "\r" before or after: tell the old tree about the edit
		// and re-parse incrementally, or just the statements around the
		// edit (window.go).
		newEnd := e.StartByte + len(e.NewText)
		d.tree.edit(e.StartByte, e.OldEndByte, newEnd,
			positionAt(d.src, e.StartByte), positionAt(d.src, e.OldEndByte), positionAt(newSrc, newEnd))
		d.edits++
		if d.spliceWindow(e, newSrc) {
			d.windowEdits++
			d.src, d.parsed, d.treeStale = newSrc, parsed, true
			return nil
		}
		reuse = d.tree
	}
	t, err := d.parser.parse(parsed, reuse)
	if err != nil {
		// The old tree may have been edited to describe newSrc; a fresh
		// parse of the old text restores a consistent state.
		if old, perr := d.parser.parse(d.parsed, nil); perr == nil {
			d.tree.close()
			d.tree, d.treeStale = old, false
		}
		return fmt.Errorf("style: %w", err)
	}
	// Releasing the old tree frees what the new one did not reuse, a
	// noticeable part of an edit's cost on a large file; it need not delay
	// the check. Trees share subtrees through atomic reference counts, so
	// releasing one on another thread is safe (as ts_tree_copy's use across
	// threads is).
	go d.tree.close()
	d.tree, d.treeStale, d.src, d.parsed, d.loneCR = t, false, newSrc, parsed, loneCR
	d.flat.edited(e.StartByte, e.OldEndByte, e.StartByte+len(e.NewText))
	d.flatFresh = false
	return nil
}

// replaceText makes text the document's text with one edit: the part
// between the longest common prefix and suffix of the two texts.
func (d *Document) replaceText(text []byte) error {
	old := d.src
	n := min(len(old), len(text))
	p := 0
	for p < n && old[p] == text[p] {
		p++
	}
	q := 0
	for q < n-p && old[len(old)-1-q] == text[len(text)-1-q] {
		q++
	}
	if p == len(old) && p == len(text) {
		return nil
	}
	return d.Apply(Edit{StartByte: p, OldEndByte: len(old) - q, NewText: text[p : len(text)-q]})
}

// Check scores the current text against p (nil: syntax diagnostics only).
func (d *Document) Check(p *Profile) *Report {
	if d.tree == nil {
		return &Report{Score: 100}
	}
	a := analyzeRecovering(d.nodes(), d.parsed, &d.tails, d.obs)
	r := check(p, "", d.parsed, a)
	d.obs = a.obs[:0] // the report copied what it needs
	return r
}

// nodes returns the flattening of the current text, flattening the tree
// again if an edit re-parsed it. The nodes are valid until the next call of
// Apply or nodes.
func (d *Document) nodes() []node {
	if !d.flatFresh {
		d.flat.reflatten(d.tree, &d.spare)
		d.flatFresh, d.flatClean = true, !d.tree.hasError() && pythonShaped(d.flat.nodes, d.parsed)
	}
	return d.flat.nodes
}

// Close releases the parser and the tree. Further calls to Apply fail and
// Check reports nothing.
func (d *Document) Close() {
	if d.tree != nil {
		d.tree.close()
		d.tree = nil
	}
	d.flat.close()
	d.tails.close()
	if d.parser != nil {
		d.parser.close()
		d.parser = nil
	}
}

// positionAt converts a byte offset to a 0-based line and byte column.
func positionAt(src []byte, off int) Position {
	off = min(off, len(src))
	line := bytes.Count(src[:off], []byte{'\n'})
	col := off - (bytes.LastIndexByte(src[:off], '\n') + 1)
	return Position{Line: line, Column: col}
}
