package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/rag"
)

// indexFlags are r2c index's flags.
type indexFlags struct {
	papers, code, rebuild, asJSON bool
	root                          string
}

func indexCommand() *cobra.Command {
	var f indexFlags
	cmd := &cobra.Command{
		Use:   "index [flags] PATH...",
		Short: "index papers and your code for retrieval (incremental)",
		Long: "Chunks papers (by section and paragraph, equations whole) and Python code (by function and class) and\n" +
			"embeds them into the index folder (config: index.dir, default .r2c/index). Without --papers or --code,\n" +
			".pdf/.md/.tex/.txt files are papers and .py files and folders are code; with a flag, every PATH is\n" +
			"searched for that kind. In a git repository only files git tracks or would track are indexed, never\n" +
			"virtual environments or vendored trees. Unchanged files are not re-embedded; files gone from an indexed\n" +
			"folder are removed. The embedder is index.embedder: \"offline\" (default, no server) or \"openai\"\n" +
			"(index.embedding_endpoint and index.embedding_model). Progress goes to stderr, the summary to stdout.\n" +
			"Exit status: 0 when done, 1 when some files could not be read or parsed (the rest is indexed), 2 on\n" +
			"usage or environment errors (an index built with another embedder: use --rebuild).",
		Example: "  r2c index --papers papers/\n" +
			"  r2c index ~/src/myrepo --json\n" +
			"  r2c index --rebuild --papers papers/",
		Args: argsRange(1, -1, "index: name at least one file or folder"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIndex(cmd.Context(), streams(cmd), f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.papers, "papers", false, "index every PATH as papers")
	fl.BoolVar(&f.code, "code", false, "index every PATH as code")
	fl.BoolVar(&f.rebuild, "rebuild", false, "start a new index (e.g. after changing the embedder); the old one stays readable until the new one is saved")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	fl.StringVar(&f.root, "root", ".", "workspace root: where r2c.toml and .r2c/index live")
	return cmd
}

func runIndex(ctx context.Context, s stdio, f indexFlags, paths []string) error {
	var src rag.Sources
	for _, p := range paths {
		switch {
		case f.papers || f.code:
			if f.papers {
				src.Papers = append(src.Papers, p)
			}
			if f.code {
				src.Code = append(src.Code, p)
			}
		case isPaperPath(p):
			src.Papers = append(src.Papers, p)
		default:
			src.Code = append(src.Code, p)
		}
	}
	ix, err := openIndex("index", f.root, f.rebuild)
	if err != nil {
		return err
	}
	st, err := ix.Update(ctx, src, rag.UpdateOptions{Progress: newIndexProgress(s.err)})
	if err != nil {
		return envf("index: %w", err)
	}
	for _, fe := range st.Failed {
		fmt.Fprintf(s.err, "r2c: index: skipped %s\n", fe.Error())
	}
	if f.asJSON {
		failed := make([]map[string]string, 0, len(st.Failed))
		for _, fe := range st.Failed {
			failed = append(failed, map[string]string{"path": fe.Path, "error": fe.Err.Error()})
		}
		out := map[string]any{
			"added": st.Added, "changed": st.Changed, "unchanged": st.Unchanged, "removed": st.Removed,
			"chunks": st.Chunks, "embedded": st.Embedded, "reused": st.Reused, "failed": failed,
			"index": ix.Dir(), "embedder": ix.Embedder().Name(),
			"papers_chunks": ix.Count(rag.Papers), "code_chunks": ix.Count(rag.Code),
		}
		if err := writeJSON(s.out, "index", out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(s.out, "files: %d added, %d changed, %d unchanged, %d removed\n", st.Added, st.Changed, st.Unchanged, st.Removed)
		fmt.Fprintf(s.out, "chunks: %d written (%d embedded, %d reused)\n", st.Chunks, st.Embedded, st.Reused)
		fmt.Fprintf(s.out, "index: %s (%s): %d paper chunks, %d code chunks\n", ix.Dir(), ix.Embedder().Name(), ix.Count(rag.Papers), ix.Count(rag.Code))
	}
	if len(st.Failed) > 0 {
		return exitCode(exitFail)
	}
	return nil
}

func isPaperPath(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".pdf", ".md", ".markdown", ".tex", ".txt":
		return true
	}
	return false
}

// openIndex loads the configuration of root and opens (or, with rebuild,
// starts) the index it names; its errors are environment errors.
func openIndex(verb, root string, rebuild bool) (*rag.Index, error) {
	cfg, err := config.Load(root)
	if err != nil {
		return nil, envf("%s: %w", verb, err)
	}
	if cfg.Index.Disabled {
		return nil, envf("%s: retrieval is disabled (index.disabled = true in r2c.toml)", verb)
	}
	dir := cfg.Index.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	emb, err := rag.EmbedderFromConfig(cfg)
	if err != nil {
		return nil, envf("%s: %w", verb, err)
	}
	open := rag.Open
	if rebuild {
		open = rag.Create
	}
	ix, err := open(dir, emb)
	if err != nil {
		return nil, envf("%s: %w", verb, err)
	}
	return ix, nil
}

// newIndexProgress prints one line when a stage starts and, while
// embedding, one at every tenth of the work, so a log stays short.
func newIndexProgress(w io.Writer) func(rag.Progress) {
	var mu sync.Mutex
	stage := ""
	lastTenth := -1
	return func(p rag.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Stage != stage {
			stage, lastTenth = p.Stage, -1
			if p.Stage != "embed" {
				fmt.Fprintf(w, "r2c index: %s (%d)\n", stageVerb(p.Stage), p.Total)
			}
		}
		if p.Stage == "embed" && p.Total > 0 {
			if tenth := p.Done * 10 / p.Total; tenth != lastTenth {
				lastTenth = tenth
				fmt.Fprintf(w, "r2c index: embedding %d/%d chunks\n", p.Done, p.Total)
			}
		}
	}
}

func stageVerb(stage string) string {
	switch stage {
	case "scan":
		return "scanning files"
	case "chunk":
		return "chunking changed files"
	case "save":
		return "saving"
	}
	return stage
}

// indexMissing reports whether root's index folder has never been written.
func indexMissing(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "manifest.json"))
	return errors.Is(err, os.ErrNotExist)
}
