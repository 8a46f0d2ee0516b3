package lsp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/orchestrator"
)

// scriptedImplementer plays the four agents' events and returns files; it
// stands in for orchestrator.Run, which needs a model server.
type scriptedImplementer struct {
	files   []core.File
	started chan core.ImplementRequest // receives each request when the run starts
	block   bool                       // wait for cancellation after the analyzer starts
	stopped chan error                 // receives ctx.Err() when a blocked run stops
	panics  bool
	last    core.ImplementRequest
}

func (si *scriptedImplementer) run(ctx context.Context, req core.ImplementRequest, obs core.Observer) (*core.Result, error) {
	if si.panics {
		var files []core.File
		_ = files[len(req.Section)] // an index out of range: a real runtime panic
	}
	si.last = req
	if si.started != nil {
		si.started <- req
	}
	obs.OnEvent(orchestrator.Event{Node: "analyzer", Kind: "started", Message: "reading section " + req.Section})
	if si.block {
		<-ctx.Done()
		si.stopped <- ctx.Err()
		return nil, ctx.Err()
	}
	obs.OnEvent(orchestrator.Event{Node: "analyzer", Kind: "finished"})
	obs.OnEvent(orchestrator.Event{Node: "planner", Kind: "started"})
	obs.OnEvent(orchestrator.Event{Node: "planner", Kind: "finished", Message: "2 files, 3 tasks"})
	obs.OnEvent(orchestrator.Event{Node: "implementer", Kind: "tokens", Message: "def"})
	obs.OnEvent(orchestrator.Event{Node: "implementer", Kind: "progress", Percent: 50, Message: "1/2 attention"})
	obs.OnEvent(orchestrator.Event{Node: "implementer", Kind: "progress", Percent: 100, Message: "2/2 tests"})
	obs.OnEvent(orchestrator.Event{Node: "validator", Kind: "finished", Message: "3 passed"})
	return &core.Result{Result: &orchestrator.Result{Status: "passed", Files: si.files}}, nil
}

var generated = []core.File{
	{Path: "attention.py", Content: []byte("def attention(q, k, v):\n    return q\n")},
	{Path: "tests/test_attention.py", Content: []byte("from attention import attention\n")},
}

func implementCommand(paper, section, dir string) protocol.Command {
	raw, _ := json.Marshal(map[string]string{"paper": paper, "section": section, "targetDir": dir})
	return protocol.Command{Command: lsp.CommandImplement, Arguments: []protocol.LSPAny{raw}}
}

