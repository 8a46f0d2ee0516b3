package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
)

// settled waits until no more goroutines run than before (the run's
// requests, workers, sandboxes and connections all ended), and fails with
// the stacks of the ones left otherwise.
func settled(t *testing.T, before int) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for runtime.NumGoroutine() > before {
		select {
		case <-tick.C:
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left running, %d before the run:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

// cancelledCleanly checks what a run cancelled at any stage leaves: the
// cancellation as its error, status "cancelled" in the result and on disk,
// no files, and no goroutine still running.
func cancelledCleanly(t *testing.T, res *Result, err error, runsDir string, before int) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if res.Status != StatusCancelled || len(res.Files) != 0 {
		t.Fatalf("status %s, %d files", res.Status, len(res.Files))
	}
	rec, lerr := LoadRun(runsDir, res.RunID)
	if lerr != nil || rec.Status != StatusCancelled || len(rec.Files) != 0 {
		t.Fatalf("record %+v, %v", rec, lerr)
	}
	settled(t, before)
}

func TestRunCancelledDuringTheAnalyzer(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.OnFunc(llmtest.Contains(orchestratortest.AnalyzerPrompt), func(*llmtest.Recorded) llmtest.Reply {
		cancel()
		return llmtest.Reply{Content: "late", Latency: time.Hour}
	})
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	before := runtime.NumGoroutine()
	res, err := Run(ctx, Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	cancelledCleanly(t, res, err, cfg.RunsDir, before)
	if n := len(srv.ChatRequests()); n != 1 {
		t.Errorf("%d requests after the cancelled analyzer call", n)
	}
}

func TestRunCancelledDuringTheFanOut(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The attention task waits for softmax; the tests and softmax are in
	// flight together, and the softmax answer cancels the run while the
	// tests request hangs.
	srv.On(llmtest.Contains(orchestratortest.ValidatorPrompt), llmtest.Reply{Content: "late", Latency: time.Hour})
	srv.OnFunc(orchestratortest.UserContains(orchestratortest.SoftmaxTask), func(*llmtest.Recorded) llmtest.Reply {
		cancel()
		return llmtest.Reply{Content: "late", Latency: time.Hour}
	})
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	before := runtime.NumGoroutine()
	res, err := Run(ctx, Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	cancelledCleanly(t, res, err, cfg.RunsDir, before)
	for _, r := range srv.ChatRequests() {
		if strings.Contains(r.LastUser(), orchestratortest.AttentionTask) {
			t.Error("a task started after the cancellation")
		}
	}
}

// pytestRunning reports whether a pytest process started by this test
// binary (a descendant of it, through the sandbox) is running.
func pytestRunning() bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "pytest") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if descendant(pid, os.Getpid()) {
			return true
		}
	}
	return false
}

func descendant(pid, ancestor int) bool {
	for depth := 0; pid > 1 && depth < 64; depth++ {
		if pid == ancestor {
			return true
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// The command may hold spaces and parentheses; the parent pid is
		// the second field after the last ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) < 2 {
			return false
		}
		pid, _ = strconv.Atoi(fields[1])
	}
	return false
}

func TestRunCancelledDuringThePytestRun(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	// Tests that hang: the run is cancelled once pytest is seen running.
	hang := "```python\nimport time\n\nimport attention\n\n\ndef test_hangs():\n    time.sleep(600)\n```"
	srv.On(llmtest.Contains(orchestratortest.ValidatorPrompt), llmtest.Reply{Content: hang})
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched := make(chan struct{})
	obs := ObserverFunc(func(e Event) {
		if e.Node == "validator" && e.Kind == EventStarted {
			go func() {
				defer close(watched)
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for !pytestRunning() {
					select {
					case <-tick.C:
					case <-ctx.Done():
						return
					}
				}
				cancel()
			}()
		}
	})
	before := runtime.NumGoroutine()
	res, err := Run(ctx, Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, obs)
	<-watched
	cancelledCleanly(t, res, err, cfg.RunsDir, before)
	if pytestRunning() {
		t.Error("pytest still runs after the run returned")
	}
}
