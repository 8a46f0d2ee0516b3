package style

// Indentation, trailing commas, comments, line lengths and per-file facts.

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

func (z *analyzer) indentOf(row int) (width int, tab bool) {
	if row >= len(z.a.lineStarts) {
		return 0, false
	}
	for j := z.a.lineStarts[row]; j < len(z.src); j++ {
		switch z.src[j] {
		case ' ':
			width++
		case '\t':
			width++
			tab = true
		default:
			return width, tab
		}
	}
	return width, tab
}

func (z *analyzer) indent(block int) {
	p := z.n[block].parentIdx()
	if p < 0 || z.n[block].start_row == z.n[p].start_row || z.n[block].endByte() == z.n[block].startByte() {
		return
	}
	inner, tab := z.indentOf(int(z.n[block].start_row))
	outer, _ := z.indentOf(int(z.n[p].start_row))
	value := "other"
	switch {
	case tab:
		value = "tab"
	case inner-outer == 4:
		value = "4 spaces"
	case inner-outer == 2:
		value = "2 spaces"
	}
	r := z.n[block].rng()
	r.End = Position{r.Start.Line, r.Start.Column}
	r.Start.Column = 0
	z.a.obs = append(z.a.obs, observation{dim: "layout.indent", value: value, rng: r, nameNode: -1})
}

func (z *analyzer) trailingComma(i int) {
	last, prev := -1, -1
	for c := z.n[i].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].kind() == kComment {
			continue
		}
		prev, last = last, c
	}
	if last < 0 || prev < 0 {
		return
	}
	switch z.n[last].kind() {
	case kAnonCloseParen, kAnonCloseBracket, kAnonCloseBrace:
	default:
		return
	}
	if z.n[prev].end_row >= z.n[last].start_row || z.n[i].start_row == z.n[prev].end_row {
		return // the closing bracket hugs the last element, or one line
	}
	if z.n[prev].kind() == kAnonComma {
		z.observe("layout.trailing_comma", "trailing_comma", last)
		return
	}
	if !z.n[prev].named() || z.n[prev].kind() == kGeneratorExp {
		return // an empty bracket pair or a bare generator argument
	}
	if z.kind(prev) == kListSplatPattern || z.kind(prev) == kDictSplatPattern {
		if z.n[i].kind() == kParameters {
			// `**kwargs,` is fine in Python 3, but style guides disagree.
			return
		}
	}
	end := z.n[prev].rng().End
	z.a.obs = append(z.a.obs, observation{
		dim: "layout.trailing_comma", value: "no_trailing_comma", rng: z.n[prev].rng(), nameNode: -1,
		fix: &Fix{Title: "add a trailing comma", Edits: []TextEdit{{Range: Range{end, end}, NewText: ","}}},
	})
}

func (z *analyzer) comment(i int) {
	row := int(z.n[i].start_row)
	z.commentRows[row] = true
	w, _ := z.indentOf(row)
	if int(z.n[i].start_col) > w {
		z.observe("comments.placement", "inline", i)
	} else {
		z.observe("comments.placement", "own_line", i)
	}
}

// lineFacts computes line offsets, line-length observations and counts.
func (z *analyzer) lineFacts() {
	src := z.src
	starts := make([]int, 0, bytes.Count(src, []byte{'\n'})+1)
	for off := 0; off <= len(src); {
		starts = append(starts, off)
		j := bytes.IndexByte(src[off:], '\n')
		end := len(src)
		if j >= 0 {
			end = off + j
		}
		line := bytes.TrimRight(src[off:end], "\r")
		if len(bytes.TrimSpace(line)) > 0 {
			z.nonBlankLines++
		}
		if len(line) > longLine {
			if n := utf8.RuneCount(line); n > longLine {
				row := len(starts) - 1
				z.a.obs = append(z.a.obs, observation{
					dim: "layout.line_length", value: lineBucket(n), nameNode: -1,
					rng: Range{Position{row, 0}, Position{row, len(line)}},
				})
			}
		}
		if j < 0 {
			break
		}
		off = end + 1
	}
	z.a.lineStarts = starts
	z.a.lines = len(starts)
	if len(src) > 0 && src[len(src)-1] == '\n' {
		z.a.lines--
	}
}

