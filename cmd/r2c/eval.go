package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/eval"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

func evalCommand() *cobra.Command {
	return asGroup(&cobra.Command{
		Use:   "eval <command>",
		Short: "measure r2c on a task suite with hidden tests: run, compare, import",
		Long: "Runs the whole pipeline on every task of a suite (paper sections with hidden tests that never reach a\n" +
			"prompt) and measures the design's four targets: execution success, research accuracy, style consistency\n" +
			"and productivity gain.",
		Example: "  r2c eval run --out eval-out --endpoint http://localhost:8080/v1\n" +
			"  r2c eval compare base-out adapter-out",
	}, evalRunCommand(), evalCompareCommand(), evalImportCommand())
}

type evalRunFlags struct {
	suite, tasks, endpoint, model, profile, out, root, torchPython string
	samples, jobs                                                  int
	temperature                                                    float64
	taskTimeout                                                    time.Duration
	asJSON                                                         bool
}

func evalRunCommand() *cobra.Command {
	var f evalRunFlags
	cmd := &cobra.Command{
		Use:   "run [flags] --out DIR",
		Short: "run the suite and write results.json, report.md and report.html",
		Long: "Checks every task's hidden tests on its reference code first (a task whose reference fails is listed\n" +
			"and not scored), then runs the pipeline --samples times per task, up to --jobs at once, and the hidden\n" +
			"tests on what came back. Each sample is stored under DIR/samples as it finishes: run the same command\n" +
			"again after an interruption and it continues. Exit status: 0 when the run finished (whatever the\n" +
			"scores), 2 on usage or environment errors.",
		Example: "  r2c eval run --out eval-out --endpoint http://localhost:8080/v1\n" +
			"  r2c eval run --tasks 'sdpa,lora*' --samples 5 --temperature 0.8 --jobs 2 --out eval-out\n" +
			"  r2c eval run --suite my-suite/ --profile .r2c/style.json --model my-adapter --out adapter-out",
		Args: noArgs("eval run"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(cmd.Context(), streams(cmd), cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.suite, "suite", "", "suite folder, one task folder each (default: the suite shipped with r2c)")
	fl.StringVar(&f.tasks, "tasks", "", "comma-separated globs of task ids to run (default: all)")
	fl.IntVar(&f.samples, "samples", 1, "runs per task; more than 1 gives pass@k and intervals per task")
	fl.Float64Var(&f.temperature, "temperature", 0, "sampling temperature (config: model.temperature)")
	fl.StringVar(&f.endpoint, "endpoint", "", "OpenAI-compatible base URL of the model server (config: endpoint)")
	fl.StringVar(&f.model, "model", "", "model or LoRA adapter name (config: model.name)")
	fl.StringVar(&f.profile, "profile", "", "style profile JSON to score against (default: one learned from the suite's reference code)")
	fl.IntVar(&f.jobs, "jobs", 1, "samples run at once; keep within the model server's concurrency")
	fl.StringVar(&f.out, "out", "", "output folder (required); an interrupted run there is continued")
	fl.StringVar(&f.torchPython, "torch-python", "", "interpreter with torch and pytest for PyTorch tasks (default: $R2C_TORCH_PYTHON or r2c's cached venvs)")
	fl.DurationVar(&f.taskTimeout, "task-timeout", 20*time.Minute, "limit of one sample, pipeline and hidden tests together")
	fl.StringVar(&f.root, "root", ".", "workspace root holding r2c.toml")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON (progress stays on stderr)")
	_ = cmd.MarkFlagDirname("suite")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagFilename("profile", "json")
	return cmd
}

func runEval(ctx context.Context, s stdio, cmd *cobra.Command, f evalRunFlags) error {
	if f.out == "" {
		return usagef("eval run: --out DIR is required")
	}
	if f.samples < 1 || f.jobs < 1 {
		return usagef("eval run: --samples and --jobs must be at least 1")
	}
	cfg, err := config.Load(f.root)
	if err != nil {
		return envf("eval run: %w", err)
	}
	over := config.Config{Endpoint: f.endpoint, Model: config.Model{Name: f.model}}
	if cmd.Flags().Changed("temperature") {
		t := f.temperature
		over.Model.Temperature = &t
	}
	cfg.Merge(over)
	suiteName := "shipped"
	var tasks []*eval.Task
	if f.suite != "" {
		suiteName = f.suite
		tasks, err = eval.LoadSuiteDir(f.suite)
	} else {
		tasks, err = eval.LoadSuite(eval.Shipped())
	}
	if err != nil {
		return envf("eval run: %w", err)
	}
	if tasks, err = eval.Select(tasks, f.tasks); err != nil {
		return usagef("eval run: %w", err)
	}
	opts := eval.Options{Tasks: tasks, Suite: suiteName, Samples: f.samples, Jobs: f.jobs, Out: f.out, Config: cfg, TaskTimeout: f.taskTimeout, Progress: s.err}
	if f.profile != "" {
		if opts.Profile, err = style.LoadProfile(f.profile); err != nil {
			return envf("eval run: %w", err)
		}
		opts.ProfileName = f.profile
	}
	level, err := sandbox.ParseLevel(cfg.Sandbox.MinIsolation)
	if err != nil {
		return envf("eval run: config sandbox.min_isolation: %w", err)
	}
	opts.Env = eval.Env{Python: cfg.Sandbox.Python, TorchPython: f.torchPython, MinLevel: level}
	res, err := eval.Run(ctx, opts)
	if err != nil {
		return envf("%w", err)
	}
	if f.asJSON {
		return writeJSON(s.out, "eval", res.Summary)
	}
	fmt.Fprintf(s.out, "%d tasks (%d scored), %d samples\n", res.Summary.Tasks, res.Summary.Scored, res.Summary.Samples)
	for _, t := range res.Summary.Targets {
		switch {
		case t.Value == nil:
			fmt.Fprintf(s.out, "  %-24s not measured: %s\n", t.Name, t.Note)
		default:
			mark := "below"
			if *t.Met {
				mark = "meets"
			}
			fmt.Fprintf(s.out, "  %-24s %5.1f%% (%s the goal of %.0f%%)\n", t.Name, 100**t.Value, mark, 100*t.Goal)
		}
	}
	fmt.Fprintf(s.out, "report: %s\n", f.out+string(os.PathSeparator)+"report.html")
	return nil
}

func evalCompareCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare [flags] A B",
		Short: "what got better or worse from run A to run B, per task and metric, with p-values",
		Long: "A and B are results.json files or the folders of two eval runs. Per task it compares the samples with\n" +
			"an exact permutation test; over the suite, the per-task means with a paired sign-flip test. With one\n" +
			"sample a side no test is possible, and the comparison says so.",
		Example: "  r2c eval compare base-out adapter-out\n  r2c eval compare --json base-out/results.json adapter-out/results.json",
		Args:    argsRange(2, 2, "eval compare: want two results, A and B"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := streams(cmd)
			a, err := eval.LoadResults(args[0])
			if err != nil {
				return envf("eval compare: %w", err)
			}
			b, err := eval.LoadResults(args[1])
			if err != nil {
				return envf("eval compare: %w", err)
			}
			c := eval.Compare(a, b)
			if asJSON {
				return writeJSON(s.out, "eval compare", c)
			}
			fmt.Fprint(s.out, c.Markdown())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	return cmd
}

func evalImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import [flags] TASKS.jsonl DIR",
		Short: "turn a JSONL suite (one task per line) into task folders under DIR",
		Long: "Each line holds id, title, framework (numpy or torch), paper, section, section_text (Markdown), module,\n" +
			"hidden and reference (file name → content) and optionally manual_minutes and timeout_seconds.\n" +
			"Existing task folders are never replaced.",
		Example: "  r2c eval import tasks.jsonl my-suite/ && r2c eval run --suite my-suite/ --out eval-out",
		Args:    argsRange(2, 2, "eval import: want TASKS.jsonl and DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := streams(cmd)
			in, err := os.Open(args[0])
			if err != nil {
				return envf("eval import: %w", err)
			}
			defer in.Close()
			ids, err := eval.ImportJSONL(in, args[1])
			if err != nil {
				return failf("eval import: %s: %w", args[0], err)
			}
			fmt.Fprintf(s.out, "imported %d tasks into %s\n", len(ids), args[1])
			return nil
		},
	}
	return cmd
}
