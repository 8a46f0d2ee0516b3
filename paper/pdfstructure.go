package paper

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	eqNumberRE     = regexp.MustCompile(`^\((\d{1,3}(?:\.\d{1,3})?[a-z]?|[A-Z]\.?\d{1,3}[a-z]?)\)$`)
	pdfAlgorithmRE = regexp.MustCompile(`^Algorithm\s+(\d+)\b[:.]?\s*(.*)$`)
	pageNumberRE   = regexp.MustCompile(`^(\d{1,4}|[ivxlc]{1,6}|-\s*\d{1,4}\s*-|Page \d+( of \d+)?)$`)
	bracketRefRE   = regexp.MustCompile(`^\[\d{1,4}\]`)
	footnoteMarkRE = regexp.MustCompile(`^(\d{1,2}|[*†‡§])(\pL)`)
	knownHeadings  = map[string]bool{
		"abstract": true, "references": true, "bibliography": true, "acknowledgments": true,
		"acknowledgements": true, "acknowledgment": true, "acknowledgement": true, "appendix": true,
		"appendices": true, "supplementary material": true, "limitations": true, "broader impact": true,
		"ethics statement": true, "conclusion": true, "conclusions": true, "introduction": true,
	}
)

// parsePDF reads a PDF and builds the section tree from its lines: headings
// are short lines in a bold or larger font whose number follows on from the
// previous heading ("3.2" after "3.1"); displays with a right-aligned "(n)"
// or mostly math-font glyphs are equations; runs of lines split into aligned
// cells are tables; "Algorithm n" starts an algorithm block; "Figure n:" and
// "Table n:" lines are captions; the references section is kept apart.
func parsePDF(name string, data []byte, opts Options) (*Paper, error) {
	doc, err := readPDF(name, data, opts)
	if err != nil {
		return nil, err
	}
	b := newBuilder("pdf")
	b.p.Pages = len(doc.pages)
	a := &pdfAnalyzer{doc: doc, b: b}
	a.run()
	p := b.finish()
	if len(doc.failed) > 0 {
		p.Partial = true
		p.Notes = append(p.Notes, fmt.Sprintf("partial: %d of %d pages could not be read and are missing from the tree: %s", len(doc.failed), len(doc.pages), strings.Join(doc.failed, "; ")))
	}
	return p, nil
}

type pdfAnalyzer struct {
	doc        *pdfDoc
	b          *builder
	lastNumber string
	inAppendix bool
	para       []*line
	notes      [][]string // footnotes waiting for the current paragraph to end
	vocab      vocabulary // the document's words, for line-end hyphens
}

func (a *pdfAnalyzer) run() {
	running := runningLines(a.doc)
	var lines []*line
	for _, p := range a.doc.pages {
		notes := footnoteLines(p, a.doc.bodySize, running)
		for _, l := range p.lines {
			if isPageNumberLine(l, p) || running[l] {
				continue
			}
			if notes[l] {
				l.footnote = true
			}
			lines = append(lines, l)
		}
	}
	markFigureText(lines, a.doc.bodySize)
	a.vocab = vocabulary{}
	for _, l := range lines {
		a.vocab.add(l.text)
	}
	a.findTitle(lines)
	body := a.doc.bodySize
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l.text == a.b.p.Title && l.page == 1 || l.col == -2 || l.figure {
			continue
		}
		if num, title, rest, ok := a.headingAt(lines, i); ok {
			a.flushPara()
			if num != "" {
				a.lastNumber = num
			}
			// A heading may wrap onto a second line in the same font.
			for i+1 < len(lines) && isHeadingContinuation(l, lines[i+1], a.doc.leading) {
				i++
				title += " " + lines[i].text
			}
			level := numberDepth(num)
			if level == 0 {
				level = 1
			}
			a.b.heading(num, title, level, l.page)
			if rest != "" {
				a.para = append(a.para, &line{page: l.page, col: l.col, y: l.y, x0: l.x0, x1: l.x1, colX0: l.colX0, colX1: l.colX1, size: l.size, text: rest})
			}
			continue
		}
		if a.b.mode == modeRefs {
			a.reference(l)
			continue
		}
		if l.footnote {
			// Footnotes sit between a paragraph's last line in one column
			// and its continuation in the next: set them aside as their own
			// paragraph without ending the one in progress.
			a.footnote(l)
			continue
		}
		if m := pdfAlgorithmRE.FindStringSubmatch(l.text); m != nil && l.cells[0].first.font.bold {
			a.flushPara()
			i = a.algorithm(lines, i)
			continue
		}
		if captionRE.MatchString(l.text) {
			a.flushPara()
			i = a.captionBlock(lines, i)
			continue
		}
		if end, ok := a.table(lines, i); ok {
			a.flushPara()
			i = end
			continue
		}
		if isEquationLine(l, body) || a.startsDisplay(lines, i) {
			a.flushPara()
			i = a.equation(lines, i)
			continue
		}
		a.addText(l)
	}
	a.flushPara()
}

