package lsp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/lsp"
)

// pipeConn is a connection whose input is fixed bytes and whose output is discarded.
type pipeConn struct{ in io.Reader }

func (p pipeConn) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p pipeConn) Write(b []byte) (int, error) { return len(b), nil }
func (p pipeConn) Close() error                { return nil }

func fuzzFrame(body string) []byte {
	return []byte(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

// FuzzServer feeds arbitrary input to a whole server session: whatever the
// bytes, no handler may panic the process and the session must end when
// the input does.
func FuzzServer(f *testing.F) {
	init := fuzzFrame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{},"initializationOptions":{"style":{"profile":"/nonexistent/p.json"}}}}`)
	open := fuzzFrame(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///tmp/f.py","languageId":"python","version":1,"text":"def f(:\n  é🎉\n"}}}`)
	f.Add(append(append([]byte{}, init...), open...))
	f.Add(append(append(append([]byte{}, init...), open...), fuzzFrame(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///tmp/f.py","version":2},"contentChanges":[{"range":{"start":{"line":1,"character":3},"end":{"line":1,"character":1}},"text":"x"}]}}`)...))
	f.Add(append(append([]byte{}, init...), fuzzFrame(`{"jsonrpc":"2.0","id":2,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"file:///tmp/f.py"},"range":{"start":{"line":4294967295,"character":0},"end":{"line":0,"character":0}},"context":{"diagnostics":[]}}}`)...))
	f.Add(append(append([]byte{}, init...), fuzzFrame(`{"jsonrpc":"2.0","id":3,"method":"workspace/executeCommand","params":{"command":"r2c.implement","arguments":[{"paper":"","section":7}]}}`)...))
	f.Add([]byte("Content-Length: 3\r\n\r\n{}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan int, 1)
		go func() { done <- lsp.New(lsp.Options{}).Serve(context.Background(), pipeConn{bytes.NewReader(data)}) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("session did not end at the end of its input")
		}
	})
}
