package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/r2c-ai/r2c/rag"
)

func searchCommand() command {
	return command{
		name:    "search",
		summary: "search the index of papers and code",
		run:     runSearch,
	}
}

func runSearch(ctx context.Context, s stdio, args []string) int {
	fs := newFlags(s, "r2c search", "[--json] [-k N] [--papers | --code] [--budget TOKENS] QUERY...",
		"Prints the chunks of the index most similar to QUERY, best first, each with its source (paper, section\n"+
			"and page, or repository, path and lines) and similarity. Near-duplicates are removed; --budget bounds the\n"+
			"summed size of the results in estimated tokens, as the agents' prompts do.\n"+
			"Exit status: 0 with results, 1 when nothing matched, 2 on usage errors or when there is no index yet.")
	k := fs.Int("k", 5, "number of results")
	asJSON := fs.Bool("json", false, "print the results as a JSON array")
	papers := fs.Bool("papers", false, "search papers only")
	code := fs.Bool("code", false, "search code only")
	budget := fs.Int("budget", 0, "most estimated tokens in all results together (0: no limit)")
	root := fs.String("root", ".", "workspace root: where r2c.toml and .r2c/index live")
	if c, ok := parseFlags(fs, args); !ok {
		return c
	}
	query := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if query == "" || *k < 1 || (*papers && *code) {
		fs.Usage()
		return s.errorf(exitUsage, "search: give a QUERY, -k of at least 1, and at most one of --papers and --code")
	}
	ix, c := openIndex(s, "search", *root, false)
	if ix == nil {
		return c
	}
	if indexMissing(ix.Dir()) {
		return s.errorf(exitUsage, "search: no index in %s yet; build one with r2c index PATH...", ix.Dir())
	}
	opts := rag.RetrieveOptions{K: *k, MaxTokens: *budget}
	switch {
	case *papers:
		opts.Collections = []string{rag.Papers}
	case *code:
		opts.Collections = []string{rag.Code}
	}
	chunks, err := ix.Retrieve(ctx, query, opts)
	if err != nil {
		return s.errorf(exitUsage, "search: %v", err)
	}
	if *asJSON {
		if chunks == nil {
			chunks = []rag.Chunk{}
		}
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(chunks); err != nil {
			return s.errorf(exitFail, "search: %v", err)
		}
	} else {
		for i, ch := range chunks {
			fmt.Fprintf(s.out, "%d. [%.3f] %s\n%s\n\n", i+1, ch.Score, ch.Source, indent(preview(ch.Text, 6), "   "))
		}
	}
	if len(chunks) == 0 {
		if !*asJSON {
			fmt.Fprintln(s.err, "r2c: search: no matching chunks")
		}
		return exitFail
	}
	return exitOK
}

// preview returns at most maxLines lines of text, marking a cut.
func preview(text string, maxLines int) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) > maxLines {
		lines = append(lines[:maxLines], "…")
	}
	return strings.Join(lines, "\n")
}

func indent(text, prefix string) string {
	return prefix + strings.ReplaceAll(text, "\n", "\n"+prefix)
}
