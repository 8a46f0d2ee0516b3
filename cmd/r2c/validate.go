package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/runstore"
	"github.com/r2c-ai/r2c/validate"
)

// validateFlags are r2c validate's flags.
type validateFlags struct {
	tests, profile, root string
	timeout              time.Duration
	asJSON               bool
}

func validateCommand() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [flags] MODULE.py",
		Short: "check a Python module: syntax, its tests in the sandbox, style",
		Long: "Checks MODULE.py for syntax errors (tree-sitter and CPython), runs its pytest tests inside the sandbox and\n" +
			"scores its style against your profile. Without --tests a test_*.py module is its own test, else it uses\n" +
			"test_<module>.py beside it, tests/test_<module>.py or tests/, in that order. The Python files next to the module are copied into the sandbox too.\n" +
			"Exit status: 0 when everything passes, 1 when a check failed, 2 on usage or environment errors\n" +
			"(no python3 with pytest, isolation below sandbox.min_isolation).",
		Example: "  r2c validate examples/attention/attention.py\n" +
			"  r2c validate attn/attention.py --json\n" +
			"  r2c validate --tests tests/ --timeout 2m model.py",
		Args: argsRange(1, 1, "validate: want exactly one MODULE.py"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), streams(cmd), f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tests, "tests", "", "test file or directory (default: test_<module>.py, tests/test_<module>.py or tests/ beside the module)")
	fl.StringVar(&f.profile, "profile", "", "style profile JSON (default: config style.profile when it exists)")
	fl.DurationVar(&f.timeout, "timeout", 0, "wall-clock limit of the test run (config: sandbox.timeout, default 60s)")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fl.StringVar(&f.root, "root", "", "workspace root holding r2c.toml (default: nearest parent of the module with r2c.toml or .git)")
	return cmd
}

func runValidate(ctx context.Context, s stdio, f validateFlags, module string) error {
	req := core.ValidateRequest{Module: module, Tests: f.tests, Root: f.root, ProfilePath: f.profile, Timeout: f.timeout, FrontDoor: runstore.FrontDoorCLI}
	if !f.asJSON {
		req.Progress = func(msg string) {
			if strings.HasPrefix(msg, "no tests") {
				fmt.Fprintf(s.err, "r2c: %s; use --tests\n", msg)
			}
		}
	}
	rep, err := core.Validate(ctx, req)
	if err != nil {
		return envf("%s", core.Hint(err))
	}
	if f.asJSON {
		if err := writeJSON(s.out, "validate", core.Summarize(module, rep)); err != nil {
			return err
		}
	} else {
		printReport(s.out, filepath.Dir(module), rep.Paths, rep)
	}
	if !rep.OK() {
		return exitCode(exitFail)
	}
	return nil
}

// printReport prints compiler-style lines (file:line:col, 1-based) and a
// summary; paths are shown as the module was named (relative to where the
// command was run), except files that came from elsewhere (diskPaths).
func printReport(w io.Writer, dir string, diskPaths map[string]string, rep *validate.Report) {
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
	if rep.StyleChecked {
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
