package paper

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/paper/papertest"
)

// placed is one line of text drawn at (x, y) in a standard-14 font.
type placed struct {
	x, y float64
	bold bool
	size float64
	text string
}

// std14PDF writes pages of placed lines in Times-Roman and Times-Bold
// without /Widths, as older arXiv PDFs do: where each word ends is known
// only from the standard-14 metrics.
func std14PDF(pages ...[]placed) []byte {
	n := len(pages)
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	fonts := fmt.Sprintf("<< /F1 %d 0 R /F2 %d 0 R >>", 3+2*n, 4+2*n)
	for i, ls := range pages {
		var c strings.Builder
		for _, l := range ls {
			f := "F1"
			if l.bold {
				f = "F2"
			}
			size := l.size
			if size == 0 {
				size = 10
			}
			text := strings.NewReplacer(`(`, `\(`, `)`, `\)`).Replace(l.text)
			fmt.Fprintf(&c, "BT /%s %g Tf %g %g Td (%s) Tj ET\n", f, size, l.x, l.y, text)
		}
		kids = append(kids, fmt.Sprintf("%d 0 R", 3+2*i))
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font %s >> /Contents %d 0 R >>", fonts, 4+2*i),
			stream(c.String()))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	objs = append(objs,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Bold /Encoding /WinAnsiEncoding >>")
	return papertest.PDF(objs)
}

// timesWidth is the width of s in Times-Roman at size, from the metrics.
func timesWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += float64(std14Widths["Times-Roman"][r])
	}
	return w * size / 1000
}

// TestStandard14Widths: two words drawn by separate text objects, the
// second where the first really ends plus a space. With guessed widths the
// narrow "Illinois" would overlap "little" and their letters interleave.
func TestStandard14Widths(t *testing.T) {
	x2 := 72 + timesWidth("Illinois ", 10)
	data := std14PDF([]placed{{x: 72, y: 700, text: "Illinois"}, {x: x2, y: 700, text: "little"}, {x: 72, y: 680, text: "ﬁ"}})
	text, err := PDFText("std14.pdf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(strings.Split(text, "\n")[0]); strings.Join(got, " ") != "Illinois little" {
		t.Errorf("first line %q, want \"Illinois little\"", got)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "std14.pdf")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(out), "Illinois little") {
			t.Errorf("pdftotext reads %q: the fixture is not what this test thinks", out)
		}
	}
	if std14Metrics("ABCDEF+Arial,BoldItalic") == nil || std14Metrics("TimesNewRomanPS-BoldMT")[' '] != 250 || std14Metrics("CMR10") != nil {
		t.Errorf("standard-14 aliases are not resolved")
	}
}

// column fills a column with numbered body lines ("L07 ...") from top
// down, so reading order can be checked line by line.
func column(x float64, top float64, tag string, n int) []placed {
	var out []placed
	for i := range n {
		out = append(out, placed{x: x, y: top - float64(i)*12, text: fmt.Sprintf("%s%02d the body text of this column goes on here", tag, i)})
	}
	return out
}

// order returns the tags ("L00", "R03", "F1") of the lines in reading
// order.
func order(t *testing.T, data []byte, page int) []string {
	t.Helper()
	text, err := PDFText("layout.pdf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(text, "\f")
	var tags []string
	for _, l := range strings.Split(pages[page-1], "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			tags = append(tags, f[0])
		}
	}
	return tags
}

func want(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func tags(tag string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s%02d", tag, i))
	}
	return out
}

// floatLines are a full-width float: n rows that cross the gutter. With
// as many rows as a column has lines the page's own gutter is hidden and
// the document's is used.
func floatLines(top float64, n int) []placed {
	var out []placed
	for i := range n {
		out = append(out, placed{x: 72, y: top - float64(i)*12, text: fmt.Sprintf("F%02d a full-width table row that runs across both columns of the page, gutter included", i)})
	}
	return out
}

