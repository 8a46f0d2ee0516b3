package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/runstore"
)

func statsCommand() *cobra.Command {
	var root, since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats [flags]",
		Short: "success rate and failure patterns of recent runs, from every front door",
		Long: "Summarises the runs recorded in .r2c/runs.db — from the CLI, the language server, the HTTP API and\n" +
			"r2c eval — over the last --since: success rate per day, which agent failed, which error class, which\n" +
			"kinds of test fail most, rounds and tokens per run, sandbox time. r2c api serves the same as /dashboard.",
		Example: "  r2c stats\n  r2c stats --since 7d\n  r2c stats --since 36h --json",
		Args:    noArgs("stats"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			window, err := runstore.ParseSince(since)
			if err != nil {
				return usagef("stats: --since: %w", err)
			}
			s := streams(cmd)
			path := filepath.Join(root, ".r2c", runstore.FileName)
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !asJSON {
				// Nothing recorded yet: say so without creating a store.
				printStats(s, runstore.Stats{}, since)
				return nil
			}
			st, err := runstore.Open(path)
			if err != nil {
				return envf("stats: %w", err)
			}
			defer st.Close()
			from := time.Now().Add(-window)
			rows, err := st.Runs(cmd.Context(), from)
			if err != nil {
				return envf("stats: %w", err)
			}
			sum := runstore.Summarise(rows, from)
			if asJSON {
				return writeJSON(s.out, "stats", sum)
			}
			printStats(s, sum, since)
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "workspace root holding .r2c/runs.db")
	cmd.Flags().StringVar(&since, "since", "30d", "look-back window: 7d, 2w, 36h, 90m")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func printStats(s stdio, st runstore.Stats, since string) {
	if st.Runs == 0 {
		fmt.Fprintf(s.err, "r2c: no runs recorded in the last %s (every r2c implement, validate and API run adds one)\n", since)
		return
	}
	w := s.out
	fmt.Fprintf(w, "runs:         %d in the last %s (%d passed, %d failed, %d cancelled, %d errors)\n", st.Runs, since, st.Passed, st.Failed, st.Cancelled, st.Errored)
	fmt.Fprintf(w, "success rate: %.1f%%\n", 100*st.SuccessRate)
	fmt.Fprintf(w, "mean rounds:  %.2f per implement run; mean tokens %.0f; mean style %.1f\n", st.MeanRounds, st.MeanTokens, st.MeanStyle)
	fmt.Fprintf(w, "sandbox:      %s in all, %d runs killed by a limit\n", st.SandboxTime.Round(time.Millisecond), st.SandboxKills)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	section := func(title string, cs []runstore.Count) {
		if len(cs) == 0 {
			return
		}
		var parts []string
		for _, c := range cs {
			parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Count))
		}
		fmt.Fprintf(tw, "%s\t%s\n", title, strings.Join(parts, ", "))
	}
	section("by front door:", st.ByFrontDoor)
	section("failed agent:", st.FailedAgents)
	section("error class:", st.ErrorClasses)
	section("failing tests:", st.TestKinds)
	tw.Flush()
	fmt.Fprintln(w, "per day:")
	for _, d := range st.PerDay {
		fmt.Fprintf(w, "  %s  %3d runs  %5.1f%%  %s\n", d.Date, d.Runs, 100*d.Rate, strings.Repeat("#", int(d.Rate*20+0.5)))
	}
}
