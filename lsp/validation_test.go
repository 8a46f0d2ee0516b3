package lsp_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

// requirePytest skips when no interpreter with pytest exists: the Validator
// runs real tests.
func requirePytest(t *testing.T) {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import pytest").Run() == nil {
			return
		}
	}
	t.Skip("no python3 with pytest (Debian: apt-get install python3-pytest)")
}

var validateFiles = map[string]string{
	// On disk the module is correct; the editor's unsaved buffer breaks it.
	"pkg/mod.py":      "def add(a, b):\n    return a + b\n",
	"pkg/test_mod.py": "from mod import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n",
}

const brokenModule = "def add(a, b):\n    if a > 1:\n        raise ValueError('too big')\n    return a + b\n"

func TestValidateModuleCodeActionPublishesTestFailures(t *testing.T) {
	requirePytest(t)
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{Files: validateFiles, InitializationOptions: noProfile})
	e.OpenFile("pkg/mod.py")
	e.EditBuffer("pkg/mod.py", lsptest.Edit{
		Range: protocol.Range{End: protocol.Position{Line: 2}},
		Text:  brokenModule,
	})
	var action *protocol.CodeAction
	for _, a := range e.CodeActions("pkg/mod.py", protocol.Range{}, "source") {
		if a.Command.Command == lsp.CommandValidate {
			action = &a
		}
	}
	if action == nil {
		t.Fatal("no Validate module action")
	}
	var sum core.ValidateResult
	if err := e.ExecuteCommand(context.Background(), action.Command, &sum); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if sum.OK || sum.Report == nil || sum.Report.Tests.Total != 1 || sum.Report.Tests.Failed != 1 {
		t.Fatalf("summary = %+v, want one failing test", sum)
	}
	raise := e.PositionOf("pkg/mod.py", "raise")
	ds := e.AwaitDiagnostics("pkg/mod.py", "a test failure at the raise", func(ds []protocol.Diagnostic) bool {
		return slices.ContainsFunc(ds, func(d protocol.Diagnostic) bool {
			return diagSource(d) == "r2c-test" && d.Range.Start.Line == raise.Line
		})
	})
	for _, d := range ds {
		if diagSource(d) == "r2c-test" {
			msg, _ := d.Message.(protocol.String)
			if !strings.Contains(string(msg), "too big") || d.Severity != protocol.DiagnosticSeverityError {
				t.Errorf("test diagnostic %+v", d)
			}
		}
	}
	var ended bool
	for _, p := range e.Snapshot().Progress {
		ok, msg := p.Ended()
		ended = ended || (ok && strings.Contains(msg, "0/1 tests passed"))
	}
	if !ended {
		t.Error("no finished progress with the test counts")
	}
	// Editing the module drops the validation result, which described old text.
	e.EditBuffer("pkg/mod.py", lsptest.Edit{Range: protocol.Range{Start: raise, End: raise}, Text: "# "})
	e.AwaitDiagnostics("pkg/mod.py", "no test diagnostics after an edit", func(ds []protocol.Diagnostic) bool {
		return !slices.ContainsFunc(ds, func(d protocol.Diagnostic) bool { return diagSource(d) == "r2c-test" })
	})
}

func TestValidateOnSave(t *testing.T) {
	requirePytest(t)
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{Files: validateFiles, InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/none.json"},
		"server": map[string]any{"validate_on_save": true},
	}})
	e.OpenFile("pkg/mod.py")
	e.EditBuffer("pkg/mod.py", lsptest.Edit{Range: protocol.Range{End: protocol.Position{Line: 2}}, Text: brokenModule})
	e.SaveBuffer("pkg/mod.py")
	e.AwaitDiagnostics("pkg/mod.py", "a test failure after save", func(ds []protocol.Diagnostic) bool {
		return slices.ContainsFunc(ds, func(d protocol.Diagnostic) bool { return diagSource(d) == "r2c-test" })
	})
}

func TestValidateNamesTheFixWhenPythonIsMissing(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{Files: validateFiles, InitializationOptions: map[string]any{
		"style":   map[string]any{"profile": ".r2c/none.json"},
		"sandbox": map[string]any{"python": "/nonexistent/python3"},
	}})
	e.OpenFile("pkg/mod.py")
	arg := protocol.LSPAny(`{"uri":"` + string(e.URI("pkg/mod.py")) + `"}`)
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandValidate, Arguments: []protocol.LSPAny{arg}}, nil); err == nil {
		t.Fatal("validate succeeded without a Python interpreter")
	}
	e.Await("an error message naming the interpreter", func(s *lsptest.State) bool {
		return slices.ContainsFunc(s.Messages, func(m protocol.ShowMessageParams) bool {
			return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "/nonexistent/python3")
		})
	})
}

func TestValidateNamesTheFixWhenPytestIsMissing(t *testing.T) {
	var bare string
	for _, py := range []string{"python3", "/usr/local/bin/python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import pytest").Run() != nil {
			bare = p
			break
		}
	}
	if bare == "" {
		t.Skip("every python3 here has pytest; this test needs one without")
	}
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{Files: validateFiles, InitializationOptions: map[string]any{
		"style":   map[string]any{"profile": ".r2c/none.json"},
		"sandbox": map[string]any{"python": bare},
	}})
	e.OpenFile("pkg/mod.py")
	arg := protocol.LSPAny(`{"uri":"` + string(e.URI("pkg/mod.py")) + `"}`)
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandValidate, Arguments: []protocol.LSPAny{arg}}, nil); err == nil {
		t.Fatal("validate ran tests without pytest")
	}
	e.Await("an error message naming the fix", func(s *lsptest.State) bool {
		return slices.ContainsFunc(s.Messages, func(m protocol.ShowMessageParams) bool {
			return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "python3-pytest") && strings.Contains(m.Message, "sandbox.python")
		})
	})
}
