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
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/sandbox"
)

// doctorFlags are r2c doctor's flags.
type doctorFlags struct {
	root     string
	asJSON   bool
	endpoint string
	model    string
}

func doctorCommand() *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor [flags]",
		Short: "print the effective configuration and check the model endpoint, python, pytest and the sandbox",
		Long: "Prints the effective configuration (defaults, user and workspace r2c.toml, R2C_* variables) and checks\n" +
			"each part r2c depends on: the Python interpreter and pytest, and the sandbox isolation level this\n" +
			"machine achieves (and why the stronger ones are not available), and the model server: reachable,\n" +
			"the model or adapter served, its chat template, its input limit against each agent's prompt and\n" +
			"answer, and streaming. Every problem comes with a fix.\n" +
			"Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.",
		Example: "  r2c doctor\n  r2c doctor --root ~/src/myrepo --json\n  r2c doctor --endpoint http://localhost:8080/v1 --model my-style-lora",
		Args:    noArgs("doctor"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exitCode(runDoctor(cmd.Context(), streams(cmd), f))
		},
	}
	cmd.Flags().StringVar(&f.root, "root", ".", "workspace root holding r2c.toml")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print configuration and checks as JSON")
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "check this model server instead of the configured endpoint, e.g. http://localhost:8080/v1")
	cmd.Flags().StringVar(&f.model, "model", "", `check this model or LoRA adapter name for every agent ("tgi" is TGI's base model)`)
	return cmd
}

// Check statuses.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
)

// checkResult is one line of the doctor's report.
type checkResult struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok, warn or fail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// doctorEnv is what every check may look at.
type doctorEnv struct {
	root   string
	cfg    config.Config
	cfgErr error
}

// doctorCheck inspects one part of the environment; it returns one result
// per thing it looked at and never fails itself.
type doctorCheck func(ctx context.Context, env *doctorEnv) []checkResult

// doctorChecks lists the checks in the order they are printed. To add a
// check, append a function.
func doctorChecks() []doctorCheck {
	return []doctorCheck{
		checkConfig,
		checkPython,
		checkSandbox,
		checkStyleProfile,
		checkEndpoint,
	}
}

func runDoctor(ctx context.Context, s stdio, f doctorFlags) int {
	env := &doctorEnv{root: f.root}
	env.cfg, env.cfgErr = config.Load(f.root)
	if f.model != "" {
		// The model checked for every agent, as --model does for implement.
		env.cfg.Agents.Analyzer.Name, env.cfg.Agents.Planner.Name = "", ""
		env.cfg.Agents.Implementer.Name, env.cfg.Agents.Validator.Name = "", ""
	}
	env.cfg.Merge(config.Config{Endpoint: f.endpoint, Model: config.Model{Name: f.model}})
	var results []checkResult
	for _, check := range doctorChecks() {
		results = append(results, check(ctx, env)...)
	}
	failed := false
	for _, r := range results {
		failed = failed || r.Status == checkFail
	}
	if f.asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		err := enc.Encode(struct {
			Config config.Config `json:"config"`
			Checks []checkResult `json:"checks"`
			OK     bool          `json:"ok"`
		}{env.cfg, results, !failed})
		if err != nil {
			return s.errorf(exitUsage, "doctor: %v", err)
		}
	} else {
		printConfigSummary(s.out, env)
		printChecks(s.out, results)
	}
	if failed {
		return exitFail
	}
	return exitOK
}