// markFigureText marks the text drawn inside figures (axis ticks,
// legends, labels) so that it does not run into the prose around the
// figure: walking up from each "Figure n" caption, in its column and on
// its page, every line in a small font or short and narrow is the
// figure's, up to the first line of prose. The caption then stands for
// the figure.
func markFigureText(lines []*line, body float64) {
	for i, c := range lines {
		if !strings.HasPrefix(c.text, "Fig") || !captionRE.MatchString(c.text) {
			continue
		}
		for k := i - 1; k >= 0 && k >= i-80; k-- {
			l := lines[k]
			if l.page != c.page || l.col != c.col || l.footnote {
				break
			}
			width := math.Max(l.colX1-l.colX0, 1)
			small := l.size < 0.85*body
			narrow := len([]rune(l.text)) < 30 && l.x1-l.x0 < 0.4*width
			_, _, numbered := SplitHeading(l.text, true)
			if !small && (!narrow || numbered || knownHeadings[normTitle(l.text)]) {
				break // prose, or a heading right above the figure
			}
			l.figure = true
		}
	}
}

// isPageNumberLine drops running page numbers in the top or bottom margin.
func isPageNumberLine(l *line, p pdfPage) bool {
	if !pageNumberRE.MatchString(strings.TrimSpace(l.text)) {
		return false
	}
	lowest, highest := true, true
	for _, o := range p.lines {
		if o != l && o.y < l.y {
			lowest = false
		}
		if o != l && o.y > l.y {
			highest = false
		}
	}
	return lowest && l.y < 0.2*p.height || highest && l.y > 0.85*p.height
}

// footnoteLines finds the footnotes of a page: the run of lines in a
// smaller font at the bottom of a column, below every body line of it.
func footnoteLines(p pdfPage, body float64, running map[*line]bool) map[*line]bool {
	out := map[*line]bool{}
	for _, col := range []int{-1, 0, 1} {
		var ls []*line
		for _, l := range p.lines {
			if l.col == col && !running[l] && !isPageNumberLine(l, p) {
				ls = append(ls, l)
			}
		}
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].y < ls[j].y }) // bottom first
		var run []*line
		for _, l := range ls {
			if l.size >= 0.9*body || l.y > 0.4*p.height {
				break
			}
			run = append(run, l)
		}
		// A lone small line at the bottom is more likely a page number or
		// a caption than a footnote; footnotes start with a raised mark.
		if len(run) == 0 {
			continue
		}
		top := run[len(run)-1]
		if !(len(top.cells) > 0 && top.cells[0].first.y > top.y+0.2*top.size) {
			continue
		}
		for _, l := range run {
			out[l] = true
		}
	}
	return out
}

