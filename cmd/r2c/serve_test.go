package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/rag"
	"github.com/r2c-ai/r2c/sandbox"
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

// TestServeImplementEndToEnd runs "Implement paper section" through `r2c
// serve` with the real orchestrator against the scripted fake model server
// (real HTTP, real pytest in the sandbox): progress per agent, files created
// through workspace/applyEdit, and pytest passing on them on its own.
func TestServeImplementEndToEnd(t *testing.T) {
	py, err := sandbox.FindPython("")
	if err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest and numpy (Debian: python3-pytest python3-numpy): %v", err)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	paper := orchestratortest.Paper(t)

	e := lsptest.New(t, cliServe(), lsptest.Config{
		InitializationOptions: map[string]any{"endpoint": srv.URL(), "style": map[string]any{"profile": ".r2c/none.json"}},
		Timeout:               3 * time.Minute,
	})
	raw, _ := json.Marshal(map[string]string{"paper": paper, "section": "3.2 Scaled Dot-Product Attention", "targetDir": "attention"})
	var sum lsp.ImplementSummary
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandImplement, Arguments: []protocol.LSPAny{raw}}, &sum); err != nil {
		t.Fatalf("implement: %v", err)
	}
	if sum.Status != "passed" || !sum.Applied || len(sum.Files) == 0 {
		t.Fatalf("summary %+v", sum)
	}
	for _, f := range sum.Files {
		if !strings.HasPrefix(f, e.Path("attention")+string(filepath.Separator)) {
			t.Errorf("file %s outside the target folder", f)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("created file missing: %v", err)
		}
	}
	var messages []string
	for _, p := range e.Snapshot().Progress {
		for _, v := range p.Values {
			if m, ok := v["message"].(string); ok {
				messages = append(messages, m)
			}
		}
		if ok, msg := p.Ended(); !ok || !strings.HasPrefix(msg, "passed") {
			t.Errorf("progress end %v %q", ok, msg)
		}
	}
	for _, agent := range []string{"Analyzer", "Planner", "Implementer", "Validator"} {
		if !strings.Contains(strings.Join(messages, "\n"), agent+":") {
			t.Errorf("no progress step for %s in %q", agent, messages)
		}
	}
	// pytest, on its own, agrees that the created code passes.
	cmd := exec.Command(py.Path, "-m", "pytest", "-q", "-p", "no:cacheprovider", ".")
	cmd.Dir = e.Path("attention")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pytest on the created files: %v\n%s", err, out)
	}
}

