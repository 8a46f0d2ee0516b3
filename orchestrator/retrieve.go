package orchestrator

import (
	"context"
	"fmt"
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
		s.em.emit("run", EventProgress, 0, "retrieval is off (index.disabled): the agents see the section only")
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
	if err := s.indexPaper(ctx, ix); err != nil {
		if ctx.Err() != nil {
			return
		}
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

// indexPaper adds the run's paper to the index when it is a local file no
// index holds yet, with progress events: without it retrieval would find
// nothing of the paper and say nothing about it. An arXiv paper is named
// so the user can index it.
func (s *runState) indexPaper(ctx context.Context, ix *rag.Index) error {
	p := s.req.Paper
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		if ix.Count(rag.Papers) == 0 {
			s.em.emit("run", EventProgress, 0, fmt.Sprintf("the index holds no papers and %s is not a local file: retrieval finds only your code (index papers with r2c index)", p))
		}
		return nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	for _, f := range ix.Files() {
		if f.Collection == rag.Papers && (f.Path == abs || f.Path == p) {
			return nil
		}
	}
	name := filepath.Base(abs)
	s.em.emit("run", EventProgress, 0, fmt.Sprintf("no index holds %s: indexing it for retrieval (%s)", name, ix.Dir()))
	st, err := ix.Update(ctx, rag.Sources{Papers: []string{abs}}, rag.UpdateOptions{Progress: func(pr rag.Progress) {
		if pr.Stage == "embed" && pr.Total > 0 && pr.Done != pr.Total {
			return // one line per stage is enough in a run's log
		}
		s.em.emit("run", EventProgress, 0, fmt.Sprintf("indexing %s: %s %d/%d", name, pr.Stage, pr.Done, pr.Total))
	}})
	if err != nil {
		return fmt.Errorf("indexing %s: %w", name, err)
	}
	if len(st.Failed) > 0 {
		return fmt.Errorf("indexing %s: %w", name, st.Failed[0])
	}
	s.indexed = fmt.Sprintf("indexed %s into %s (%d chunks): no index held it", name, ix.Dir(), st.Chunks)
	s.em.emit("run", EventProgress, 0, s.indexed)
	return nil
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
