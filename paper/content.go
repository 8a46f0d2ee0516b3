package paper

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/ledongthuc/pdf"
)

// maxContentBytes bounds one page's decompressed content streams, Form
// XObjects included, so a deflate bomb cannot exhaust memory.
const maxContentBytes = 128 << 20

// maxDocContentBytes bounds the decompressed content of a whole document.
// Without it one 100 KB deflate bomb drawn as a form a thousand times (or
// on a thousand pages) was decompressed a thousand times over, and forms
// nested eight deep each held their own 128 MiB at once.
const maxDocContentBytes = 256 << 20

// operand is one content-stream operand: a number, a name, a string or an
// array of operands. Dictionaries (marked-content properties, inline
// image parameters) are parsed and dropped.
type operand struct {
	kind byte // 'n' number, '/' name, 's' string, '[' array, '?' other
	num  float64
	str  string // name or string bytes
	arr  []operand
}

// readContent returns the decompressed bytes of a content stream (or
// array of streams), at most limit bytes, drawn from the document's budget.
func readContent(v pdf.Value, budget *docBudget, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	tooLarge := func() error {
		if budget.content.Load() < 0 {
			return fmt.Errorf("%w: the document's content streams decompress to over %d MiB", ErrTooLarge, maxDocContentBytes>>20)
		}
		return fmt.Errorf("%w: page content over %d MiB", ErrTooLarge, maxContentBytes>>20)
	}
	read := func(s pdf.Value) error {
		if s.Kind() != pdf.Stream {
			return nil
		}
		rc := s.Reader()
		defer rc.Close()
		_, err := io.Copy(&buf, io.LimitReader(budgetReader{rc, budget}, limit-int64(buf.Len())+1))
		if err != nil {
			return err
		}
		if int64(buf.Len()) > limit || budget.content.Load() < 0 {
			return tooLarge()
		}
		buf.WriteByte('\n')
		return nil
	}
	if limit <= 0 || budget.content.Load() < 0 {
		return nil, tooLarge()
	}
	if v.Kind() == pdf.Array {
		for i := 0; i < v.Len(); i++ {
			if err := read(v.Index(i)); err != nil {
				return nil, err
			}
		}
		return buf.Bytes(), nil
	}
	err := read(v)
	return buf.Bytes(), err
}

// budgetReader charges what it reads to the document's content budget and
// stops once the budget is spent, so parallel page workers together never
// decompress more than maxDocContentBytes (plus one read each).
type budgetReader struct {
	r      io.Reader
	budget *docBudget
}

