// Package paper reads machine-learning papers — PDF, LaTeX, Markdown, plain
// text, or an arXiv id/URL — into a tree of numbered sections with their
// equations, tables, algorithm blocks and captions, so that agents can
// quote exactly the part of a paper they implement and the RAG index can
// chunk it by section with page numbers.
//
// Every format ends in the same Paper value. PDFs are read from positioned
// glyphs (not from the library's plain-text dump, which loses word spaces in
// TeX output) with two-column reading order, math-font based equation
// detection and column-aligned table detection; see pdf.go.
package paper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Paper is one parsed paper.
type Paper struct {
	Title    string
	Abstract string
	// Source is where the paper came from: a file path, or for arXiv the
	// canonical id ("arxiv:2106.09685").
	Source string
	// Sections are the roots of the section tree (level-1 sections).
	Sections []*Section
	// References holds the bibliography entries, one per element, kept
	// apart from the sections so they never pollute prompts or retrieval.
	References []string
	// Pages is the page count for PDFs and 0 for text formats.
	Pages int
	// Format is "pdf", "latex", "markdown" or "text".
	Format string
	// Notes records what was skipped or guessed while parsing (an \input
	// that was not followed, a page that failed to parse, a gap in the
	// section numbers), for the user.
	Notes []string
	// Partial is set when part of the input could not be read (a broken
	// page of a PDF): the tree holds the rest, and Notes says what is
	// missing.
	Partial bool
}

// Section is one heading and what follows it up to the next heading.
type Section struct {
	// Number is the section number as printed ("3.2", "A.1"); empty for
	// unnumbered headings such as "Acknowledgments".
	Number string
	Title  string
	// Level is 1 for sections, 2 for subsections, and so on.
	Level int
	// Page is the 1-based page the heading is on; 0 when unknown.
	Page int
	// Text is the section's own prose (not its children's), paragraphs
	// separated by blank lines. Equations, tables and algorithm blocks are
	// kept out of Text and listed in their own fields.
	Text       string
	Equations  []Equation
	Tables     []Table
	Algorithms []Block
	Captions   []string
	// Footnotes are the section's footnotes, kept out of Text so that a
	// note printed at the foot of a column never splits a sentence.
	Footnotes []string
	// Body is the section's own content in reading order: its paragraphs
	// with the equations, tables, figures and algorithms where they stand
	// (Markdown renders it). Sections built by hand may leave it empty.
	Body     []Part
	Children []*Section
}

// PartKind says what a Part of a section's body is.
type PartKind int

// The kinds of Part.
const (
	PartText      PartKind = iota // a paragraph; Text holds it
	PartEquation                  // Equations[Index]
	PartTable                     // Tables[Index]
	PartAlgorithm                 // Algorithms[Index]
	PartFigure                    // a figure (or a table not read as cells): Text is its caption
)

// Part is one piece of a section's body.
type Part struct {
	Kind  PartKind
	Text  string
	Index int
}

// Equation is a display equation.
type Equation struct {
	// Number is the printed equation number without parentheses ("3",
	// "2.1"); empty for unnumbered displays.
	Number string
	Text   string
	Page   int
}

// Table is a table kept as rows of cells.
type Table struct {
	Caption string
	Rows    [][]string
	Page    int
}

// Block is an algorithm or pseudocode block.
type Block struct {
	Title string
	Text  string
	Page  int
}

// Options configures Load. The zero value is usable.
type Options struct {
	// CacheDir holds downloaded arXiv papers. Empty means
	// $XDG_CACHE_HOME/r2c/arxiv (os.UserCacheDir()/r2c/arxiv).
	CacheDir string
	// ArxivBaseURL is where arXiv is reached; tests point it at an
	// httptest server. Empty means https://arxiv.org.
	ArxivBaseURL string
	// HTTPClient downloads arXiv papers; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one arXiv download; 0 means 60 seconds.
	Timeout time.Duration
	// MaxBytes refuses larger input files (and downloads); 0 means 100 MiB.
	MaxBytes int64
	// MaxPages refuses PDFs with more pages; 0 means 1000.
	MaxPages int
}

const (
	defaultMaxBytes = 100 << 20
	defaultMaxPages = 1000
	defaultTimeout  = 60 * time.Second
)

func (o Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return defaultMaxBytes
}

func (o Options) maxPages() int {
	if o.MaxPages > 0 {
		return o.MaxPages
	}
	return defaultMaxPages
}

