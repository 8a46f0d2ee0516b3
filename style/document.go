package style

import (
	"fmt"

	sitter "github.com/tree-sitter/go-tree-sitter"
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
	src    []byte
	parser *sitter.Parser
	tree   *sitter.Tree
}

// NewDocument parses src. It fails for input that is not Python source
// (binary, too large, not UTF-8 is reported as a diagnostic instead).
func NewDocument(src []byte) (*Document, error) {
	if err := checkInput(src); err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	d := &Document{src: append([]byte(nil), src...), parser: newParser()}
	tree, err := parse(d.parser, d.src, nil)
	if err != nil {
		d.parser.Close()
		return nil, fmt.Errorf("style: %w", err)
	}
	d.tree = tree
	return d, nil
}

// Source returns the current text. The caller must not modify it.
func (d *Document) Source() []byte { return d.src }

// Apply edits the text and re-parses incrementally, reusing the unchanged
// parts of the previous tree.
func (d *Document) Apply(e Edit) error {
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
	d.tree.Edit(&sitter.InputEdit{
		StartByte:      uint(e.StartByte),
		OldEndByte:     uint(e.OldEndByte),
		NewEndByte:     uint(e.StartByte + len(e.NewText)),
		StartPosition:  pointAt(d.src, e.StartByte),
		OldEndPosition: pointAt(d.src, e.OldEndByte),
		NewEndPosition: pointAt(newSrc, e.StartByte+len(e.NewText)),
	})
	tree, err := parse(d.parser, newSrc, d.tree)
	if err != nil {
		return fmt.Errorf("style: %w", err)
	}
	d.tree.Close()
	d.tree, d.src = tree, newSrc
	return nil
}

// Check scores the current text against p (nil: syntax diagnostics only).
func (d *Document) Check(p *Profile) *Report {
	return check(p, "", d.src, analyzeTree(d.tree, d.src))
}

// Close releases the parser and the tree. The Document must not be used
// afterwards.
func (d *Document) Close() {
	if d.tree != nil {
		d.tree.Close()
		d.tree = nil
	}
	if d.parser != nil {
		d.parser.Close()
		d.parser = nil
	}
}

// pointAt converts a byte offset to a tree-sitter point (row, byte column).
func pointAt(src []byte, off int) sitter.Point {
	row, col := 0, 0
	for i := 0; i < off && i < len(src); i++ {
		if src[i] == '\n' {
			row++
			col = 0
		} else {
			col++
		}
	}
	return sitter.Point{Row: uint(row), Column: uint(col)}
}
