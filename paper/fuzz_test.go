package paper

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/paper/papertest"
)

// minimalPDF builds a one-page PDF with an uncompressed content stream, so
// the fuzzer mutates operators and objects rather than deflate bytes.
func minimalPDF(content string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
	}
	return papertest.PDF(objs)
}

const minimalContent = "BT /F2 18 Tf 72 700 Td (A Tiny Title) Tj ET\n" +
	"BT /F2 12 Tf 72 650 Td (1 Introduction) Tj /F1 12 Tf 0 -20 Td [(Some) -250 (text) -250 (here.)] TJ ET\n" +
	"BT /F1 12 Tf 100 600 Td (x = y + z) Tj 400 0 Td ((1)) Tj ET"

// TestBoldBodyText: when the body font is bold, bold lines are not
// headings; larger ones still are.
func TestBoldBodyText(t *testing.T) {
	content := "BT /F2 18 Tf 72 700 Td (A Bold Paper) Tj ET\n" +
		"BT /F2 14 Tf 72 660 Td (1 Introduction) Tj ET\n" +
		"BT /F2 10 Tf 72 640 Td (1 We start with a numbered claim in bold body text.) Tj 0 -12 Td (And continue it on a second line of bold body text here.) Tj 0 -12 Td (2 Another numbered line, also body text, not a heading.) Tj 0 -12 Td (The end of the paragraph in the same bold font as the rest.) Tj ET"
	p, err := Parse("bold.pdf", minimalPDF(content), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(headings(p), "|"); got != "1 Introduction" {
		t.Errorf("headings %q, want only 1 Introduction", got)
	}
}

func TestMinimalPDF(t *testing.T) {
	p, err := Parse("minimal.pdf", minimalPDF(minimalContent), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "A Tiny Title" || len(p.Sections) != 1 || p.Sections[0].Heading() != "1 Introduction" {
		t.Fatalf("title %q sections %v", p.Title, headings(p))
	}
	if s := p.Sections[0]; !bytes.Contains([]byte(s.Text), []byte("Some text here.")) || len(s.Equations) != 1 || s.Equations[0].Number != "1" {
		t.Errorf("section: %+v", s)
	}
}

// FuzzLoadPDF: whatever the bytes, parsing returns a paper or an error —
// never a panic, and never a hang (the fuzzer's per-input timeout).
func FuzzLoadPDF(f *testing.F) {
	f.Add(minimalPDF(minimalContent))
	f.Add(minimalPDF("BT /F1 12 Tf [(a) -1e308 (b)] TJ ET q q q Q Q Q Q 1 0 0 1 0 0 cm"))
	f.Add([]byte("%PDF-1.7\n%%EOF"))
	// The pdflatex fixtures are left out on purpose: at ~180 KB with
	// compressed streams each run takes seconds under coverage
	// instrumentation and mutations rarely get past the deflate layer.
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.pdf", data, Options{MaxPages: 50, MaxBytes: 4 << 20})
		if err == nil && p == nil {
			t.Fatal("nil paper without error")
		}
	})
}

// FuzzPDFContentStream wraps fuzzed content streams in a valid PDF, so the
// mutations reach the text interpreter and the layout code instead of
// stopping at the cross-reference table.
func FuzzPDFContentStream(f *testing.F) {
	f.Add(minimalContent)
	f.Add("BT /F2 30 Tf 1 0 0 1 300 400 Tm (Big) Tj /F1 9 Tf 0 -1e9 Td (x) ' ET")
	f.Add("q 1e300 0 0 1e300 0 0 cm BT /F1 12 Tf [(a) 1e308 (b)] TJ T* (c) Tj ET Q Q Q")
	f.Add("BT /F1 12 Tf 72 700 Td (left) Tj 300 0 Td (right) Tj 0 -12 Td (more) Tj -300 0 Td (text) Tj ET")
	f.Fuzz(func(t *testing.T, content string) {
		p, err := Parse("fuzz.pdf", minimalPDF(content), Options{})
		if err == nil && p == nil {
			t.Fatal("nil paper without error")
		}
	})
}

