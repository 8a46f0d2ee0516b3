package lsp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/sourcegraph/conc"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/style"
)

// profileWorkspace is a workspace whose style profile (learned from
// snake_case code) is on disk and configured, with diagnostics debounced by
// debounce.
func profileWorkspace(t *testing.T, debounce string) lsptest.Config {
	return lsptest.Config{
		Files: map[string]string{".r2c/style.json": snakeProfile(t)},
		InitializationOptions: map[string]any{
			"style":  map[string]any{"profile": ".r2c/style.json", "min_evidence": 2},
			"server": map[string]any{"debounce": debounce},
		},
	}
}

func quickFixTitles(actions []protocol.CodeAction) []string {
	var out []string
	for _, a := range actions {
		if a.Kind != nil && *a.Kind == protocol.CodeActionKindQuickFix {
			out = append(out, a.Title)
		}
	}
	return out
}

// A second didOpen of the same URI (no didClose between, same version
// number) replaces the text. Code actions asked for right after it must be
// about the new text: before the fix the server served the findings of the
// old text from its cache, because the cache was keyed by version number.
func TestReopenWithoutCloseNeverServesTheOldTextsFixes(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), profileWorkspace(t, "5ms"))
	e.CreateBuffer("m.py", "def computeValue(a):\n    return a\n")
	e.AwaitDiagnostics("m.py", "the naming finding on computeValue", hasCode("naming.function"))

	var filler strings.Builder
	for i := range 60000 { // a text whose check takes a while: the window of the old bug
		fmt.Fprintf(&filler, "value_%d = %d\n", i, i)
	}
	e.CreateBuffer("m.py", "def doThing(a):\n    return a\n"+filler.String())
	at := protocol.Position{Line: 0, Character: 5}
	titles := quickFixTitles(e.CodeActions("m.py", protocol.Range{Start: at, End: at}))
	for _, title := range titles {
		if strings.Contains(title, "compute") {
			t.Fatalf("code action %q is about the text before the second didOpen", title)
		}
	}
	if !slices.ContainsFunc(titles, func(s string) bool { return strings.Contains(s, "do_thing") }) {
		t.Fatalf("quick fixes on the reopened text = %q, want the rename of doThing", titles)
	}
}

// Versions that go backwards break the specification, but dropping the
// change (as the server did) leaves its text out of step with the editor's
// for good. The change is applied; diagnostics describe the editor's text.
func TestVersionsGoingBackwardsKeepTheTextInStep(t *testing.T) {
	python(t)
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
		Timeout: 20 * time.Second,
		InitializationOptions: map[string]any{
			"style":  map[string]any{"profile": ".r2c/none.json"},
			"server": map[string]any{"debounce": "0s"},
		},
	})
	e.CreateBuffer("b.py", "x = 1\n")
	e.AwaitDiagnostics("b.py", "the first publication", func([]protocol.Diagnostic) bool { return true })
	e.EditBufferAtVersion("b.py", 10, lsptest.Edit{Range: protocol.Range{}, Text: "y = 2\n"})
	e.AwaitDiagnostics("b.py", "version 10", func([]protocol.Diagnostic) bool { return true })
	end := protocol.Position{Line: 2}
	e.EditBufferAtVersion("b.py", 3, lsptest.Edit{Range: protocol.Range{Start: end, End: end}, Text: "def (\n"})
	want := syntaxErrorLine(t, e.BufferText("b.py"))
	if want < 0 {
		t.Fatalf("test bug: %q has no syntax error", e.BufferText("b.py"))
	}
	e.AwaitDiagnostics("b.py", fmt.Sprintf("a syntax error on line %d of the editor's text", want), func(ds []protocol.Diagnostic) bool {
		return slices.ContainsFunc(ds, func(d protocol.Diagnostic) bool {
			return diagCode(d) == "syntax-error" && int(d.Range.Start.Line) == want
		})
	})
}