func printConfigSummary(w io.Writer, env *doctorEnv) {
	c := env.cfg
	key := "not set"
	if k, err := c.APIKey(); err == nil && k != "" {
		key = "set (hidden)"
	}
	level := c.Sandbox.MinIsolation
	if level == "" {
		level = "any"
	}
	python := c.Sandbox.Python
	if python == "" {
		python = "auto (first python3 on PATH with pytest, then /usr/bin/python3)"
	}
	fmt.Fprintln(w, "configuration:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  workspace\t%s\n", absOr(env.root))
	fmt.Fprintf(tw, "  endpoint\t%s (server_kind %s, json_mode %s, context_tokens %s)\n", c.Endpoint, orAuto(c.ServerKind), orAuto(c.JSONMode), contextTokens(c.ContextTokens))
	fmt.Fprintf(tw, "  model\t%s (timeout %s, max_in_flight %d, retries %d, rounds %d)\n", c.Model.Name, c.Model.Timeout, c.MaxInFlight, c.MaxRetries, c.Rounds)
	fmt.Fprintf(tw, "  api key\t%s (from %s)\n", key, apiKeySource(c))
	fmt.Fprintf(tw, "  sandbox.python\t%s\n", python)
	fmt.Fprintf(tw, "  sandbox limits\ttimeout %s, cpu %s, memory %d MiB, files %d MiB, output %d KiB, %d processes, keep_dirs %v\n", c.Sandbox.Timeout, c.Sandbox.CPU, c.Sandbox.MemoryMB, c.Sandbox.FileMB, c.Sandbox.OutputKB, c.Sandbox.MaxProcesses, c.Sandbox.KeepDirs)
	fmt.Fprintf(tw, "  sandbox.min_isolation\t%s\n", level)
	fmt.Fprintf(tw, "  style.profile\t%s\n", c.Style.Profile)
	fmt.Fprintf(tw, "  index\t%s (embedder %s, disabled %v)\n", c.Index.Dir, c.Index.Embedder, c.Index.Disabled)
	fmt.Fprintf(tw, "  runs_dir\t%s\n", c.RunsDir)
	tw.Flush()
	fmt.Fprintln(w)
}

