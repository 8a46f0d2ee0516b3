package paper

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// builder assembles a Paper from a stream of parsed events (headings,
// paragraphs, equations, ...). Every format's parser feeds one, so the
// rules for abstracts, references, section trees and numbering live in one
// place.
type builder struct {
	p        *Paper
	stack    []*Section
	cur      *Section
	mode     int // where paragraphs go: modeBody, modeAbstract, modeRefs, modePreamble
	text     map[*Section][]string
	abstract []string
	refs     []string
	// lastNumber is the previous numbered heading, to report gaps.
	lastNumber string
}

const (
	modePreamble = iota
	modeBody
	modeAbstract
	modeRefs
)

func newBuilder(format string) *builder {
	return &builder{p: &Paper{Format: format}, text: map[*Section][]string{}}
}

var refTitles = map[string]bool{"references": true, "bibliography": true, "reference": true, "literature cited": true, "works cited": true}

// isReferencesTitle reports whether a heading starts the bibliography.
func isReferencesTitle(t string) bool { return refTitles[normTitle(t)] }

// isAbstractTitle reports whether a heading starts the abstract.
func isAbstractTitle(t string) bool { return normTitle(t) == "abstract" }

// heading starts a section. level is 1-based; number may be empty.
func (b *builder) heading(number, title string, level, page int) {
	title = strings.TrimSpace(title)
	switch {
	case isAbstractTitle(title) && number == "":
		b.mode = modeAbstract
		return
	case isReferencesTitle(title):
		b.mode = modeRefs
		return
	}
	b.mode = modeBody
	if level < 1 {
		level = 1
	}
	if number != "" {
		if !plausibleNext(b.lastNumber, number, true) {
			from := b.lastNumber
			if from == "" {
				from = "the start"
			}
			where := ""
			if page > 0 {
				where = fmt.Sprintf(" (page %d)", page)
			}
			b.p.Notes = append(b.p.Notes, fmt.Sprintf("warning: section numbers jump from %s to %s%s: a heading may be missing", from, number, where))
		}
		b.lastNumber = number
	}
	s := &Section{Number: number, Title: title, Level: level, Page: page}
	for len(b.stack) > 0 && b.stack[len(b.stack)-1].Level >= level {
		b.stack = b.stack[:len(b.stack)-1]
	}
	if len(b.stack) == 0 {
		s.Level = 1
		b.p.Sections = append(b.p.Sections, s)
	} else {
		parent := b.stack[len(b.stack)-1]
		s.Level = parent.Level + 1
		parent.Children = append(parent.Children, s)
	}
	b.stack = append(b.stack, s)
	b.cur = s
}

// paragraph adds prose to wherever the parser is: the abstract, the
// current section or the references. Text before the first heading (author
// names, affiliations) belongs to no section and is dropped.
func (b *builder) paragraph(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	switch {
	case b.mode == modeAbstract:
		b.abstract = append(b.abstract, text)
	case b.mode == modeRefs:
		b.refs = append(b.refs, text)
	case b.cur == nil:
	default:
		b.text[b.cur] = append(b.text[b.cur], text)
		b.cur.Body = append(b.cur.Body, Part{Kind: PartText, Text: text})
	}
}

// footnote adds a footnote to the current section (or drops it before
// the first heading and in the references).
func (b *builder) footnote(text string) {
	text = strings.TrimSpace(text)
	if s := b.target(); s != nil && text != "" {
		s.Footnotes = append(s.Footnotes, text)
	}
}

// target is the section that blocks (equations, tables) attach to; nil
// before the first heading and inside the abstract or references, where
// blocks are dropped (an equation there is kept as a paragraph).
func (b *builder) target() *Section {
	if b.mode == modeBody || b.mode == modePreamble {
		return b.cur
	}
	return nil
}

func (b *builder) equation(e Equation) {
	if s := b.target(); s != nil {
		s.Body = append(s.Body, Part{Kind: PartEquation, Index: len(s.Equations)})
		s.Equations = append(s.Equations, e)
		return
	}
	b.paragraph(e.Text)
}

func (b *builder) table(t Table) {
	if s := b.target(); s != nil {
		// A caption read just before its table moves into the table.
		if n := len(s.Body); n > 0 && t.Caption != "" && s.Body[n-1].Kind == PartFigure && strings.HasPrefix(s.Body[n-1].Text, t.Caption) {
			t.Caption = s.Body[n-1].Text
			s.Body = s.Body[:n-1]
		}
		s.Body = append(s.Body, Part{Kind: PartTable, Index: len(s.Tables)})
		s.Tables = append(s.Tables, t)
	}
}

func (b *builder) algorithm(a Block) {
	if s := b.target(); s != nil {
		s.Body = append(s.Body, Part{Kind: PartAlgorithm, Index: len(s.Algorithms)})
		s.Algorithms = append(s.Algorithms, a)
	}
}

func (b *builder) caption(c string) {
	c = strings.TrimSpace(c)
	s := b.target()
	if s == nil || c == "" {
		return
	}
	s.Captions = append(s.Captions, c)
	// A table's caption read after the table completes the table; any
	// other caption stands for its figure (or an unread table) in place.
	if n := len(s.Tables); n > 0 && len(s.Body) > 0 && s.Body[len(s.Body)-1].Kind == PartTable {
		if t := &s.Tables[n-1]; strings.HasPrefix(c, "Tab") && (t.Caption == "" || strings.HasPrefix(c, t.Caption)) {
			t.Caption = c
			return
		}
	}
	s.Body = append(s.Body, Part{Kind: PartFigure, Text: c})
}