// runningLines finds running heads and feet: the topmost or bottommost
// line of a page whose text, digits aside, recurs in the same place on at
// least two pages and half of them.
func runningLines(doc *pdfDoc) map[*line]bool {
	type key struct {
		text string
		top  bool
	}
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == ' ' {
				return -1
			}
			return r
		}, strings.ToLower(s))
	}
	count := map[key]int{}
	edge := map[*line]key{}
	for _, p := range doc.pages {
		if len(p.lines) == 0 {
			continue
		}
		top, bottom := p.lines[0], p.lines[0]
		for _, l := range p.lines {
			if l.y > top.y {
				top = l
			}
			if l.y < bottom.y {
				bottom = l
			}
		}
		if top.y > 0.85*p.height {
			edge[top] = key{norm(top.text), true}
		}
		if bottom.y < 0.15*p.height {
			edge[bottom] = key{norm(bottom.text), false}
		}
	}
	for _, k := range edge {
		count[k]++
	}
	out := map[*line]bool{}
	for l, k := range edge {
		if k.text != "" && count[k] >= 2 && 2*count[k] >= len(doc.pages)-1 {
			out[l] = true
		}
	}
	return out
}

// findTitle takes the largest text on page 1 above the first heading (or
// abstract) when it is clearly bigger than body text.
func (a *pdfAnalyzer) findTitle(lines []*line) {
	var first []*line
	for _, l := range lines {
		if l.page != 1 {
			break
		}
		if t := normTitle(l.text); t == "abstract" || strings.HasPrefix(t, "abstract") && l.cells[0].first.font.bold {
			break
		}
		first = append(first, l)
	}
	maxSize := 0.0
	for _, l := range first {
		maxSize = math.Max(maxSize, l.size)
	}
	if maxSize < 1.2*a.doc.bodySize {
		return
	}
	var parts []string
	for _, l := range first {
		if math.Abs(l.size-maxSize) < 0.5 {
			parts = append(parts, l.text)
			l.col = -2 // consumed
		} else if len(parts) > 0 {
			break
		}
	}
	a.b.p.Title = strings.Join(parts, " ")
}

// headingAt decides whether line i is a section heading, from the
// numbering sequence and the layout together: a bold or larger line whose
// number continues the sequence (one missed number is tolerated, and the
// builder warns about the gap); a plain-weight line that continues the
// sequence exactly, starts a block at the column's left edge and stops
// short of the right edge, with a capitalised title; or a run-in heading,
// a bold "3.1 Datasets." before plain prose on the same line, whose prose
// is returned as rest.
func (a *pdfAnalyzer) headingAt(lines []*line, i int) (number, title, rest string, ok bool) {
	l := lines[i]
	text := strings.TrimSpace(l.text)
	if len(text) == 0 || l.math > 0.3 {
		return "", "", "", false
	}
	body := a.doc.bodySize
	styled := l.bold >= 0.6 && !a.doc.boldBody || l.size >= 1.15*body
	allowLetter := a.inAppendix || a.b.mode == modeRefs || isLetterNumber(a.lastNumber)
	if styled && len(text) <= 120 {
		if knownHeadings[normTitle(text)] {
			if normTitle(text) == "appendix" || normTitle(text) == "appendices" {
				a.inAppendix = true
			}
			return "", text, "", true
		}
		num, t, ok := SplitHeading(text, allowLetter)
		if !ok || strings.HasSuffix(t, ".") && len(t) > 60 {
			return "", "", "", false
		}
		if !plausibleNext(a.lastNumber, num, allowLetter) && !skipsOne(a.lastNumber, num, allowLetter) {
			return "", "", "", false
		}
		return num, t, "", true
	}
	startsBlock := i == 0 || lines[i-1].page != l.page || lines[i-1].col != l.col || lines[i-1].y-l.y > 1.25*a.doc.leading
	atEdge := l.x0 <= l.colX0+0.6*body
	if !startsBlock || !atEdge {
		return "", "", "", false
	}
	// A run-in heading: the bold start of a line that goes on in plain text.
	if bp := l.boldPrefix; bp > 0 && bp < len(l.text) && !a.doc.boldBody {
		head := strings.TrimSpace(l.text[:bp])
		num, t, ok := SplitHeading(strings.TrimRight(head, ".:"), allowLetter)
		if ok && strings.ContainsAny(head[len(head)-1:], ".:") && plausibleNext(a.lastNumber, num, allowLetter) {
			return num, strings.TrimSpace(t), strings.TrimSpace(l.text[bp:]), true
		}
	}
	// A plain-weight heading at body size ("5.2.1 ALIGNMENT", "3.1 Datasets").
	num, t, ok := SplitHeading(text, allowLetter)
	if !ok || len(l.cells) > 2 || strings.HasSuffix(t, ".") || strings.HasSuffix(t, ",") || len(t) > 90 || l.x1 > l.colX1-2*body {
		return "", "", "", false
	}
	if r, _ := utf8.DecodeRuneInString(t); !unicode.IsUpper(r) && !unicode.IsDigit(r) {
		return "", "", "", false
	}
	if !plausibleNext(a.lastNumber, num, allowLetter) {
		return "", "", "", false
	}
	return num, t, "", true
}

