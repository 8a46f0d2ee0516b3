package rag

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRetrieveEdgeQueries: K beyond the collection, blank queries, queries
// with no indexable characters, and non-ASCII queries.
func TestRetrieveEdgeQueries(t *testing.T) {
	_, _, ix := buildSample(t, NewOffline(0))
	ctx := context.Background()
	total := ix.Count(Code)
	all, err := ix.Retrieve(ctx, "attention weights", RetrieveOptions{K: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || len(all) > total {
		t.Errorf("K=1000 over %d chunks gave %d", total, len(all))
	}
	// K far past the collection: every chunk, without sizing anything by
	// K (a billion used to allocate 64 GB per scan worker and end the
	// process) or overflowing K*4 (math.MaxInt used to give nothing).
	for _, k := range []int{1 << 30, math.MaxInt} {
		huge, err := ix.Retrieve(ctx, "attention weights", RetrieveOptions{K: k})
		if err != nil || len(huge) != len(all) {
			t.Errorf("K=%d: %d chunks, %v; want %d", k, len(huge), err, len(all))
		}
	}
	for _, q := range []string{"", "   \n\t"} {
		if _, err := ix.Retrieve(ctx, q, RetrieveOptions{}); err == nil || !strings.Contains(err.Error(), "empty query") {
			t.Errorf("query %q: %v", q, err)
		}
	}
	// Queries whose embedding may have no features: no NaN scores, and
	// whatever comes back is sorted.
	for _, q := range []string{"!!! ??? ...", "注意力机制 (attention)", "softmax(QKᵀ/√dₖ)·V", "Ünïcödé ẞ ﬁ", "\x00\xff\xfe"} {
		chunks, err := ix.Retrieve(ctx, q, RetrieveOptions{K: 3})
		if err != nil {
			t.Errorf("query %q: %v", q, err)
			continue
		}
		for i, c := range chunks {
			if math.IsNaN(float64(c.Score)) || math.IsInf(float64(c.Score), 0) {
				t.Errorf("query %q: score %v", q, c.Score)
			}
			if i > 0 && c.Score > chunks[i-1].Score {
				t.Errorf("query %q: scores not sorted", q)
			}
		}
	}
	// A non-ASCII query still finds its words: "attention" with a CJK
	// translation around it reaches the attention code.
	chunks, err := ix.Retrieve(ctx, "注意力 attention weights 注意力", RetrieveOptions{K: 1})
	if err != nil || len(chunks) != 1 || chunks[0].Metadata["symbol"] != "scaled_dot_product" {
		t.Errorf("mixed-script query: %+v %v", chunks, err)
	}
}

// TestOversizedSourcesAreCut: one code line of a megabyte, a paper
// "sentence" of 100,000 words and a paragraph after an unclosed $$ all end
// in chunks no bigger than the caps, losing no text, so a token budget of
// 2,000 still retrieves from them. Before, each was one giant chunk, which
// every budget skipped and embedding servers refuse.
func TestOversizedSourcesAreCut(t *testing.T) {
	long := "TABLE = '" + strings.Repeat("ab€", 350000) + "'"
	src := "def lookup(key):\n    return TABLE[key]\n\n" + long + "\n"
	chunks := chunkCode([]byte(src), nil, "r", "big.py")
	var joined strings.Builder
	for _, c := range chunks {
		if len(c.text) > maxCodeChunkBytes || !utf8.ValidString(c.text) {
			t.Fatalf("code chunk of %d bytes (valid UTF-8: %v)", len(c.text), utf8.ValidString(c.text))
		}
		joined.WriteString(c.text)
	}
	if !strings.Contains(strings.ReplaceAll(joined.String(), "\n", ""), long) {
		t.Error("the long line's text was not kept whole across its chunks")
	}

	words := make([]string, 100000)
	for i := range words {
		words[i] = "token"
	}
	md := "# A Paper\n\n## 1 Method\n\n" + strings.Join(words, " ") + "\n\n## 2 Math\n\n$$ x = y\n\n" + strings.Repeat("more text here\n\n", 5000)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"paper.md": md, "code/big.py": src})
	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ix.Update(context.Background(), Sources{Papers: []string{filepath.Join(dir, "paper.md")}, Code: []string{filepath.Join(dir, "code", "big.py")}}, UpdateOptions{})
	if err != nil || len(st.Failed) > 0 {
		t.Fatalf("update: %v %v", err, st)
	}
	got := 0
	for _, q := range []string{"token token", "more text here", "TABLE lookup"} {
		chunks, err := ix.Retrieve(context.Background(), q, RetrieveOptions{K: 3, MaxTokens: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) == 0 {
			t.Errorf("%q: nothing within a 2,000-token budget", q)
		}
		for _, c := range chunks {
			if c.Tokens > 2000 {
				t.Errorf("%q: chunk of %d tokens", q, c.Tokens)
			}
			got++
		}
	}
	if got == 0 {
		t.Fatal("no chunks at all")
	}
}
