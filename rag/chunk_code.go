package rag

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// codeSymbol is a function, class or method of a Python file, as found by
// the style engine's tree-sitter parse: 0-based lines, byte offsets.
type codeSymbol struct {
	Kind, Name, Parent string
	StartLine, EndLine int
	StartByte, EndByte int
}

// pendingChunk is a chunk before it has an ID and a vector.
type pendingChunk struct {
	text string
	md   map[string]string
}

// maxCodeChunkBytes bounds a code chunk (about 1,500 tokens): whole classes
// up to this size stay one chunk, bigger ones are split into their methods,
// and a function bigger still is cut at line boundaries.
const maxCodeChunkBytes = 6000

// chunkCode splits one Python file into chunks by function and class.
// symbols are the file's definitions (nil when the file could not be
// parsed: then it is cut into windows of lines). repo and path go into the
// metadata.
func chunkCode(src []byte, symbols []codeSymbol, repo, path string) []pendingChunk {
	var out []pendingChunk
	add := func(start, end int, kind, symbol string) {
		for _, w := range lineWindows(src, start, end) {
			text := string(bytes.TrimRight(src[w.start:w.end], " \t\r\n"))
			if len(bytes.TrimSpace([]byte(text))) == 0 {
				continue
			}
			out = append(out, pendingChunk{text: text, md: map[string]string{
				"repo": repo, "path": path, "symbol": symbol, "kind": kind,
				"start_line": strconv.Itoa(w.firstLine + 1), "end_line": strconv.Itoa(w.lastLine + 1),
			}})
		}
	}
	if symbols == nil {
		add(0, len(src), "lines", "")
		return out
	}

	symbols = slices.Clone(symbols)
	slices.SortStableFunc(symbols, func(a, b codeSymbol) int { return a.StartByte - b.StartByte })
	methods := map[string][]codeSymbol{}
	for _, s := range symbols {
		if s.Parent != "" {
			methods[s.Parent] = append(methods[s.Parent], s)
		}
	}
	covered := 0 // end of the last top-level definition, for module-level code between them
	for _, s := range symbols {
		if s.Parent != "" || s.StartByte < covered || s.EndByte > len(src) || s.StartByte >= s.EndByte {
			continue
		}
		start := lineStart(src, s.StartByte)
		if start > covered {
			add(covered, start, "module", "")
		}
		ms := methods[s.Name]
		if s.Kind == "class" && s.EndByte-start > maxCodeChunkBytes && len(ms) > 0 {
			// A big class: its header (signature, docstring, class
			// attributes), each method on its own, and the class-level
			// code between and after methods (attributes defined there,
			// or what a syntax error cut off from a method), which was
			// once left out of every chunk.
			cursor := start
			for _, m := range ms {
				if m.StartByte < cursor || m.StartByte < s.StartByte || m.EndByte > s.EndByte || m.StartByte >= m.EndByte {
					continue
				}
				mStart := lineStart(src, m.StartByte)
				if mStart > cursor {
					add(cursor, mStart, "class", s.Name)
				}
				add(mStart, m.EndByte, "method", s.Name+"."+m.Name)
				cursor = lineEnd(src, m.EndByte)
			}
			if cursor < s.EndByte {
				add(cursor, s.EndByte, "class", s.Name)
			}
		} else {
			add(start, s.EndByte, s.Kind, s.Name)
		}
		covered = lineEnd(src, s.EndByte)
	}
	if covered < len(src) {
		add(covered, len(src), "module", "")
	}
	return out
}

type window struct {
	start, end          int // bytes
	firstLine, lastLine int // 0-based
}

// lineWindows cuts src[start:end] at line boundaries into pieces of at most
// maxCodeChunkBytes (a single longer line is cut inside).
func lineWindows(src []byte, start, end int) []window {
	var out []window
	line := bytes.Count(src[:start], []byte("\n"))
	for start < end {
		cut := end
		if end-start > maxCodeChunkBytes {
			cut = start + maxCodeChunkBytes
			if i := bytes.LastIndexByte(src[start:cut], '\n'); i > 0 {
				cut = start + i + 1
			} else {
				// One line longer than a chunk (minified or generated
				// data): cut inside it, at a character boundary, so no
				// chunk overflows an embedding server's input or a
				// prompt's budget.
				cut = start + runeCut(src[start:end], maxCodeChunkBytes)
			}
		}
		// Leading blank lines belong to no chunk: the cited lines start
		// at the first line with code.
		first, firstLine := start, line
		for first < cut {
			nl := bytes.IndexByte(src[first:cut], '\n')
			if nl < 0 || len(bytes.TrimSpace(src[first:first+nl])) > 0 {
				break
			}
			first += nl + 1
			firstLine++
		}
		piece := bytes.TrimRight(src[first:cut], " \t\r\n")
		lines := bytes.Count(piece, []byte("\n"))
		out = append(out, window{start: first, end: cut, firstLine: firstLine, lastLine: firstLine + lines})
		line += bytes.Count(src[start:cut], []byte("\n"))
		start = cut
	}
	return out
}

// lineStart returns the offset of the start of the line holding offset.
func lineStart(src []byte, offset int) int {
	return bytes.LastIndexByte(src[:offset], '\n') + 1
}

// lineEnd returns the offset just past the newline ending the line that
// holds offset-1 (or len(src)).
func lineEnd(src []byte, offset int) int {
	if offset > 0 && src[offset-1] == '\n' {
		return offset
	}
	if i := bytes.IndexByte(src[offset:], '\n'); i >= 0 {
		return offset + i + 1
	}
	return len(src)
}

// codeEmbedText is what the embedder sees for a code chunk: the path joins
// the code because file and folder names say much about what code is for.
func codeEmbedText(md map[string]string, text string) string {
	return fmt.Sprintf("%s\n%s", md["path"], text)
}

// runeCut is the largest n <= max such that b[:n] ends on a UTF-8 character
// boundary (at least one character, so progress is always made).
func runeCut(b []byte, max int) int {
	if len(b) <= max {
		return len(b)
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	if n == 0 {
		_, size := utf8.DecodeRune(b)
		return size
	}
	return n
}
