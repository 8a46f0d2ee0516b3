package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/orchestrator"
)

func runsCommand() *cobra.Command {
	return asGroup(&cobra.Command{
		Use:     "runs <command>",
		Short:   "list and inspect recorded implement runs",
		Long:    "Lists and shows the runs r2c implement records under .r2c/runs (config: runs_dir).",
		Example: "  r2c runs list\n  r2c runs show 20260101-120000",
	}, runsListCommand(), runsShowCommand())
}

func runsDir(root string) (string, error) {
	cfg, err := config.Load(root)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(cfg.RunsDir) {
		return filepath.Join(root, cfg.RunsDir), nil
	}
	return cfg.RunsDir, nil
}

func runsListCommand() *cobra.Command {
	var root string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Short:   "list recorded runs, newest first",
		Long:    "Lists the runs recorded under .r2c/runs (config: runs_dir), newest first.",
		Example: "  r2c runs list\n  r2c runs list --root ~/src/myrepo --json",
		Args:    noArgs("runs list"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRunsList(streams(cmd), root, asJSON)
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "workspace root")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the runs' records as a JSON array")
	return cmd
}

func runRunsList(s stdio, root string, asJSON bool) error {
	dir, err := runsDir(root)
	if err != nil {
		return envf("runs: %w", err)
	}
	recs, err := orchestrator.ListRuns(dir)
	if err != nil {
		return failf("%w", err)
	}
	if asJSON {
		if recs == nil {
			recs = []*orchestrator.Record{}
		}
		return writeJSON(s.out, "runs list", recs)
	}
	if len(recs) == 0 {
		fmt.Fprintf(s.err, "r2c: no runs recorded under %s (r2c implement records one)\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTESTS\tROUNDS\tTOKENS\tTIME\tSECTION\tPAPER")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Status, r.Tests.Passed, r.Tests.Total, r.Rounds, r.Usage.TotalTokens, r.Duration.Round(10*time.Millisecond), r.Section, r.Paper)
	}
	tw.Flush()
	return nil
}

func runsShowCommand() *cobra.Command {
	var root string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [flags] ID [FILE]",
		Short: "show one run: status, timings, tokens and the recorded files",
		Long: "Shows a recorded run: its outcome, per-step timings, token counts and the files of its record\n" +
			"(spec, plan, every prompt and answer, every test report). ID may be a unique prefix.\n" +
			"With FILE (a path listed under \"record\", e.g. exchanges/003-implementer-attention.json), prints that file.\n" +
			"Exit status: 0 ok, 1 when there is no such run or file in its record, 2 on usage errors.",
		Example: "  r2c runs show 20260101-120000\n" +
			"  r2c runs show 20260101 exchanges/001-analyzer.json\n" +
			"  r2c runs show 20260101-120000 --json",
		Args: argsRange(1, 2, "runs show: give one run ID (see r2c runs list) and optionally one FILE of its record"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return completeRunIDs(root, toComplete)
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunsShow(streams(cmd), root, asJSON, args)
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "workspace root")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run's record (run.json) as JSON")
	return cmd
}

func runRunsShow(s stdio, root string, asJSON bool, args []string) error {
	dir, err := runsDir(root)
	if err != nil {
		return envf("runs: %w", err)
	}
	r, err := orchestrator.LoadRun(dir, args[0])
	if err != nil {
		return failf("%w", err)
	}
	runDir := orchestrator.RunDir(dir, r.ID)
	if len(args) == 2 {
		return showRecordFile(s, runDir, args[1])
	}
	if asJSON {
		return writeJSON(s.out, "runs show", r)
	}
	w := s.out
	fmt.Fprintf(w, "run:         %s\n", r.ID)
	fmt.Fprintf(w, "paper:       %s, section %s\n", r.Paper, r.Section)
	fmt.Fprintf(w, "model:       %s at %s\n", r.Model, r.Endpoint)
	fmt.Fprintf(w, "status:      %s\n", r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "error:       %s\n", r.Error)
	}
	fmt.Fprintf(w, "started:     %s (%s)\n", r.Started.Format(time.RFC3339), r.Duration.Round(10*time.Millisecond))
	fmt.Fprintf(w, "tests:       %d/%d passed (best round %d)\n", r.Tests.Passed, r.Tests.Total, r.BestRound)
	fmt.Fprintf(w, "style score: %.0f\n", r.StyleScore)
	fmt.Fprintf(w, "rounds:      %d (plan revisions: %d)\n", r.Rounds, r.PlanRevisions)
	fmt.Fprintf(w, "tokens:      %d (prompt %d, completion %d%s) in %d model calls\n", r.Usage.TotalTokens, r.Usage.PromptTokens, r.Usage.CompletionTokens, estimated(r.Usage), r.ModelCalls)
	if len(r.Files) > 0 {
		fmt.Fprintf(w, "files:       %v\n", r.Files)
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "warning:     %s\n", warning)
	}
	fmt.Fprintln(w, "\ntimings:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, t := range r.Timings {
		status := "ok"
		if t.Error != "" {
			status = t.Error
		}
		round := ""
		if t.Round > 0 {
			round = fmt.Sprintf("round %d", t.Round)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.Node, round, t.Duration.Round(time.Millisecond), status)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrecord in %s:\n", runDir)
	err = filepath.WalkDir(runDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(runDir, p)
		fmt.Fprintf(w, "  %s\n", rel)
		return nil
	})
	if err != nil {
		return failf("runs show: %w", err)
	}
	return nil
}

// showRecordFile prints one file of a run's record; the name must stay
// inside the run's folder.
func showRecordFile(s stdio, runDir, name string) error {
	p, err := safepath.Join(runDir, name)
	if err != nil {
		return envf("runs show: %q is not a file of the run's record: %w", name, err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return failf("runs show: %w (r2c runs show ID lists the record's files)", err)
	}
	if _, err := s.out.Write(b); err != nil {
		return envf("runs show: %w", err)
	}
	return nil
}