func TestImplementReportsProgressAndAppliesCreateFiles(t *testing.T) {
	si := &scriptedImplementer{files: generated}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{
		InitializationOptions: noProfile,
		Files:                 map[string]string{"paper.md": "# 3.2 Scaled Dot-Product Attention\n"},
	})
	var sum lsp.ImplementSummary
	if err := e.ExecuteCommand(context.Background(), implementCommand("paper.md", "3.2", "out"), &sum); err != nil {
		t.Fatalf("implement: %v", err)
	}
	if !sum.Applied || sum.Status != "passed" || len(sum.Files) != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	if si.last.Paper != e.Path("paper.md") || si.last.OutDir != e.Path("out") || si.last.Config.RunsDir != e.Path(".r2c/runs") {
		t.Fatalf("the implementer got paper %q, target %q, runs %q: want them resolved against the workspace",
			si.last.Paper, si.last.OutDir, si.last.Config.RunsDir)
	}
	for _, f := range generated {
		b, err := os.ReadFile(e.Path("out/" + f.Path))
		if err != nil || string(b) != string(f.Content) {
			t.Fatalf("%s on disk = %q, %v; want the generated content", f.Path, b, err)
		}
	}
	s := e.Snapshot()
	if len(s.Edits) != 1 {
		t.Fatalf("applyEdit calls = %d, want 1", len(s.Edits))
	}
	var creates int
	for _, dc := range s.Edits[0].Edit.DocumentChanges {
		if c, ok := dc.(*protocol.CreateFile); ok {
			creates++
			if c.Options == nil || c.Options.Overwrite == nil || *c.Options.Overwrite {
				t.Errorf("CreateFile %s may overwrite", c.URI)
			}
		}
	}
	if creates != 2 {
		t.Fatalf("CreateFile operations = %d, want 2", creates)
	}
	// One progress report: created, begin, one report per agent step, end.
	if len(s.Progress) != 1 {
		t.Fatalf("progress tokens = %d, want 1", len(s.Progress))
	}
	for _, p := range s.Progress {
		kinds := p.Kinds()
		if !p.Created || kinds[0] != "begin" || kinds[len(kinds)-1] != "end" {
			t.Fatalf("progress = %v (created %v)", kinds, p.Created)
		}
		last := -1.0
		var messages []string
		for _, v := range p.Values {
			if pct, ok := v["percentage"].(float64); ok {
				if pct < last {
					t.Errorf("percentage went down: %v after %v", pct, last)
				}
				last = pct
			}
			if m, ok := v["message"].(string); ok {
				messages = append(messages, m)
			}
		}
		joined := strings.Join(messages, "\n")
		for _, want := range []string{"Analyzer:", "Planner: 2 files", "Implementer: 2/2 tests", "Validator: 3 passed"} {
			if !strings.Contains(joined, want) {
				t.Errorf("progress messages lack %q:\n%s", want, joined)
			}
		}
		if strings.Contains(joined, "def") {
			t.Errorf("token events leaked into progress:\n%s", joined)
		}
		if _, end := p.Ended(); !strings.Contains(end, "passed: 2 files") {
			t.Errorf("final message = %q", end)
		}
	}
}

func TestImplementNeverOverwritesAChangedBuffer(t *testing.T) {
	si := &scriptedImplementer{files: generated[:1]}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{
		InitializationOptions: noProfile,
		Files:                 map[string]string{"paper.md": "# Method\n", "out/attention.py": "# my own work\n"},
	})
	// The target file is open, then changes after the server built its edit
	// — the editor sees a version mismatch and refuses.
	e.OpenFile("out/attention.py")
	e.EditBuffer("out/attention.py", lsptest.Edit{Text: "# edited\n"})
	e.AwaitDiagnostics("out/attention.py", "first check", func([]protocol.Diagnostic) bool { return true })
	raceEdit := &racingEditor{e: e}
	e.SetBeforeApplyEdit(raceEdit.edit)
	err := e.ExecuteCommand(context.Background(), implementCommand("paper.md", "Method", "out"), nil)
	if err == nil {
		t.Fatal("implement succeeded although the buffer changed before the edit arrived")
	}
	if got := e.BufferText("out/attention.py"); !strings.Contains(got, "# my own work") || strings.Contains(got, "def attention") {
		t.Fatalf("buffer was overwritten: %q", got)
	}
	e.Await("an error message about the edit", func(s *lsptest.State) bool {
		for _, m := range s.Messages {
			if m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "not applied") {
				return true
			}
		}
		return false
	})
}

type racingEditor struct{ e *lsptest.Editor }

func (r *racingEditor) edit() {
	r.e.EditBuffer("out/attention.py", lsptest.Edit{Text: "# typed meanwhile\n"})
}