// xrefStreamPDF builds a PDF whose cross-reference table is an
// (uncompressed) xref stream with the given /Size and extra keys.
func xrefStreamPDF(size, extra string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	off1 := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	off2 := b.Len()
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
	xref := b.Len()
	data := []byte{0, 0, 0, 0}
	for _, off := range []int{off1, off2, xref} {
		data = append(data, 1, byte(off>>8), byte(off), 0)
	}
	fmt.Fprintf(&b, "3 0 obj\n<< /Type /XRef /Size %s %s /W [1 2 1] /Root 1 0 R /Length %d >>\nstream\n", size, extra, len(data))
	b.Write(data)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// TestHugeXrefDeclarations: a tiny file declaring billions of objects is
// refused before the PDF library allocates a table for them. Without the
// check the library asked for ~100 GB and the Go runtime ended the whole
// process with "fatal error: runtime: out of memory", which recover cannot
// catch: this test binary died.
func TestHugeXrefDeclarations(t *testing.T) {
	classic := string(minimalPDF(minimalContent))
	cases := map[string][]byte{
		"stream size":          xrefStreamPDF("3000000000", ""),
		"escaped name":         xrefStreamPDF("4", "/S#69ze 3000000000"),
		"stream index":         xrefStreamPDF("4", "/Index [0 4 3000000000 1]"),
		"classic subsection":   []byte(strings.Replace(classic, "xref\n0 7\n", "xref\n3000000000 1\n0000000000 65535 f \n0 7\n", 1)),
		"classic trailer size": []byte(strings.Replace(classic, "/Size 7", "/Size 99999999999999999999999", 1)),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("huge.pdf", data, Options{})
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "declares") {
				t.Fatalf("err = %v, want ErrTooLarge about declared objects", err)
			}
		})
	}
	// The same files with honest sizes parse (or fail for their own
	// reasons), so the check is not refusing xref streams as such.
	if _, err := Parse("ok.pdf", xrefStreamPDF("4", "/Index [0 4]"), Options{}); errors.Is(err, ErrTooLarge) {
		t.Errorf("honest xref stream refused: %v", err)
	}
	if _, err := Parse("ok.pdf", []byte(classic), Options{}); err != nil {
		t.Errorf("minimal PDF: %v", err)
	}
}

// objStreamPDF builds a PDF with a cross-reference stream whose Pages
// object (2) is stored in object stream 4. stmDict adds keys to the object
// stream's dictionary, inner is the stream's content (its header of
// object numbers and offsets, then the objects) and self is object 4's own
// cross-reference entry (type, 2-byte field, 1-byte field); type 1 stands
// for its true offset. typeName spells /ObjStm.
func objStreamPDF(typeName, stmDict, inner string, self [4]byte) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	off1 := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	off4 := b.Len()
	fmt.Fprintf(&b, "4 0 obj\n<< /Type %s /N 1 /First 4 %s /Length %d >>\nstream\n%s\nendstream\nendobj\n", typeName, stmDict, len(inner), inner)
	xref := b.Len()
	data := []byte{0, 0, 0, 0, 1, byte(off1 >> 8), byte(off1), 0, 2, 0, 4, 0, 1, byte(xref >> 8), byte(xref), 0}
	if self[0] == 1 {
		self = [4]byte{1, byte(off4 >> 8), byte(off4), 0}
	}
	data = append(data, self[:]...)
	data = append(data, 2, 0, 4, 1) // object 5, also in stream 4
	fmt.Fprintf(&b, "3 0 obj\n<< /Type /XRef /Size 6 /W [1 2 1] /Root 1 0 R /Length %d >>\nstream\n", len(data))
	b.Write(data)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// TestObjectStreamLoops: object streams arranged so that the PDF library
