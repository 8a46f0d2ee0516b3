package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/rag"
)

// searchFlags are r2c search's flags.
type searchFlags struct {
	k, budget            int
	asJSON, papers, code bool
	root                 string
}

func searchCommand() *cobra.Command {
	var f searchFlags
	cmd := &cobra.Command{
		Use:   "search [flags] QUERY...",
		Short: "search the index of papers and code",
		Long: "Prints the chunks of the index most similar to QUERY, best first, each with its source (paper, section\n" +
			"and page, or repository, path and lines) and similarity. Near-duplicates are removed; --budget bounds the\n" +
			"summed size of the results in estimated tokens, as the agents' prompts do.\n" +
			"Exit status: 0 with results, 1 when nothing matched, 2 on usage errors or when there is no index yet.",
		Example: "  r2c search -k 5 \"how is the learning rate warmed up\"\n" +
			"  r2c search --json --code --budget 1500 \"layer norm\"",
		Args: func(_ *cobra.Command, args []string) error {
			if strings.TrimSpace(strings.Join(args, " ")) == "" || f.k < 1 || (f.papers && f.code) {
				return usagef("search: give a QUERY, -k of at least 1, and at most one of --papers and --code")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(cmd.Context(), streams(cmd), f, strings.TrimSpace(strings.Join(args, " ")))
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.k, "k", "k", 5, "number of results")
	fl.BoolVar(&f.asJSON, "json", false, "print the results as a JSON array")
	fl.BoolVar(&f.papers, "papers", false, "search papers only")
	fl.BoolVar(&f.code, "code", false, "search code only")
	fl.IntVar(&f.budget, "budget", 0, "most estimated tokens in all results together (0: no limit)")
	fl.StringVar(&f.root, "root", ".", "workspace root: where r2c.toml and .r2c/index live")
	return cmd
}

func runSearch(ctx context.Context, s stdio, f searchFlags, query string) error {
	ix, err := openIndex("search", f.root, false)
	if err != nil {
		return err
	}
	if indexMissing(ix.Dir()) {
		return envf("search: no index in %s yet; build one with r2c index PATH...", ix.Dir())
	}
	opts := rag.RetrieveOptions{K: f.k, MaxTokens: f.budget}
	switch {
	case f.papers:
		opts.Collections = []string{rag.Papers}
	case f.code:
		opts.Collections = []string{rag.Code}
	}
	chunks, err := ix.Retrieve(ctx, query, opts)
	if err != nil {
		return envf("search: %w", err)
	}
	if f.asJSON {
		if chunks == nil {
			chunks = []rag.Chunk{}
		}
		if err := writeJSON(s.out, "search", chunks); err != nil {
			return err
		}
	} else {
		for i, ch := range chunks {
			fmt.Fprintf(s.out, "%d. [%.3f] %s\n%s\n\n", i+1, ch.Score, ch.Source, indent(preview(ch.Text, 6), "   "))
		}
	}
	if len(chunks) == 0 {
		if !f.asJSON {
			fmt.Fprintln(s.err, "r2c: search: no matching chunks")
		}
		return exitCode(exitFail)
	}
	return nil
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