// A didChange for a document that was never opened is reported in the log
// and changes nothing; the session goes on.
func TestChangeToADocumentNeverOpened(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	ghost := e.URI("ghost.py")
	e.Notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument":   map[string]any{"uri": ghost, "version": 2},
		"contentChanges": []map[string]any{{"range": protocol.Range{}, "text": "x = 1\n"}},
	})
	e.Await("an error log naming the document", func(s *lsptest.State) bool {
		return slices.ContainsFunc(s.Logs, func(l protocol.LogMessageParams) bool {
			return l.Type == protocol.MessageTypeError && strings.Contains(l.Message, "ghost.py") && strings.Contains(l.Message, "not open")
		})
	})
	e.CreateBuffer("real.py", "def (\n")
	e.AwaitDiagnostics("real.py", "diagnostics for a document opened afterwards", hasCode("syntax-error"))
	if _, published := e.Snapshot().Diagnostics[ghost]; published {
		t.Fatal("diagnostics published for a document that was never opened")
	}
}

// utf16Col converts a byte column of line into UTF-16 code units, with the
// standard library: the oracle for the server's conversion.
func utf16Col(line string, byteCol int) uint32 {
	return uint32(len(utf16.Encode([]rune(line[:byteCol]))))
}

// Edits whose ranges start or end right before or after astral-plane emoji
// (two UTF-16 units) and CJK characters (one unit, three bytes), across
// lines and at the end of the document: after each, the server's
// diagnostics must equal a from-scratch check of the editor's text, with
// every column converted to UTF-16 by the standard library.
func TestUTF16EditsAtEmojiAndCJKBoundaries(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/none.json"},
		"server": map[string]any{"debounce": "0s"},
	}})
	e.CreateBuffer("u.py", "s = '🎉数🎉'\nt = '数据🎉'\nu = '🎉'")
	pos := func(line, col uint32) protocol.Position { return protocol.Position{Line: line, Character: col} }
	steps := []struct {
		what string
		edit lsptest.Edit
	}{
		{"replace the first emoji (units 5-6) with CJK", lsptest.Edit{Range: protocol.Range{Start: pos(0, 5), End: pos(0, 7)}, Text: "数"}},
		{"insert right after the emoji of line 0 (units 7-8)", lsptest.Edit{Range: protocol.Range{Start: pos(0, 9), End: pos(0, 9)}, Text: "🎉"}},
		{"delete the closing quote after two emoji: a syntax error", lsptest.Edit{Range: protocol.Range{Start: pos(0, 11), End: pos(0, 12)}}},
		{"join lines from after the emoji of line 0 to after 数据 of line 1", lsptest.Edit{Range: protocol.Range{Start: pos(0, 11), End: pos(1, 7)}, Text: "' + '"}},
		{"append at the end of the document, after an emoji and its quote", lsptest.Edit{Range: protocol.Range{Start: pos(1, 8), End: pos(1, 8)}, Text: " + '数'"}},
		{"break the last line right after its emoji", lsptest.Edit{Range: protocol.Range{Start: pos(1, 7), End: pos(1, 7)}, Text: "\n("}},
	}
	for _, step := range steps {
		e.EditBuffer("u.py", step.edit)
		text := e.BufferText("u.py")
		lines := strings.Split(text, "\n")
		want, err := style.CheckSource(nil, "u.py", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		var wantRanges []string
		for _, d := range want.Diagnostics {
			r := d.Range
			wantRanges = append(wantRanges, fmt.Sprintf("%s %d:%d-%d:%d", d.Rule,
				r.Start.Line, utf16Col(lines[r.Start.Line], r.Start.Column), r.End.Line, utf16Col(lines[r.End.Line], r.End.Column)))
		}
		got := e.AwaitDiagnostics("u.py", step.what, func([]protocol.Diagnostic) bool { return true })
		var gotRanges []string
		for _, d := range got {
			r := d.Range
			gotRanges = append(gotRanges, fmt.Sprintf("%s %d:%d-%d:%d", diagCode(d), r.Start.Line, r.Start.Character, r.End.Line, r.End.Character))
		}
		slices.Sort(wantRanges)
		slices.Sort(gotRanges)
		if !slices.Equal(gotRanges, wantRanges) {
			t.Fatalf("%s: server %q, full check %q\ntext: %q", step.what, gotRanges, wantRanges, text)
		}
	}
	if e.BufferText("u.py") != "s = '数数🎉🎉' + '🎉'\nu = '🎉\n(' + '数'" {
		t.Fatalf("test bug: the edits did not land where intended: %q", e.BufferText("u.py"))
	}
}

