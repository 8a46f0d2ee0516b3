package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/orchestrator"
)

func runsCommand() command {
	return command{
		name:    "runs",
		summary: "list and inspect recorded implement runs",
		sub: []command{
			{name: "list", summary: "list recorded runs, newest first", run: runRunsList},
			{name: "show", summary: "show one run: status, timings, tokens and the recorded files", run: runRunsShow},
		},
	}
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

func runRunsList(ctx context.Context, s stdio, args []string) int {
	fs := newFlags(s, "r2c runs list", "[--root DIR]", "Lists the runs recorded under .r2c/runs (config: runs_dir), newest first.")
	root := fs.String("root", ".", "workspace root")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	dir, err := runsDir(*root)
	if err != nil {
		return s.errorf(exitUsage, "runs: %v", err)
	}
	recs, err := orchestrator.ListRuns(dir)
	if err != nil {
		return s.errorf(exitFail, "%v", err)
	}
	if len(recs) == 0 {
		fmt.Fprintf(s.err, "r2c: no runs recorded under %s (r2c implement records one)\n", dir)
		return exitOK
	}
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTESTS\tROUNDS\tTOKENS\tTIME\tSECTION\tPAPER")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Status, r.Tests.Passed, r.Tests.Total, r.Rounds, r.Usage.TotalTokens, r.Duration.Round(10*time.Millisecond), r.Section, r.Paper)
	}
	tw.Flush()
	return exitOK
}

func runRunsShow(ctx context.Context, s stdio, args []string) int {
	fs := newFlags(s, "r2c runs show", "[--root DIR] [--json] ID [FILE]", "Shows a recorded run: its outcome, per-step timings, token counts and the files of its record\n(spec, plan, every prompt and answer, every test report). ID may be a unique prefix.\nWith FILE (a path listed under \"record\", e.g. exchanges/003-implementer-attention.json), prints that file.")
	root := fs.String("root", ".", "workspace root")
	asJSON := fs.Bool("json", false, "print the run's record (run.json) as JSON")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return s.errorf(exitUsage, "runs show: give one run ID (see r2c runs list) and optionally one FILE of its record")
	}
	dir, err := runsDir(*root)
	if err != nil {
		return s.errorf(exitUsage, "runs: %v", err)
	}
	r, err := orchestrator.LoadRun(dir, fs.Arg(0))
	if err != nil {
		return s.errorf(exitFail, "%v", err)
	}
	runDir := orchestrator.RunDir(dir, r.ID)
	if fs.NArg() == 2 {
		return showRecordFile(s, runDir, fs.Arg(1))
	}
	if *asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return s.errorf(exitFail, "runs show: %v", err)
		}
		return exitOK
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
		return s.errorf(exitFail, "runs show: %v", err)
	}
	return exitOK
}

// showRecordFile prints one file of a run's record; the name must stay
// inside the run's folder.
func showRecordFile(s stdio, runDir, name string) int {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return s.errorf(exitUsage, "runs show: %q is not a file of the run's record", name)
	}
	b, err := os.ReadFile(filepath.Join(runDir, clean))
	if err != nil {
		return s.errorf(exitFail, "runs show: %v (r2c runs show ID lists the record's files)", err)
	}
	s.out.Write(b)
	return exitOK
}
