package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/rag"
)

// Retrieval budgets, in tokens: small next to the section itself, and
// shortened further by the agents when a prompt would not fit.
const (
	paperContextTokens = 800
	codeExampleTokens  = 600
)

// retrieve fills the Analyzer's context with related passages of the
// indexed papers (other than the section itself) and the Implementer's
// examples with the closest functions of the user's own code. No index is
// no context; an index that cannot be read is reported as an event and the
// run goes on without it, since retrieval only helps.
func (s *runState) retrieve(ctx context.Context, sec *paper.Section) {
	cfg := s.req.Config
	if cfg.Index.Disabled || cfg.Index.Dir == "" {
		return
	}
	if _, err := os.Stat(filepath.Join(cfg.Index.Dir, "manifest.json")); errors.Is(err, fs.ErrNotExist) {
		return
	}
	warn := func(err error) { s.warn("run", fmt.Sprintf("retrieval off for this run: %v", err)) }
	emb, err := rag.EmbedderFromConfig(cfg)
	if err != nil {
		warn(err)
		return
	}
	ix, err := rag.Open(cfg.Index.Dir, emb)
	if err != nil {
		warn(err)
		return
	}
	text := sec.Markdown()
	query := retrievalQuery(sec.Heading(), text)
	passages, err := ix.Retrieve(ctx, query, rag.RetrieveOptions{K: 4, MaxTokens: paperContextTokens, Collections: []string{rag.Papers}})
	if err != nil {
		warn(err)
		return
	}
	for _, c := range passages {
		if strings.Contains(text, strings.TrimSpace(c.Text)) {
			continue // the section itself is already in the prompt
		}
		s.text.Context = append(s.text.Context, fmt.Sprintf("From %s:\n%s", c.Source, c.Text))
	}
	code, err := ix.Retrieve(ctx, query, rag.RetrieveOptions{K: 3, MaxTokens: codeExampleTokens, Collections: []string{rag.Code}})
	if err != nil {
		warn(err)
		return
	}
	for _, c := range code {
		s.examples = append(s.examples, fmt.Sprintf("# %s\n%s", c.Source, c.Text))
	}
	s.em.emit("run", EventProgress, 0, fmt.Sprintf("retrieved %d paper passages and %d code examples", len(s.text.Context), len(s.examples)))
}

// maxQueryBytes bounds the retrieval query: the heading and the start of the
// section say what it is about; the rest only dilutes the embedding.
const maxQueryBytes = 2000

// retrievalQuery is the heading and the start of the section's text, cut at
// a character boundary so the query stays valid UTF-8 for any embedder.
func retrievalQuery(heading, text string) string {
	if len(text) > maxQueryBytes {
		cut := maxQueryBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	return heading + "\n" + text
}