func apiKeySource(c config.Config) string {
	if c.APIKeyFile != "" {
		return "api_key_file " + c.APIKeyFile
	}
	if c.APIKeyEnv != "" {
		return "$" + c.APIKeyEnv
	}
	return "$R2C_API_KEY"
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func printChecks(w io.Writer, results []checkResult) {
	fmt.Fprintln(w, "checks:")
	for _, r := range results {
		fmt.Fprintf(w, "  [%-4s] %s: %s\n", r.Status, r.Name, r.Detail)
		if r.Fix != "" && r.Status != checkOK {
			fmt.Fprintf(w, "         fix: %s\n", r.Fix)
		}
	}
}

func checkConfig(_ context.Context, env *doctorEnv) []checkResult {
	if env.cfgErr != nil {
		return []checkResult{{Name: "config", Status: checkFail, Detail: env.cfgErr.Error(),
			Fix: "correct the setting in r2c.toml (workspace or user config dir) or the R2C_* variable it names"}}
	}
	sources := []string{"defaults"}
	if dir, err := os.UserConfigDir(); err == nil {
		if p := filepath.Join(dir, "r2c", config.FileName); fileExists(p) {
			sources = append(sources, p)
		}
	}
	if p := filepath.Join(env.root, config.FileName); fileExists(p) {
		sources = append(sources, absOr(p))
	}
	for _, name := range config.EnvVars() {
		if os.Getenv(name) != "" {
			sources = append(sources, "$"+name)
		}
	}
	return []checkResult{{Name: "config", Status: checkOK, Detail: "loaded from " + strings.Join(sources, ", ")}}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func checkPython(_ context.Context, env *doctorEnv) []checkResult {
	py, err := sandbox.FindPython(env.cfg.Sandbox.Python)
	switch {
	case py == nil:
		return []checkResult{{Name: "python", Status: checkFail, Detail: err.Error(),
			Fix: "apt-get install python3 python3-pytest, or set sandbox.python (R2C_PYTHON) to an interpreter"}}
	case errors.Is(err, sandbox.ErrNoPytest):
		return []checkResult{
			{Name: "python", Status: checkOK, Detail: fmt.Sprintf("%s (Python %s)", py.Path, py.Version)},
			{Name: "pytest", Status: checkFail, Detail: "not importable by " + py.Path + ": tests cannot run",
				Fix: "apt-get install python3-pytest, or " + py.Path + " -m pip install pytest, or set sandbox.python to an interpreter with pytest"},
		}
	case err != nil:
		return []checkResult{{Name: "python", Status: checkFail, Detail: err.Error(), Fix: "set sandbox.python (R2C_PYTHON) to a working interpreter"}}
	}
	return []checkResult{
		{Name: "python", Status: checkOK, Detail: fmt.Sprintf("%s (Python %s)", py.Path, py.Version)},
		{Name: "pytest", Status: checkOK, Detail: "pytest " + py.PytestVersion},
	}
}

func checkSandbox(_ context.Context, env *doctorEnv) []checkResult {
	caps := sandbox.Detect()
	minLevel, err := sandbox.ParseLevel(env.cfg.Sandbox.MinIsolation)
	if err != nil {
		minLevel = sandbox.LevelAuto
	}
	var out []checkResult
	if caps.Best == sandbox.LevelAuto {
		out = append(out, checkResult{Name: "sandbox", Status: checkFail, Detail: "no isolation level works: generated code cannot run",
			Fix: caps.Levels[0].Fix})
	} else {
		st := checkOK
		detail := fmt.Sprintf("runs use %s", caps.Best)
		fix := ""
		if caps.Best < minLevel {
			st = checkFail
			detail += fmt.Sprintf(", below sandbox.min_isolation = %s: runs are refused", minLevel)
			fix = "make the stronger level work (see below) or lower sandbox.min_isolation"
		}
		out = append(out, checkResult{Name: "sandbox", Status: st, Detail: detail, Fix: fix})
	}
	for i := len(caps.Levels) - 1; i >= 0; i-- {
		l := caps.Levels[i]
		r := checkResult{Name: "sandbox level " + l.Level.String(), Status: checkOK, Detail: levelDescription(l.Level)}
		if !l.Available {
			r.Status, r.Detail, r.Fix = checkWarn, "not available: "+l.Reason, l.Fix
			if l.Level <= minLevel {
				r.Status = checkFail
			}
		}
		out = append(out, r)
	}
	st := checkOK
	fix := ""
	if !caps.Root {
		st = checkWarn
		fix = "run r2c as root (for example in its container) to give each run its own uid, or rely on bubblewrap's PID namespace"
	}
	out = append(out, checkResult{Name: "sandbox process limit", Status: st, Detail: caps.ProcessLimit, Fix: fix})
	return out
}

func levelDescription(l sandbox.Level) string {
	switch l {
	case sandbox.LevelBubblewrap:
		return "available: no network, own PID namespace, read-only system, private /tmp"
	case sandbox.LevelNamespaces:
		return "available: no network, own PID namespace; host files protected by permissions only"
	}
	return "available: rlimits, process-group kill and scrubbed environment only"
}

func checkStyleProfile(_ context.Context, env *doctorEnv) []checkResult {
	p := env.cfg.Style.Profile
	if p == "" {
		return []checkResult{{Name: "style profile", Status: checkWarn, Detail: "style.profile is empty: style is not checked"}}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(env.root, p)
	}
	if !fileExists(p) {
		return []checkResult{{Name: "style profile", Status: checkWarn, Detail: "no profile at " + p + ": code is checked for syntax and tests only",
			Fix: "learn one from your code with r2c style learn (see README)"}}
	}
	return []checkResult{{Name: "style profile", Status: checkOK, Detail: p}}
}

// orAuto shows an empty detect-it-yourself setting as "auto".
func orAuto(s string) string {
	if s == "" {
		return "auto"
	}
	return s
}

func contextTokens(n int) string {
	if n == 0 {
		return "from the server"
	}
	return fmt.Sprint(n)
}
