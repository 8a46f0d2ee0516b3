package lsp

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// encoding is the unit in which a Position's Character counts, negotiated at
// initialize time. Internally every position is a UTF-8 byte offset, as the
// domain packages expect; conversion happens only at the protocol boundary.
type encoding int

const (
	encUTF16 encoding = iota // the LSP default and the only mandatory encoding
	encUTF8
	encUTF32
)

func (e encoding) kind() protocol.PositionEncodingKind {
	switch e {
	case encUTF8:
		return protocol.PositionEncodingKindUTF8
	case encUTF32:
		return protocol.PositionEncodingKindUTF32
	}
	return protocol.PositionEncodingKindUTF16
}

// negotiateEncoding picks the client's most preferred encoding that r2c
// supports; a client that offers none (or sends nothing) gets UTF-16.
func negotiateEncoding(offered []protocol.PositionEncodingKind) encoding {
	for _, k := range offered {
		switch k {
		case protocol.PositionEncodingKindUTF8:
			return encUTF8
		case protocol.PositionEncodingKindUTF16:
			return encUTF16
		case protocol.PositionEncodingKindUTF32:
			return encUTF32
		}
	}
	return encUTF16
}

// byteCol converts a column counted in e's units into a byte offset within
// line. A column past the end of the line clamps to the line's end, as the
// specification asks; a column inside a multi-unit character (half of a UTF-16
// surrogate pair, the middle of a UTF-8 sequence) rounds down to its start.
func (e encoding) byteCol(line []byte, col uint32) int {
	if e == encUTF8 {
		c := min(int(col), len(line))
		for c > 0 && c < len(line) && !utf8.RuneStart(line[c]) {
			c--
		}
		return c
	}
	units := uint32(0)
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRune(line[i:])
		w := uint32(1)
		if e == encUTF16 && r >= 0x10000 {
			w = 2
		}
		if units+w > col {
			return i
		}
		units += w
		i += size
	}
	return len(line)
}

// unitCol converts a byte offset within line into e's units.
func (e encoding) unitCol(line []byte, byteCol int) uint32 {
	byteCol = max(0, min(byteCol, len(line)))
	if e == encUTF8 {
		return uint32(byteCol)
	}
	units := uint32(0)
	for i := 0; i < byteCol; {
		r, size := utf8.DecodeRune(line[i:])
		if i+size > byteCol { // inside a sequence: count what came before
			break
		}
		if e == encUTF16 && r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		i += size
	}
	return units
}

// lineIndex maps between byte offsets and line/column positions of one text.
// Lines end at "\n", "\r\n" or a lone "\r", as the LSP specification and
// CPython both say (and as the style engine counts); the terminator is not
// part of the line's content.
type lineIndex struct {
	text   []byte
	starts []int // byte offset at which each line starts
}

func newLineIndex(text []byte) *lineIndex {
	starts := make([]int, 1, bytes.Count(text, []byte{'\n'})+1)
	for i, b := range text {
		switch {
		case b == '\n':
			starts = append(starts, i+1)
		case b == '\r' && (i+1 == len(text) || text[i+1] != '\n'):
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{text: text, starts: starts}
}

// lines reports the number of lines (a text ending in "\n" has a final empty line).
func (x *lineIndex) lines() int { return len(x.starts) }

// line returns the content of line i without its terminator.
func (x *lineIndex) line(i int) []byte {
	start := x.starts[i]
	end := len(x.text)
	if i+1 < len(x.starts) {
		end = x.starts[i+1] - 1 // drop '\n' or a lone '\r'
		if x.text[end] == '\n' && end > start && x.text[end-1] == '\r' {
			end--
		}
	}
	return x.text[start:end]
}

// errPositionRange reports a position outside the document.
type errPositionRange struct {
	pos   protocol.Position
	lines int
}

func (e *errPositionRange) Error() string {
	return fmt.Sprintf("position %d:%d is outside the document (%d lines)", e.pos.Line, e.pos.Character, e.lines)
}

// offset converts an LSP position into a byte offset. A character past the
// end of its line clamps to the line end; a line past the end is an error.
func (x *lineIndex) offset(e encoding, p protocol.Position) (int, error) {
	if int(p.Line) >= len(x.starts) {
		return 0, &errPositionRange{p, len(x.starts)}
	}
	l := int(p.Line)
	return x.starts[l] + e.byteCol(x.line(l), p.Character), nil
}

// position converts a byte offset into an LSP position.
func (x *lineIndex) position(e encoding, off int) protocol.Position {
	off = max(0, min(off, len(x.text)))
	// Binary search for the last line start <= off.
	lo, hi := 0, len(x.starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if x.starts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	line := x.line(lo)
	return protocol.Position{Line: uint32(lo), Character: e.unitCol(line, off-x.starts[lo])}
}

// fromByteCol converts a domain position (0-based line, UTF-8 byte column,
// the convention of every package below lsp) into an LSP position, clamping
// to the document so a stale diagnostic can never produce an invalid range.
func (x *lineIndex) fromByteCol(e encoding, line, col int) protocol.Position {
	if line < 0 {
		return protocol.Position{}
	}
	if line >= len(x.starts) {
		return x.position(e, len(x.text))
	}
	ln := x.line(line)
	return protocol.Position{Line: uint32(line), Character: e.unitCol(ln, col)}
}

// toByteCol converts an LSP position into a domain position.
func (x *lineIndex) toByteCol(e encoding, p protocol.Position) (line, col int, err error) {
	if int(p.Line) >= len(x.starts) {
		return 0, 0, &errPositionRange{p, len(x.starts)}
	}
	return int(p.Line), e.byteCol(x.line(int(p.Line)), p.Character), nil
}