func (b budgetReader) Read(p []byte) (int, error) {
	if b.budget.content.Load() < 0 {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	b.budget.content.Add(-int64(n))
	return n, err
}

// lexContent tokenizes a content stream and calls do for each operator
// with its operands. It is written here rather than taken from the PDF
// library because the library's tokenizer never returns on an unterminated
// hex string at the end of a stream; this one stops at the end of the data
// whatever the input.
func lexContent(data []byte, do func(op string, args []operand)) {
	l := contentLexer{data: data}
	var args []operand
	for {
		t, ok := l.next()
		if !ok {
			return
		}
		if t.kind == 'k' {
			switch t.str {
			case "true", "false", "null":
				args = append(args, operand{kind: '?'})
				continue
			case "BI":
				l.skipInlineImage()
			}
			do(t.str, args)
			args = args[:0]
			continue
		}
		if len(args) < 4096 {
			args = append(args, t)
		}
	}
}

type contentLexer struct {
	data  []byte
	pos   int
	depth int
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// next returns the next operand or keyword ('k'); ok is false at the end.
func (l *contentLexer) next() (operand, bool) {
	for {
		for l.pos < len(l.data) && isPDFSpace(l.data[l.pos]) {
			l.pos++
		}
		if l.pos >= len(l.data) {
			return operand{}, false
		}
		if l.data[l.pos] == '%' {
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		break
	}
	c := l.data[l.pos]
	switch {
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.data) && !isPDFSpace(l.data[l.pos]) && !isPDFDelim(l.data[l.pos]) {
			l.pos++
		}
		return operand{kind: '/', str: string(l.data[start:l.pos])}, true
	case c == '(':
		l.pos++
		return operand{kind: 's', str: l.literalString()}, true
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		l.skipDict()
		return operand{kind: '?'}, true
	case c == '<':
		l.pos++
		return operand{kind: 's', str: l.hexString()}, true
	case c == '[':
		l.pos++
		var arr []operand
		l.depth++
		for l.depth < 64 {
			for l.pos < len(l.data) && isPDFSpace(l.data[l.pos]) {
				l.pos++
			}
			if l.pos >= len(l.data) {
				break
			}
			if l.data[l.pos] == ']' {
				l.pos++
				break
			}
			t, ok := l.next()
			if !ok {
				break
			}
			if t.kind == 'k' { // an operator inside an array: malformed, keep going
				continue
			}
			if len(arr) < 1<<16 {
				arr = append(arr, t)
			}
		}
		l.depth--
		return operand{kind: '[', arr: arr}, true
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		l.pos++
		return operand{kind: '?'}, true
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9':
		start := l.pos
		l.pos++
		for l.pos < len(l.data) && (l.data[l.pos] >= '0' && l.data[l.pos] <= '9' || l.data[l.pos] == '.' || l.data[l.pos] == '-' || l.data[l.pos] == '+') {
			l.pos++
		}
		f, err := strconv.ParseFloat(string(l.data[start:l.pos]), 64)
		if err != nil {
			f = 0
		}
		return operand{kind: 'n', num: f}, true
	default:
		start := l.pos
		for l.pos < len(l.data) && !isPDFSpace(l.data[l.pos]) && !isPDFDelim(l.data[l.pos]) {
			l.pos++
		}
		if l.pos == start { // a lone delimiter we do not handle
			l.pos++
			return operand{kind: '?'}, true
		}
		return operand{kind: 'k', str: string(l.data[start:l.pos])}, true
	}
}

func (l *contentLexer) literalString() string {
	var b []byte
	depth := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
			b = append(b, c)
		case ')':
			if depth--; depth == 0 {
				return string(b)
			}
			b = append(b, c)
		case '\\':
			if l.pos >= len(l.data) {
				return string(b)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case '\r':
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					x := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; i++ {
						x = x*8 + int(l.data[l.pos]-'0')
						l.pos++
					}
					b = append(b, byte(x))
				} else {
					b = append(b, e)
				}
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func (l *contentLexer) hexString() string {
	var b []byte
	hi := -1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v := unhexByte(c)
		if v < 0 {
			continue
		}
		if hi < 0 {
			hi = v
		} else {
			b = append(b, byte(hi<<4|v))
			hi = -1
		}
	}
	if hi >= 0 {
		b = append(b, byte(hi<<4))
	}
	return string(b)
}

func unhexByte(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// skipDict skips to the ">>" closing a dictionary, nested ones included.
func (l *contentLexer) skipDict() {
	depth := 1
	for l.pos < len(l.data) && depth > 0 {
		switch {
		case bytes.HasPrefix(l.data[l.pos:], []byte("<<")):
			depth++
			l.pos += 2
		case bytes.HasPrefix(l.data[l.pos:], []byte(">>")):
			depth--
			l.pos += 2
		case l.data[l.pos] == '(':
			l.pos++
			l.literalString()
		default:
			l.pos++
		}
	}
}

// skipInlineImage skips "BI ... ID <binary> EI": the binary data may hold
// any bytes, so look for EI between white space.
func (l *contentLexer) skipInlineImage() {
	i := bytes.Index(l.data[l.pos:], []byte("ID"))
	if i < 0 {
		l.pos = len(l.data)
		return
	}
	l.pos += i + 2
	for l.pos < len(l.data) {
		j := bytes.Index(l.data[l.pos:], []byte("EI"))
		if j < 0 {
			l.pos = len(l.data)
			return
		}
		at := l.pos + j
		before := at == 0 || isPDFSpace(l.data[at-1])
		after := at+2 >= len(l.data) || isPDFSpace(l.data[at+2])
		l.pos = at + 2
		if before && after {
			return
		}
	}
}

// cmapIsSafe reports whether a ToUnicode stream can be handed to the PDF
// library's cmap parser, which loops forever on a hex string left open at
// the end of the stream and loops as many times as a block's declared
// entry count says, however large.
func cmapIsSafe(v pdf.Value) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if v.Kind() != pdf.Stream {
		return true
	}
	rc := v.Reader()
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return false
	}
	open := false
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '<' && !open && i+1 < len(data) && data[i+1] == '<':
			i++
		case data[i] == '<':
			open = true
		case data[i] == '>':
			open = false
		}
	}
	if open || maxNesting(data) > 100 {
		return false
	}
	ok = true
	lexContent(data, func(op string, args []operand) {
		switch op {
		case "begincodespacerange", "beginbfchar", "beginbfrange", "begincidchar", "begincidrange":
			if len(args) == 0 || args[len(args)-1].kind != 'n' || args[len(args)-1].num < 0 || args[len(args)-1].num > 10000 {
				ok = false
			}
		}
	})
	return ok
}

// maxNesting is the deepest run of unclosed "[" or "<<" in data. The PDF
// library parses nested arrays and dictionaries recursively, and a stack
// overflow cannot be recovered, so deeply nested input is refused first.
func maxNesting(data []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '[':
			depth++
		case ']':
			depth = max(0, depth-1)
		case '<':
			if i+1 < len(data) && data[i+1] == '<' {
				depth++
				i++
			}
		case '>':
			if i+1 < len(data) && data[i+1] == '>' {
				depth = max(0, depth-1)
				i++
			}
		}
		deepest = max(deepest, depth)
	}
	return deepest
}