// executeCommand with missing or wrongly typed arguments is InvalidParams —
// never an internal error (a recovered panic) — and the session goes on.
func TestExecuteCommandWithBadArgumentsIsInvalidParams(t *testing.T) {
	si := &scriptedImplementer{files: generated}
	e := lsptest.New(t, serve(lsp.Options{
		Implement: si.run,
		Index: func(context.Context, config.Config, []string, func(string, float64)) (string, error) {
			return "indexed", nil
		},
	}), lsptest.Config{InitializationOptions: noProfile})
	e.CreateBuffer("m.py", "x = 1\n")
	raw := func(s string) protocol.LSPAny { return protocol.LSPAny(s) }
	cases := []struct {
		name   string
		params any
	}{
		{"validate without arguments", map[string]any{"command": lsp.CommandValidate, "arguments": []any{}}},
		{"validate with a number", map[string]any{"command": lsp.CommandValidate, "arguments": []protocol.LSPAny{raw("123")}}},
		{"validate with a null", map[string]any{"command": lsp.CommandValidate, "arguments": []protocol.LSPAny{raw("null")}}},
		{"validate with uri a number", map[string]any{"command": lsp.CommandValidate, "arguments": []protocol.LSPAny{raw(`{"uri": 5}`)}}},
		{"validate with an array", map[string]any{"command": lsp.CommandValidate, "arguments": []protocol.LSPAny{raw(`[1, 2]`)}}},
		{"validate of a file not open", map[string]any{"command": lsp.CommandValidate, "arguments": []any{string(e.URI("nope.py"))}}},
		{"validate with too many arguments", map[string]any{"command": lsp.CommandValidate, "arguments": []any{string(e.URI("m.py")), "x"}}},
		{"learnStyle with positional strings", map[string]any{"command": lsp.CommandLearnStyle, "arguments": []any{"a", "b"}}},
		{"learnStyle with dirs a string", map[string]any{"command": lsp.CommandLearnStyle, "arguments": []protocol.LSPAny{raw(`{"dirs": "lib"}`)}}},
		{"learnStyle with dirs numbers", map[string]any{"command": lsp.CommandLearnStyle, "arguments": []protocol.LSPAny{raw(`{"dirs": [1]}`)}}},
		{"implement without arguments", map[string]any{"command": lsp.CommandImplement}},
		{"implement with paper a number", map[string]any{"command": lsp.CommandImplement, "arguments": []protocol.LSPAny{raw(`{"paper": 1, "section": "3"}`)}}},
		{"implement without section", map[string]any{"command": lsp.CommandImplement, "arguments": []protocol.LSPAny{raw(`{"paper": "p.pdf"}`)}}},
		{"implement positional without section", map[string]any{"command": lsp.CommandImplement, "arguments": []any{"p.pdf"}}},
		{"implement with four positional arguments", map[string]any{"command": lsp.CommandImplement, "arguments": []any{"p.pdf", "3", "out", "more"}}},
		{"implement with an object section", map[string]any{"command": lsp.CommandImplement, "arguments": []any{"p.pdf", map[string]any{"n": 3}}}},
		{"indexPaper without arguments", map[string]any{"command": lsp.CommandIndexPaper, "arguments": []any{}}},
		{"indexPaper with a boolean", map[string]any{"command": lsp.CommandIndexPaper, "arguments": []protocol.LSPAny{raw("true")}}},
		{"an unknown command", map[string]any{"command": "r2c.nope", "arguments": []any{}}},
		{"no command at all", map[string]any{"arguments": []any{}}},
		{"command a number", map[string]any{"command": 7}},
		{"arguments not an array", map[string]any{"command": lsp.CommandValidate, "arguments": "m.py"}},
		{"params an array", []any{lsp.CommandValidate}},
	}
	for _, c := range cases {
		err := e.Call(protocol.MethodWorkspaceExecuteCommand, c.params, nil)
		if code(err) != jsonrpc2.InvalidParams {
			t.Errorf("%s: answered %v (code %d), want InvalidParams (%d)", c.name, err, code(err), jsonrpc2.InvalidParams)
		}
	}
	if si.last.Paper != "" {
		t.Errorf("a malformed implement request reached the implementer: %+v", si.last)
	}
	for _, l := range e.Snapshot().Logs {
		if strings.Contains(l.Message, "internal error") {
			t.Errorf("a handler panicked: %s", l.Message)
		}
	}
	if titles := e.CodeActions("m.py", protocol.Range{}); len(titles) == 0 {
		t.Fatal("no code actions after the bad commands: the session is broken")
	}
}

