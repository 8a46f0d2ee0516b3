package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runCLI drives the CLI in-process exactly as main does.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), strings.NewReader(""), &out, &errb, args)
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, code := runCLI(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "r2c ") {
			t.Fatalf("%v: code %d, out %q", args, code, out)
		}
	}
	out, _, code := runCLI(t, "version", "--json")
	var b buildInfo
	if err := json.Unmarshal([]byte(out), &b); code != exitOK || err != nil || b.Version != version || b.Go == "" {
		t.Fatalf("version --json: code %d, %v, %q", code, err, out)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	_, errOut, code := runCLI(t, "frobnicate")
	if code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) || !strings.Contains(errOut, "usage: r2c") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "validat")
	if code != exitUsage || !strings.Contains(errOut, "did you mean validate?") {
		t.Fatalf("near miss: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "style", "lern", ".")
	if code != exitUsage || !strings.Contains(errOut, `unknown command "lern" for r2c style`) || !strings.Contains(errOut, "learn") {
		t.Fatalf("unknown verb: code %d, stderr %q", code, errOut)
	}
}

func TestNoArgsPrintsCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"style"}, {"runs"}, {"paper"}} {
		out, errOut, code := runCLI(t, args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "Available Commands:") {
			t.Fatalf("%v: code %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	_, errOut, _ := runCLI(t)
	for _, name := range []string{"version", "validate", "completion"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("r2c alone does not list %s: %q", name, errOut)
		}
	}
}

// walkCommands calls f with the path of every command users see.
func walkCommands(c *cobra.Command, path []string, f func(c *cobra.Command, path []string)) {
	f(c, path)
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() || sub.Name() == "help" {
			walkCommands(sub, append(append([]string{}, path...), sub.Name()), f)
		}
	}
}

func TestHelpOnEveryCommandHasAnExample(t *testing.T) {
	n := 0
	walkCommands(rootCommand(), nil, func(c *cobra.Command, path []string) {
		n++
		out, errOut, code := runCLI(t, append(path, "--help")...)
		if code != exitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "Examples:") {
			t.Errorf("r2c %v --help: code %d, stdout %q, stderr %q", path, code, out, errOut)
		}
		// The examples name the command they are the examples of.
		want := strings.Join(append([]string{"r2c"}, path...), " ")
		if c.Name() == "help" {
			want = "r2c help"
		}
		if !strings.Contains(c.Example, want) {
			t.Errorf("%s: examples do not show %q:\n%s", c.CommandPath(), want, c.Example)
		}
	})
	if n < 16 {
		t.Fatalf("walked only %d commands", n)
	}
	out, _, code := runCLI(t, "help", "style", "check")
	if code != exitOK || !strings.Contains(out, "r2c style check [flags] FILE...") {
		t.Fatalf("help style check: code %d, %q", code, out)
	}
	if _, errOut, code := runCLI(t, "help", "frobnicate"); code != exitUsage || !strings.Contains(errOut, "unknown help topic") {
		t.Fatalf("help frobnicate: code %d, %q", code, errOut)
	}
}

