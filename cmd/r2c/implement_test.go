package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

func runCLIContext(ctx context.Context, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(ctx, strings.NewReader(""), &out, &errb, args)
	return out.String(), errb.String(), code
}

// isolatedWorkspace keeps the user's own r2c.toml and R2C_* settings out of
// a test and returns a fresh workspace root.
func isolatedWorkspace(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "R2C_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	return t.TempDir()
}

func pythonWithPytest(t *testing.T) string {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest and numpy (Debian: python3-pytest python3-numpy): %v", err)
	}
	return py.Path
}

func TestImplementEndToEnd(t *testing.T) {
	python := pythonWithPytest(t)
	root := isolatedWorkspace(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	paper := orchestratortest.Paper(t)
	out := filepath.Join(root, "out")

	stdout, stderr, code := runCLI(t, "implement", "--paper", paper, "--section", "3.2 Scaled Dot-Product Attention",
		"--out", out, "--endpoint", srv.URL(), "--model", "my-adapter", "--root", root)
	if code != exitOK {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stderr:\n%s\nstdout:\n%s", stderr, stdout) // visible with -v
	for _, want := range []string{"status:      passed", "tests:       5/5 passed", "rounds:      2 (plan revisions: 0)", "style score: not checked", "WMT 2014"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	for _, agent := range []string{"analyzer", "planner", "implementer", "validator"} {
		if !regexp.MustCompile(`(?m)^\[\s*[0-9.]+s\] ` + agent + `\s+finished`).MatchString(stderr) {
			t.Errorf("no progress line for %s:\n%s", agent, stderr)
		}
	}
	for _, r := range srv.ChatRequests() {
		if r.Model != "my-adapter" {
			t.Fatalf("request for model %q, want the --model adapter", r.Model)
		}
	}

	// The written files are the ones that passed: pytest agrees on its own.
	cmd := exec.Command(python, "-m", "pytest", "-q", "-p", "no:cacheprovider")
	cmd.Dir = out
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "5 passed") {
		t.Fatalf("pytest in %s: %v\n%s", out, err, b)
	}

	// The run is listed and can be shown.
	id := regexp.MustCompile(`r2c runs show (\S+)\)`).FindStringSubmatch(stdout)
	if id == nil {
		t.Fatalf("no run id in summary:\n%s", stdout)
	}
	list, _, code := runCLI(t, "runs", "list", "--root", root)
	if code != exitOK || !strings.Contains(list, id[1]) || !strings.Contains(list, "passed") || !strings.Contains(list, "5/5") {
		t.Fatalf("runs list: code %d\n%s", code, list)
	}
	show, _, code := runCLI(t, "runs", "show", "--root", root, id[1][:15])
	if code != exitOK {
		t.Fatalf("runs show: code %d", code)
	}
	t.Logf("runs list:\n%s\nruns show:\n%s", list, show)
	for _, want := range []string{"status:      passed", "validator", "spec.json", "plan.json", "reports/round-1.json", "exchanges/001-analyzer.json", "model:       my-adapter"} {
		if !strings.Contains(show, want) {
			t.Errorf("runs show lacks %q:\n%s", want, show)
		}
	}

	ex, _, code := runCLI(t, "runs", "show", "--root", root, id[1], "exchanges/001-analyzer.json")
	if code != exitOK || !strings.Contains(ex, `"agent": "analyzer"`) || !strings.Contains(ex, "Do not fabricate") {
		t.Errorf("runs show FILE: code %d\n%s", code, ex)
	}
	if _, stderr, code := runCLI(t, "runs", "show", "--root", root, id[1], "../../r2c.toml"); code != exitUsage || !strings.Contains(stderr, "not a file of the run's record") {
		t.Errorf("runs show with an escaping path: code %d, %s", code, stderr)
	}
	js, _, code := runCLI(t, "runs", "show", "--root", root, "--json", id[1])
	if code != exitOK || !strings.Contains(js, `"status": "passed"`) || !strings.Contains(js, `"total_tokens"`) {
		t.Errorf("runs show --json: code %d\n%s", code, js)
	}

	// A second run into the same, now non-empty folder is refused before
	// any model call (exit 2), records no run and changes nothing.
	before, _ := os.ReadFile(filepath.Join(out, "attention.py"))
	requests := len(srv.Requests())
	runsBefore, _ := os.ReadDir(filepath.Join(root, ".r2c", "runs"))
	_, stderr, code = runCLI(t, "implement", "--paper", paper, "--section", "3.2", "--out", out, "--endpoint", srv.URL(), "--root", root)
	after, _ := os.ReadFile(filepath.Join(out, "attention.py"))
	if code != exitUsage || !strings.Contains(stderr, "already holds") || !strings.Contains(stderr, "--out") || !bytes.Equal(before, after) {
		t.Fatalf("second run: code %d, stderr %s", code, stderr)
	}
	if n := len(srv.Requests()) - requests; n != 0 {
		t.Errorf("%d requests to the model server for a run refused in preflight", n)
	}
	if runsAfter, _ := os.ReadDir(filepath.Join(root, ".r2c", "runs")); len(runsAfter) != len(runsBefore) {
		t.Errorf("a refused run was recorded: %d runs, was %d", len(runsAfter), len(runsBefore))
	}
}

// Without --out the files go to a new folder named after the section, so
// running in a non-empty project folder is not refused.
func TestImplementDefaultOutIsANewSectionFolder(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	t.Chdir(root)
	if err := os.WriteFile("notes.txt", []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "implement", "--paper", orchestratortest.Paper(t), "--section", "3.2 Scaled Dot-Product Attention", "--endpoint", srv.URL(), "--root", root)
	if code != exitOK {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "scaled_dot_product_attention", "attention.py")); err != nil {
		t.Errorf("no attention.py in the section folder: %v\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "index:       indexed attention.md") {
		t.Errorf("the summary does not say the paper was indexed:\n%s", stdout)
	}
}

func TestImplementCancelledWritesNothing(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	srv := llmtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.OnFunc(orchestratortest.UserContains(orchestratortest.AttentionTask), func(*llmtest.Recorded) llmtest.Reply {
		cancel() // as if the user pressed Ctrl-C while the model writes code
		// Answered only if the client never hangs up (the test then hangs).
		return llmtest.Reply{Content: "late", Latency: time.Hour}
	})
	orchestratortest.Script(t, srv)
	out := filepath.Join(root, "out")
	_, stderr, code := runCLIContext(ctx, "implement", "--paper", orchestratortest.Paper(t), "--section", "3.2", "--out", out, "--endpoint", srv.URL(), "--root", root)
	if code != exitFail || !strings.Contains(stderr, "cancelled") {
		t.Fatalf("code %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("output folder exists after cancellation: %v", err)
	}
}

func TestImplementUnreachableEndpointNamesTheFix(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte("max_retries = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "implement", "--paper", orchestratortest.Paper(t), "--section", "3.2", "--endpoint", "http://127.0.0.1:1/v1", "--root", root)
	if code != exitUsage || !strings.Contains(stderr, "not reachable") || !strings.Contains(stderr, "--endpoint") {
		t.Fatalf("code %d, stderr:\n%s", code, stderr)
	}
}

func TestImplementUsage(t *testing.T) {
	_, stderr, code := runCLI(t, "implement", "--paper", "x.md")
	if code != exitUsage || !strings.Contains(stderr, "--section are required") {
		t.Fatalf("code %d, stderr %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "runs", "show")
	if code != exitUsage || !strings.Contains(stderr, "give one run ID") {
		t.Fatalf("code %d, stderr %s", code, stderr)
	}
}

func TestRunsShowUnknownID(t *testing.T) {
	root := isolatedWorkspace(t)
	_, stderr, code := runCLI(t, "runs", "show", "--root", root, "nope")
	if code != exitFail || !strings.Contains(stderr, "r2c runs list") {
		t.Fatalf("code %d, stderr %s", code, stderr)
	}
}

// With a learned style profile at the configured place, the Implementer's
// prompt carries its summary and the summary reports a style score.
func TestImplementUsesTheStyleProfile(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	code := t.TempDir()
	for i := 0; i < 12; i++ {
		src := fmt.Sprintf("import numpy as np\n\n\ndef scaled_sum_%d(values: np.ndarray, factor: float) -> float:\n    \"\"\"Scale the values, then sum them.\"\"\"\n    return float(np.sum(values * factor))\n", i)
		if err := os.WriteFile(filepath.Join(code, fmt.Sprintf("mod_%d.py", i)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	profile, err := style.Learn(context.Background(), []string{code})
	if err != nil {
		t.Fatal(err)
	}
	if err := profile.Save(filepath.Join(root, ".r2c", "style.json")); err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	stdout, stderr, exit := runCLI(t, "implement", "--paper", orchestratortest.Paper(t), "--section", "3.2", "--out", filepath.Join(root, "out"), "--endpoint", srv.URL(), "--root", root)
	if exit != exitOK {
		t.Fatalf("code %d\n%s\n%s", exit, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^style score: \d+$`).MatchString(stdout) || strings.Contains(stderr, "no style profile") {
		t.Errorf("no style score with a profile:\n%s\n%s", stdout, stderr)
	}
	summary := strings.TrimSpace(profile.Summary())
	implementer := 0
	for _, r := range srv.ChatRequests() {
		if strings.Contains(r.LastUser(), orchestratortest.SoftmaxTask) {
			implementer++
			if !strings.Contains(r.Messages[0].Content, summary) {
				t.Fatalf("implementer prompt lacks the profile summary %q:\n%s", summary, r.Messages[0].Content)
			}
		}
	}
	if implementer == 0 {
		t.Fatal("no implementer request")
	}
}

// Without an interpreter that has pytest nothing can be validated: the run
// stops before asking the model, with exit status 2 and the fix.
func TestImplementWithoutPytestStopsEarly(t *testing.T) {
	python := pythonWithPytest(t)
	root := isolatedWorkspace(t)
	// The same interpreter without site-packages cannot import pytest.
	noSite := filepath.Join(t.TempDir(), "python3-nosite")
	if err := os.WriteFile(noSite, []byte("#!/bin/sh\nexec "+python+" -S \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("R2C_PYTHON", noSite)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	_, stderr, code := runCLI(t, "implement", "--paper", orchestratortest.Paper(t), "--section", "3.2", "--out", filepath.Join(root, "out"), "--endpoint", srv.URL(), "--root", root)
	if code != exitUsage || !strings.Contains(stderr, "pytest") || !strings.Contains(stderr, "fix") {
		t.Fatalf("code %d, stderr:\n%s", code, stderr)
	}
	if n := len(srv.ChatRequests()); n != 0 {
		t.Errorf("%d model requests before the environment was checked", n)
	}
}

// Token counts that include estimates (the server reported no usage for
// some call) say so rather than passing for the server's figures.
func TestImplementSummaryMarksEstimatedTokens(t *testing.T) {
	for _, est := range []bool{false, true} {
		var out bytes.Buffer
		printSummary(&out, &core.Result{Result: &orchestrator.Result{Status: orchestrator.StatusPassed, Usage: llm.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15, Estimated: est}}}, false)
		if got := strings.Contains(out.String(), "tokens:      15 (prompt 10, completion 5, partly estimated"); got != est {
			t.Errorf("estimated=%v: summary\n%s", est, out.String())
		}
	}
}

// When a correction round fails on a model error (here: a timeout), the
// run's best result so far is still written, with a failed status and
// the error.
func TestImplementWritesTheBestResultWhenALaterRoundErrs(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	t.Setenv("R2C_TIMEOUT", "3s")
	srv := llmtest.New(t)
	srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask, orchestratortest.CorrectionPrompt), llmtest.Reply{Content: "late", Latency: time.Hour})
	orchestratortest.Script(t, srv)
	out := filepath.Join(root, "out")
	stdout, stderr, code := runCLI(t, "implement", "--paper", orchestratortest.Paper(t), "--section", "3.2", "--out", out, "--endpoint", srv.URL(), "--root", root)
	if code != exitFail || !strings.Contains(stderr, "no answer within the timeout") {
		t.Fatalf("code %d\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "status:      failed") || !strings.Contains(stdout, "tests:       4/5 passed") {
		t.Errorf("summary:\n%s", stdout)
	}
	src, err := os.ReadFile(filepath.Join(out, "attention.py"))
	if err != nil || !strings.Contains(string(src), "scores = q @ k.T") {
		t.Fatalf("round 1's module was not written: %v\n%s", err, src)
	}
	if _, err := os.Stat(filepath.Join(out, "test_attention.py")); err != nil {
		t.Error(err)
	}
}

// With --json the summary is one JSON object on stdout (progress stays on
// stderr), and r2c runs list --json shows the recorded run.
func TestImplementJSONSummary(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	out := filepath.Join(root, "out")
	stdout, stderr, code := runCLI(t, "implement", "--json", "--paper", orchestratortest.Paper(t), "--section", "3.2",
		"--out", out, "--endpoint", srv.URL(), "--root", root)
	var sum implementSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != exitOK {
		t.Fatalf("code %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if sum.Status != "passed" || sum.TestsTotal != 5 || sum.TestsPassed != 5 || sum.StyleScore != nil || len(sum.Files) == 0 || sum.RunID == "" {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(stderr, "implementer") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	list, _, code := runCLI(t, "runs", "list", "--json", "--root", root)
	var recs []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(list), &recs); err != nil || code != exitOK || len(recs) != 1 || recs[0].ID != sum.RunID || recs[0].Status != "passed" {
		t.Fatalf("runs list --json: code %d, %v, %s", code, err, list)
	}
	// Tab after runs show offers the recorded run.
	got, _, _ := runCLI(t, "__complete", "runs", "show", "--root", root, "")
	if !strings.Contains(got, sum.RunID+"\tpassed, section 3.2") {
		t.Fatalf("__complete runs show: %q", got)
	}
}
