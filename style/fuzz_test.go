package style

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzAnalyze feeds arbitrary bytes to every entry point and checks that
// nothing panics, that reports are well-formed, and that an incremental
// edit gives the same report as a fresh parse.
func FuzzAnalyze(f *testing.F) {
	ar := mustArchive(f, "testdata/golden/ml_project.txtar")
	for _, file := range ar.Files {
		f.Add(file.Data, uint16(len(file.Data)/2), "x")
	}
	for _, s := range []string{"", ")))", "def (", "if x:\npass\n", "\xff\xfe", "class A:\n\tdef f(self):\n  pass\n",
		"f'{x:{y}}'", "x = [\n1,\n2,\n]\n", "try:\n  pass\nexcept:\n  pass\n", "((((((((((((((((((((", "\"\"\"", "@@@\n"} {
		f.Add([]byte(s), uint16(1), "(")
	}
	p := learnFixture(f)
	f.Fuzz(func(t *testing.T, src []byte, at uint16, insert string) {
		r, err := CheckSource(p, "fuzz.py", src)
		if err != nil {
			if !errors.Is(err, ErrBinary) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		checkReport(t, src, r)
		if _, err := Stats(src); err != nil {
			t.Fatalf("Stats: %v", err)
		}
		syms, err := Symbols(src)
		if err != nil {
			t.Fatalf("Symbols: %v", err)
		}
		for _, s := range syms {
			if s.StartByte < 0 || s.EndByte > len(src) || s.StartByte > s.EndByte || s.StartLine > s.EndLine {
				t.Fatalf("bad symbol span %+v", s)
			}
		}
		if bytes.IndexByte([]byte(insert), 0) >= 0 {
			return
		}
		doc, err := NewDocument(src)
		if err != nil {
			t.Fatalf("NewDocument: %v", err)
		}
		defer doc.Close()
		doc.Check(p) // a checked document: the edit may re-parse a window (window.go)
		pos := int(at) % (len(src) + 1)
		if err := doc.Apply(Edit{StartByte: pos, OldEndByte: pos, NewText: []byte(insert)}); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return
			}
			t.Fatalf("Apply: %v", err)
		}
		fresh, err := CheckSource(p, "", doc.Source())
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Check(p); !reflect.DeepEqual(got, fresh) {
			t.Fatalf("incremental report differs from a fresh parse of %q", doc.Source())
		}
	})
}

// checkReport asserts a report's invariants: a score in [0, 100] and
// ranges that are ordered and lie within the text.
func checkReport(t *testing.T, src []byte, r *Report) {
	t.Helper()
	if r.Score < 0 || r.Score > 100 {
		t.Fatalf("score %v", r.Score)
	}
	lines := bytes.Count(src, []byte{'\n'})
	for _, d := range r.Diagnostics {
		s, e := d.Range.Start, d.Range.End
		if s.Line < 0 || s.Column < 0 || e.Line > lines || s.Line > e.Line || (s.Line == e.Line && s.Column > e.Column) {
			t.Fatalf("bad range %+v in %+v", d.Range, d)
		}
		if d.Message == "" || d.Rule == "" {
			t.Fatalf("diagnostic without rule or message: %+v", d)
		}
		if d.Fix != nil {
			for _, e := range d.Fix.Edits {
				if e.Range.End.Line > lines {
					t.Fatalf("fix edit out of range: %+v", e)
				}
			}
		}
	}
}