// never returns. Before the check, "nested" and "dictionary refers into
// stream" recursed until the runtime ended the process with "fatal error:
// stack overflow" (recover cannot catch it: this test binary died), and
// "extends cycle" looped forever (the test timed out).
func TestObjectStreamLoops(t *testing.T) {
	pages := "2 0 << /Type /Pages /Kids [] /Count 0 >>"
	missing := "7 0 << /Type /Pages /Kids [] /Count 0 >>" // object 2 is not in it
	cases := map[string][]byte{
		"nested":                        objStreamPDF("/ObjStm", "", pages, [4]byte{2, 0, 4, 0}),
		"extends cycle":                 objStreamPDF("/ObjStm", "/Extends 4 0 R", missing, [4]byte{1}),
		"dictionary refers into stream": objStreamPDF("/ObjStm", "/Filter 5 0 R", pages, [4]byte{1}),
		"escaped names":                 objStreamPDF("/Obj#53tm", "/Ext#65nds 4 0 R", missing, [4]byte{1}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("loop.pdf", data, Options{})
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "object stream") {
				t.Fatalf("err = %v, want ErrMalformed about the object stream", err)
			}
		})
	}
	// The well-formed arrangement is read: no pages, but no complaint
	// about object streams either.
	if _, err := Parse("ok.pdf", objStreamPDF("/ObjStm", "", pages, [4]byte{1}), Options{}); err == nil || strings.Contains(err.Error(), "object stream") {
		t.Errorf("well-formed object stream: %v", err)
	}
}

// TestObjectStreamsFromQPDF: files whose objects qpdf moved into object
// streams, with a compressed, PNG-predicted cross-reference stream, still
// parse, and the check read the same compressed entries qpdf lists.
func TestObjectStreamsFromQPDF(t *testing.T) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Skip("qpdf is not installed")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, minimalPDF(minimalContent), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pdf")
	if b, err := exec.Command("qpdf", "--object-streams=generate", "--compress-streams=y", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	xref, err := exec.Command("qpdf", "--show-xref", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int64{}
	for _, l := range strings.Split(string(xref), "\n") {
		var obj, gen, strm, idx int64
		if n, _ := fmt.Sscanf(l, "%d/%d: compressed; stream = %d, index = %d", &obj, &gen, &strm, &idx); n == 4 {
			want[obj] = strm
		}
	}
	if len(want) == 0 {
		t.Fatalf("qpdf put no objects in object streams:\n%s", xref)
	}
	got := map[int64]int64{}
	for _, o := range rawObjects(data) {
		if o.dict.name("Type") == "XRef" {
			readXrefStreamEntries(data, o, got)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("entries read %v, qpdf lists %v", got, want)
	}
	p, err := Parse("out.pdf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "A Tiny Title" {
		t.Errorf("title %q", p.Title)
	}
}

// FuzzParseSource: LaTeX, Markdown and plain text of any shape parse
// without a panic, and every section found can be found again by its
// heading (or is reported as ambiguous with a sibling of the same name).
func FuzzParseSource(f *testing.F) {
	for _, name := range []string{"neurips.tex", "onecol.tex", "attention.md", "unnumbered.md"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(name, string(b))
		}
	}
	f.Add("x.tex", "\\section{A}\\begin{equation}x\\end{equation}\\iffalse\\fi\\begin{comment}")
	f.Add("x.md", "# T\n\n## 1 A\n\n$$\nx\n\n## 2 B\n```\n# not\n")
	f.Add("x.txt", "1 Introduction\nText.\n2 Method\n")
	f.Fuzz(func(t *testing.T, name, src string) {
		ext := map[byte]string{0: ".tex", 1: ".md", 2: ".txt"}[byte(len(name)%3)]
		p, err := Parse("fuzz"+ext, []byte(src), Options{})
		if err != nil {
			return
		}
		p.Walk(func(s *Section) {
			_ = s.Markdown()
			if s.Heading() == "" || normTitle(s.Heading()) == "" {
				return
			}
			if _, err := p.Find(s.Heading()); errors.Is(err, ErrSectionNotFound) {
				t.Fatalf("section %q not found by its own heading: %v", s.Heading(), err)
			}
		})
	})
}
