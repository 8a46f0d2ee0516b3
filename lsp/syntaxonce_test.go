package lsp_test

import (
	"context"
	"encoding/json"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

// A syntax error is found twice: live by tree-sitter and by CPython when
// the module is validated. The editor must show it once (VS Code's Problems
// panel listed both).
func TestSyntaxErrorShowsOnceAfterValidate(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	src := "import os\n\n\ndef f(:\n    pass\n"
	e.CreateBuffer("bad.py", src)
	e.AwaitDiagnostics("bad.py", "a live syntax error", hasCode("syntax-error"))
	arg, _ := json.Marshal(map[string]any{"uri": e.URI("bad.py")})
	var sum map[string]any
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandValidate, Arguments: []protocol.LSPAny{arg}}, &sum); err != nil {
		t.Fatalf("validate: %v", err)
	}
	want := syntaxErrorLine(t, src)
	ds := e.AwaitDiagnostics("bad.py", "CPython's syntax error", func(ds []protocol.Diagnostic) bool {
		for _, d := range ds {
			if diagCode(d) == "SyntaxError" {
				return true
			}
		}
		return false
	})
	n := 0
	for _, d := range ds {
		if diagSource(d) == "r2c-syntax" {
			n++
			if int(d.Range.Start.Line) != want {
				t.Errorf("syntax error on line %d, CPython says %d: %+v", d.Range.Start.Line, want, d)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d r2c-syntax diagnostics after validating, want 1: %+v", n, ds)
	}
	// An edit drops the Validator's result: the live finding is back, once.
	e.EditBuffer("bad.py", lsptest.Edit{Range: protocol.Range{}, Text: "\n"})
	ds = e.AwaitDiagnostics("bad.py", "the live syntax error again", func(ds []protocol.Diagnostic) bool {
		return len(ds) == 1 && diagCode(ds[0]) == "syntax-error"
	})
	if int(ds[0].Range.Start.Line) != want+1 {
		t.Fatalf("live syntax error after the edit on line %d, want %d", ds[0].Range.Start.Line, want+1)
	}
}