func TestImplementWritesFilesWhenClientCannotApplyEdits(t *testing.T) {
	si := &scriptedImplementer{files: generated}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{
		InitializationOptions: noProfile, NoApplyEdit: true,
		Files: map[string]string{"paper.md": "# Method\n", "taken/attention.py": "keep me\n"},
	})
	var sum lsp.ImplementSummary
	if err := e.ExecuteCommand(context.Background(), implementCommand("paper.md", "Method", "out"), &sum); err != nil {
		t.Fatalf("implement: %v", err)
	}
	if sum.Applied || len(sum.Files) != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, f := range generated {
		if b, err := os.ReadFile(e.Path("out/" + f.Path)); err != nil || string(b) != string(f.Content) {
			t.Fatalf("%s = %q, %v", f.Path, b, err)
		}
	}
	if len(e.Snapshot().Edits) != 0 {
		t.Fatal("applyEdit sent to a client without support")
	}
	e.Await("a message listing the written files", func(s *lsptest.State) bool {
		for _, m := range s.Messages {
			if strings.Contains(m.Message, filepath.Join("out", "attention.py")) {
				return true
			}
		}
		return false
	})
	// All-or-nothing: an existing file stops the whole write.
	err := e.ExecuteCommand(context.Background(), implementCommand("paper.md", "Method", "taken"), nil)
	if err == nil {
		t.Fatal("implement overwrote an existing file")
	}
	if b, _ := os.ReadFile(e.Path("taken/attention.py")); string(b) != "keep me\n" {
		t.Fatalf("existing file changed: %q", b)
	}
	if _, err := os.Stat(e.Path("taken/tests/test_attention.py")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial output left behind: %v", err)
	}
}

func TestCancelRequestCancelsTheRun(t *testing.T) {
	si := &scriptedImplementer{block: true, started: make(chan core.ImplementRequest, 1), stopped: make(chan error, 1)}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{InitializationOptions: noProfile})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ExecuteCommand(ctx, implementCommand("p.pdf", "3", "out"), nil) }()
	<-si.started
	cancel() // protocol.Call sends $/cancelRequest
	if err := <-si.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("run stopped with %v, want context.Canceled", err)
	}
	<-done
	e.Await("the progress to end as cancelled", func(s *lsptest.State) bool {
		for _, p := range s.Progress {
			if ok, msg := p.Ended(); ok && strings.Contains(msg, "cancelled") {
				return true
			}
		}
		return false
	})
}

func TestWorkDoneProgressCancelCancelsTheRun(t *testing.T) {
	si := &scriptedImplementer{block: true, started: make(chan core.ImplementRequest, 1), stopped: make(chan error, 1)}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{InitializationOptions: noProfile})
	done := make(chan error, 1)
	go func() { done <- e.ExecuteCommand(context.Background(), implementCommand("p.pdf", "3", "out"), nil) }()
	<-si.started
	s := e.Await("a cancellable progress report", func(s *lsptest.State) bool {
		for _, p := range s.Progress {
			if len(p.Values) > 0 && p.Values[0]["cancellable"] == true {
				return true
			}
		}
		return false
	})
	for tok := range s.Progress {
		e.Notify("window/workDoneProgress/cancel", map[string]any{"token": tok})
	}
	if err := <-si.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("run stopped with %v", err)
	}
	err := <-done
	if code(err) != -32800 {
		t.Fatalf("executeCommand answered %v, want RequestCancelled (-32800)", err)
	}
}

func TestPanicInHandlerIsRecoveredAndReported(t *testing.T) {
	si := &scriptedImplementer{panics: true}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{InitializationOptions: noProfile})
	err := e.ExecuteCommand(context.Background(), implementCommand("p.pdf", "3", "out"), nil)
	if code(err) != jsonrpc2.InternalError || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("got %v, want InternalError naming the panic", err)
	}
	e.Await("a logMessage about the internal error", func(s *lsptest.State) bool {
		for _, l := range s.Logs {
			if l.Type == protocol.MessageTypeError && strings.Contains(l.Message, "internal error") {
				return true
			}
		}
		return false
	})
	// The progress report it had started still ends.
	e.Await("the progress to end", func(s *lsptest.State) bool {
		for _, p := range s.Progress {
			if ok, msg := p.Ended(); !ok || !strings.Contains(msg, "internal error") {
				return false
			}
		}
		return len(s.Progress) == 1
	})
	// Still serving.
	e.CreateBuffer("a.md", "# Intro\n")
	if len(e.CodeActions("a.md", protocol.Range{})) == 0 {
		t.Fatal("no code actions after a panic")
	}
}