// A second Implement into the folder a running one writes to is refused at
// once (both would create the same files); once the first ends, the folder
// is free again. Before the fix the second run started too.
func TestSecondImplementIntoTheSameFolderIsRefused(t *testing.T) {
	si := &scriptedImplementer{block: true, started: make(chan core.ImplementRequest, 1), stopped: make(chan error, 1)}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{InitializationOptions: noProfile, Timeout: 20 * time.Second})
	var wg conc.WaitGroup
	first := make(chan error, 1)
	wg.Go(func() { first <- e.ExecuteCommand(context.Background(), implementCommand("p.pdf", "3", "out"), nil) })
	<-si.started

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := e.ExecuteCommand(ctx, implementCommand("p.pdf", "3.1", "./out/"), nil)
	if code(err) != jsonrpc2.InvalidRequest || !strings.Contains(fmt.Sprint(err), "already running") {
		t.Fatalf("second run into the same folder: %v, want InvalidRequest saying one is already running", err)
	}
	// Cancel the first through its progress, so that its answer — sent
	// once the handler has returned — says the folder is free.
	for tok := range e.Snapshot().Progress {
		e.Notify("window/workDoneProgress/cancel", map[string]any{"token": tok})
	}
	if err := <-si.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("first run stopped with %v", err)
	}
	wg.Wait()
	if err := <-first; code(err) != -32800 {
		t.Fatalf("first run answered %v, want RequestCancelled", err)
	}

	// The folder is free again: a new run starts (and is cancelled in turn).
	ctx2, cancel2 := context.WithCancel(context.Background())
	wg.Go(func() { _ = e.ExecuteCommand(ctx2, implementCommand("p.pdf", "3", "out"), nil) })
	select {
	case <-si.started:
	case <-time.After(20 * time.Second):
		t.Fatal("a run into the folder did not start after the first one ended")
	}
	cancel2()
	<-si.stopped
	wg.Wait()
}

// shutdown while a long Implement runs: the run is cancelled, its progress
// ends as cancelled, shutdown is answered and exit ends the session with 0.
func TestShutdownDuringImplementEndsProgressAndExits(t *testing.T) {
	si := &scriptedImplementer{block: true, started: make(chan core.ImplementRequest, 1), stopped: make(chan error, 1)}
	e := lsptest.New(t, serve(lsp.Options{Implement: si.run}), lsptest.Config{InitializationOptions: noProfile})
	var wg conc.WaitGroup
	result := make(chan error, 1)
	wg.Go(func() { result <- e.ExecuteCommand(context.Background(), implementCommand("p.pdf", "3", "out"), nil) })
	<-si.started
	if err := e.Call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-si.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("run stopped with %v, want context.Canceled", err)
	}
	wg.Wait()
	if err := <-result; code(err) != -32800 {
		t.Fatalf("the implement request answered %v, want RequestCancelled", err)
	}
	e.Await("the progress ended as cancelled", func(s *lsptest.State) bool {
		for _, p := range s.Progress {
			if ok, msg := p.Ended(); ok && strings.Contains(msg, "cancelled") {
				return true
			}
		}
		return false
	})
	e.Notify(protocol.MethodExit, nil)
	if c := e.ExitCode(); c != 0 {
		t.Fatalf("exit code %d after shutdown and exit, want 0", c)
	}
}

