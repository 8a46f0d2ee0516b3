package rag

import (
	"regexp"
	"strconv"
	"strings"
)

// paperDoc is the part of a loaded paper the chunker needs: sections in
// reading order (the tree flattened depth-first).
type paperDoc struct {
	Title, Abstract string
	Sections        []paperSection
}

type paperSection struct {
	Number, Title string
	Page          int
	Text          string
	Blocks        []paperBlock
}

// paperBlock is a unit kept whole: an equation, a table or an algorithm.
type paperBlock struct {
	Kind  string // "equation", "table" or "algorithm"
	Label string // equation number, table caption, algorithm title
	Text  string
	Page  int
}

// Paper chunks hold whole paragraphs: they are packed up to
// targetPaperWords, and only a single paragraph longer than maxPaperWords is
// cut, at sentence ends. Around 200 words is a passage that answers one
// question, the unit retrieval should return.
const (
	targetPaperWords = 200
	maxPaperWords    = 320
	// maxPaperChunkBytes is a hard cap (about 2,000 tokens) on any paper
	// chunk, equations and sentence-less text included: a "sentence" of a
	// hundred thousand words, or a paragraph after an unclosed $$, made one
	// chunk bigger than any prompt budget or embedding server input.
	maxPaperChunkBytes = 8000
)

// chunkPaper splits a paper into chunks by section and paragraph; display
// equations, tables and algorithms are never cut.
func chunkPaper(doc *paperDoc, file string) []pendingChunk {
	paperName := doc.Title
	if paperName == "" {
		paperName = file
	}
	var out []pendingChunk
	var emitOne func(sec *paperSection, kind, text string, page int, extra ...string)
	emit := func(sec *paperSection, kind, text string, page int, extra ...string) {
		text = strings.TrimSpace(text)
		if text == "" {
			return
		}
		if len(text) > maxPaperChunkBytes {
			for _, piece := range capText(text, maxPaperChunkBytes) {
				emitOne(sec, kind, piece, page, extra...)
			}
			return
		}
		emitOne(sec, kind, text, page, extra...)
	}
	emitOne = func(sec *paperSection, kind, text string, page int, extra ...string) {
		md := map[string]string{
			"paper": paperName, "file": file, "section": sec.Number, "title": sec.Title,
			"page": strconv.Itoa(page), "kind": kind,
		}
		for i := 0; i+1 < len(extra); i += 2 {
			md[extra[i]] = extra[i+1]
		}
		out = append(out, pendingChunk{text: text, md: md})
	}
	if doc.Abstract != "" {
		abs := &paperSection{Title: "Abstract", Page: 1}
		for _, t := range packParagraphs(splitParagraphs(doc.Abstract)) {
			emit(abs, "text", t, 1)
		}
	}
	for i := range doc.Sections {
		sec := &doc.Sections[i]
		for _, t := range packParagraphs(splitParagraphs(sec.Text)) {
			emit(sec, "text", t, sec.Page)
		}
		for _, b := range sec.Blocks {
			page := b.Page
			if page == 0 {
				page = sec.Page
			}
			switch b.Kind {
			case "equation":
				text := b.Text
				if b.Label != "" {
					text = "(" + b.Label + ") " + text
				}
				emit(sec, b.Kind, text, page, "equation", b.Label)
			default:
				emit(sec, b.Kind, strings.TrimSpace(b.Label+"\n"+b.Text), page)
			}
		}
	}
	return out
}

// paperEmbedText is what the embedder sees for a paper chunk: the paper and
// section titles join the text, since a question often names the section's
// topic rather than the paragraph's words.
func paperEmbedText(md map[string]string, text string) string {
	return md["paper"] + "\n" + strings.TrimSpace(md["section"]+" "+md["title"]) + "\n" + text
}

// embedText is the text embedded for a chunk of a collection.
func embedText(collection string, md map[string]string, text string) string {
	if collection == Code {
		return codeEmbedText(md, text)
	}
	return paperEmbedText(md, text)
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n`)

// splitParagraphs splits text at blank lines, keeping a display-math or
// LaTeX environment that contains blank lines in one paragraph.
func splitParagraphs(text string) []string {
	var out []string
	var open []string // paragraphs of an unfinished math block
	dollars, depth := 0, 0
	for _, p := range blankLines.Split(text, -1) {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		open = append(open, p)
		// Counted per paragraph: re-reading the whole open block each time
		// was quadratic after an unclosed $$.
		d, e := mathMarks(p)
		dollars, depth = dollars+d, depth+e
		if dollars%2 == 1 || depth > 0 {
			continue
		}
		out = append(out, strings.Join(open, "\n\n"))
		open, dollars, depth = nil, 0, 0
	}
	if len(open) > 0 {
		out = append(out, strings.Join(open, "\n\n"))
	}
	return out
}

var envMarker = regexp.MustCompile(`\\(begin|end)\{[^}]*\}`)

// mathMarks counts the $$ markers of s and its \begin{...} less its
// \end{...} markers.
func mathMarks(s string) (dollars, depth int) {
	for _, m := range envMarker.FindAllStringSubmatch(s, -1) {
		if m[1] == "begin" {
			depth++
		} else {
			depth--
		}
	}
	return strings.Count(s, "$$"), depth
}

// capText cuts text into pieces of at most max bytes, at the last white
// space before the limit when there is one, else at a character boundary.
func capText(text string, max int) []string {
	var out []string
	for len(text) > max {
		cut := runeCut([]byte(text[:max+1]), max)
		if i := strings.LastIndexAny(text[:cut], " \t\n"); i > max/2 {
			cut = i
		}
		if piece := strings.TrimSpace(text[:cut]); piece != "" {
			out = append(out, piece)
		}
		text = strings.TrimLeft(text[cut:], " \t\n")
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// packParagraphs joins consecutive paragraphs into chunks of about
// targetPaperWords, cutting only paragraphs over maxPaperWords.
func packParagraphs(paras []string) []string {
	var out []string
	var cur []string
	words := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n\n"))
			cur, words = nil, 0
		}
	}
	for _, p := range paras {
		for _, piece := range splitLongParagraph(p) {
			n := len(strings.Fields(piece))
			if words > 0 && words+n > targetPaperWords {
				flush()
			}
			cur = append(cur, piece)
			words += n
		}
	}
	flush()
	return out
}

var sentenceEnd = regexp.MustCompile(`[.!?]["')\]]?\s+`)

// splitLongParagraph cuts a paragraph of more than maxPaperWords at sentence
// ends into pieces of about targetPaperWords. Paragraphs holding display
// math are kept whole: cutting an equation makes both halves useless.
func splitLongParagraph(p string) []string {
	if len(strings.Fields(p)) <= maxPaperWords || strings.Contains(p, "$$") || strings.Contains(p, `\begin{`) {
		return []string{p}
	}
	var out []string
	var b strings.Builder
	words := 0
	last := 0
	for _, loc := range sentenceEnd.FindAllStringIndex(p, -1) {
		sentence := p[last:loc[1]]
		last = loc[1]
		n := len(strings.Fields(sentence))
		if words > 0 && words+n > targetPaperWords {
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
			words = 0
		}
		b.WriteString(sentence)
		words += n
	}
	b.WriteString(p[last:])
	if s := strings.TrimSpace(b.String()); s != "" {
		out = append(out, s)
	}
	return out
}
