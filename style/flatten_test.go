package style

import (
	"math/rand"
	"reflect"
	"testing"
)

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
				cur := doc.Source()
				at := rng.Intn(len(cur) + 1)
				e := Edit{StartByte: at, OldEndByte: at, NewText: []byte(inserts[rng.Intn(len(inserts))])}
				if rng.Intn(3) == 0 && at < len(cur) {
					e = Edit{StartByte: at, OldEndByte: min(len(cur), at+1+rng.Intn(8))}
				}
				if err := doc.Apply(e); err != nil {
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