// Cancelling "Validate module" while pytest runs (the test sleeps for ten
// minutes) ends the request as cancelled, ends the progress, and publishes
// no diagnostics from the killed run — before or after the answer.
func TestCancelledValidatePublishesNothing(t *testing.T) {
	requirePytest(t)
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
		Files: map[string]string{
			"pkg/mod.py":      "def f():\n    return 1\n",
			"pkg/test_mod.py": "import time\n\nfrom mod import f\n\n\ndef test_slow():\n    time.sleep(600)\n    assert f() == 2\n",
		},
		InitializationOptions: noProfile,
	})
	e.OpenFile("pkg/mod.py")
	e.AwaitDiagnostics("pkg/mod.py", "the first publication", func([]protocol.Diagnostic) bool { return true })
	before := len(e.Snapshot().Published[e.URI("pkg/mod.py")])

	arg, _ := json.Marshal(map[string]string{"uri": string(e.URI("pkg/mod.py"))})
	var wg conc.WaitGroup
	result := make(chan error, 1)
	wg.Go(func() {
		result <- e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandValidate, Arguments: []protocol.LSPAny{arg}}, nil)
	})
	s := e.Await("the progress saying pytest runs", func(s *lsptest.State) bool {
		for _, p := range s.Progress {
			for _, v := range p.Values {
				if msg, _ := v["message"].(string); strings.Contains(msg, "running test_mod.py") {
					return true
				}
			}
		}
		return false
	})
	for tok := range s.Progress {
		e.Notify("window/workDoneProgress/cancel", map[string]any{"token": tok})
	}
	wg.Wait()
	if err := <-result; code(err) != -32800 {
		t.Fatalf("validate answered %v, want RequestCancelled", err)
	}
	after := e.Snapshot()
	for _, p := range after.Progress {
		if ok, msg := p.Ended(); !ok || !strings.Contains(msg, "cancelled") {
			t.Errorf("progress %s ended=%v with %q, want cancelled", p.Token, ok, msg)
		}
	}
	// An edit's diagnostics come after anything the run could still send.
	e.EditBuffer("pkg/mod.py", lsptest.Edit{Range: protocol.Range{}, Text: "# edited\n"})
	e.AwaitDiagnostics("pkg/mod.py", "diagnostics of the edit", func([]protocol.Diagnostic) bool { return true })
	final := e.Snapshot()
	if n := len(final.Published[e.URI("pkg/mod.py")]); n != before+1 {
		t.Errorf("%d publications for mod.py after the cancel, want only the edit's", n-before)
	}
	for u, p := range final.Diagnostics {
		for _, d := range p.Diagnostics {
			if diagSource(d) == "r2c-test" || diagSource(d) == "r2c" {
				t.Errorf("%s: diagnostic from the cancelled run: %+v", u, d)
			}
		}
	}
}

// A 50 MB didOpen is accepted (the frame limit is 64 MiB), edited and
// served; style checking is off for it (beyond style.MaxSourceSize), which
// the user is told once.
func TestFiftyMegabyteDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 50 MB through the pipe a few times")
	}
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	line := "value_" + strings.Repeat("x", 50) + " = 1\n"
	e.CreateBuffer("big.py", strings.Repeat(line, (50<<20)/len(line)))
	e.AwaitDiagnostics("big.py", "a publication for the opened text", func([]protocol.Diagnostic) bool { return true })
	e.EditBuffer("big.py", lsptest.Edit{Range: protocol.Range{}, Text: "def (\n"})
	e.AwaitDiagnostics("big.py", "a publication for the edit", func([]protocol.Diagnostic) bool { return true })
	if !slices.ContainsFunc(e.CodeActions("big.py", protocol.Range{}), func(a protocol.CodeAction) bool { return a.Command.Command == lsp.CommandValidate }) {
		t.Fatal("no Validate action on the big document")
	}
	tooLarge := 0
	for _, m := range e.Snapshot().Messages {
		if strings.Contains(m.Message, "big.py") && strings.Contains(m.Message, "MiB") {
			tooLarge++
		}
	}
	if tooLarge != 1 {
		t.Fatalf("%d messages saying big.py is too large to check, want 1: %+v", tooLarge, e.Snapshot().Messages)
	}
}

// Hundreds of edits in a burst publish diagnostics for the last version
// only: the debounce coalesces them and no stale check is published.
func TestManyRapidEditsPublishOnlyTheLastVersion(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/none.json"},
		"server": map[string]any{"debounce": "2s"},
	}})
	e.CreateBuffer("r.py", "x = 1\n")
	e.AwaitDiagnostics("r.py", "the first publication", func([]protocol.Diagnostic) bool { return true })
	for i := range 500 {
		at := protocol.Position{Line: uint32(i)}
		e.EditBuffer("r.py", lsptest.Edit{Range: protocol.Range{Start: at, End: at}, Text: fmt.Sprintf("v%d = %d\n", i, i)})
	}
	end := protocol.Position{Line: 501}
	e.EditBuffer("r.py", lsptest.Edit{Range: protocol.Range{Start: end, End: end}, Text: "def (\n"})
	e.AwaitDiagnostics("r.py", "the syntax error of the last version", hasCode("syntax-error"))
	if got := e.Snapshot().Published[e.URI("r.py")]; !slices.Equal(got, []int32{1, 502}) {
		t.Fatalf("published versions %v, want [1 502]", got)
	}
}