// TestReadingOrderLayouts checks reading order for one column, two
// columns, and two columns under and over a full-width float; the float
// pages come after plain two-column pages, as in a real paper.
func TestReadingOrderLayouts(t *testing.T) {
	one := column(72, 700, "L", 20)
	two := append(column(72, 700, "L", 20), column(320, 700, "R", 20)...)
	floatTop := append(append(floatLines(740, 14), column(72, 560, "L", 14)...), column(320, 560, "R", 14)...)
	floatBottom := append(append(column(72, 740, "L", 14), column(320, 740, "R", 14)...), floatLines(540, 14)...)
	cases := []struct {
		name  string
		pages [][]placed
		page  int
		want  []string
	}{
		{"one column", [][]placed{one}, 1, tags("L", 20)},
		{"two columns", [][]placed{two, two}, 1, want(tags("L", 20), tags("R", 20))},
		{"two columns under a full-width float", [][]placed{two, two, floatTop}, 3, want(tags("F", 14), tags("L", 14), tags("R", 14))},
		{"two columns over a full-width float", [][]placed{two, two, floatBottom}, 3, want(tags("L", 14), tags("R", 14), tags("F", 14))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := order(t, std14PDF(c.pages...), c.page)
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("reading order\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestHeadingsFromNumbering: plain-weight, run-in and appendix headings
// are found from the numbering and the layout; numbered list lines and a
// numbered line inside a paragraph are not; a skipped number is reported.
func TestHeadingsFromNumbering(t *testing.T) {
	body := func(y float64, s string) placed { return placed{x: 72, y: y, text: s} }
	long := "and the text of the paragraph runs on to the right edge of the column here ok"
	page := []placed{
		{x: 72, y: 740, size: 14, bold: true, text: "A Paper Title In Large Bold Type"},
		body(700, "1 Introduction"),
		body(686, "We study things. "+long),
		body(674, "2 of the models were trained twice, "+long),
		body(662, "The end of the paragraph."),
		body(636, "2 Method"),
		body(622, "The method is simple and "+long),
		body(610, "3.1 this line is not a heading and "+long),
		{x: 72, y: 584, bold: true, text: "2.1 Datasets."},
		{x: 72 + timesWidth("2.1 Datasets. ", 10), y: 584, text: "We use two datasets, run in after the heading, and the text of the paragraph runs on to the right"},
		body(572, "and the paragraph goes on "+long),
		{x: 72, y: 546, bold: true, text: "2.3 Training"},
		body(532, "Training ran for a day. "+long),
		body(506, "Appendix A Proofs"),
		body(492, "The proofs follow. "+long),
	}
	p, err := Parse("headings.pdf", std14PDF(page), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	p.Walk(func(s *Section) { got = append(got, s.Number+" "+s.Title) })
	if w := []string{"1 Introduction", "2 Method", "2.1 Datasets", "2.3 Training", "A Proofs"}; strings.Join(got, "|") != strings.Join(w, "|") {
		t.Errorf("headings\n got %q\nwant %q", got, w)
	}
	ds, err := p.Find("2.1")
	if err != nil || !strings.HasPrefix(ds.Text, "We use two datasets, run in after the heading, and the text of the paragraph runs on to the right and the paragraph goes on") {
		t.Errorf("run-in heading's text: %v %q", err, ds.Text)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "jump from 2.1 to 2.3") {
		t.Errorf("no warning about the missing 2.2: %q", p.Notes)
	}
}

// TestSplitHeading is the shared recogniser the readers and the language
// server use.
func TestSplitHeading(t *testing.T) {
	for _, c := range []struct {
		in, num, title string
		letter, ok     bool
	}{
		{"3.2 Scaled Dot-Product Attention", "3.2", "Scaled Dot-Product Attention", false, true},
		{"3.2. Scaled Dot-Product Attention", "3.2", "Scaled Dot-Product Attention", false, true},
		{"Appendix B Training details", "B", "Training details", false, true},
		{"APPENDIX C: Proofs", "C", "Proofs", false, true},
		{"A.1 Proofs", "A.1", "Proofs", true, true},
		{"A Simple Baseline", "", "", false, false},
		{"12 ( a )", "", "", false, false},
		{"3 We then run the model on every dataset we have and report the average of five runs in the table.", "", "", false, false},
	} {
		num, title, ok := SplitHeading(c.in, c.letter)
		if num != c.num || title != c.title || ok != c.ok {
			t.Errorf("SplitHeading(%q) = %q, %q, %v; want %q, %q, %v", c.in, num, title, ok, c.num, c.title, c.ok)
		}
	}
}

// TestTextCleanup: accents composed to NFC, ligatures expanded, soft
// hyphens and line-end hyphens resolved by the document's own words.
func TestTextCleanup(t *testing.T) {
	for in, want := range map[string]string{
		"u¨ber die Europa¨ische": "über die Europäische",
		"´ecole na¨ıve":          "école naïve",
		"caf\u0065 \u0301":       "café",
		"plain ascii":            "plain ascii",
	} {
		if got := combineDiacritics(in); got != want {
			t.Errorf("combineDiacritics(%q) = %q, want %q", in, got, want)
		}
	}
	if got := normalizeGlyph("ﬁﬂﬀﬃﬄ"); got != "fiflffffiffl" {
		t.Errorf("ligatures: %q", got)
	}
	v := vocabulary{}
	for _, l := range []string{"we use pre-training here", "and the representation"} {
		v.add(l)
	}
	for _, c := range []struct {
		lines []string
		want  string
	}{
		{[]string{"good repre-", "sentation"}, "good representation"},
		{[]string{"with pre-", "training"}, "with pre-training"},
		{[]string{"soft hy\u00adphen and repre\u00ad", "sentation"}, "soft hyphen and representation"},
		{[]string{"a 101-", "layer net"}, "a 101-layer net"},
		{[]string{"self-", "attention"}, "self-attention"},
	} {
		if got := v.dehyphenate(c.lines); got != c.want {
			t.Errorf("dehyphenate(%q) = %q, want %q", c.lines, got, c.want)
		}
	}
}

// TestStrayOperands: an unknown operator's operands ("bcolor [0]", from
// a color-marks package) do not void the cm that follows; pdftotext
// recovers the same way.
func TestStrayOperands(t *testing.T) {
	content := "bcolor [0]\n1 0 0 1 400 0 cm\nBT /F1 10 Tf 0 700 Td (Right) Tj ET\n1 0 0 1 -400 0 cm\nBT /F1 10 Tf 72 700 Td (Left) Tj ET"
	data := papertest.PDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		stream(content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
	})
	text, err := PDFText("stray.pdf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(text), " "); got != "Left Right" {
		t.Errorf("got %q, want \"Left Right\" (the cm after the stray operand moved Right to x=400)", got)
	}
}

// TestPartialTree: a PDF whose second page cannot be read (its content
// stream claims Flate but is not) still gives the first page's sections,
// marked partial, with a note naming the page; a PDF with no readable
// page is an error.
func TestPartialTree(t *testing.T) {
	good := "BT /F1 10 Tf 72 700 Td (1 Introduction) Tj ET\nBT /F1 10 Tf 72 680 Td (The text of the introduction.) Tj ET"
	bad := "<< /Length 9 /Filter /FlateDecode >>\nstream\nnot flate\nendstream"
	data := papertest.PDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 7 0 R >> >> /Contents 4 0 R >>",
		stream(good),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 7 0 R >> >> /Contents 6 0 R >>",
		bad,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
	})
	p, err := Parse("partial.pdf", data, Options{})
	if err != nil {
		t.Fatalf("one broken page failed the whole paper: %v", err)
	}
	if !p.Partial || !strings.Contains(strings.Join(p.Notes, "\n"), "page 2") {
		t.Errorf("not marked partial: partial %v, notes %q", p.Partial, p.Notes)
	}
	if s, err := p.Find("1"); err != nil || !strings.Contains(s.Text, "The text of the introduction.") {
		t.Errorf("page 1 lost: %v", err)
	}
	onlyBad := papertest.PDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		bad,
	})
	if _, err := Parse("bad.pdf", onlyBad, Options{}); err == nil {
		t.Errorf("a PDF with no readable page parsed without error")
	}
}
