package rag_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/r2c-ai/r2c/rag"
)

// Index two fixture papers with the offline embedder, then retrieve the
// passage that answers a question, with its citation.
func Example() {
	dir, err := os.MkdirTemp("", "rag-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ix, err := rag.Open(filepath.Join(dir, "index"), rag.NewOffline(0))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	st, err := ix.Update(ctx, rag.Sources{Papers: []string{
		"testdata/papers/lowrank-adapters.tex",
		"testdata/papers/contrastive-audio.md",
	}}, rag.UpdateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("papers added:", st.Added)

	chunks, err := ix.Retrieve(ctx, "what temperature scales the similarities in the contrastive loss?", rag.RetrieveOptions{K: 1, MaxTokens: 500})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(chunks[0].Source)
	// Output:
	// papers added: 2
	// contrastive-audio.md §2.3 Contrastive Objective
}
