package rag

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	chromem "github.com/philippgille/chromem-go"
)

// randomFlat fills a flatVectors with n seeded random unit vectors; every
// third row has {"kind": "a"}, the others {"kind": "b"}.
func randomFlat(n, dim int, seed uint64) *flatVectors {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	f := newFlatVectors()
	for i := range n {
		kind := "b"
		if i%3 == 0 {
			kind = "a"
		}
		f.add(fmt.Sprintf("r%d", i), map[string]string{"kind": kind}, randomUnitVector(rng, dim))
	}
	return f
}

// TestInt8SearchMatchesExact checks the quantised scan with re-ranking
// against the exact float32 scan on the same rows: the same rows in the
// same order with the same scores, with and without a filter, and after
// rows were replaced and removed (which must keep codes and vectors in
// step).
func TestInt8SearchMatchesExact(t *testing.T) {
	f := randomFlat(30_000, 384, 1)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 2000 { // replace some rows, remove others
		id := fmt.Sprintf("r%d", rng.IntN(30_000))
		if i%2 == 0 {
			f.add(id, map[string]string{"kind": "a"}, randomUnitVector(rng, 384))
		} else {
			f.remove(id)
		}
	}
	for r := range f.len() {
		if f.row[f.ids[r]] != r || len(f.vecs[r]) != 384 {
			t.Fatalf("row %d is inconsistent after replacing and removing", r)
		}
	}
	missed, total := 0, 0
	for qi := range 40 {
		q := randomUnitVector(rng, 384)
		var where map[string]string
		if qi%2 == 1 {
			where = map[string]string{"kind": "a"}
		}
		exact, got := f.searchExact(q, 10, where), f.search(q, 10, where)
		if len(got) != len(exact) {
			t.Fatalf("query %d: %d hits, exact search %d", qi, len(got), len(exact))
		}
		for i := range exact {
			total++
			if got[i] != exact[i] {
				missed++
				t.Logf("query %d rank %d: %+v, exact %+v", qi, i, got[i], exact[i])
			}
			if where != nil && f.meta[got[i].row]["kind"] != "a" {
				t.Fatalf("query %d: row %d does not match the filter", qi, got[i].row)
			}
		}
	}
	// The margin (rerankFactor) makes a miss very unlikely; the goal is
	// recall@10 >= 0.99.
	if recall := 1 - float64(missed)/float64(total); recall < 0.99 {
		t.Fatalf("recall@10 %.3f against the exact search, want >= 0.99", recall)
	}
}

// TestQuantizeRoundTrip checks the codes of a vector: the largest
// magnitude maps to ±127 and every element comes back within half a step.
func TestQuantizeRoundTrip(t *testing.T) {
	v := []float32{0.5, -0.25, 0, 0.125, -0.5, 0.3}
	codes := make([]int8, len(v))
	s := quantize(v, codes)
	if codes[0] != 127 || codes[4] != -127 || codes[2] != 0 {
		t.Fatalf("codes %v", codes)
	}
	for i, x := range v {
		if d := abs32(float32(codes[i])*s - x); d > s/2+1e-7 {
			t.Fatalf("element %d: %v comes back as %v", i, x, float32(codes[i])*s)
		}
	}
	zero := []int8{5, 5}
	if s := quantize([]float32{0, 0}, zero); s != 0 || zero[0] != 0 || zero[1] != 0 {
		t.Fatalf("zero vector: scale %v codes %v", s, zero)
	}
}

// TestVectorsHeldOnce checks that the query arrays and the chromem
// collection share each vector instead of holding two copies, both for
// chunks added by an update and for chunks read back from disk: a change
// made through one is seen through the other.
func TestVectorsHeldOnce(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	emb := namedEmbedder{"test", 8}
	ix, err := Create(dir, emb)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ix.mu.Lock()
	for i := range 5 {
		id := fmt.Sprintf("c%d", i)
		if err := ix.addChunk(ctx, Code, chromem.Document{ID: id, Metadata: map[string]string{"path": "m.py"}, Embedding: randomUnitVector(rng, 8), Content: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ix.man.Files[Code] = map[string]fileEntry{"m.py": {Chunks: []string{"c0", "c1", "c2", "c3", "c4"}}}
	if err := ix.save(); err != nil {
		t.Fatal(err)
	}
	ix.ignoreDisk = false
	ix.mu.Unlock()
	shared := func(ix *Index, what string) {
		t.Helper()
		f := ix.flat[Code]
		if f.len() != 5 {
			t.Fatalf("%s: %d rows, want 5", what, f.len())
		}
		for r := range f.len() {
			f.vecs[r][0] = 42
			d, err := ix.cols[Code].GetByID(ctx, f.ids[r])
			if err != nil {
				t.Fatal(err)
			}
			if d.Embedding[0] != 42 {
				t.Fatalf("%s: chunk %s: the collection holds its own copy of the vector", what, f.ids[r])
			}
		}
	}
	shared(ix, "after adding")
	reopened, err := Open(dir, emb)
	if err != nil {
		t.Fatal(err)
	}
	shared(reopened, "after opening")
}
