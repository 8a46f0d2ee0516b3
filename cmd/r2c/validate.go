package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

func validateCommand() command {
	return command{
		name:    "validate",
		summary: "check a Python module: syntax, its tests in the sandbox, style",
		run:     runValidate,
	}
}

func runValidate(ctx context.Context, s stdio, args []string) int {
	fs := newFlags(s, "r2c validate", "[--tests FILE_OR_DIR] [--profile FILE] [--timeout D] [--json] MODULE.py",
		"Checks MODULE.py for syntax errors (tree-sitter and CPython), runs its pytest tests inside the sandbox and\n"+
			"scores its style against your profile. Without --tests it uses test_<module>.py or tests/ next to the\n"+
			"module when present. The Python files next to the module are copied into the sandbox too.\n"+
			"Exit status: 0 when everything passes, 1 when a check failed, 2 on usage or environment errors\n"+
			"(no python3 with pytest, isolation below sandbox.min_isolation).")
	tests := fs.String("tests", "", "test file or directory (default: test_<module>.py or tests/ next to the module)")
	profilePath := fs.String("profile", "", "style profile JSON (default: config style.profile when it exists)")
	timeout := fs.Duration("timeout", 0, "wall-clock limit of the test run (config: sandbox.timeout, default 60s)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	root := fs.String("root", "", "workspace root holding r2c.toml (default: nearest parent of the module with r2c.toml or .git)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return s.errorf(exitUsage, "validate: want exactly one MODULE.py, got %d arguments", fs.NArg())
	}
	module := fs.Arg(0)
	if *root == "" {
		*root = workspaceRoot(filepath.Dir(module))
	}
	cfg, err := config.Load(*root)
	if err != nil {
		return s.errorf(exitUsage, "validate: %v", err)
	}
	opts, err := validate.OptionsFromDisk(module, *tests)
	if err != nil {
		return s.errorf(exitUsage, "%v", err)
	}
	var profile *style.Profile
	if *profilePath != "" {
		profile, err = style.LoadProfile(*profilePath)
	} else {
		profile, err = loadProfile(cfg, *root)
	}
	if err != nil {
		return s.errorf(exitUsage, "validate: %v", err)
	}
	if err := applySandboxConfig(&opts, cfg); err != nil {
		return s.errorf(exitUsage, "validate: %v", err)
	}
	opts.Profile = profile
	if *timeout > 0 {
		opts.Limits.Wall = *timeout
	}
	if len(opts.Tests) == 0 && !*asJSON {
		fmt.Fprintf(s.err, "r2c: no tests found for %s (looked for test_%s and tests/ next to it; use --tests)\n",
			module, filepath.Base(module))
	}

	rep, err := validate.Validate(ctx, opts)
	if err != nil {
		return s.errorf(exitUsage, "%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return s.errorf(exitUsage, "validate: %v", err)
		}
	} else {
		printReport(s.out, filepath.Dir(module), opts.DiskPaths, rep, profile != nil)
	}
	if !rep.OK() {
		return exitFail
	}
	return exitOK
}

// applySandboxConfig copies the [sandbox] settings into opts.
func applySandboxConfig(opts *validate.Options, cfg config.Config) error {
	level, err := sandbox.ParseLevel(cfg.Sandbox.MinIsolation)
	if err != nil {
		return fmt.Errorf("config sandbox.min_isolation: %w", err)
	}
	opts.MinLevel = level
	opts.Python = cfg.Sandbox.Python
	opts.KeepRunDir = cfg.Sandbox.KeepDirs
	opts.Limits = validate.LimitsFromConfig(cfg.Sandbox)
	return nil
}

// workspaceRoot is the nearest directory at or above dir holding r2c.toml or
// .git, else dir itself.
func workspaceRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; d = filepath.Dir(d) {
		for _, marker := range []string{config.FileName, ".git"} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				return d
			}
		}
		if d == filepath.Dir(d) {
			return abs
		}
	}
}

// printReport prints compiler-style lines (file:line:col, 1-based) and a
// summary; paths are shown as the module was named (relative to where the
// command was run), except files that came from elsewhere (diskPaths).
func printReport(w io.Writer, dir string, diskPaths map[string]string, rep *validate.Report, styled bool) {
	for _, d := range rep.Diagnostics {
		msg := strings.ReplaceAll(terminalSafe(d.Message), "\n", "\n    ")
		shown := filepath.Join(dir, filepath.FromSlash(d.Path))
		if disk, ok := diskPaths[d.Path]; ok && absOr(shown) != disk {
			shown = disk // a test file from elsewhere, keyed under tests/
		}
		fmt.Fprintf(w, "%s:%d:%d: %s [%s %s] %s\n", shown,
			d.Range.Start.Line+1, d.Range.Start.Column+1, d.Severity, d.Source, d.Code, msg)
	}
	t := rep.Tests
	if t.Total > 0 {
		fmt.Fprintf(w, "tests: %d passed, %d failed, %d errors, %d skipped (of %d)\n", t.Passed, t.Failed, t.Errors, t.Skipped, t.Total)
	}
	if styled {
		fmt.Fprintf(w, "style: %.1f/100\n", rep.StyleScore)
	}
	fmt.Fprintf(w, "sandbox: %s, python %s, %s\n", rep.Isolation, rep.Python, rep.Duration.Round(time.Millisecond))
	if rep.RunDir != "" {
		fmt.Fprintf(w, "run directory kept: %s\n", rep.RunDir)
	}
	verdict := "PASS"
	if !rep.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintln(w, verdict)
}

// terminalSafe shows control characters other than newline and tab as \xNN:
// messages quote the output of generated code, whose escape sequences must
// not reach the user's terminal (retitling it, hiding or rewriting lines).
func terminalSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