// reference adds one bibliography entry directly (LaTeX \bibitem).
func (b *builder) reference(r string) {
	if r = strings.Join(strings.Fields(r), " "); r != "" {
		b.p.References = append(b.p.References, r)
	}
}

// finish fills the section texts, numbers unnumbered documents and splits
// the reference paragraphs into entries.
func (b *builder) finish() *Paper {
	b.p.Walk(func(s *Section) {
		s.Text = strings.Join(b.text[s], "\n\n")
	})
	if b.p.Abstract == "" {
		b.p.Abstract = strings.Join(b.abstract, "\n\n")
	}
	b.p.References = append(b.p.References, splitReferences(b.refs)...)
	numbered := false
	b.p.Walk(func(s *Section) { numbered = numbered || s.Number != "" })
	if !numbered {
		assignNumbers(b.p.Sections, "")
	}
	return b.p
}

// assignNumbers numbers a document that numbers none of its headings, so
// that "r2c paper show x.md 2.1" works on every paper.
func assignNumbers(ss []*Section, prefix string) {
	for i, s := range ss {
		s.Number = prefix + strconv.Itoa(i+1)
		assignNumbers(s.Children, s.Number+".")
	}
}

var refStart = regexp.MustCompile(`^(\[[^\]]{1,20}\]|\d{1,3}\.\s|[-*•]\s)`)

// splitReferences turns reference paragraphs into entries: a paragraph that
// holds several "[1] ..." or list-item lines is split at each marker.
func splitReferences(paras []string) []string {
	var out []string
	for _, para := range paras {
		var cur []string
		flush := func() {
			if e := strings.Join(strings.Fields(strings.Join(cur, " ")), " "); e != "" {
				out = append(out, stripListMarker(e))
			}
			cur = nil
		}
		for _, line := range strings.Split(para, "\n") {
			line = strings.TrimSpace(line)
			if refStart.MatchString(line) {
				flush()
			}
			cur = append(cur, line)
		}
		flush()
	}
	return out
}

func stripListMarker(s string) string {
	if strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "* ") || strings.HasPrefix(s, "• ") {
		return strings.TrimSpace(s[2:])
	}
	return s
}

// captionRE is the one caption start of every format: "Figure 3:",
// "Fig. 3.", "Table 2|", "Tab. 1:", "Algorithm 1:", and in Markdown the
// emphasised "**Figure 1:**", "**Table 2**", "_Figure 3._".
var captionRE = regexp.MustCompile(`^(?:\*\*|_)?(Figure|Fig\.|Table|Tab\.|Algorithm)\s*([0-9A-Z][0-9.]*?)(?:(?:\*\*|_)\s*[:.|]?|\s*[:.|])`)

// numberRE matches a printed section number: "3", "3.2", "3.2.1", "A",
// "A.1", optionally with a trailing dot.
var numberRE = regexp.MustCompile(`^(?:\d{1,2}(?:\.\d{1,2}){0,3}|[A-Z](?:\.\d{1,2}){0,3})\.?$`)

// appendixRE matches "Appendix B", "APPENDIX B:", "Appendix B.1 -" at the
// start of a heading.
var appendixRE = regexp.MustCompile(`^(?i:appendix)\s+([A-Z](?:\.\d{1,2}){0,3})\b\s*[:.\-–—]?\s*`)

// splitNumber splits "3.2 Scaled Dot-Product Attention" into its number
// and title. Letter numbers ("A", "B.2") are accepted only when
// allowLetter is set (inside an appendix) or written with a dot ("A."),
// because "A Simple Baseline" is far more often a title than appendix A.
// "Appendix B Proofs" is always appendix B.
func splitNumber(heading string, allowLetter bool) (number, title string) {
	heading = strings.TrimSpace(heading)
	if m := appendixRE.FindStringSubmatchIndex(heading); m != nil && m[1] < len(heading) {
		return heading[m[2]:m[3]], strings.TrimSpace(heading[m[1]:])
	}
	first, rest, _ := strings.Cut(heading, " ")
	rest = strings.TrimSpace(rest)
	if !numberRE.MatchString(first) || rest == "" && !strings.ContainsAny(first, "0123456789") {
		return "", heading
	}
	if c := first[0]; c >= 'A' && c <= 'Z' && len(first) <= 2 && !allowLetter && !strings.HasSuffix(first, ".") {
		return "", heading
	}
	return strings.TrimSuffix(first, "."), rest
}

// SplitHeading is the one recogniser of a numbered section heading
// written as a line of text, shared by every reader of this package and by
// the language server: "3.2 Scaled Dot-Product Attention", "3.2. Title",
// "A.1 Proofs", "Appendix B Training details". The title must start with a
// letter or digit, be at most 120 characters and not read as a sentence
// (ending in a full stop after 60 characters). Whether the number
// continues the paper's sequence is for the caller (see plausibleNext);
// single appendix letters ("A Simple Baseline") are accepted only when
// allowLetter is set or the heading says "Appendix".
func SplitHeading(line string, allowLetter bool) (number, title string, ok bool) {
	line = strings.Join(strings.Fields(line), " ")
	if line == "" || len(line) > 130 {
		return "", "", false
	}
	number, title = splitNumber(line, allowLetter)
	if number == "" || title == "" || len(title) > 120 || strings.HasSuffix(title, ".") && len(title) > 60 {
		return "", "", false
	}
	r, _ := utf8.DecodeRuneInString(title)
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return "", "", false
	}
	return number, title, true
}

// numberDepth is the level a section number implies: "3" → 1, "3.2" → 2.
func numberDepth(n string) int {
	if n == "" {
		return 0
	}
	return strings.Count(n, ".") + 1
}
