package style

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// awkwardLayout is Python whose layout puts the window's assumptions to the
// test: comments at every indentation (inside, after and between blocks),
// statements sharing a line, tabs, a backslash continuation, a string whose
// lines are less indented than its statement, nested classes, decorators,
// if/elif/else and try/except/finally chains, match, and a last line with
// no newline.
const awkwardLayout = `"""Module docstring."""
# leading comment

import os, sys  # trailing comment


@decorator(arg=1)
class Outer:
    """Outer class."""

    x = 1; y = 2
    # comment between members

    class Inner:
        def method(self, a, b):
            if a:
                return b
            elif b:
                pass
            else:
                a = b \
                    + 1
            # indented trailing comment
        # less indented trailing comment
# column-0 comment inside a class

    def text(self):
        s = """first
second line at column 0
  third"""
        return s


def tabs():
	value = 1
	if value:
		value += 1
	return value


try:
    import numpy
except ImportError:
    numpy = None
finally:
    pass

match sys.argv:
    case [_, name]:
        print(name)
    case _:
        pass

for i in range(3):
    print(i)
else:
    print("done")
total = 0`

// TestWindowSpliceMatchesFullParse types, deletes and pastes at random
// places of real and awkward files, undoing most edits as a typist does,
// and asserts after each edit that the document's nodes are node for node a
// full parse's of its text, and the report a fresh check's. It fails if too
// few edits took the window path, or none inside a nested block.
func TestWindowSpliceMatchesFullParse(t *testing.T) {
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	srcs := [][]byte{[]byte(awkwardLayout), syntheticModule(300, 5)}
	for _, f := range ar.Files {
		srcs = append(srcs, f.Data)
	}
	typeAndCompare(t, srcs, 200, 4)
}

