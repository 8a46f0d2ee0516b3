package rag

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestIndexPDFCitesPages builds a real PDF from a fixture with pdflatex,
// indexes it, and checks the page a retrieved chunk cites against
// pdftotext's text of that page.
func TestIndexPDFCitesPages(t *testing.T) {
	for _, tool := range []string{"pdflatex", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "papers", "lowrank-adapters.tex"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lowrank.tex"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "lowrank.tex")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdflatex: %v\n%s", err, out)
	}
	pdf := filepath.Join(dir, "lowrank.pdf")

	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ix.Update(context.Background(), Sources{Papers: []string{pdf}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 1 || len(st.Failed) > 0 {
		t.Fatalf("indexing the PDF: %+v", st)
	}
	chunks, err := ix.Retrieve(context.Background(), "the product can be merged into the frozen weights so inference costs nothing extra", RetrieveOptions{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 1 || chunks[0].Metadata["section"] != "3.5" {
		t.Fatalf("retrieved %+v, want §3.5", chunks)
	}
	c := chunks[0]
	page, err := strconv.Atoi(c.Metadata["page"])
	if err != nil || page < 1 || !strings.HasSuffix(c.Source, ", p. "+c.Metadata["page"]) {
		t.Fatalf("chunk cites page %q, source %q", c.Metadata["page"], c.Source)
	}
	out, err := exec.Command("pdftotext", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Merging for Inference") {
		t.Fatalf("pdftotext does not find the heading of §3.5 on page %d:\n%s", page, out)
	}
}

// TestParserPanicIsOneFilesError injects a panicking paper parser (as
// malformed PDFs make real ones panic): the file is reported and the others
// are indexed.
func TestParserPanicIsOneFilesError(t *testing.T) {
	real := loadPaper
	t.Cleanup(func() { loadPaper = real })
	loadPaper = func(ctx context.Context, path string, content []byte) (*paperDoc, error) {
		if strings.Contains(path, "contrastive") {
			panic(errors.New("index out of range in xref table"))
		}
		return real(ctx, path, content)
	}
	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ix.Update(context.Background(), Sources{Papers: []string{filepath.Join("testdata", "papers")}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Failed) != 1 || !strings.Contains(st.Failed[0].Error(), "contrastive-audio.md: parser crashed") || st.Added != 2 || len(ix.Files()) != 2 {
		t.Fatalf("stats %+v, files %+v", st, ix.Files())
	}
}
