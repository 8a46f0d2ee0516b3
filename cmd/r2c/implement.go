package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

// implementFlags are r2c implement's flags.
type implementFlags struct {
	paper, section, out, endpoint, model, root string
	rounds                                     int
	asJSON                                     bool
}

func implementCommand() *cobra.Command {
	var f implementFlags
	cmd := &cobra.Command{
		Use:   "implement --paper FILE --section SECTION [flags]",
		Short: "implement a paper section as tested Python in your style",
		Long: "Reads one section of a paper (Markdown, plain text, LaTeX or PDF), asks the model server for a spec, a plan,\n" +
			"the code and its tests, runs the tests in the sandbox, feeds failures back (up to rounds times), and writes\n" +
			"the best result to --out. Existing files are never overwritten. Progress goes to stderr, the summary to\n" +
			"stdout (with --json as one JSON object), and the whole run is recorded under .r2c/runs (see r2c runs show ID).\n" +
			"Exit status: 0 when the tests pass, 1 when they still fail (the best files are written anyway), 2 on\n" +
			"usage or environment errors (unreachable model server, no python3 with pytest).",
		Example: "  r2c implement --paper examples/attention/paper.md --section 3.2 --out attn/ --endpoint http://localhost:8080/v1\n" +
			"  r2c implement --paper 1706.03762 --section \"Scaled Dot-Product Attention\" --model my-adapter --rounds 5",
		Args: func(_ *cobra.Command, args []string) error {
			if f.paper == "" || f.section == "" || len(args) > 0 {
				return usagef("implement: --paper and --section are required (and nothing else)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImplement(cmd.Context(), streams(cmd), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.paper, "paper", "", "the paper: a .md, .txt, .tex or .pdf file, or an arXiv id or URL")
	fl.StringVar(&f.section, "section", "", `the section to implement: a number ("3.2"), a title, or both`)
	fl.StringVar(&f.out, "out", ".", "folder the generated modules and tests are written to")
	fl.StringVar(&f.endpoint, "endpoint", "", "OpenAI-compatible base URL of the model server, e.g. http://localhost:8080/v1 (config: endpoint)")
	fl.StringVar(&f.model, "model", "", `default model or LoRA adapter name, for agents without their own agents.<agent>.name ("tgi" is TGI's base model; config: model.name)`)
	fl.IntVar(&f.rounds, "rounds", 0, "correction rounds per plan (config: rounds, default 3)")
	fl.StringVar(&f.root, "root", ".", "workspace root: where r2c.toml, the style profile and .r2c/runs live")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON (progress stays on stderr)")
	_ = cmd.RegisterFlagCompletionFunc("section", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeSections(cmd.Context(), f.paper, toComplete)
	})
	_ = cmd.MarkFlagFilename("paper", "md", "txt", "tex", "pdf")
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

func runImplement(ctx context.Context, s stdio, f implementFlags) error {
	cfg, err := config.Load(f.root)
	if err != nil {
		return envf("implement: %w", err)
	}
	cfg.Merge(config.Config{Endpoint: f.endpoint, Model: config.Model{Name: f.model}, Rounds: f.rounds})
	profile, err := loadProfile(cfg, f.root)
	if err != nil {
		return envf("implement: %w", err)
	}
	if profile == nil {
		fmt.Fprintf(s.err, "r2c: no style profile at %s: code is checked for syntax and tests only (learn one with r2c style learn)\n", profilePath(cfg, f.root))
	}

	req := orchestrator.Request{Paper: f.paper, Section: f.section, OutDir: f.out, Config: cfg, Profile: profile, Root: f.root}
	res, err := orchestrator.Run(ctx, req, progressPrinter{w: s.err, start: time.Now()})
	if err != nil {
		code := exitFail
		if errors.Is(err, orchestrator.ErrUnreachable) || errors.Is(err, sandbox.ErrNoPytest) || errors.Is(err, sandbox.ErrIsolation) {
			code = exitUsage // the environment, not the paper or the model's code
		}
		// A run that failed after a validated round (a model timeout in a
		// correction round) still ends with its best result; a cancelled
		// run has none and writes nothing.
		if res != nil && len(res.Files) > 0 && res.Status != orchestrator.StatusCancelled {
			if written, werr := writeResult(f.out, res); werr == nil {
				if perr := reportSummary(s.out, f.asJSON, res, written, profile != nil); perr != nil {
					return perr
				}
			} else {
				fmt.Fprintf(s.err, "r2c: implement: %v\n", werr)
			}
		}
		if res != nil && res.RunDir != "" {
			fmt.Fprintf(s.err, "r2c: run recorded in %s\n", res.RunDir)
		}
		return &exitError{code: code, err: fmt.Errorf("implement: %w", err)}
	}
	written, err := writeResult(f.out, res)
	if err != nil {
		return failf("implement: %w", err)
	}
	if err := reportSummary(s.out, f.asJSON, res, written, profile != nil); err != nil {
		return err
	}
	if res.Status != orchestrator.StatusPassed {
		return exitCode(exitFail)
	}
	return nil
}

// writeResult writes the run's files under out (all or nothing) and
// returns their paths.
func writeResult(out string, res *orchestrator.Result) ([]string, error) {
	if len(res.Files) == 0 {
		return nil, nil
	}
	if err := core.WriteFiles(out, res.Files); err != nil {
		return nil, err
	}
	var written []string
	for _, f := range res.Files {
		written = append(written, filepath.Join(out, filepath.FromSlash(f.Path)))
	}
	return written, nil
}

// loadProfile reads the configured style profile; a missing one is not an
// error (nil), a broken one is.
func loadProfile(cfg config.Config, root string) (*style.Profile, error) {
	p := profilePath(cfg, root)
	if p == "" {
		return nil, nil
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return style.LoadProfile(p)
}

func profilePath(cfg config.Config, root string) string {
	p := cfg.Style.Profile
	if p != "" && !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	return p
}

// progressPrinter prints one line per agent step on stderr; token deltas
// and per-task progress within a step are too chatty for a terminal log
// except as "n/m" lines.
type progressPrinter struct {
	w     io.Writer
	start time.Time
}

func (p progressPrinter) OnEvent(e orchestrator.Event) {
	if e.Kind == orchestrator.EventTokens {
		return
	}
	msg := e.Message
	if e.Kind == orchestrator.EventFailed {
		msg, _, _ = strings.Cut(msg, "\n") // the full error follows once at the end
	}
	line := fmt.Sprintf("[%6.1fs] %-11s %-8s %s", e.Time.Sub(p.start).Seconds(), e.Node, e.Kind, msg)
	fmt.Fprintln(p.w, strings.TrimRight(line, " "))
}

// implementSummary is the JSON form of r2c implement's summary.
type implementSummary struct {
	Status        string    `json:"status"`
	Files         []string  `json:"files"`
	TestsPassed   int       `json:"tests_passed"`
	TestsTotal    int       `json:"tests_total"`
	StyleScore    *float64  `json:"style_score"` // null: no style profile, style not checked
	Rounds        int       `json:"rounds"`
	PlanRevisions int       `json:"plan_revisions"`
	Usage         llm.Usage `json:"usage"`
	DurationMS    int64     `json:"duration_ms"`
	RunID         string    `json:"run_id"`
	RunDir        string    `json:"run_dir"`
	Warnings      []string  `json:"warnings"`
	Ambiguities   []string  `json:"ambiguities"`
}

// reportSummary prints the run's summary as text or, with asJSON, JSON.
func reportSummary(w io.Writer, asJSON bool, res *orchestrator.Result, written []string, styleChecked bool) error {
	if !asJSON {
		printSummary(w, res, written, styleChecked)
		return nil
	}
	sum := implementSummary{
		Status: res.Status, Files: append([]string{}, written...), Rounds: res.Rounds, PlanRevisions: res.PlanRevisions,
		Usage: res.Usage, DurationMS: res.Duration.Milliseconds(), RunID: res.RunID, RunDir: res.RunDir,
		Warnings: append([]string{}, res.Warnings...), Ambiguities: []string{},
	}
	if r := res.Report; r != nil {
		sum.TestsPassed, sum.TestsTotal = r.Tests.Passed, r.Tests.Total
		if styleChecked {
			score := r.StyleScore
			sum.StyleScore = &score
		}
	}
	if res.Spec != nil {
		sum.Ambiguities = append(sum.Ambiguities, res.Spec.Ambiguities...)
	}
	return writeJSON(w, "implement", sum)
}

func printSummary(w io.Writer, res *orchestrator.Result, written []string, styleChecked bool) {
	fmt.Fprintf(w, "status:      %s\n", res.Status)
	if len(written) > 0 {
		fmt.Fprintf(w, "files:       %s\n", strings.Join(written, ", "))
	}
	if r := res.Report; r != nil {
		fmt.Fprintf(w, "tests:       %d/%d passed\n", r.Tests.Passed, r.Tests.Total)
		if styleChecked {
			fmt.Fprintf(w, "style score: %.0f\n", r.StyleScore)
		} else {
			fmt.Fprintln(w, "style score: not checked (no style profile)")
		}
	}
	fmt.Fprintf(w, "rounds:      %d (plan revisions: %d)\n", res.Rounds, res.PlanRevisions)
	fmt.Fprintf(w, "tokens:      %d (prompt %d, completion %d%s)\n", res.Usage.TotalTokens, res.Usage.PromptTokens, res.Usage.CompletionTokens, estimated(res.Usage))
	fmt.Fprintf(w, "time:        %s\n", res.Duration.Round(10*time.Millisecond))
	fmt.Fprintf(w, "run:         %s (r2c runs show %s)\n", res.RunDir, res.RunID)
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "warning:     %s\n", warning)
	}
	if res.Spec != nil && len(res.Spec.Ambiguities) > 0 {
		fmt.Fprintln(w, "ambiguities the paper leaves open:")
		for _, a := range res.Spec.Ambiguities {
			fmt.Fprintf(w, "  - %s\n", a)
		}
	}
}

// estimated marks token counts that include estimates for calls the
// server reported no usage for.
func estimated(u llm.Usage) string {
	if u.Estimated {
		return ", partly estimated: the server did not report every call's usage"
	}
	return ""
}
