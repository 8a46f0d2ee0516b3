package style

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// awkwardSource exercises every kind of line the layout dimensions look at:
// long lines, indentation, comments, trailing commas, names.
const awkwardSource = `import os
import numpy as NP


def LoadData(pathName, maxRows=10):  # a comment that makes this line long enough to count as long
    rows = []
    for i in range(maxRows):
        rows.append(os.path.join(pathName, str(i)))
    return rows


class data_set:
  def __init__(self, xs):
      self.xs = [
          x
          for x in xs
      ]
`

// TestCRLFMatchesLF: Windows line endings change nothing but the bytes of
// the line ends, so ranges (which exclude the "\r") and the score must be
// those of the LF file.
func TestCRLFMatchesLF(t *testing.T) {
	p := learnFixture(t)
	lf := []byte(awkwardSource)
	crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
	a, err := CheckSource(p, "a.py", lf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := CheckSource(p, "a.py", crlf)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Diagnostics) == 0 {
		t.Fatal("the fixture should break the profile somewhere")
	}
	if a.Score != b.Score || !reflect.DeepEqual(summarise(a), summarise(b)) {
		t.Errorf("LF score %.1f, CRLF score %.1f\nLF:\n%s\nCRLF:\n%s", a.Score, b.Score, strings.Join(summarise(a), "\n"), strings.Join(summarise(b), "\n"))
	}
	sa, err := Stats(lf)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Stats(crlf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sa, sb) {
		t.Errorf("stats differ: LF %+v, CRLF %+v", sa, sb)
	}
}

func summarise(r *Report) []string {
	var out []string
	for _, d := range r.Diagnostics {
		out = append(out, fmt.Sprintf("%s %v", d.Rule, d.Range))
	}
	return out
}

func TestAwkwardInputsNeverFail(t *testing.T) {
	p := learnFixture(t)
	deep := 10000
	for name, src := range map[string]string{
		"BOM only":            "\ufeff",
		"BOM and code":        "\ufeffdef f():\n    return 1\n",
		"only CRLF":           "\r\n\r\n",
		"lone CR line ends":   "x = 1\ry = 2\r",
		"tabs and spaces":     "def f():\n\tx = 1\n        return x\n",
		"deep parentheses":    "x = " + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep) + "\n",
		"deep lists":          "x = " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n",
		"deep calls":          "x = " + strings.Repeat("f(", deep) + strings.Repeat(")", deep) + "\n",
		"deep unary":          "x = " + strings.Repeat("-", deep) + "1\n",
		"deep lambdas":        "x = " + strings.Repeat("lambda: ", deep) + "1\n",
		"unclosed deep":       "x = " + strings.Repeat("(", deep) + "\n",
		"5 MB on one line":    "x = '" + strings.Repeat("a", 5<<20) + "'\n",
		"long line, no final": "x = [" + strings.Repeat("1, ", 1<<16) + "]",
	} {
		t.Run(name, func(t *testing.T) {
			r, err := CheckSource(p, "x.py", []byte(src))
			if err != nil {
				t.Fatalf("CheckSource: %v", err)
			}
			for _, d := range r.Diagnostics {
				if d.Range.Start.Line > d.Range.End.Line || (d.Range.Start.Line == d.Range.End.Line && d.Range.Start.Column > d.Range.End.Column) {
					t.Errorf("inverted range %v in %s", d.Range, d.Rule)
				}
			}
			if _, err := Stats([]byte(src)); err != nil {
				t.Errorf("Stats: %v", err)
			}
			if _, err := Symbols([]byte(src)); err != nil {
				t.Errorf("Symbols: %v", err)
			}
			doc, err := NewDocument([]byte(src))
			if err != nil {
				t.Fatalf("NewDocument: %v", err)
			}
			defer doc.Close()
			if err := doc.Apply(Edit{StartByte: len(src), OldEndByte: len(src), NewText: []byte("\n")}); err != nil {
				t.Errorf("Apply: %v", err)
			}
			doc.Check(p)
		})
	}
}

// TestStatsWithOtherLineEndingsMatchPythonAST: CPython reads "\r\n" and a
// lone "\r" (old Mac files) as line ends, so the fixtures rewritten with
// either must still agree with its ast module.
func TestStatsWithOtherLineEndingsMatchPythonAST(t *testing.T) {
	python := pythonForTests(t)
	dir := t.TempDir()
	var files []string
	for i, f := range fixtureFiles(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lf := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		for ending, name := range map[string]string{"\r\n": "crlf", "\r": "cr"} {
			p := filepath.Join(dir, fmt.Sprintf("%s_%d_%s", name, i, filepath.Base(f)))
			if err := os.WriteFile(p, bytes.ReplaceAll(lf, []byte("\n"), []byte(ending)), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
	}
	compareWithPython(t, python, files)
}

// TestLoneCRLinesAreLines: diagnostics of a file with lone "\r" line ends
// are on the lines an editor shows (LSP counts "\r" as a line end too),
// the same as for the LF file.
func TestLoneCRLinesAreLines(t *testing.T) {
	p := learnFixture(t)
	lf := []byte(awkwardSource)
	cr := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r"))
	a, err := CheckSource(p, "a.py", lf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := CheckSource(p, "a.py", cr)
	if err != nil {
		t.Fatal(err)
	}
	if a.Score != b.Score || !reflect.DeepEqual(summarise(a), summarise(b)) {
		t.Errorf("LF score %.1f, CR score %.1f\nLF:\n%s\nCR:\n%s", a.Score, b.Score, strings.Join(summarise(a), "\n"), strings.Join(summarise(b), "\n"))
	}
	doc, err := NewDocument(cr)
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if got := summarise(doc.Check(p)); !reflect.DeepEqual(got, summarise(a)) {
		t.Errorf("Document of the CR file:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(summarise(a), "\n"))
	}
	// Turning the first line end into CRLF and back keeps the document in
	// step with a fresh parse.
	first := bytes.IndexByte(cr, '\r')
	for _, e := range []Edit{
		{StartByte: first + 1, OldEndByte: first + 1, NewText: []byte("\n")},
		{StartByte: first + 1, OldEndByte: first + 2},
		{StartByte: first, OldEndByte: first + 1, NewText: []byte("\n")},
	} {
		if err := doc.Apply(e); err != nil {
			t.Fatal(err)
		}
		fresh, err := CheckSource(p, "", doc.Source())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := summarise(doc.Check(p)), summarise(fresh); !reflect.DeepEqual(got, want) {
			t.Errorf("after %+v: document\n%s\nfresh parse\n%s", e, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestLearnRefusesAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe.py")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := Learn(context.Background(), []string{fifo})
	if err == nil || !strings.Contains(err.Error(), "no Python files to learn from") {
		t.Errorf("Learn on a FIFO: %v, want it skipped (nothing learned)", err)
	}
}
