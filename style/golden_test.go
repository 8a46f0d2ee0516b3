package style

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want.txt section of golden txtar files")

// goldenCase is one txtar archive: profile/ files to learn from, check/
// files to score, and want.txt, the expected rendering.
type goldenCase struct {
	path    string
	archive *txtar.Archive
	dir     string // the archive's files, written out
}

func loadGolden(t *testing.T, path string) *goldenCase {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		if f.Name == "want.txt" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &goldenCase{path: path, archive: ar, dir: dir}
}

func (g *goldenCase) learn(t *testing.T) *Profile {
	t.Helper()
	p, err := Learn(context.Background(), []string{filepath.Join(g.dir, "profile")})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (g *goldenCase) checkFiles() []string {
	var names []string
	for _, f := range g.archive.Files {
		if strings.HasPrefix(f.Name, "check/") {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return names
}

// render writes what learning and checking produced, in a stable form.
func (g *goldenCase) render(t *testing.T) []byte {
	t.Helper()
	p := g.learn(t)
	var b bytes.Buffer
	fmt.Fprintf(&b, "== learned: %d files, %d lines\n", p.Files, p.Lines)
	b.WriteString("== summary\n")
	b.WriteString(p.Summary())
	b.WriteString("== dimensions\n")
	for _, info := range Dimensions() {
		d := p.Dimensions[info.Name]
		if len(d) == 0 {
			continue
		}
		var vals []string
		for v, c := range d {
			vals = append(vals, fmt.Sprintf("%s=%d", v, c))
		}
		sort.Strings(vals)
		fmt.Fprintf(&b, "%s: %s\n", info.Name, strings.Join(vals, " "))
	}
	for _, name := range g.checkFiles() {
		src, err := os.ReadFile(filepath.Join(g.dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		r, err := CheckSource(p, name, src)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== check %s: score %.1f\n", name, r.Score)
		for _, d := range r.Diagnostics {
			fmt.Fprintf(&b, "%d:%d-%d:%d %s %s: %s\n", d.Range.Start.Line+1, d.Range.Start.Column+1,
				d.Range.End.Line+1, d.Range.End.Column+1, d.Severity, d.Rule, d.Message)
			if d.Fix != nil {
				fmt.Fprintf(&b, "    fix: %s:", d.Fix.Title)
				for _, e := range d.Fix.Edits {
					fmt.Fprintf(&b, " %d:%d-%d:%d=%q", e.Range.Start.Line+1, e.Range.Start.Column+1, e.Range.End.Line+1, e.Range.End.Column+1, e.NewText)
				}
				b.WriteString("\n")
			}
		}
	}
	return b.Bytes()
}

// TestGolden learns a profile from each archive's profile/ folder, checks
// its check/ files, and compares the rendering with want.txt. Run with
// -update to rewrite want.txt after reviewing the change.
func TestGolden(t *testing.T) {
	archives, _ := filepath.Glob("testdata/golden/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no golden archives")
	}
	for _, path := range archives {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g := loadGolden(t, path)
			got := g.render(t)
			var want []byte
			idx := -1
			for i, f := range g.archive.Files {
				if f.Name == "want.txt" {
					want, idx = f.Data, i
				}
			}
			if *update {
				if idx < 0 {
					g.archive.Files = append(g.archive.Files, txtar.File{Name: "want.txt"})
					idx = len(g.archive.Files) - 1
				}
				g.archive.Files[idx].Data = got
				if err := os.WriteFile(path, txtar.Format(g.archive), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if idx < 0 {
				t.Fatalf("%s has no want.txt; run go test -run TestGolden -update", path)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: output differs from want.txt (run with -update after reviewing)\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// TestDifferentStyleScoresLower: a file written in the profile's style
// scores clearly higher than the same logic in another style.
func TestDifferentStyleScoresLower(t *testing.T) {
	g := loadGolden(t, "testdata/golden/ml_project.txtar")
	p := g.learn(t)
	scoreOf := func(name string) *Report {
		src, err := os.ReadFile(filepath.Join(g.dir, "check", name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := CheckSource(p, name, src)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	in, off := scoreOf("in_style.py"), scoreOf("off_style.py")
	if in.Score < 80 {
		t.Errorf("in-style file scores %.1f, want at least 80", in.Score)
	}
	if in.Score-off.Score < 25 {
		t.Errorf("in-style %.1f vs off-style %.1f: want a gap of at least 25 points", in.Score, off.Score)
	}
	for _, d := range in.Diagnostics {
		if d.Severity <= SeverityWarning {
			t.Errorf("in-style file got a warning: %+v", d)
		}
	}
	rules := map[string]bool{}
	for _, d := range off.Diagnostics {
		rules[d.Rule] = true
	}
	for _, want := range []string{"naming.function", "naming.parameter", "naming.variable", "strings.quotes", "strings.formatting", "typing.parameters", "layout.indent", "output.api"} {
		if !rules[want] {
			t.Errorf("off-style file: no %s diagnostic; got rules %v", want, rules)
		}
	}
	// The profile saw too few classes, methods and except clauses to have
	// an opinion: those dimensions must stay quiet.
	for _, quiet := range []string{"naming.class", "naming.method", "exceptions.handler"} {
		if ev := p.Dimensions[quiet].Total(); ev >= p.minEvidence() {
			t.Fatalf("fixture changed: %s has %d observations", quiet, ev)
		}
		if rules[quiet] {
			t.Errorf("off-style file: %s diagnostic despite weak evidence", quiet)
		}
	}
}

func mustArchive(t testing.TB, path string) *txtar.Archive {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

func archiveFile(t testing.TB, ar *txtar.Archive, name string) []byte {
	t.Helper()
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("archive has no %s", name)
	return nil
}
