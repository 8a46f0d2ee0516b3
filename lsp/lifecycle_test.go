package lsp_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

// serve runs a real lsp.Server for the fake editor.
func serve(opts lsp.Options) lsptest.ServeFunc {
	return func(ctx context.Context, rwc io.ReadWriteCloser) int {
		return lsp.New(opts).Serve(ctx, rwc)
	}
}

// noProfile points the style profile at a file that does not exist, so a
// profile in the user's config dir cannot leak into a test.
var noProfile = map[string]any{"style": map[string]any{"profile": ".r2c/none.json"}}

func code(err error) jsonrpc2.Code {
	var e *jsonrpc2.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestShutdownThenExitExitsZero(t *testing.T) {
	e := lsptest.Start(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	e.Initialize()
	if err := e.Call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// After shutdown, requests are refused but exit is honoured.
	if err := e.Call(protocol.MethodTextDocumentCodeAction, map[string]any{}, nil); code(err) != jsonrpc2.InvalidRequest {
		t.Fatalf("request after shutdown: %v, want InvalidRequest", err)
	}
	e.Notify(protocol.MethodExit, nil)
	if c := e.ExitCode(); c != 0 {
		t.Fatalf("exit code %d, want 0", c)
	}
	e.Close()
}

func TestExitWithoutShutdownExitsOne(t *testing.T) {
	e := lsptest.Start(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	e.Initialize()
	e.Notify(protocol.MethodExit, nil)
	if c := e.ExitCode(); c != 1 {
		t.Fatalf("exit code %d, want 1", c)
	}
	e.Close()
}

func TestRequestBeforeInitializeIsRefused(t *testing.T) {
	e := lsptest.Start(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	err := e.Call(protocol.MethodTextDocumentCodeAction, map[string]any{}, nil)
	if code(err) != jsonrpc2.ServerNotInitialized {
		t.Fatalf("got %v, want ServerNotInitialized", err)
	}
	e.Initialize()
	if err := e.Call(protocol.MethodInitialize, map[string]any{"capabilities": map[string]any{}}, nil); code(err) != jsonrpc2.InvalidRequest {
		t.Fatalf("second initialize: %v, want InvalidRequest", err)
	}
	e.Close()
}

func TestInitializeAdvertisesFeatures(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{Version: "v9"}), lsptest.Config{InitializationOptions: noProfile})
	caps := e.InitializeResult.Capabilities
	opts, ok := caps.ExecuteCommandProvider.Commands, true
	for _, c := range []string{lsp.CommandImplement, lsp.CommandValidate, lsp.CommandLearnStyle} {
		if !strings.Contains(strings.Join(opts, ","), c) {
			ok = false
		}
	}
	if !ok {
		t.Fatalf("commands = %v", opts)
	}
	sync, isOpts := caps.TextDocumentSync.(*protocol.TextDocumentSyncOptions)
	if !isOpts || sync.Change == nil || *sync.Change != protocol.TextDocumentSyncKindIncremental {
		t.Fatalf("textDocumentSync = %#v, want incremental", caps.TextDocumentSync)
	}
	if v, _ := e.InitializeResult.ServerInfo.Version.Get(); e.InitializeResult.ServerInfo.Name != "r2c" || v != "v9" {
		t.Fatalf("serverInfo = %+v", e.InitializeResult.ServerInfo)
	}
}

func TestPositionEncodingNegotiation(t *testing.T) {
	cases := []struct {
		offered []protocol.PositionEncodingKind
		want    protocol.PositionEncodingKind
	}{
		{nil, protocol.PositionEncodingKindUTF16},
		{[]protocol.PositionEncodingKind{"utf-8", "utf-16"}, protocol.PositionEncodingKindUTF8},
		{[]protocol.PositionEncodingKind{"utf-32"}, protocol.PositionEncodingKindUTF32},
	}
	for _, c := range cases {
		e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{PositionEncodings: c.offered, InitializationOptions: noProfile})
		if got := e.InitializeResult.Capabilities.PositionEncoding; got != c.want {
			t.Errorf("offered %v: negotiated %q, want %q", c.offered, got, c.want)
		}
	}
}

func TestUnknownMethodIsMethodNotFoundAndServerKeepsServing(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	err := e.Call("textDocument/frobnicate", map[string]any{}, nil)
	if code(err) != jsonrpc2.MethodNotFound {
		t.Fatalf("got %v, want MethodNotFound", err)
	}
	e.Notify("$/unknownNotification", map[string]any{"x": 1})
	e.Notify("custom/unknown", nil)
	e.CreateBuffer("notes.md", "# Title\n")
	if actions := e.CodeActions("notes.md", protocol.Range{}); len(actions) == 0 {
		t.Fatal("server stopped serving after unknown methods")
	}
}
