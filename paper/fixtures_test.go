package paper

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The PDF fixtures are made by pdflatex from testdata/*.tex once per test
// binary, so every PDF test reads real TeX output.
var (
	fixturesOnce sync.Once
	fixturesDir  string
	fixturesErr  error
)

// fixturePDF returns the path of testdata/<name>.tex compiled to PDF,
// skipping the test when pdflatex is not installed.
func fixturePDF(tb testing.TB, name string) string {
	tb.Helper()
	if _, err := exec.LookPath("pdflatex"); err != nil {
		tb.Skip("pdflatex not installed (Debian: texlive-latex-base texlive-latex-recommended): real PDF fixtures cannot be built")
	}
	fixturesOnce.Do(buildFixtures)
	if fixturesErr != nil {
		tb.Fatalf("building PDF fixtures: %v", fixturesErr)
	}
	return filepath.Join(fixturesDir, name+".pdf")
}

func buildFixtures() {
	dir, err := os.MkdirTemp("", "r2c-paper-fixtures-")
	if err != nil {
		fixturesErr = err
		return
	}
	fixturesDir = dir
	srcs, _ := filepath.Glob("testdata/*.tex")
	// onecol-nouni: the one-column paper without ToUnicode maps, as
	// pdfTeX writes it unless \pdfgentounicode=1 (most arXiv PDFs before
	// TeX Live made that the default): text must come from glyph names.
	if b, err := os.ReadFile("testdata/onecol.tex"); err == nil {
		nouni := filepath.Join(dir, "onecol-nouni.tex")
		if err := os.WriteFile(nouni, append([]byte("\\pdfgentounicode=0\n"), b...), 0o644); err == nil {
			srcs = append(srcs, nouni)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = compileLaTeX(src, dir)
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			fixturesErr = e
			return
		}
	}
}

// compileLaTeX runs pdflatex twice (for \ref and equation references).
func compileLaTeX(src, outDir string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	job := filepath.Join(outDir, "job-"+filepath.Base(src))
	if err := os.MkdirAll(job, 0o755); err != nil {
		return err
	}
	for range 2 {
		cmd := exec.Command("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-output-directory", job, abs)
		cmd.Dir = job
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("pdflatex %s: %v\n%s", src, err, out)
		}
	}
	name := filepath.Base(src[:len(src)-len(filepath.Ext(src))])
	return os.Rename(filepath.Join(job, name+".pdf"), filepath.Join(outDir, name+".pdf"))
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixturesDir != "" {
		os.RemoveAll(fixturesDir)
	}
	os.Exit(code)
}

var (
	type3Once sync.Once
	type3Path string
	type3Err  error
)

// fixtureType3 returns onecol.tex run through latex, dvips with bitmap
// (pk) fonts and ps2pdf: a PDF of Type 3 fonts, as older arXiv papers made
// with dvips are. It skips when those tools are missing.
func fixtureType3(tb testing.TB) string {
	tb.Helper()
	for _, tool := range []string{"latex", "dvips", "ps2pdf", "mktexpk"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not installed: the Type 3 font fixture cannot be built", tool)
		}
	}
	fixturePDF(tb, "onecol") // for the shared temporary directory
	type3Once.Do(func() {
		job := filepath.Join(fixturesDir, "job-type3")
		if type3Err = os.MkdirAll(job, 0o755); type3Err != nil {
			return
		}
		src, _ := filepath.Abs("testdata/onecol.tex")
		steps := [][]string{
			{"latex", "-interaction=nonstopmode", "-halt-on-error", src},
			{"latex", "-interaction=nonstopmode", "-halt-on-error", src},
			{"dvips", "-Ppk", "-q", "onecol.dvi", "-o", "onecol.ps"},
			{"ps2pdf", "onecol.ps", "onecol-type3.pdf"},
		}
		for _, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Dir = job
			if out, err := cmd.CombinedOutput(); err != nil {
				type3Err = fmt.Errorf("%v: %v\n%s", s, err, out)
				return
			}
		}
		type3Path = filepath.Join(job, "onecol-type3.pdf")
	})
	if type3Err != nil {
		tb.Fatalf("building the Type 3 fixture: %v", type3Err)
	}
	return type3Path
}