// isLetterNumber reports whether a section number is an appendix's ("B.2").
func isLetterNumber(n string) bool { return n != "" && n[0] >= 'A' && n[0] <= 'Z' }

// skipsOne reports whether number follows prev with exactly one number
// missed in between ("3.4" after "3.2", "5" after "3.1"): a bold heading
// is still taken, and the builder reports the gap.
func skipsOne(prev, number string, inAppendix bool) bool {
	if prev == "" {
		return false
	}
	parts := strings.Split(prev, ".")
	for k := 1; k <= len(parts); k++ {
		mid := strings.Join(append(append([]string(nil), parts[:k-1]...), succ(parts[k-1])), ".")
		if succ(parts[k-1]) != "" && plausibleNext(mid, number, inAppendix) {
			return true
		}
	}
	return false
}

func isHeadingContinuation(h, next *line, leading float64) bool {
	return next.page == h.page && next.col == h.col && math.Abs(next.size-h.size) < 0.3 &&
		next.bold >= 0.6 && h.bold >= 0.6 && h.y-next.y < 1.6*math.Max(leading, h.size) &&
		!numberRE.MatchString(strings.Fields(next.text)[0]) && len(next.text) < 80
}

// isEquationLine: a right-aligned "(n)" cell after a gap, or a line that is
// mostly math glyphs and set off from the column's left edge.
func isEquationLine(l *line, body float64) bool {
	if eqNumberCell(l) != "" {
		return true
	}
	// A display is set off on both sides; a prose line with much inline
	// math still runs to the column's right edge.
	displayed := l.x0 > l.colX0+1.2*body && l.x1 < l.colX1-body
	return displayed && l.math >= 0.35 && len(l.text) < 200
}

// eqNumberCell returns the equation number when the line's last cell is a
// parenthesised number at the right edge of its column.
func eqNumberCell(l *line) string {
	if len(l.cells) < 2 {
		return ""
	}
	last := l.cells[len(l.cells)-1]
	m := eqNumberRE.FindStringSubmatch(strings.ReplaceAll(last.text, " ", ""))
	if m == nil || last.x1 < l.colX1-2*l.size {
		return ""
	}
	return m[1]
}