// TestWindowSpliceOnTheStdlib is the same on two files of the standard
// library: real code, written by others.
func TestWindowSpliceOnTheStdlib(t *testing.T) {
	root, _ := stdlibFiles(t, pythonForTests(t))
	var srcs [][]byte
	for _, name := range []string{"textwrap.py", "shlex.py"} {
		src, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	typeAndCompare(t, srcs, 150, 5)
}

// typeAndCompare edits each source steps times (seeded), comparing after
// every edit (see TestWindowSpliceMatchesFullParse).
func typeAndCompare(t *testing.T, srcs [][]byte, steps int, seed int64) {
	t.Helper()
	p := learnFixture(t)
	inserts := []string{"x", "q", " ", "  ", "\t", "\n", "\n\n", ":", "(", ")", "\"", "#", "# note\n", ",", ".",
		"    pass\n", "if x:\n", "else:\n", "\\\n", "def f():\n    return 1\n", "'''", "é", "@d\n", ";"}
	fresh, err := newParser()
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.close()
	rng := rand.New(rand.NewSource(seed))
	windowed, edits, nested := 0, 0, 0
	var full []node
	for fi, src := range srcs {
		doc, err := NewDocument(src)
		if err != nil {
			t.Fatal(err)
		}
		doc.Check(p)
		for step := 0; step < steps; step++ {
			e := randomEdit(rng, doc.Source(), inserts, 12)
			undo := Edit{StartByte: e.StartByte, OldEndByte: e.StartByte + len(e.NewText),
				NewText: append([]byte(nil), doc.Source()[e.StartByte:e.OldEndByte]...)}
			for k, ed := range []Edit{e, undo} {
				if k == 1 && doc.flatClean && rng.Intn(4) == 0 {
					break // keep one edit in four of those that leave no error
				}
				before := doc.windowEdits
				if err := doc.Apply(ed); err != nil {
					t.Fatalf("file %d step %d: %v", fi, step, err)
				}
				edits++
				if doc.windowEdits > before {
					windowed++
					if doc.lastWindowDepth > 0 {
						nested++
					}
				}
				got := doc.nodes()
				if doc.windowEdits > before {
					tr, err := fresh.parse(doc.Source(), nil)
					if err != nil {
						t.Fatal(err)
					}
					full = tr.flatten(full)
					tr.close()
				} else {
					// tree-sitter re-parsed: the reference is its own tree's
					// full walk (TestReflattenMatchesFullWalk's invariant).
					full = doc.tree.flatten(full)
				}
				if !reflect.DeepEqual(got, full) {
					for i := range min(len(got), len(full)) {
						if got[i] != full[i] {
							t.Fatalf("file %d step %d (edit %+q at %d, windowed %v): node %d is %+v, a full parse's %+v\nsource:\n%s\nwindow (depth %d):\n%s",
								fi, step, ed.NewText, ed.StartByte, doc.windowEdits > before, i, got[i], full[i], doc.Source(), doc.lastWindowDepth, doc.winText)
						}
					}
					t.Fatalf("file %d step %d: %d nodes, a full parse %d", fi, step, len(got), len(full))
				}
				if step%25 == 0 {
					want, err := CheckSource(p, "", doc.Source())
					if err != nil {
						t.Fatal(err)
					}
					if got := doc.Check(p); !reflect.DeepEqual(got, want) {
						t.Fatalf("file %d step %d: the report differs from a fresh check", fi, step)
					}
				}
			}
		}
		doc.Close()
	}
	t.Logf("%d of %d edits re-parsed a window, %d of them inside a nested block", windowed, edits, nested)
	if windowed < edits/4 {
		t.Fatalf("only %d of %d edits took the window path: the test barely exercised it", windowed, edits)
	}
	if nested == 0 {
		t.Fatal("no edit re-parsed a window inside a nested block")
	}
}

// TestWindowStaysLocalInAClass: an edit in the body of one method of a
// large class re-parses a few statements of that body, or at a body's first
// or last statement the methods around it, not the class; at the last
// statement of the last method, the statements up to the next one at the
// module level, or to the end of the file; an edit that makes an error is
// left to tree-sitter, and windows work again after it.
func TestWindowStaysLocalInAClass(t *testing.T) {
	var b strings.Builder
	b.WriteString("class Model:\n    \"\"\"A model.\"\"\"\n\n")
	for i := range 60 {
		fmt.Fprintf(&b, "    def step_%d(self, x):\n        y = x * %d\n        z = y + 1\n        return z\n\n", i, i)
	}
	class := b.String()
	type edit struct {
		name, at  string // the edit is at offset off of at's first occurrence
		off       int
		del       int // bytes deleted there
		text      string
		maxWindow int // -1: not windowed
	}
	for _, file := range []struct {
		src   string
		edits []edit
	}{
		{class + "\ndef main():\n    return Model()\n", []edit{
			{"a statement in the middle of a body", "y = x * 30\n        z = y + 1", 27, 0, "1", 80},
			{"the first statement of a body", "y = x * 31", 9, 0, "1", 250},
			{"the last statement of a body", "z = y + 1\n        return z\n\n    def step_33", 25, 0, "z", 250},
			{"an error", "def step_40(", 11, 0, "(", -1},
			{"undoing it (the error was not windowed)", "def step_40((", 11, 1, "", -1},
			{"a statement after that", "y = x * 40\n        z = y + 1", 27, 0, "2", 80},
			{"the last statement of the last method", "return z\n\n\ndef main", 7, 0, "z", 100},
		}},
		{class, []edit{
			{"the last statement of the last method, at the end of the file", "y = x * 59\n        z = y + 1\n        return z", 45, 0, "q", 100},
		}},
	} {
		doc, err := NewDocument([]byte(file.src))
		if err != nil {
			t.Fatal(err)
		}
		doc.nodes()
		for _, tc := range file.edits {
			at := bytes.Index(doc.Source(), []byte(tc.at))
			if at < 0 {
				t.Fatalf("%s: %q not in the file", tc.name, tc.at)
			}
			at += tc.off
			e := Edit{StartByte: at, OldEndByte: at + tc.del, NewText: []byte(tc.text)}
			before := doc.windowEdits
			if err := doc.Apply(e); err != nil {
				t.Fatal(err)
			}
			windowed := doc.windowEdits > before
			if tc.maxWindow < 0 {
				if windowed {
					t.Errorf("%s: windowed, though the edit makes an error", tc.name)
				}
			} else if !windowed || doc.lastWindow > tc.maxWindow {
				t.Errorf("%s: windowed %v, window %d bytes (want at most %d)", tc.name, windowed, doc.lastWindow, tc.maxWindow)
			}
			got := doc.nodes()
			tr, err := doc.parser.parse(doc.Source(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := tr.flatten(nil); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the nodes differ from a full parse's", tc.name)
			}
			tr.close()
		}
		doc.Close()
	}
}

// TestWindowDeepNesting: an edit at the bottom of blocks nested 300 deep
// (Python refuses past 100; tree-sitter does not) is still the full parse's,
// and the window's synthetic openers, which grow with the square of the
// depth, are not written for it.
func TestWindowDeepNesting(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "%sif x%d:\n", strings.Repeat(" ", i), i)
	}
	pad := strings.Repeat(" ", 300)
	fmt.Fprintf(&b, "%sa = 1\n%sb = 2\n%sc = 3\n", pad, pad, pad)
	doc, err := NewDocument([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	doc.nodes()
	at := bytes.Index(doc.Source(), []byte("b = 2"))
	if err := doc.Apply(Edit{StartByte: at, OldEndByte: at, NewText: []byte("q")}); err != nil {
		t.Fatal(err)
	}
	if len(doc.winText) > maxWindowBytes {
		t.Errorf("a %d-byte window text was written", len(doc.winText))
	}
	got := doc.nodes()
	tr, err := doc.parser.parse(doc.Source(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	if want := tr.flatten(nil); !reflect.DeepEqual(got, want) {
		t.Error("the nodes differ from a full parse's")
	}
}

// TestWindowRefusedWhenAnAnchorDiffers: an edit whose window's anchor (left,
// right, or the statement after the block) does not come back node for
// node as the document has it is not windowed. The document's copy of the
// anchor is altered by a column, which no parse could reproduce.
func TestWindowRefusedWhenAnAnchorDiffers(t *testing.T) {
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "def step_%d(x):\n    y = x * %d\n    z = y + 1\n    return z\n\n\n", i, i)
	}
	b.WriteString("class Last:\n    def f(self):\n        y = 1\n        return y\n\n\ndef main():\n    return Last()\n")
	src := b.String()
	for _, tc := range []struct {
		name         string
		edit, anchor string // the edit ends edit's first occurrence; the anchor statement starts at anchor's
		anchorKind   kind
	}{
		{"left anchor", "z = y", "y = x * 3\n", kExpressionStatement},
		{"right anchor", "z = y", "return z\n\n\ndef step_4", kReturn},
		{"statement after the block", "return y", "def main", kFunctionDef},
	} {
		for _, altered := range []bool{false, true} {
			doc, err := NewDocument([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			nodes := doc.nodes()
			// The edit: in step_3's body, or in the last method.
			at := strings.Index(src, "def step_3")
			if tc.anchorKind == kFunctionDef {
				at = strings.Index(src, "class Last")
			}
			at += strings.Index(src[at:], tc.edit) + len(tc.edit)
			anchorAt := at + strings.Index(src[at:], tc.anchor)
			if tc.name == "left anchor" {
				anchorAt = strings.Index(src, tc.anchor)
			}
			found := false
			for i := range nodes {
				if int(nodes[i].start_byte) == anchorAt && nodes[i].kind() == tc.anchorKind {
					if altered {
						nodes[i].end_col++
					}
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("%s: no %v node at %d", tc.name, tc.anchorKind, anchorAt)
			}
			if err := doc.Apply(Edit{StartByte: at, OldEndByte: at, NewText: []byte("q")}); err != nil {
				t.Fatal(err)
			}
			if windowed := doc.windowEdits == 1; windowed != !altered {
				t.Errorf("%s, anchor altered %v: windowed %v", tc.name, altered, windowed)
			}
			doc.Close()
		}
	}
}
