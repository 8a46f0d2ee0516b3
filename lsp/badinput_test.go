package lsp_test

import (
	"fmt"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

func rawFrame(body string) []byte {
	return []byte(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

// Garbage between frames gets an error response (which the fake editor's
// jsonrpc2 connection drops as unmatched) and the session goes on.
func TestMalformedFramesDoNotEndTheSession(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	e.CreateBuffer("a.md", "# A\n")
	for _, junk := range [][]byte{
		rawFrame(`{"jsonrpc":"2.0","id":900,"method":`),              // truncated JSON
		[]byte("Content-Length: nope\r\n\r\n{}"),                     // bad header
		[]byte("Content-Length: 8\r\n\r\n" + `{"jsonrpc":"2.0"}`),    // too short
		rawFrame(`[{"jsonrpc":"2.0","id":901,"method":"shutdown"}]`), // batch
		rawFrame(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":"nope"}}`),
		rawFrame(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///nowhere.py","version":2},"contentChanges":[]}}`),
	} {
		e.WriteRaw(junk)
		if len(e.CodeActions("a.md", protocol.Range{})) == 0 {
			t.Fatalf("no answer after %q", junk)
		}
	}
}

func TestHugeDocumentIsServed(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	// 9 MiB of Python: beyond the style engine's limit, within the framing's.
	line := "value_" + strings.Repeat("x", 50) + " = 1\n"
	e.CreateBuffer("huge.py", strings.Repeat(line, (9<<20)/len(line)))
	e.EditBuffer("huge.py", lsptest.Edit{Range: protocol.Range{}, Text: "# head\n"})
	actions := e.CodeActions("huge.py", protocol.Range{})
	found := false
	for _, a := range actions {
		found = found || a.Command.Command == lsp.CommandValidate
	}
	if !found {
		t.Fatalf("actions on a huge document = %d, want Validate among them", len(actions))
	}
}