// equation collects the display starting at line i: neighbouring lines
// that are math or short centred pieces (fraction numerators and
// denominators), split into one equation per number.
func (a *pdfAnalyzer) equation(lines []*line, i int) int {
	body := a.doc.bodySize
	j := i
	// Include a numerator line already passed is impossible: the
	// numerator comes first in reading order, so look for pieces after.
	for j+1 < len(lines) {
		n := lines[j+1]
		prev := lines[j]
		if n.page != prev.page || n.col != prev.col || prev.y-n.y > 2.2*body {
			break
		}
		if !isEquationLine(n, body) && !isDisplayPiece(n, body) {
			break
		}
		if a.headingPeek(lines, j+1) {
			break
		}
		j++
	}
	block := lines[i : j+1]
	var numbered []int
	for k, l := range block {
		if eqNumberCell(l) != "" {
			numbered = append(numbered, k)
		}
	}
	if len(numbered) == 0 {
		a.b.equation(Equation{Text: joinLineTexts(block), Page: block[0].page})
		return j
	}
	// Each unnumbered line goes to the nearest numbered line.
	groups := make([][]*line, len(numbered))
	for k, l := range block {
		best, bestD := 0, math.Inf(1)
		for g, nk := range numbered {
			if d := math.Abs(block[nk].y - l.y); d < bestD {
				best, bestD = g, d
			}
		}
		groups[best] = append(groups[best], l)
		_ = k
	}
	for g, nk := range numbered {
		num := eqNumberCell(block[nk])
		var parts []string
		for _, l := range groups[g] {
			cells := l.cells
			if eqNumberCell(l) != "" {
				cells = cells[:len(cells)-1]
			}
			for _, c := range cells {
				parts = append(parts, c.text)
			}
		}
		a.b.equation(Equation{Number: num, Text: strings.Join(parts, " "), Page: block[nk].page})
	}
	return j
}

// startsDisplay: a short centred piece in text fonts (a fraction's
// numerator such as "1") directly above an equation line belongs to it.
func (a *pdfAnalyzer) startsDisplay(lines []*line, i int) bool {
	l := lines[i]
	if i+1 >= len(lines) || !isDisplayPiece(l, a.doc.bodySize) {
		return false
	}
	n := lines[i+1]
	return n.page == l.page && n.col == l.col && l.y-n.y < 1.2*a.doc.bodySize && isEquationLine(n, a.doc.bodySize)
}

// isDisplayPiece: a short line set off from both column edges.
func isDisplayPiece(l *line, body float64) bool {
	return l.x0 > l.colX0+2*body && l.x1 < l.colX1-body && (l.math > 0.2 || len([]rune(l.text)) <= 6)
}

// headingPeek reports whether line i would be a heading, without
// changing the analyzer's state.
func (a *pdfAnalyzer) headingPeek(lines []*line, i int) bool {
	saved := a.inAppendix
	_, _, _, ok := a.headingAt(lines, i)
	a.inAppendix = saved
	return ok
}

func joinLineTexts(ls []*line) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, l.text)
	}
	return strings.Join(parts, " ")
}

// table finds a run of at least two lines split into several cells (with a
// "Table n" caption next to it, or at least three rows) and keeps it as
// rows of cells aligned to the widest row's columns.
func (a *pdfAnalyzer) table(lines []*line, i int) (int, bool) {
	multi := func(l *line) bool {
		return len(l.cells) >= 2 && eqNumberCell(l) == "" && l.math < 0.5 && !captionRE.MatchString(l.text)
	}
	if !multi(lines[i]) {
		return i, false
	}
	near := func(p, n *line) bool {
		return n.page == p.page && n.col == p.col && p.y-n.y < 2.5*a.doc.bodySize
	}
	j := i
	for j+1 < len(lines) && near(lines[j], lines[j+1]) {
		n := lines[j+1]
		if multi(n) {
			j++
			continue
		}
		// A one-cell group row ("Parameter-efficient") inside the table:
		// short, and followed by another row of cells.
		if j+2 < len(lines) && len(n.cells) == 1 && len(n.text) < 40 && multi(lines[j+2]) && near(n, lines[j+2]) && n.x1 < lines[j].x1 {
			j += 2
			continue
		}
		break
	}
	rows := j - i + 1
	captioned := nearCaption(lines, i, j, "Tab")
	if rows < 2 || rows < 3 && captioned == "" {
		return i, false
	}
	block := lines[i : j+1]
	// Column anchors from the row with the most cells.
	widest := block[0]
	for _, l := range block {
		if len(l.cells) > len(widest.cells) {
			widest = l
		}
	}
	if !isGrid(block, widest, a.doc.bodySize) {
		return i, false
	}
	// A caption above the table was read already, in full: prefer it to
	// its first line.
	if sec := a.b.target(); sec != nil && captioned != "" {
		for _, c := range sec.Captions {
			if strings.HasPrefix(c, captioned) {
				captioned = c
			}
		}
	}
	t := Table{Caption: captioned, Page: block[0].page}
	for _, l := range block {
		row := make([]string, len(widest.cells))
		for _, c := range l.cells {
			best, bestD := 0, math.Inf(1)
			for k, w := range widest.cells {
				d := math.Abs((c.x0+c.x1)/2 - (w.x0+w.x1)/2)
				if overlap := math.Min(c.x1, w.x1) - math.Max(c.x0, w.x0); overlap > 0 {
					d = -overlap
				}
				if d < bestD {
					best, bestD = k, d
				}
			}
			if row[best] != "" {
				row[best] += " "
			}
			row[best] += c.text
		}
		t.Rows = append(t.Rows, row)
	}
	a.b.table(t)
	return j, true
}

