package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/paper"
)

// completionTimeout bounds the work one Tab may do: a shell waiting on a
// huge PDF is worse than no candidates.
const completionTimeout = 3 * time.Second

// completeSections offers the sections of the paper at source, as numbers
// (the title is the description), or titles where a section has no number.
// Only local files are read: a Tab never downloads from arXiv.
func completeSections(ctx context.Context, source, toComplete string) ([]string, cobra.ShellCompDirective) {
	if st, err := os.Stat(source); err != nil || !st.Mode().IsRegular() {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var pf paperFlags
	opts, err := pf.options()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	p, err := loadPaper(ctx, source, opts)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	p.Walk(func(sec *paper.Section) {
		cand, desc := sec.Number, sec.Title
		if cand == "" {
			cand, desc = sec.Title, ""
		}
		if strings.HasPrefix(strings.ToLower(cand), strings.ToLower(toComplete)) {
			out = append(out, strings.TrimSuffix(cand+"\t"+desc, "\t"))
		}
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeRunIDs offers the recorded runs under root, newest first, each
// described by its status and section.
func completeRunIDs(root, toComplete string) ([]string, cobra.ShellCompDirective) {
	dir, err := runsDir(root)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	recs, err := orchestrator.ListRuns(dir)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, r := range recs {
		if strings.HasPrefix(r.ID, toComplete) {
			out = append(out, r.ID+"\t"+r.Status+", section "+r.Section)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
