package style

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// randomEdit is a keystroke or a paste at a random place of src (one of
// inserts), or, one time in three, the deletion of up to maxDelete bytes.
func randomEdit(rng *rand.Rand, src []byte, inserts []string, maxDelete int) Edit {
	at := rng.Intn(len(src) + 1)
	if rng.Intn(3) == 0 && at < len(src) {
		return Edit{StartByte: at, OldEndByte: min(len(src), at+1+rng.Intn(maxDelete))}
	}
	return Edit{StartByte: at, OldEndByte: at, NewText: []byte(inserts[rng.Intn(len(inserts))])}
}

// TestReflattenMatchesFullWalk types, deletes and pastes at random places
// in real files, several edits between two checks as well as one, and
// asserts that the incremental flattening (subtrees the parser reused
// copied from the previous one) is node for node the full walk's.
func TestReflattenMatchesFullWalk(t *testing.T) {
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	srcs := [][]byte{syntheticModule(300, 7)}
	for _, f := range ar.Files {
		srcs = append(srcs, f.Data)
	}
	inserts := []string{"x", " ", "\n", "(", ")", ":", "\"", "'''", "#", "\n\n", "    ", "def f(", "\tpass\n", "é", "class C:\n", "\r"}
	rng := rand.New(rand.NewSource(1))
	copied, total := 0, 0
	for fi, src := range srcs {
		doc, err := NewDocument(src)
		if err != nil {
			t.Fatal(err)
		}
		var full []node
		for step := 0; step < 100; step++ {
			for k := rng.Intn(3); k >= 0; k-- {
				if err := doc.Apply(randomEdit(rng, doc.Source(), inserts, 8)); err != nil {
					t.Fatalf("file %d step %d: %v", fi, step, err)
				}
			}
			prevIDs := map[any]bool{}
			for _, id := range doc.flat.ids {
				prevIDs[id] = true
			}
			got := doc.flat.reflatten(doc.tree, &doc.spare)
			for _, id := range doc.flat.ids {
				if prevIDs[id] {
					copied++
				}
			}
			total += len(got)
			full = doc.tree.flatten(full)
			if !reflect.DeepEqual(got, full) {
				for i := range min(len(got), len(full)) {
					if got[i] != full[i] {
						t.Fatalf("file %d step %d: node %d is %+v, the full walk's %+v\nsource:\n%s", fi, step, i, got[i], full[i], doc.Source())
					}
				}
				t.Fatalf("file %d step %d: %d nodes, the full walk %d", fi, step, len(got), len(full))
			}
		}
		doc.Close()
	}
	if copied < total/2 {
		t.Fatalf("only %d of %d nodes were in reused subtrees: the test barely exercised the copy", copied, total)
	}
	t.Logf("%d of %d nodes in reused subtrees", copied, total)
}

// TestFastWalkRecordsCursorIdentities: the subtree walk records the same
// subtree identities as the cursor walk, so reflatten can copy from a
// flattening either made (the first one, and any after a window, is fast).
func TestFastWalkRecordsCursorIdentities(t *testing.T) {
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	srcs := [][]byte{syntheticModule(300, 7), []byte(awkwardLayout), []byte("def f(:\n  x = [1,\n")}
	for _, f := range ar.Files {
		srcs = append(srcs, f.Data)
	}
	p, err := newParser()
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for i, src := range srcs {
		tr, err := p.parse(src, nil)
		if err != nil {
			t.Fatal(err)
		}
		fast, cursor := tr.identities(true), tr.identities(false)
		tr.close()
		nonzero := 0
		for _, id := range fast {
			if id != 0 {
				nonzero++
			}
		}
		if !reflect.DeepEqual(fast, cursor) || nonzero < len(fast)/4 {
			t.Fatalf("file %d: the walks' identities differ (or are mostly 0: %d of %d set)", i, nonzero, len(fast))
		}
	}
}

// TestDocumentCheckMatchesFreshCheck edits open documents the way typing
// does, unclosed brackets included (their runaway errors make the analysis
// restart after them, from a cache of the restarted texts), and asserts
// after every check that the report is exactly a fresh parse's.
func TestDocumentCheckMatchesFreshCheck(t *testing.T) {
	p := learnFixture(t)
	srcs := [][]byte{syntheticModule(400, 3)}
	inserts := []string{"(", "[", "x", " ", ")", "\n", "'", "def g(", "y = [1,\n"}
	rng := rand.New(rand.NewSource(2))
	hits := 0
	for _, src := range srcs {
		doc, err := NewDocument(src)
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 60; step++ {
			if err := doc.Apply(randomEdit(rng, doc.Source(), inserts, 4)); err != nil {
				t.Fatal(err)
			}
			before := map[*analysis]bool{}
			for _, e := range doc.tails.entries {
				before[e.a] = true
			}
			got := doc.Check(p)
			for _, e := range doc.tails.entries {
				if before[e.a] {
					hits++
				}
			}
			want, err := CheckSource(p, "", doc.Source())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d: the open document's report differs from a fresh check of\n%s", step, doc.Source())
			}
		}
		doc.Close()
	}
	if hits == 0 {
		t.Fatal("no restarted text was ever reused: the cache went untested")
	}
	t.Logf("%d restarted analyses reused", hits)
}

// TestRenameByIndexMatchesScan: module-wide rename fixes looked up in the
// identifier index are exactly those of scanning the scope.
func TestRenameByIndexMatchesScan(t *testing.T) {
	p := learnFixture(t)
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "def loadItem%d(fileName, obj):\n    obj.loadItem%d = fileName\n    return loadItem%d(fileName=fileName)\n\n\n", i%7, i%7, (i+1)%7)
	}
	// A long function's locals: a rename over a scope big enough for the
	// index, which must leave attributes and keyword arguments of the same
	// name alone.
	b.WriteString("def long_function(obj):\n")
	for i := range 300 {
		fmt.Fprintf(&b, "    itemCount%d = len(obj.itemCount%d) + f(itemCount%d=itemCount%d)\n", i%5, i%5, i%5, (i+2)%5)
	}
	src := []byte(b.String())
	indexed, err := CheckSource(p, "", src)
	if err != nil {
		t.Fatal(err)
	}
	defer func(n int) { indexedScope = n }(indexedScope)
	indexedScope = math.MaxInt
	scanned, err := CheckSource(p, "", src)
	if err != nil {
		t.Fatal(err)
	}
	fixes := 0
	for _, d := range indexed.Diagnostics {
		if d.Fix != nil && d.Rule == "naming.variable" {
			fixes++
		}
	}
	if fixes == 0 {
		t.Fatal("no rename fixes of locals: the test compares nothing")
	}
	if !reflect.DeepEqual(indexed, scanned) {
		t.Fatal("rename fixes by index differ from those by scan")
	}
}