func TestImplementArgumentsAreChecked(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{Implement: (&scriptedImplementer{}).run}), lsptest.Config{InitializationOptions: noProfile})
	for _, args := range [][]protocol.LSPAny{nil, {protocol.LSPAny(`{"paper":"x.pdf"}`)}, {protocol.LSPAny(`[1]`)}} {
		err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandImplement, Arguments: args}, nil)
		if code(err) != jsonrpc2.InvalidParams {
			t.Errorf("args %s: %v, want InvalidParams", args, err)
		}
	}
	err := e.ExecuteCommand(context.Background(), protocol.Command{Command: "r2c.nope"}, nil)
	if code(err) != jsonrpc2.InvalidParams {
		t.Errorf("unknown command: %v", err)
	}
	// Positional strings work too (handy for editor key bindings).
	pos := []protocol.LSPAny{protocol.LSPAny(`"p.md"`), protocol.LSPAny(`"Method"`), protocol.LSPAny(`"out2"`)}
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandImplement, Arguments: pos}, nil); err != nil {
		t.Errorf("positional arguments: %v", err)
	}
	_ = fmt.Sprint
}

func TestUnreachableEndpointMessageNamesTheFix(t *testing.T) {
	unreachable := func(ctx context.Context, req core.ImplementRequest, obs core.Observer) (*core.Result, error) {
		// A real dial to a closed port, as the model client would make.
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:1")
		if err == nil {
			c.Close()
			t.Skip("something listens on port 1")
		}
		return nil, fmt.Errorf("analyzer: %w", err)
	}
	e := lsptest.New(t, serve(lsp.Options{Implement: unreachable}), lsptest.Config{InitializationOptions: noProfile})
	if err := e.ExecuteCommand(context.Background(), implementCommand("p.pdf", "3", "out"), nil); err == nil {
		t.Fatal("implement succeeded without a model server")
	}
	s := e.Await("a message naming the fix", func(s *lsptest.State) bool {
		for _, m := range s.Messages {
			if m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "endpoint in r2c.toml") {
				return true
			}
		}
		return false
	})
	for _, p := range s.Progress {
		if ok, msg := p.Ended(); !ok || !strings.HasPrefix(msg, "failed") {
			t.Errorf("progress not ended as failed: %v %q", ok, msg)
		}
	}
}

// bestFilesThenError is a run whose later correction round failed on the
// model: it returns its best round's files together with the error.
func bestFilesThenError(ctx context.Context, req core.ImplementRequest, obs core.Observer) (*core.Result, error) {
	obs.OnEvent(orchestrator.Event{Node: "validator", Kind: "finished", Message: "2 of 3 passed"})
	return &core.Result{Result: &orchestrator.Result{Status: "failed", Files: generated}},
		errors.New("implementer: model request timed out after 5m0s")
}

func TestImplementKeepsTheBestFilesWhenALaterRoundFails(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{Implement: bestFilesThenError}), lsptest.Config{
		InitializationOptions: noProfile, NoApplyEdit: true,
		Files: map[string]string{"paper.md": "# Method\n"},
	})
	var sum lsp.ImplementSummary
	if err := e.ExecuteCommand(context.Background(), implementCommand("paper.md", "Method", "out"), &sum); err != nil {
		t.Fatalf("implement: %v", err)
	}
	if len(sum.Files) != len(generated) || !strings.Contains(sum.Message, "timed out") {
		t.Fatalf("want the best files and the error in the summary, got %+v", sum)
	}
	for _, f := range generated {
		if b, err := os.ReadFile(e.Path("out/" + f.Path)); err != nil || string(b) != string(f.Content) {
			t.Fatalf("%s = %q, %v", f.Path, b, err)
		}
	}
	e.Await("a warning naming the error", func(s *lsptest.State) bool {
		for _, m := range s.Messages {
			if m.Type == protocol.MessageTypeWarning && strings.Contains(m.Message, "timed out") {
				return true
			}
		}
		return false
	})
}