// Load reads a paper from a file (.pdf, .md/.markdown, .tex, .txt or
// anything else as plain text) or from an arXiv id or URL, which is
// downloaded once into the cache. The format of a file is decided by its
// extension and, for PDFs, by its "%PDF-" header.
func Load(ctx context.Context, source string, opts Options) (*Paper, error) {
	if id, ok := ParseArxivID(source); ok && !fileExists(source) {
		return loadArxiv(ctx, id, opts)
	}
	data, err := readLimited(source, opts.maxBytes())
	if err != nil {
		return nil, fmt.Errorf("paper: %w", err)
	}
	p, err := Parse(source, data, opts)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Parse reads a paper from bytes already in memory; name is used for the
// format (by extension) and in error messages.
func Parse(name string, data []byte, opts Options) (*Paper, error) {
	var (
		p   *Paper
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(name)); {
	case ext == ".pdf" || strings.HasPrefix(string(data[:min(len(data), 1024)]), "%PDF-"):
		p, err = parsePDF(name, data, opts)
	case ext == ".md" || ext == ".markdown":
		p = parseMarkdown(string(data))
	case ext == ".tex" || ext == ".latex":
		p = parseLaTeX(string(data))
	default:
		p = parseText(string(data))
	}
	if err != nil {
		return nil, err
	}
	p.Source = name
	return p, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readLimited reads a whole file, refusing files larger than limit so a
// stray multi-gigabyte path cannot exhaust memory.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a paper", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d MiB, over the %d MiB limit", path, st.Size()>>20, limit>>20)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// Walk calls fn on every section, depth-first in document order.
func (p *Paper) Walk(fn func(*Section)) {
	var walk func([]*Section)
	walk = func(ss []*Section) {
		for _, s := range ss {
			fn(s)
			walk(s.Children)
		}
	}
	walk(p.Sections)
}

// ErrSectionNotFound is wrapped by Find's error when nothing matches.
var ErrSectionNotFound = errors.New("section not found")

// ErrAmbiguousSection is wrapped by Find's error when the query matches
// several sections equally well; the error lists them.
var ErrAmbiguousSection = errors.New("ambiguous section")

// maxListed bounds the sections an error lists: a paper with thousands of
// headings would otherwise fill the terminal (or an LSP message) with them.
const maxListed = 25

// listHeadings joins section headings for an error message, at most
// maxListed of them.
func listHeadings(ss []*Section) string {
	names := make([]string, 0, min(len(ss), maxListed))
	for _, s := range ss[:min(len(ss), maxListed)] {
		names = append(names, s.Heading())
	}
	out := strings.Join(names, "; ")
	if len(ss) > maxListed {
		out += fmt.Sprintf("; and %d more (`r2c paper sections` lists them all)", len(ss)-maxListed)
	}
	return out
}

// Find looks a section up by number ("3.2"), title ("Scaled Dot-Product
// Attention", case-insensitive) or both ("3.2 Scaled Dot-Product
// Attention"). An exact match wins; otherwise a unique title prefix or
// substring match is accepted. The error lists the available sections.
func (p *Paper) Find(query string) (*Section, error) {
	q := normTitle(query)
	if q == "" {
		return nil, fmt.Errorf("paper: empty section name; %w", p.sectionList())
	}
	num, title := splitNumber(strings.TrimSpace(query), true)
	num = strings.TrimSuffix(num, ".")
	var byNumber, exact, prefix, substr []*Section
	p.Walk(func(s *Section) {
		t := normTitle(s.Title)
		full := normTitle(s.Number + " " + s.Title)
		switch {
		case strings.EqualFold(s.Number, strings.TrimSuffix(strings.TrimSpace(query), ".")),
			num != "" && strings.EqualFold(s.Number, num) && (title == "" || normTitle(title) == t):
			byNumber = append(byNumber, s)
		case q == t || q == full:
			exact = append(exact, s)
		case strings.HasPrefix(t, q):
			prefix = append(prefix, s)
		case strings.Contains(t, q):
			substr = append(substr, s)
		}
	})
	for _, cands := range [][]*Section{byNumber, exact, prefix, substr} {
		switch len(cands) {
		case 0:
			continue
		case 1:
			return cands[0], nil
		default:
			return nil, fmt.Errorf("paper: %w: %q in %s matches %d sections: %s; give the number or the full title", ErrAmbiguousSection, query, p.Source, len(cands), listHeadings(cands))
		}
	}
	return nil, fmt.Errorf("paper: %w: %q in %s; %w", ErrSectionNotFound, query, p.Source, p.sectionList())
}

func (p *Paper) sectionList() error {
	var all []*Section
	p.Walk(func(s *Section) { all = append(all, s) })
	if len(all) == 0 {
		return errors.New("the paper has no sections")
	}
	return fmt.Errorf("available sections: %s", listHeadings(all))
}

// normTitle lower-cases s and collapses white space and punctuation runs, so
// "Scaled  Dot-Product attention:" matches "scaled dot-product attention".
func normTitle(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimRight(s, ".:;, ")
	return strings.Join(strings.Fields(s), " ")
}

// Heading is the section's number and title as printed: "3.2 Attention".
func (s *Section) Heading() string {
	if s.Number == "" {
		return s.Title
	}
	return s.Number + " " + s.Title
}

// Markdown renders the section with its subsections, equations, tables and
// algorithm blocks as Markdown, for LLM prompts. Headings keep their
// numbers and pages so answers can cite them.
func (s *Section) Markdown() string {
	var b strings.Builder
	s.writeMarkdown(&b)
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func (s *Section) writeMarkdown(b *strings.Builder) {
	b.WriteString(strings.Repeat("#", min(s.Level+1, 6)))
	b.WriteString(" ")
	b.WriteString(s.Heading())
	if s.Page > 0 {
		fmt.Fprintf(b, " (page %d)", s.Page)
	}
	b.WriteString("\n\n")
	if len(s.Body) > 0 {
		s.writeBody(b)
	} else {
		s.writeFields(b)
	}
	if len(s.Footnotes) > 0 {
		b.WriteString("Footnotes:\n")
		for _, f := range s.Footnotes {
			fmt.Fprintf(b, "- %s\n", f)
		}
		b.WriteString("\n")
	}
	for _, c := range s.Children {
		c.writeMarkdown(b)
	}
}

// writeBody renders the body in reading order: display equations,
// tables and figures stand where the paper puts them.
func (s *Section) writeBody(b *strings.Builder) {
	for _, part := range s.Body {
		switch part.Kind {
		case PartText:
			if t := strings.TrimSpace(part.Text); t != "" {
				b.WriteString(t)
				b.WriteString("\n\n")
			}
		case PartEquation:
			if part.Index < len(s.Equations) {
				writeEquation(b, s.Equations[part.Index])
			}
		case PartTable:
			if part.Index < len(s.Tables) {
				writeTable(b, s.Tables[part.Index])
			}
		case PartAlgorithm:
			if part.Index < len(s.Algorithms) {
				writeAlgorithm(b, s.Algorithms[part.Index])
			}
		case PartFigure:
			if !slices.ContainsFunc(s.Tables, func(t Table) bool { return t.Caption == part.Text }) {
				fmt.Fprintf(b, "[%s]\n\n", part.Text)
			}
		}
	}
}

// writeFields renders a section without a Body (built by hand): text,
// then equations, tables, algorithms and the captions not shown yet.
func (s *Section) writeFields(b *strings.Builder) {
	if t := strings.TrimSpace(s.Text); t != "" {
		b.WriteString(t)
		b.WriteString("\n\n")
	}
	for _, e := range s.Equations {
		writeEquation(b, e)
	}
	for _, t := range s.Tables {
		writeTable(b, t)
	}
	for _, a := range s.Algorithms {
		writeAlgorithm(b, a)
	}
	shown := map[string]bool{}
	for _, t := range s.Tables {
		shown[t.Caption] = true
	}
	for _, c := range s.Captions {
		if !shown[c] {
			fmt.Fprintf(b, "_%s_\n\n", c)
		}
	}
}

func writeEquation(b *strings.Builder, e Equation) {
	if e.Number != "" {
		fmt.Fprintf(b, "Equation (%s):\n", e.Number)
	}
	fmt.Fprintf(b, "$$\n%s\n$$\n\n", strings.TrimSpace(e.Text))
}

func writeAlgorithm(b *strings.Builder, a Block) {
	title := a.Title
	if title == "" {
		title = "Algorithm"
	}
	fmt.Fprintf(b, "%s:\n```\n%s\n```\n\n", title, strings.TrimRight(a.Text, "\n"))
}

func writeTable(b *strings.Builder, t Table) {
	if t.Caption != "" {
		fmt.Fprintf(b, "%s\n\n", t.Caption)
	}
	width := 0
	for _, r := range t.Rows {
		width = max(width, len(r))
	}
	if width == 0 {
		return
	}
	for i, r := range t.Rows {
		cells := make([]string, width)
		for j := range cells {
			if j < len(r) {
				cells[j] = strings.ReplaceAll(r[j], "|", `\|`)
			}
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
		if i == 0 {
			fmt.Fprintf(b, "|%s\n", strings.Repeat(" --- |", width))
		}
	}
	b.WriteString("\n")
}

// Counts returns how many equations and tables the section holds,
// subsections included.
func (s *Section) Counts() (equations, tables int) {
	equations, tables = len(s.Equations), len(s.Tables)
	for _, c := range s.Children {
		e, t := c.Counts()
		equations += e
		tables += t
	}
	return equations, tables
}