// isGrid reports whether rows of cells form a tabular grid: most rows
// with several cells start at least two of them where the widest row has
// a cell, left-, right- or centre-aligned. Scattered figure labels and
// tick marks do not line up that way.
func isGrid(block []*line, widest *line, body float64) bool {
	tol := 0.8 * body
	aligned, multi := 0, 0
	for _, l := range block {
		if len(l.cells) < 2 {
			continue
		}
		multi++
		hits := 0
		for _, c := range l.cells {
			for _, w := range widest.cells {
				if math.Abs(c.x0-w.x0) < tol || math.Abs(c.x1-w.x1) < tol || math.Abs((c.x0+c.x1)/2-(w.x0+w.x1)/2) < tol {
					hits++
					break
				}
			}
		}
		if hits >= 2 {
			aligned++
		}
	}
	return multi >= 2 && 10*aligned >= 7*multi
}

// nearCaption returns a caption line starting with prefix within three
// lines above i or below j, on the same page.
func nearCaption(lines []*line, i, j int, prefix string) string {
	for k := i - 1; k >= max(0, i-3); k-- {
		if lines[k].page == lines[i].page && strings.HasPrefix(lines[k].text, prefix) && captionRE.MatchString(lines[k].text) {
			return lines[k].text
		}
	}
	for k := j + 1; k < min(len(lines), j+4); k++ {
		if lines[k].page == lines[j].page && strings.HasPrefix(lines[k].text, prefix) && captionRE.MatchString(lines[k].text) {
			return lines[k].text
		}
	}
	return ""
}

// captionBlock collects "Figure n:"/"Table n:" and its continuation
// lines and hands the caption to the builder.
func (a *pdfAnalyzer) captionBlock(lines []*line, i int) int {
	parts := []string{lines[i].text}
	j := i
	for j+1 < len(lines) {
		n, prev := lines[j+1], lines[j]
		if n.page != prev.page || n.col != prev.col || prev.y-n.y > 1.4*a.doc.leading || len(n.cells) > 1 || captionRE.MatchString(n.text) {
			break
		}
		if a.headingPeek(lines, j+1) {
			break
		}
		parts = append(parts, n.text)
		j++
		if prev.x1 < prev.colX1-3*a.doc.bodySize { // a short line ends the caption
			break
		}
	}
	c := a.vocab.dehyphenate(parts)
	// Attach a table caption to the table it names if that was just read.
	if s := a.b.target(); s != nil && strings.HasPrefix(c, "Tab") && len(s.Tables) > 0 && s.Tables[len(s.Tables)-1].Caption == lines[i].text {
		s.Tables[len(s.Tables)-1].Caption = c
	}
	a.b.caption(c)
	return j
}

