package lsp_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

// implementArgs returns the arguments of the "Implement" action offered at pos.
func implementArgs(t *testing.T, e *lsptest.Editor, rel string, pos protocol.Position) (lsp.ImplementRequest, bool) {
	t.Helper()
	for _, a := range e.CodeActions(rel, protocol.Range{Start: pos, End: pos}) {
		if a.Command.Command != lsp.CommandImplement {
			continue
		}
		var req lsp.ImplementRequest
		if err := json.Unmarshal(a.Command.Arguments[0], &req); err != nil {
			t.Fatal(err)
		}
		return req, true
	}
	return lsp.ImplementRequest{}, false
}

func TestImplementActionOnHeadingsAndComments(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
		InitializationOptions: noProfile,
		Files: map[string]string{
			"papers/attn.md":  "Intro text\n## 3.2 Scaled Dot-Product Attention\nbody\n",
			"papers/attn.tex": "\\subsection{Multi-Head Attention}\n",
			"papers/attn.pdf": "%PDF-1.4 stand-in\n",
			"src/model.py":    "import torch\n# r2c: implement ../papers/attn.pdf#3.2 -> gen\n",
		},
	})
	e.OpenFile("papers/attn.md")
	e.OpenFile("papers/attn.tex")
	e.OpenFile("src/model.py")

	if _, ok := implementArgs(t, e, "papers/attn.md", protocol.Position{Line: 0}); ok {
		t.Error("Implement offered on a body line")
	}
	req, ok := implementArgs(t, e, "papers/attn.md", protocol.Position{Line: 1, Character: 4})
	if !ok || req.Section != "3.2 Scaled Dot-Product Attention" || req.Paper != e.Path("papers/attn.md") ||
		req.TargetDir != e.Path("papers/scaled_dot_product_attention") {
		t.Errorf("markdown heading: %+v, %v", req, ok)
	}
	req, ok = implementArgs(t, e, "papers/attn.tex", protocol.Position{})
	if !ok || req.Section != "Multi-Head Attention" {
		t.Errorf("latex heading: %+v, %v", req, ok)
	}
	req, ok = implementArgs(t, e, "src/model.py", protocol.Position{Line: 1})
	if !ok || req.Paper != filepath.Join(e.Dir, "papers/attn.pdf") || req.Section != "3.2" || req.TargetDir != e.Path("src/gen") {
		t.Errorf("implement comment: %+v, %v", req, ok)
	}
	// context.only filters by kind prefix.
	line1 := protocol.Range{Start: protocol.Position{Line: 1}, End: protocol.Position{Line: 1}}
	for _, a := range e.CodeActions("src/model.py", line1, "source") {
		if a.Kind != nil && *a.Kind == "refactor.r2c.implement" {
			t.Error("only=[source] returned a refactor action")
		}
	}
	if len(e.CodeActions("src/model.py", line1, "refactor")) != 1 {
		t.Error("only=[refactor] should return exactly the implement action")
	}
}

// Edits with non-ASCII text, applied by the editor with its own position
// arithmetic, must leave the server with the same text: the implement
// comment's section, which the server reads from its copy, is the witness.
func TestIncrementalEditsWithNonASCIIInEveryEncoding(t *testing.T) {
	for _, enc := range []protocol.PositionEncodingKind{"", "utf-8", "utf-32"} {
		t.Run(string(enc)+"default", func(t *testing.T) {
			var offered []protocol.PositionEncodingKind
			if enc != "" {
				offered = []protocol.PositionEncodingKind{enc}
			}
			e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile, PositionEncodings: offered})
			e.CreateBuffer("m.py", "x = 1\n# r2c: implement p.pdf#Émile 🎉 😀 数据 attention\n")
			// Replace "😀" (after an astral char) with "𝔘", then "数据" with "ß".
			p := e.PositionOf("m.py", "😀")
			e.EditBuffer("m.py", lsptest.Edit{Range: protocol.Range{Start: p, End: e.PositionOf("m.py", " 数据")}, Text: "𝔘"})
			s, end := e.PositionOf("m.py", "数据"), e.PositionOf("m.py", " attention")
			e.EditBuffer("m.py", lsptest.Edit{Range: protocol.Range{Start: s, End: end}, Text: "ß"})
			// Insert at the end of the line using a column past its end (clamped).
			eol := e.PositionOf("m.py", " attention")
			eol.Character += 10
			e.EditBuffer("m.py", lsptest.Edit{Range: protocol.Range{Start: eol, End: eol}, Text: "!"})
			want := "Émile 🎉 𝔘 ß attention!"
			if got := e.BufferText("m.py"); got != "x = 1\n# r2c: implement p.pdf#"+want+"\n" {
				t.Fatalf("editor text = %q", got)
			}
			req, ok := implementArgs(t, e, "m.py", protocol.Position{Line: 1})
			if !ok || req.Section != want {
				t.Fatalf("server's section = %q, want %q", req.Section, want)
			}
		})
	}
}

func TestOutOfRangePositionsAreErrorsAndServerKeepsServing(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	e.CreateBuffer("a.md", "# A\n")
	far := protocol.Position{Line: 99}
	err := e.Call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": e.URI("a.md")},
		"range":        protocol.Range{Start: far, End: far},
		"context":      map[string]any{"diagnostics": []any{}},
	}, nil)
	if code(err) != jsonrpc2.InvalidParams {
		t.Fatalf("codeAction out of range: %v, want InvalidParams", err)
	}
	// A didChange out of range is rejected as a whole and reported.
	e.Notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument":   map[string]any{"uri": e.URI("a.md"), "version": 5},
		"contentChanges": []any{map[string]any{"range": protocol.Range{Start: far, End: far}, "text": "x"}},
	})
	e.Await("an error log about the change", func(s *lsptest.State) bool {
		for _, l := range s.Logs {
			if l.Type == protocol.MessageTypeError {
				return true
			}
		}
		return false
	})
	// Unknown documents and malformed params are errors too.
	err = e.Call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": e.URI("missing.py")},
		"range":        protocol.Range{}, "context": map[string]any{"diagnostics": []any{}},
	}, nil)
	if code(err) != jsonrpc2.InvalidParams {
		t.Fatalf("codeAction on unknown document: %v", err)
	}
	if err := e.Call(protocol.MethodTextDocumentCodeAction, []int{1, 2}, nil); code(err) != jsonrpc2.InvalidParams {
		t.Fatalf("malformed params: %v", err)
	}
	if len(e.CodeActions("a.md", protocol.Range{})) == 0 {
		t.Fatal("server stopped serving")
	}
}