// Unknown flags and missing or extra arguments exit 2 and print the error
// once and the command's usage line.
func TestUsageErrorsExit2WithUsageLine(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"validate"}, "exactly one MODULE.py"},
		{[]string{"validate", "a.py", "b.py"}, "exactly one MODULE.py"},
		{[]string{"validate", "m.py", "--frobnicate"}, "unknown flag: --frobnicate"},
		{[]string{"validate", "m.py", "--timeout", "soon"}, "invalid argument"},
		{[]string{"validate", "-json", "m.py"}, "did you mean --json?"},
		{[]string{"search", "-papers=true", "q"}, "did you mean --papers?"},
		{[]string{"implement", "--paper", "x.md"}, "--section are required"},
		{[]string{"index"}, "at least one"},
		{[]string{"search"}, "QUERY"},
		{[]string{"search", "-k", "0", "q"}, "-k of at least 1"},
		{[]string{"style", "learn"}, "at least one directory"},
		{[]string{"style", "check"}, "at least one FILE"},
		{[]string{"style", "stats"}, "at least one FILE"},
		{[]string{"paper", "sections"}, "one PAPER"},
		{[]string{"paper", "show", "p.md"}, "a PAPER and a SECTION"},
		{[]string{"runs", "show"}, "give one run ID"},
		{[]string{"runs", "list", "extra"}, "unexpected arguments"},
		{[]string{"doctor", "extra"}, "unexpected arguments"},
		{[]string{"serve", "extra"}, "unexpected arguments"},
		{[]string{"version", "--frobnicate"}, "unknown flag"},
		{[]string{"completion"}, "name one shell"},
		{[]string{"completion", "tcsh"}, `unknown shell "tcsh"`},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, c.args...)
		usage := "usage: r2c " + strings.Join(c.args[:1], " ")
		if code != exitUsage || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, usage) {
			t.Errorf("%v: code %d, stderr %q; want exit 2 with %q and %q", c.args, code, errOut, c.want, usage)
		}
		if strings.Count(errOut, "r2c: ") != 1 || out != "" {
			t.Errorf("%v: the error must be printed once on stderr: stdout %q, stderr %q", c.args, out, errOut)
		}
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"calc.py": cliCalc, "test_calc.py": cliPassing})
	for _, module := range []string{filepath.Join(dir, "calc.py"), filepath.Join("..", "..", "examples", "attention", "attention.py")} {
		out, errOut, code := runCLI(t, "validate", module, "--json")
		var res struct {
			Report struct {
				Tests struct{ Passed, Total int }
			}
		}
		rep := &res.Report
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || rep.Tests.Total == 0 || rep.Tests.Passed != rep.Tests.Total {
			t.Fatalf("validate %s --json: code %d, %v\nstdout %s\nstderr %s", module, code, err, out, errOut)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "# bash completion V2 for r2c",
		"zsh":        "#compdef r2c",
		"fish":       "# fish completion for r2c",
		"powershell": "Register-ArgumentCompleter",
	} {
		out, errOut, code := runCLI(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("completion %s: code %d, stderr %q, script starts %.200q", shell, code, errOut, out)
		}
	}
	out, _, _ := runCLI(t, "completion", "bash")
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to load the script")
	}
	// bash loads the script and it defines its entry point.
	cmd := exec.Command(bash, "-c", "source /dev/stdin && declare -F __start_r2c")
	cmd.Stdin = strings.NewReader(out)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "__start_r2c") {
		t.Fatalf("bash cannot load the completion script: %v\n%s", err, b)
	}
	// The script asks r2c itself for candidates through __complete.
	got, _, code := runCLI(t, "__complete", "sty")
	if code != exitOK || !strings.Contains(got, "style") {
		t.Fatalf("__complete sty: code %d, %q", code, got)
	}
	got, _, _ = runCLI(t, "__complete", "validate", "--js")
	if !strings.Contains(got, "--json") {
		t.Fatalf("__complete validate --js: %q", got)
	}
}

// Tab after a paper offers its sections, read from the file, with their
// titles as descriptions.
func TestCompletionOffersSections(t *testing.T) {
	paper := filepath.Join("..", "..", "paper", "testdata", "attention.md")
	for _, args := range [][]string{
		{"__complete", "paper", "show", paper, "3.2"},
		{"__complete", "implement", "--paper", paper, "--section", "3.2"},
	} {
		out, _, code := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "3.2.1\tScaled Dot-Product Attention\n") || strings.Contains(out, "Introduction") {
			t.Errorf("%v: code %d, %q", args[1:], code, out)
		}
	}
	// A file that is not there, or an arXiv id, offers nothing and downloads nothing.
	out, _, _ := runCLI(t, "__complete", "paper", "show", "1706.03762", "")
	if strings.Contains(out, "\t") {
		t.Errorf("sections offered for a paper not on disk: %q", out)
	}
}

// A file named on the command line that is not there means the command
// could not run: exit 2 and the file's name, for every command.
func TestMissingInputExits2(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, args := range [][]string{
		{"validate", missing + ".py"},
		{"style", "check", missing + ".py"},
		{"style", "stats", missing + ".py"},
		{"style", "learn", "-o", filepath.Join(dir, "style.json"), missing},
		{"paper", "sections", missing + ".pdf"},
		{"paper", "show", missing + ".md", "3.2"},
		{"index", "--root", dir, missing},
	} {
		_, errOut, code := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "missing") || strings.Contains(errOut, "usage: ") {
			t.Errorf("%v: code %d, stderr %q; want exit 2 naming the file, without the usage line", args, code, errOut)
		}
	}
}
