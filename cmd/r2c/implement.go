package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/runstore"
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
			"the best result to --out, which must be a new or empty folder (checked before any model call). When no index\n" +
			"holds the paper it is indexed first, so retrieval sees its other sections. Nothing is ever overwritten. Progress goes to stderr, the summary to\n" +
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
	fl.StringVar(&f.out, "out", "", "new or empty folder the generated modules and tests are written to (default: one named after the section, e.g. scaled_dot_product_attention)")
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
	cfg, err := core.LoadConfig(f.root, config.Config{Endpoint: f.endpoint, Model: config.Model{Name: f.model}, Rounds: f.rounds})
	if err != nil {
		return envf("implement: %w", err)
	}
	profile, err := core.LoadProfile(cfg, f.root, "")
	if err != nil {
		return envf("implement: %w", err)
	}
	if profile == nil {
		fmt.Fprintf(s.err, "r2c: no style profile at %s: code is checked for syntax and tests only (learn one with r2c style learn)\n", core.ProfilePath(cfg, f.root))
	}
	out := f.out
	if out == "" {
		out = core.SectionFolder(f.section)
	}

	res, err := core.Implement(ctx, core.ImplementRequest{
		Paper: f.paper, Section: f.section, OutDir: out, Root: f.root, Config: &cfg, Profile: profile, FrontDoor: runstore.FrontDoorCLI,
	}, progressPrinter{w: s.err, start: time.Now()})
	code := exitFail
	if core.Environmental(err) {
		code = exitUsage // the input or the machine, not the paper or the model's code
	}
	if res == nil {
		return &exitError{code: code, err: fmt.Errorf("implement: %s", core.Hint(err))}
	}
	// A run that failed after a validated round (a model timeout in a
	// correction round) still ends with its best result, written; a
	// cancelled run has none and writes nothing.
	if len(res.Written) > 0 || (err == nil && res.Status != orchestrator.StatusCancelled) {
		if perr := reportSummary(s.out, f.asJSON, res, profile != nil); perr != nil {
			return perr
		}
	}
	if err != nil {
		if res.RunDir != "" {
			fmt.Fprintf(s.err, "r2c: run recorded in %s\n", res.RunDir)
		}
		return &exitError{code: code, err: fmt.Errorf("implement: %s", core.Hint(err))}
	}
	if res.Status != orchestrator.StatusPassed {
		return exitCode(exitFail)
	}
	return nil
}

// progressPrinter prints one line per event on stderr: agent steps, "n/m"
// task progress, each agent's streamed tokens and tokens/s (the
// orchestrator throttles those), and every context_trimmed cut.
type progressPrinter struct {
	w     io.Writer
	start time.Time
}

func (p progressPrinter) OnEvent(e orchestrator.Event) {
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
	// Indexed says that the run indexed the paper itself (no index held it).
	Indexed string `json:"indexed,omitempty"`
}

// reportSummary prints the run's summary as text or, with asJSON, JSON.
func reportSummary(w io.Writer, asJSON bool, res *core.Result, styleChecked bool) error {
	if !asJSON {
		printSummary(w, res, styleChecked)
		return nil
	}
	sum := implementSummary{
		Status: res.Status, Files: append([]string{}, res.Written...), Rounds: res.Rounds, PlanRevisions: res.PlanRevisions,
		Usage: res.Usage, DurationMS: res.Duration.Milliseconds(), RunID: res.RunID, RunDir: res.RunDir,
		Warnings: append([]string{}, res.Warnings...), Ambiguities: []string{}, Indexed: res.Indexed,
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

func printSummary(w io.Writer, res *core.Result, styleChecked bool) {
	fmt.Fprintf(w, "status:      %s\n", res.Status)
	if len(res.Written) > 0 {
		fmt.Fprintf(w, "files:       %s\n", strings.Join(res.Written, ", "))
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
	if res.Indexed != "" {
		fmt.Fprintf(w, "index:       %s; retrieval used it\n", res.Indexed)
	}
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