// algorithm collects "Algorithm n Title" and the lines that follow at
// normal line spacing.
func (a *pdfAnalyzer) algorithm(lines []*line, i int) int {
	m := pdfAlgorithmRE.FindStringSubmatch(lines[i].text)
	title := "Algorithm " + m[1]
	if strings.TrimSpace(m[2]) != "" {
		title += ": " + strings.TrimSpace(m[2])
	}
	var body []string
	j := i
	for j+1 < len(lines) {
		n, prev := lines[j+1], lines[j]
		if n.page != prev.page || n.col != prev.col || prev.y-n.y > 1.5*a.doc.leading {
			break
		}
		if a.headingPeek(lines, j+1) {
			break
		}
		body = append(body, n.text)
		j++
	}
	a.b.algorithm(Block{Title: title, Text: strings.Join(body, "\n"), Page: lines[i].page})
	return j
}

// addText adds a prose line, starting a new paragraph at a first-line
// indent, a vertical gap, or a column/page change after a short line.
func (a *pdfAnalyzer) addText(l *line) {
	if len(a.para) > 0 {
		prev := a.para[len(a.para)-1]
		sameCol := prev.page == l.page && prev.col == l.col
		gap := prev.y - l.y
		indent := l.x0-prev.x0 > 0.8*a.doc.bodySize && l.x0-prev.x0 < 4*a.doc.bodySize
		right := l.x1
		for _, p := range a.para {
			right = math.Max(right, p.x1)
		}
		short := prev.x1 < right-2*a.doc.bodySize
		if sameCol && (gap > 1.45*a.doc.leading || indent || short) || !sameCol && short {
			a.flushPara()
		}
	}
	a.para = append(a.para, l)
}

// footnote adds a footnote line: a line starting with its mark starts a
// new note, others continue the last one.
func (a *pdfAnalyzer) footnote(l *line) {
	starts := len(a.notes) == 0 || l.cells[0].first.y > l.y+0.2*l.size || len(l.text) > 0 && l.text[0] >= '0' && l.text[0] <= '9' || l.x0 > l.colX0+0.5*a.doc.bodySize
	if starts {
		a.notes = append(a.notes, []string{footnoteMarkRE.ReplaceAllString(l.text, "$1 $2")})
		return
	}
	last := len(a.notes) - 1
	a.notes[last] = append(a.notes[last], l.text)
}

func (a *pdfAnalyzer) flushNotes() {
	for _, n := range a.notes {
		a.b.footnote(a.vocab.dehyphenate(n))
	}
	a.notes = nil
}

func (a *pdfAnalyzer) flushPara() {
	defer a.flushNotes()
	if len(a.para) == 0 {
		return
	}
	texts := make([]string, len(a.para))
	for i, l := range a.para {
		texts[i] = l.text
	}
	a.b.paragraph(a.vocab.dehyphenate(texts))
	a.para = nil
}

// reference adds a bibliography line: "[n]" labels or a hanging indent
// start an entry; other lines continue the current one.
func (a *pdfAnalyzer) reference(l *line) {
	starts := bracketRefRE.MatchString(l.text) || !(l.x0 > l.colX0+0.8*a.doc.bodySize) && !bracketRefRE.MatchString(l.text) && len(a.b.refs) == 0
	if !starts && len(a.b.refs) > 0 && !bracketRefRE.MatchString(a.b.refs[len(a.b.refs)-1]) {
		// Hanging indent style: an entry starts at the column edge.
		starts = l.x0 < l.colX0+0.5*a.doc.bodySize
	}
	if starts || len(a.b.refs) == 0 {
		a.b.refs = append(a.b.refs, l.text)
		return
	}
	a.b.refs[len(a.b.refs)-1] = a.vocab.dehyphenate([]string{a.b.refs[len(a.b.refs)-1], l.text})
}
