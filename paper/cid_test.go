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

func stream(s string) string {
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(s), s)
}

// TestCIDFontWithExplicitSpaces reads a Type0 (Identity-H) font with two-byte
// codes, a W width array and a ToUnicode cmap, the way word processors and
// browsers write PDFs: words are separated by space glyphs, not gaps.
func TestCIDFontWithExplicitSpaces(t *testing.T) {
	cmap := `/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Test def 1 begincodespacerange <0000> <FFFF> endcodespacerange
8 beginbfchar <0001> <0048> <0002> <0065> <0003> <006C> <0004> <006F> <0005> <0020> <0006> <0077> <0007> <0072> <0008> <0064> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end`
	// "Hello world" twice; the second line uses a copy of the font without
	// widths, so the pen overshoots and only the space glyph separates the
	// words. Code 0009 is not in the cmap and is dropped.
	content := "BT /F1 12 Tf 72 700 Td <00010002000300030004000500060004000700030008> Tj ET\n" +
		"BT /F2 12 Tf 72 680 Td <000100020003000300040005000600040007000300080009> Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R /F2 8 0 R >> >> /Contents 4 0 R >>",
		stream(content),
		"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+TestSans /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+TestSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W [1 [722 556 222 222 556 278 722] 7 7 333] >>",
		stream(cmap),
		"<< /Type /Font /Subtype /Type0 /BaseFont /Other /Encoding /Identity-H /DescendantFonts [9 0 R] /ToUnicode 7 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Other /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
	}
	data := papertest.PDF(objs)
	text, err := PDFText("cid.pdf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(text, "\f\n"), "\n")
	if len(lines) != 2 || lines[0] != "Hello world" || lines[1] != "Hello world" {
		t.Errorf("got %q, want two lines of \"Hello world\"", lines)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "cid.pdf")
		os.WriteFile(path, data, 0o644)
		out, err := exec.Command("pdftotext", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(string(out)), " "); got != "Hello world Hello world" {
			t.Errorf("pdftotext reads %q: the fixture is not what this test thinks", got)
		}
	}
}

// TestFormXObjectText: text drawn inside a Form XObject (as producers that
// stamp or wrap pages do) is read, placed by the form's matrix; a form
// that draws itself does not loop.
func TestFormXObjectText(t *testing.T) {
	form := "BT /F1 12 Tf 0 0 Td (Inside the form) Tj ET /Fm1 Do"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> /Contents 4 0 R >>",
		stream("BT /F1 12 Tf 72 720 Td (Page text above) Tj ET q 1 0 0 1 72 600 cm /Fm1 Do Q"),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 300 50] /Matrix [1 0 0 1 0 40] /Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> /Length %d >>\nstream\n%s\nendstream", len(form), form),
	}
	text, err := PDFText("form.pdf", papertest.PDF(objs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(text, "\f\n"), "\n")
	if len(lines) != 2 || lines[0] != "Page text above" || lines[1] != "Inside the form" {
		t.Errorf("got %q", lines)
	}
}
