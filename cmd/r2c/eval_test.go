package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/eval"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
)

// The shipped sdpa task against the scripted Transformer answers: their
// attention treats mask=True as forbidden (the suite's interface says
// allowed) and only handles 2-D inputs, which the hidden tests catch
// although r2c's own tests pass.
func TestEvalRunShippedTaskEndToEnd(t *testing.T) {
	pythonWithPytest(t)
	root := isolatedWorkspace(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	out := filepath.Join(root, "eval-out")
	stdout, stderr, code := runCLI(t, "eval", "run", "--tasks", "sdpa", "--out", out, "--endpoint", srv.URL(), "--root", root)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"1 tasks (1 scored), 1 samples", "research accuracy", "report: " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "reference sdpa: 5/5 hidden tests pass") || !strings.Contains(stderr, "[1/1] sdpa#0") {
		t.Errorf("progress:\n%s", stderr)
	}
	res, err := eval.LoadResults(out)
	if err != nil {
		t.Fatal(err)
	}
	task := res.Tasks[0]
	s := task.SampleResults[0]
	if !s.ExecutionSuccess || s.Rounds != 2 || s.HiddenTotal != 5 || s.HiddenPassed >= 5 || s.Failure != eval.FailHiddenTests {
		t.Errorf("sample %+v", s)
	}
	if !strings.Contains(s.Explanation, "test_mask_gives_zero_weight_and_causal_first_row_copies_first_value") {
		t.Errorf("the mask semantics should fail a hidden test: %s", s.Explanation)
	}
	// Comparing a run with itself: nothing better or worse.
	stdout, _, code = runCLI(t, "eval", "compare", out, filepath.Join(out, "results.json"))
	if code != 0 || strings.Contains(stdout, "| better |") || strings.Contains(stdout, "| worse |") || !strings.Contains(stdout, "| sdpa | research_accuracy |") {
		t.Errorf("compare exit %d:\n%s", code, stdout)
	}
	// Usage errors name the fix.
	if _, stderr, code := runCLI(t, "eval", "run", "--tasks", "nope*", "--out", out); code != 2 || !strings.Contains(stderr, "matches no task; the suite has: adam,") {
		t.Errorf("bad --tasks: exit %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "eval", "run"); code != 2 || !strings.Contains(stderr, "--out DIR is required") {
		t.Errorf("no --out: exit %d %s", code, stderr)
	}
}

func TestEvalImport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "tasks.jsonl")
	line := `{"id": "one", "framework": "numpy", "section": "1", "section_text": "## 1 One\n\n` + "`one.py`" + `\n", "module": "one.py", "hidden": {"test_one.py": "def test_a():\n    pass\n"}}` + "\n"
	if err := os.WriteFile(in, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "eval", "import", in, filepath.Join(dir, "suite"))
	if code != 0 || !strings.Contains(stdout, "imported 1 tasks") {
		t.Fatalf("exit %d %s %s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "eval", "import", in, filepath.Join(dir, "suite")); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("re-import: exit %d %s", code, stderr)
	}
}
