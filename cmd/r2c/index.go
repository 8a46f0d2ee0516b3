package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/rag"
)

func indexCommand() command {
	return command{
		name:    "index",
		summary: "index papers and your code for retrieval (incremental)",
		run:     runIndex,
	}
}

func runIndex(ctx context.Context, s stdio, args []string) int {
	fs := newFlags(s, "r2c index", "[--papers] [--code] [--rebuild] [--json] PATH...",
		"Chunks papers (by section and paragraph, equations whole) and Python code (by function and class) and\n"+
			"embeds them into the index folder (config: index.dir, default .r2c/index). Without --papers or --code,\n"+
			".pdf/.md/.tex/.txt files are papers and .py files and folders are code; with a flag, every PATH is\n"+
			"searched for that kind. In a git repository only files git tracks or would track are indexed, never\n"+
			"virtual environments or vendored trees. Unchanged files are not re-embedded; files gone from an indexed\n"+
			"folder are removed. The embedder is index.embedder: \"offline\" (default, no server) or \"openai\"\n"+
			"(index.embedding_endpoint and index.embedding_model). Progress goes to stderr, the summary to stdout.\n"+
			"Exit status: 0 when done, 1 when some files could not be read or parsed (the rest is indexed), 2 on\n"+
			"usage or environment errors (an index built with another embedder: use --rebuild).")
	papers := fs.Bool("papers", false, "index every PATH as papers")
	code := fs.Bool("code", false, "index every PATH as code")
	rebuild := fs.Bool("rebuild", false, "start a new index (e.g. after changing the embedder); the old one stays readable until the new one is saved")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	root := fs.String("root", ".", "workspace root: where r2c.toml and .r2c/index live")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return s.errorf(exitUsage, "index: name at least one file or folder")
	}
	var src rag.Sources
	for _, p := range fs.Args() {
		switch {
		case *papers || *code:
			if *papers {
				src.Papers = append(src.Papers, p)
			}
			if *code {
				src.Code = append(src.Code, p)
			}
		case isPaperPath(p):
			src.Papers = append(src.Papers, p)
		default:
			src.Code = append(src.Code, p)
		}
	}
	ix, exit := openIndex(s, "index", *root, *rebuild)
	if ix == nil {
		return exit
	}
	st, err := ix.Update(ctx, src, rag.UpdateOptions{Progress: newIndexProgress(s.err)})
	if err != nil {
		return s.errorf(exitUsage, "index: %v", err)
	}
	for _, f := range st.Failed {
		fmt.Fprintf(s.err, "r2c: index: skipped %s\n", f.Error())
	}
	if *asJSON {
		failed := make([]map[string]string, 0, len(st.Failed))
		for _, f := range st.Failed {
			failed = append(failed, map[string]string{"path": f.Path, "error": f.Err.Error()})
		}
		out := map[string]any{
			"added": st.Added, "changed": st.Changed, "unchanged": st.Unchanged, "removed": st.Removed,
			"chunks": st.Chunks, "embedded": st.Embedded, "reused": st.Reused, "failed": failed,
			"index": ix.Dir(), "embedder": ix.Embedder().Name(),
			"papers_chunks": ix.Count(rag.Papers), "code_chunks": ix.Count(rag.Code),
		}
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return s.errorf(exitFail, "index: %v", err)
		}
	} else {
		fmt.Fprintf(s.out, "files: %d added, %d changed, %d unchanged, %d removed\n", st.Added, st.Changed, st.Unchanged, st.Removed)
		fmt.Fprintf(s.out, "chunks: %d written (%d embedded, %d reused)\n", st.Chunks, st.Embedded, st.Reused)
		fmt.Fprintf(s.out, "index: %s (%s): %d paper chunks, %d code chunks\n", ix.Dir(), ix.Embedder().Name(), ix.Count(rag.Papers), ix.Count(rag.Code))
	}
	if len(st.Failed) > 0 {
		return exitFail
	}
	return exitOK
}

func isPaperPath(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".pdf", ".md", ".markdown", ".tex", ".txt":
		return true
	}
	return false
}

// openIndex loads the configuration of root and opens (or, with rebuild,
// starts) the index it names. On failure it prints the error and returns a
// nil index and the exit code.
func openIndex(s stdio, verb, root string, rebuild bool) (*rag.Index, int) {
	cfg, err := config.Load(root)
	if err != nil {
		return nil, s.errorf(exitUsage, "%s: %v", verb, err)
	}
	if cfg.Index.Disabled {
		return nil, s.errorf(exitUsage, "%s: retrieval is disabled (index.disabled = true in r2c.toml)", verb)
	}
	dir := cfg.Index.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	emb, err := rag.EmbedderFromConfig(cfg)
	if err != nil {
		return nil, s.errorf(exitUsage, "%s: %v", verb, err)
	}
	open := rag.Open
	if rebuild {
		open = rag.Create
	}
	ix, err := open(dir, emb)
	if err != nil {
		return nil, s.errorf(exitUsage, "%s: %v", verb, err)
	}
	return ix, exitOK
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
