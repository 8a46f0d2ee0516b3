package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/runstore"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// RunStorePath is the root's run store (.r2c/runs.db), or "" when root is
// not a workspace (no r2c.toml, .git or .r2c): validating a loose file must
// not leave an .r2c folder beside it.
func RunStorePath(root string) string {
	if root == "" {
		return ""
	}
	for _, marker := range []string{config.FileName, ".git", ".r2c"} {
		if _, err := os.Stat(filepath.Join(root, marker)); err == nil {
			return filepath.Join(root, ".r2c", runstore.FileName)
		}
	}
	return ""
}

// AppendRun adds row to root's run store. It is a no-op outside a
// workspace; an error is for a warning, never a reason to fail the run.
func AppendRun(root string, row runstore.Row) error {
	p := RunStorePath(root)
	if p == "" {
		return nil
	}
	st, err := runstore.Open(p)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Append(context.Background(), row)
}

// ValidationRow is the run-store row of one validation.
func ValidationRow(frontDoor, id string, started time.Time, rep *validate.Report, err error) runstore.Row {
	row := runstore.Row{ID: id, FrontDoor: frontDoor, Kind: runstore.KindValidate, Started: started, Duration: time.Since(started)}
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		row.Status, row.ErrorClass = orchestrator.StatusCancelled, "cancelled"
	case err != nil:
		row.Status, row.ErrorClass = "error", ErrorClass(err)
	case rep.OK():
		row.Status = orchestrator.StatusPassed
	default:
		row.Status, row.ErrorClass = orchestrator.StatusFailed, FailureClass(rep)
	}
	if rep != nil {
		fillFromReport(&row, rep)
	}
	return row
}

func fillFromReport(row *runstore.Row, rep *validate.Report) {
	row.TestsPassed, row.TestsFailed = rep.Tests.Passed, rep.Tests.Failed+rep.Tests.Errors
	row.StyleScore, row.SandboxTime = rep.StyleScore, rep.Duration
	row.FailingTests = nil
	for _, f := range rep.Failures {
		row.FailingTests = append(row.FailingTests, f.Test)
	}
	for _, d := range rep.Diagnostics {
		if strings.Contains(d.Message, "did not finish") {
			row.SandboxKills++ // the run was ended by a limit
		}
	}
}

// ImplementRow is the run-store row of one implement run; tracker (may be
// nil) has seen its events.
func ImplementRow(frontDoor, id string, started time.Time, res *Result, err error, tracker *RunTracker) runstore.Row {
	row := runstore.Row{ID: id, FrontDoor: frontDoor, Kind: runstore.KindImplement, Started: started, Duration: time.Since(started)}
	if res != nil && res.Result != nil {
		row.Status, row.Rounds = res.Status, res.Rounds
		row.TokensIn, row.TokensOut = res.Usage.PromptTokens, res.Usage.CompletionTokens
		if res.Report != nil {
			fillFromReport(&row, res.Report)
		}
	}
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || row.Status == orchestrator.StatusCancelled):
		row.Status, row.ErrorClass = orchestrator.StatusCancelled, "cancelled"
	case err != nil && row.Status != orchestrator.StatusFailed:
		row.Status, row.ErrorClass = "error", ErrorClass(err)
	case err != nil:
		row.ErrorClass = ErrorClass(err)
	case row.Status == orchestrator.StatusFailed && res.Report != nil:
		row.ErrorClass = FailureClass(res.Report)
	}
	if tracker != nil {
		row.ModelTime, row.FailedAgent = tracker.ModelTime(), tracker.FailedAgent()
	}
	return row
}

// ErrorClass names an error's kind in a few words, for failure patterns.
func ErrorClass(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, ErrPreflight):
		return "preflight"
	case errors.Is(err, orchestrator.ErrUnreachable):
		return "model server unreachable"
	case Environmental(err):
		return "environment"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "timeout") || strings.Contains(msg, "timed out"):
		return "timeout"
	case strings.Contains(msg, "schema") || strings.Contains(msg, "JSON"):
		return "malformed model answer"
	}
	return "error"
}

// FailureClass is the exception class of a report's first failing test
// ("AssertionError"), else the kind of its first error diagnostic.
func FailureClass(rep *validate.Report) string {
	for _, f := range rep.Failures {
		if cls, _, ok := strings.Cut(f.Message, ":"); ok && isExceptionName(cls) {
			return cls
		}
		if strings.HasPrefix(f.Message, "assert ") {
			return "AssertionError" // pytest shows the rewritten assert, not the class
		}
		// The traceback's last line is "file.py:9: ErrorClass".
		lines := strings.Split(strings.TrimSpace(f.Traceback), "\n")
		last := lines[len(lines)-1]
		if i := strings.LastIndex(last, ": "); i >= 0 && isExceptionName(last[i+2:]) {
			return last[i+2:]
		}
	}
	for _, d := range rep.Diagnostics {
		if d.Severity == style.SeverityError {
			return d.Source + " " + d.Code
		}
	}
	return "tests failed"
}

func isExceptionName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// RunTracker watches a run's events for what the run store keeps besides
// the result: the time agents spent (mostly waiting for the model) and the
// agent whose step failed. It is safe for concurrent use.
type RunTracker struct {
	mu      sync.Mutex
	started map[string]time.Time
	model   time.Duration
	failed  string
}

// OnEvent records e.
func (t *RunTracker) OnEvent(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started == nil {
		t.started = map[string]time.Time{}
	}
	switch e.Kind {
	case orchestrator.EventStarted:
		t.started[e.Node] = e.Time
	case orchestrator.EventFinished, orchestrator.EventFailed:
		if s, ok := t.started[e.Node]; ok && e.Node != "run" && e.Node != "validator" {
			t.model += e.Time.Sub(s)
		}
		delete(t.started, e.Node)
		if e.Kind == orchestrator.EventFailed && e.Node != "run" {
			t.failed = e.Node
		}
	}
}

// ModelTime is the agents' time, the Validator's sandbox runs excluded.
func (t *RunTracker) ModelTime() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.model
}

// FailedAgent is the last agent whose step failed ("" if none).
func (t *RunTracker) FailedAgent() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
