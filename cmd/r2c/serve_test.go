package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp/lsptest"
)

var noProfileOptions = map[string]any{"style": map[string]any{"profile": ".r2c/none.json"}}

// cliServe drives `r2c serve` exactly as an editor does: the session's
// bytes are the command's stdin and stdout.
func cliServe(args ...string) lsptest.ServeFunc {
	return func(ctx context.Context, rwc io.ReadWriteCloser) int {
		var stderr strings.Builder
		return run(ctx, rwc, rwc, &stderr, append([]string{"serve"}, args...))
	}
}

func TestServeOverStdioWithLog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "lsp.log")
	e := lsptest.Start(t, cliServe("--log", logPath), lsptest.Config{InitializationOptions: noProfileOptions})
	e.Initialize()
	e.CreateBuffer("bad.py", "def f(:\n    pass\n")
	e.AwaitDiagnostics("bad.py", "a syntax error", func(ds []protocol.Diagnostic) bool { return len(ds) > 0 })
	if err := e.Call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Notify(protocol.MethodExit, nil)
	if code := e.ExitCode(); code != exitOK {
		t.Fatalf("exit code %d, want %d", code, exitOK)
	}
	e.Close()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{"request 1 initialize", "notification textDocument/didOpen", "shutdown"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestServeListenServesTCPSessions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, strings.NewReader(""), io.Discard, pw, []string{"serve", "--listen", "127.0.0.1:0"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "r2c serve: listening on "))

	// Two sessions in turn, each a proxy from the fake editor's pipe to TCP.
	for i := 0; i < 2; i++ {
		e := lsptest.New(t, dialProxy(t, addr), lsptest.Config{InitializationOptions: noProfileOptions})
		e.CreateBuffer("notes.md", "# Method\n")
		if len(e.CodeActions("notes.md", protocol.Range{})) == 0 {
			t.Fatal("no code actions over TCP")
		}
		e.Close()
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("serve --listen returned %d after cancellation", code)
	}
}

func dialProxy(t *testing.T, addr string) lsptest.ServeFunc {
	return func(ctx context.Context, rwc io.ReadWriteCloser) int {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("dial: %v", err)
			return -1
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = io.Copy(conn, rwc); conn.(*net.TCPConn).CloseWrite() }()
		go func() { defer wg.Done(); _, _ = io.Copy(rwc, conn); rwc.Close() }()
		wg.Wait()
		conn.Close()
		return 0
	}
}

func TestServeRejectsArguments(t *testing.T) {
	_, errOut, code := runCLI(t, "serve", "extra")
	if code != exitUsage || !strings.Contains(errOut, "unexpected arguments") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "serve", "--listen", "256.0.0.1:99999")
	if code != exitUsage || !strings.Contains(errOut, "serve:") {
		t.Fatalf("bad address: code %d, stderr %q", code, errOut)
	}
}