// longLine is the length from which lines are counted as long: below it
// every style agrees.
const longLine = 72

func lineBucket(n int) string {
	switch {
	case n <= 79:
		return "<=79"
	case n <= 88:
		return "<=88"
	case n <= 99:
		return "<=99"
	case n <= 119:
		return "<=119"
	}
	return ">119"
}

func lengthBucket(rows int) string {
	switch {
	case rows <= 10:
		return "1-10"
	case rows <= 25:
		return "11-25"
	case rows <= 50:
		return "26-50"
	case rows <= 100:
		return "51-100"
	}
	return ">100"
}

// fileFacts adds the per-file dimensions once the walk is done.
func (z *analyzer) fileFacts() {
	if len(z.n) == 0 || z.nonBlankLines == 0 {
		return
	}
	whole := Range{Position{0, 0}, Position{0, 0}}
	add := func(dim, value string, r Range) {
		z.a.obs = append(z.a.obs, observation{dim: dim, value: value, rng: r, nameNode: -1})
	}
	switch {
	case z.mainGuard:
		add("scripts.main_guard", "main_guard", whole)
	case z.topLevelCode >= 0:
		add("scripts.main_guard", "top_level_code", z.n[z.topLevelCode].rng())
	}
	ratio := float64(len(z.commentRows)) / float64(z.nonBlankLines)
	density := "high"
	switch {
	case len(z.commentRows) == 0:
		density = "none"
	case ratio < 0.05:
		density = "low"
	case ratio < 0.15:
		density = "medium"
	}
	add("comments.density", density, whole)
	cats := map[int]bool{}
	for _, im := range z.imports {
		cats[im.category] = true
	}
	if len(cats) >= 2 {
		maxCat := 0
		for _, im := range z.imports {
			if im.category < maxCat {
				add("imports.grouping", "mixed", z.n[im.node].rng())
				return
			}
			maxCat = im.category
		}
		add("imports.grouping", "grouped", z.n[z.imports[0].node].rng())
	}
}

// isMainGuard recognises `__name__ == "__main__"` in either order and quote.
func isMainGuard(cond []byte) bool {
	return bytes.Contains(cond, []byte("__name__")) &&
		(bytes.Contains(cond, []byte(`"__main__"`)) || bytes.Contains(cond, []byte(`'__main__'`)))
}

// declaresOtherEncoding reports a PEP 263 coding declaration naming an
// encoding other than UTF-8 in the first two lines.
func declaresOtherEncoding(src []byte) bool {
	head := src
	for n, k := 0, 0; k < len(src); k++ {
		if src[k] == '\n' {
			n++
			if n == 2 {
				head = src[:k]
				break
			}
		}
	}
	i := bytes.Index(head, []byte("coding"))
	if i < 0 || bytes.IndexByte(head[:i], '#') < 0 {
		return false
	}
	rest := head[i+len("coding"):]
	if len(rest) == 0 || (rest[0] != ':' && rest[0] != '=') {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t")
	end := 0
	for end < len(rest) && (rest[end] == '-' || rest[end] == '_' || rest[end] == '.' ||
		('a' <= rest[end]|0x20 && rest[end]|0x20 <= 'z') || ('0' <= rest[end] && rest[end] <= '9')) {
		end++
	}
	enc := strings.ToLower(strings.ReplaceAll(string(rest[:end]), "_", "-"))
	return enc != "" && enc != "utf-8" && enc != "utf8" && !strings.HasPrefix(enc, "utf-8-")
}

// firstInvalidUTF8 returns the offset of the first byte that is not valid
// UTF-8, or -1.
func firstInvalidUTF8(src []byte) int {
	if utf8.Valid(src) {
		return -1
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}
