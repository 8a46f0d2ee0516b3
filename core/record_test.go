package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/runstore"
	"github.com/r2c-ai/r2c/validate"
)

func storedRuns(t *testing.T, root string) []runstore.Row {
	t.Helper()
	st, err := runstore.Open(filepath.Join(root, ".r2c", runstore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Runs(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestValidateRecordsTheRunForItsFrontDoor(t *testing.T) {
	requirePytest(t)
	isolated(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"r2c.toml":     "",
		"calc.py":      "def add(a, b):\n    return a - b\n",
		"test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n",
	})
	rep, err := Validate(context.Background(), ValidateRequest{Module: filepath.Join(root, "calc.py"), FrontDoor: runstore.FrontDoorCLI})
	if err != nil || rep.OK() {
		t.Fatalf("validate: %v %+v", err, rep)
	}
	rows := storedRuns(t, root)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.FrontDoor != "cli" || r.Kind != "validate" || r.Status != "failed" || r.ErrorClass != "AssertionError" ||
		r.TestsFailed != 1 || len(r.FailingTests) != 1 || r.SandboxTime <= 0 {
		t.Fatalf("row %+v", r)
	}
	// Without a front door the caller records: nothing is added.
	if _, err := Validate(context.Background(), ValidateRequest{Module: filepath.Join(root, "calc.py")}); err != nil {
		t.Fatal(err)
	}
	if n := len(storedRuns(t, root)); n != 1 {
		t.Fatalf("%d rows after a validation without a front door", n)
	}
}

func TestNoRunStoreOutsideAWorkspace(t *testing.T) {
	requirePytest(t)
	isolated(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"loose.py": "x = 1\n"})
	if _, err := Validate(context.Background(), ValidateRequest{Module: filepath.Join(dir, "loose.py"), FrontDoor: runstore.FrontDoorCLI}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".r2c")); err == nil {
		t.Fatal("validating a loose file left an .r2c folder beside it")
	}
}

func TestImplementRowClassifies(t *testing.T) {
	start := time.Now().Add(-time.Second)
	tr := &RunTracker{}
	t0 := time.Now()
	tr.OnEvent(Event{Node: "analyzer", Kind: orchestrator.EventStarted, Time: t0})
	tr.OnEvent(Event{Node: "analyzer", Kind: orchestrator.EventFinished, Time: t0.Add(2 * time.Second)})
	tr.OnEvent(Event{Node: "validator", Kind: orchestrator.EventStarted, Time: t0.Add(2 * time.Second)})
	tr.OnEvent(Event{Node: "validator", Kind: orchestrator.EventFinished, Time: t0.Add(9 * time.Second)})
	tr.OnEvent(Event{Node: "implementer", Kind: orchestrator.EventStarted, Time: t0.Add(9 * time.Second)})
	tr.OnEvent(Event{Node: "implementer", Kind: orchestrator.EventFailed, Time: t0.Add(10 * time.Second)})
	failing := &validate.Report{Tests: validate.TestCounts{Total: 2, Passed: 1, Failed: 1},
		Failures: []validate.TestFailure{{Test: "t.py::test_scale", Message: "ValueError: bad shape"}}}
	res := &Result{Result: &orchestrator.Result{RunID: "x", Status: orchestrator.StatusFailed, Rounds: 3, Report: failing}}
	row := ImplementRow("lsp", "x", start, res, nil, tr)
	if row.Status != "failed" || row.ErrorClass != "ValueError" || row.Rounds != 3 || row.TestsFailed != 1 ||
		row.ModelTime != 3*time.Second || row.FailedAgent != "implementer" {
		t.Fatalf("row %+v", row)
	}
	row = ImplementRow("cli", "y", start, nil, orchestrator.ErrUnreachable, nil)
	if row.Status != "error" || row.ErrorClass != "model server unreachable" {
		t.Fatalf("unreachable: %+v", row)
	}
	row = ImplementRow("cli", "z", start, nil, context.Canceled, nil)
	if row.Status != "cancelled" {
		t.Fatalf("cancelled: %+v", row)
	}
	if got := ErrorClass(errors.New("model call timed out after 60s")); got != "timeout" {
		t.Fatalf("timeout class %q", got)
	}
}
