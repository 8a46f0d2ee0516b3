package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/paper/papertest"
)

func TestPaperSectionsMarkdown(t *testing.T) {
	out, errOut, code := runCLI(t, "paper", "sections", "../../paper/testdata/attention.md")
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{"Attention Is All You Need", "SECTION", "    3.2.1 Scaled Dot-Product Attention  -     2          1       1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPaperSectionsJSONFromLaTeX(t *testing.T) {
	out, errOut, code := runCLI(t, "paper", "sections", "--json", "../../paper/testdata/onecol.tex")
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var got paper.Outline
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// onecol.tex: 5 numbered sections and appendix A; section 3 has 3.1
	// (an align of three rows, one \\nonumber) and 3.2 (one numbered equation and one
	// starred, one algorithm, and subsubsection 3.2.1).
	if got.Title != "Gated Residual Attention for Sequence Modelling" || len(got.Sections) != 6 || got.References != 3 || !strings.HasPrefix(got.Abstract, "We introduce gated residual attention") {
		t.Fatalf("summary %+v", got)
	}
	method := got.Sections[2]
	if method.Number != "3" || len(method.Children) != 2 || method.Children[0].Equations != 3 || method.Children[1].Equations != 2 || method.Children[1].Algorithms != 1 || method.Children[1].Children[0].Number != "3.2.1" {
		t.Errorf("section 3: %+v", method)
	}
}

func TestPaperShow(t *testing.T) {
	out, errOut, code := runCLI(t, "paper", "show", "../../paper/testdata/onecol.tex", "Gated", "Residual", "Block")
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "### 3.1 Gated Residual Block") || !strings.Contains(out, "Equation (4):") || !strings.Contains(out, `h' = g \odot \tilde{h}`) {
		t.Errorf("show 3.1:\n%s", out)
	}
	_, errOut, code = runCLI(t, "paper", "show", "../../paper/testdata/onecol.tex", "9.9")
	if code != exitFail || !strings.Contains(errOut, "available sections: 1 Introduction") {
		t.Errorf("missing section: code %d, %s", code, errOut)
	}
	_, _, code = runCLI(t, "paper", "show", "../../paper/testdata/onecol.tex")
	if code != exitUsage {
		t.Errorf("missing SECTION argument: code %d, want %d", code, exitUsage)
	}
}

// TestPaperPDF runs the CLI on a PDF made by pdflatex: pages appear.
func TestPaperPDF(t *testing.T) {
	if _, err := exec.LookPath("pdflatex"); err != nil {
		t.Skip("pdflatex not installed")
	}
	dir := t.TempDir()
	src, _ := filepath.Abs("../../paper/testdata/onecol.tex")
	cmd := exec.Command("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-output-directory", dir, src)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdflatex: %v\n%s", err, b)
	}
	out, errOut, code := runCLI(t, "paper", "sections", filepath.Join(dir, "onecol.pdf"))
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if !strings.Contains(out, "3 pages") || !strings.Contains(out, "    3.2.1 Warm-up Schedule") {
		t.Errorf("sections of the PDF:\n%s", out)
	}
	broken := filepath.Join(dir, "broken.pdf")
	data, _ := os.ReadFile(filepath.Join(dir, "onecol.pdf"))
	os.WriteFile(broken, data[:len(data)/2], 0o644)
	_, errOut, code = runCLI(t, "paper", "sections", broken)
	if code != exitUsage || !strings.Contains(errOut, "broken.pdf") || !strings.Contains(errOut, "truncated") {
		t.Errorf("truncated PDF: code %d, %s", code, errOut)
	}
}

// [paper] cache_dir in the workspace's r2c.toml is where arXiv papers are
// looked up, and --cache-dir overrides it. The cache is filled beforehand
// with a PDF made by pdflatex, so nothing is downloaded.
func TestPaperCacheDirFromConfig(t *testing.T) {
	if _, err := exec.LookPath("pdflatex"); err != nil {
		t.Skip("pdflatex not installed")
	}
	root := isolatedWorkspace(t)
	build := t.TempDir()
	src, _ := filepath.Abs("../../paper/testdata/onecol.tex")
	cmd := exec.Command("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-output-directory", build, src)
	cmd.Dir = build
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdflatex: %v\n%s", err, b)
	}
	pdf, err := os.ReadFile(filepath.Join(build, "onecol.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	fill := func(cache string) {
		dir := filepath.Join(cache, "2101.00001")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "paper.pdf"), pdf, 0o644)
		os.WriteFile(filepath.Join(dir, "source"), nil, 0o644) // no LaTeX source
	}
	fill(filepath.Join(root, "papers"))
	// A 1ms download timeout: should the cache be missed, the test fails
	// at once instead of reaching arxiv.org.
	toml := "[paper]\ncache_dir = \"papers\"\ndownload_timeout = \"1ms\"\n"
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	out, errOut, code := runCLI(t, "paper", "sections", "2101.00001")
	if code != exitOK || !strings.Contains(out, "3.2.1 Warm-up Schedule") {
		t.Fatalf("paper from the configured cache: code %d\n%s%s", code, out, errOut)
	}

	other := t.TempDir()
	fill(other)
	os.RemoveAll(filepath.Join(root, "papers"))
	out, errOut, code = runCLI(t, "paper", "sections", "--cache-dir", other, "2101.00001")
	if code != exitOK || !strings.Contains(out, "3.2.1 Warm-up Schedule") {
		t.Fatalf("--cache-dir must override paper.cache_dir: code %d\n%s%s", code, out, errOut)
	}
}

func TestPaperBadConfigIsAUsageError(t *testing.T) {
	root := isolatedWorkspace(t)
	md, _ := filepath.Abs("../../paper/testdata/attention.md")
	os.WriteFile(filepath.Join(root, "r2c.toml"), []byte("[paper]\ncache_dri = \"x\"\n"), 0o644)
	t.Chdir(root)
	_, errOut, code := runCLI(t, "paper", "sections", md)
	if code != exitUsage || !strings.Contains(errOut, "cache_dri") {
		t.Fatalf("code %d, %s", code, errOut)
	}
}

// tinyPagesPDF writes a PDF of n pages holding one word each.
func tinyPagesPDF(t *testing.T, n int) string {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	var kids []string
	for i := range n {
		content := fmt.Sprintf("BT /F1 12 Tf 72 700 Td (w%d) Tj ET", i+1)
		objs = append(objs, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", len(objs)))
		kids = append(kids, fmt.Sprintf("%d 0 R", len(objs)))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	data := papertest.PDF(objs)
	path := filepath.Join(t.TempDir(), "long.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPaperMaxPages: a PDF over the default 1000 pages is refused with a
// hint, and --max-pages reads it.
func TestPaperMaxPages(t *testing.T) {
	path := tinyPagesPDF(t, 1200)
	_, errOut, code := runCLI(t, "paper", "sections", "--json", path)
	if code != exitUsage || !strings.Contains(errOut, "more than 1000 pages") || !strings.Contains(errOut, "--max-pages") {
		t.Fatalf("default limit: code %d, %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "paper", "sections", "--json", "--max-pages", "2000", path)
	if code != exitOK {
		t.Fatalf("--max-pages 2000: code %d, %s", code, errOut)
	}
	var got paper.Outline
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Pages != 1200 {
		t.Errorf("pages %d, %v", got.Pages, err)
	}
}