// TestServeBinaryExitCodes runs the built binary over real pipes, as an
// editor does: 0 after shutdown then exit, 1 after exit alone.
func TestServeBinaryExitCodes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "r2c")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	frame := func(body string) string { return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body }
	for _, c := range []struct {
		shutdown bool
		want     int
	}{{true, 0}, {false, 1}} {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(stdin, frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`))
		io.WriteString(stdin, frame(`{"jsonrpc":"2.0","method":"initialized","params":{}}`))
		if c.shutdown {
			io.WriteString(stdin, frame(`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`))
		}
		io.WriteString(stdin, frame(`{"jsonrpc":"2.0","method":"exit"}`))
		out, _ := io.ReadAll(stdout) // the server closes stdout when it exits
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.want {
			t.Errorf("shutdown=%v: exit code %d, want %d", c.shutdown, code, c.want)
		}
		if !strings.Contains(string(out), `"capabilities"`) {
			t.Errorf("no initialize result on stdout: %q", out)
		}
		stdin.Close()
	}
}

// TestServeIndexPaperAction indexes a Markdown paper through its code
// action with the real store (offline embedder) and retrieves from it.
func TestServeIndexPaperAction(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	paper := "# Attention\n\n## 3.2 Scaled Dot-Product Attention\n\nWe call our particular attention scaled dot-product attention. " +
		"The input consists of queries and keys of dimension d_k and values of dimension d_v.\n\n## 3.3 Position-wise Feed-Forward Networks\n\n" +
		"Each layer contains a fully connected feed-forward network applied to each position separately.\n"
	e := lsptest.New(t, cliServe(), lsptest.Config{
		Files:                 map[string]string{"paper.md": paper},
		InitializationOptions: noProfileOptions,
	})
	e.OpenFile("paper.md")
	var action *protocol.CodeAction
	for _, a := range e.CodeActions("paper.md", protocol.Range{}, "source") {
		if a.Command.Command == lsp.CommandIndexPaper {
			action = &a
		}
	}
	if action == nil {
		t.Fatal("no Index paper action on a Markdown paper")
	}
	var sum lsp.IndexSummary
	if err := e.ExecuteCommand(context.Background(), action.Command, &sum); err != nil {
		t.Fatalf("index: %v", err)
	}
	if !strings.Contains(sum.Message, "chunks written") {
		t.Fatalf("summary %+v", sum)
	}
	emb, err := rag.EmbedderFromConfig(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := rag.Open(e.Path(".r2c/index"), emb)
	if err != nil {
		t.Fatalf("the index was not written where index.dir points: %v", err)
	}
	chunks, err := ix.Retrieve(context.Background(), "feed-forward network applied to each position", rag.RetrieveOptions{K: 1, Collections: []string{rag.Papers}})
	if err != nil || len(chunks) == 0 || !strings.Contains(chunks[0].Text, "feed-forward") {
		t.Fatalf("retrieve: %v %+v", err, chunks)
	}
}

// vscode-languageclient starts executables with --stdio (its default
// transport), --socket=PORT or --pipe=NAME; the last two connect to a
// server the client listens on. Each must give a working session.
func TestServeTransportsOfVSCodeLanguageClient(t *testing.T) {
	t.Run("stdio", func(t *testing.T) {
		e := lsptest.Start(t, cliServe("--stdio"), lsptest.Config{InitializationOptions: noProfileOptions})
		e.Initialize()
		e.CreateBuffer("bad.py", "def f(:\n    pass\n")
		e.AwaitDiagnostics("bad.py", "a syntax error", func(ds []protocol.Diagnostic) bool { return len(ds) > 0 })
		e.Close()
	})
	for _, transport := range []string{"socket", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			network, addr := "tcp", "127.0.0.1:0"
			if transport == "pipe" {
				network, addr = "unix", filepath.Join(t.TempDir(), "r2c.sock")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			flag := "--pipe=" + addr
			if transport == "socket" {
				flag = "--socket=" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			}
			e := lsptest.New(t, acceptProxy(t, ln, flag), lsptest.Config{InitializationOptions: noProfileOptions})
			e.CreateBuffer("notes.md", "# Method\n")
			if len(e.CodeActions("notes.md", protocol.Range{})) == 0 {
				t.Fatalf("no code actions over --%s", transport)
			}
			e.Close()
		})
	}
}

// acceptProxy starts `r2c serve FLAG`, accepts its connection on ln (as
// the client does) and joins it to the fake editor's pipe.
func acceptProxy(t *testing.T, ln net.Listener, flag string) lsptest.ServeFunc {
	return func(ctx context.Context, rwc io.ReadWriteCloser) int {
		done := make(chan int, 1)
		var stderr strings.Builder
		go func() { done <- run(ctx, strings.NewReader(""), io.Discard, &stderr, []string{"serve", flag}) }()
		conn, err := ln.Accept()
		if err != nil {
			t.Errorf("accept: %v", err)
			return -1
		}
		go func() { _, _ = io.Copy(conn, rwc); conn.Close() }()
		_, _ = io.Copy(rwc, conn)
		rwc.Close()
		return <-done
	}
}

func TestServeRefusesNodeIPCAndTwoTransports(t *testing.T) {
	_, errOut, code := runCLI(t, "serve", "--node-ipc")
	if code != exitUsage || !strings.Contains(errOut, "--node-ipc is not offered") || !strings.Contains(errOut, "--stdio") {
		t.Fatalf("--node-ipc: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "serve", "--stdio", "--listen", "127.0.0.1:0")
	if code != exitUsage || !strings.Contains(errOut, "choose one transport") {
		t.Fatalf("two transports: code %d, stderr %q", code, errOut)
	}
	// Nothing listens on the port of a listener just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, errOut, code = runCLI(t, "serve", "--socket", strconv.Itoa(port))
	if code != exitUsage || !strings.Contains(errOut, "must listen there") {
		t.Fatalf("--socket with no client: code %d, stderr %q", code, errOut)
	}
}
