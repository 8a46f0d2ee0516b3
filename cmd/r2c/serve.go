package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/sourcegraph/conc"
	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/rag"
)

// serveFlags are r2c serve's flags: the transports vscode-languageclient
// and other LSP clients ask for, and the request log.
type serveFlags struct {
	stdio, nodeIPC  bool
	listen, logFile string
	socket          int
	pipe            string
	clientPID       int
}

func serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "run the language server (stdio, or TCP with --listen or --socket)",
		Long: "Runs r2c's language server over stdin/stdout, as editors start it (--stdio, the default; vscode-languageclient\n" +
			"passes it). --socket=PORT and --pipe=NAME connect to a client listening on 127.0.0.1:PORT or on the Unix\n" +
			"socket NAME (vscode-languageclient's socket and pipe transports). With --listen it accepts TCP connections\n" +
			"instead (one session each), for debugging with a client that connects to a port. Node IPC (--node-ipc) is\n" +
			"not offered: r2c is not a Node program. Settings come from r2c.toml at the workspace root and the editor's\n" +
			"initializationOptions; --log writes every request with its timing.\n" +
			"Exit status: 0 after the client's shutdown and exit, 1 after exit without shutdown, 2 on usage errors.",
		Example: "  r2c serve\n" +
			"  r2c serve --stdio --log /tmp/r2c-lsp.log\n" +
			"  r2c serve --listen 127.0.0.1:4389\n" +
			"  r2c serve --socket=6009",
		Args: noArgs("serve"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), streams(cmd), f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.stdio, "stdio", false, "speak LSP over stdin and stdout (the default)")
	fl.StringVar(&f.listen, "listen", "", "serve TCP connections on `ADDR` (e.g. 127.0.0.1:4389) instead of stdio")
	fl.IntVar(&f.socket, "socket", 0, "connect to a client listening on 127.0.0.1:`PORT` instead of stdio")
	fl.StringVar(&f.pipe, "pipe", "", "connect to a client listening on the Unix socket `NAME` instead of stdio")
	fl.StringVar(&f.logFile, "log", "", "append a request log to `FILE` (overrides server.log_file)")
	// Accepted so that the message below, not "unknown flag", answers it.
	fl.BoolVar(&f.nodeIPC, "node-ipc", false, "not offered (Node IPC needs a Node server): use stdio or --socket")
	_ = fl.MarkHidden("node-ipc")
	// vscode-languageclient passes its pid to Node servers; r2c already
	// exits when the client closes its end of the connection.
	fl.IntVar(&f.clientPID, "clientProcessId", 0, "the client's process id (ignored: r2c exits when its connection closes)")
	_ = fl.MarkHidden("clientProcessId")
	return cmd
}

func runServe(ctx context.Context, s stdio, f serveFlags) error {
	if f.nodeIPC {
		return usagef("serve: --node-ipc is not offered (r2c is not a Node program): use stdio (the default, --stdio) or --socket=PORT")
	}
	transports := 0
	for _, set := range []bool{f.stdio, f.listen != "", f.socket != 0, f.pipe != ""} {
		if set {
			transports++
		}
	}
	if transports > 1 {
		return usagef("serve: choose one transport of --stdio, --listen, --socket and --pipe")
	}
	opts := lsp.Options{
		LogFile:   f.logFile,
		Implement: core.Implement,
		Index:     indexPapers,
		Version:   version,
	}
	switch {
	case f.listen != "":
		ln, err := net.Listen("tcp", f.listen)
		if err != nil {
			return envf("serve: %w", err)
		}
		fmt.Fprintf(s.err, "r2c serve: listening on %s\n", ln.Addr())
		return exitCode(serveListener(ctx, ln, opts, s))
	case f.socket != 0 || f.pipe != "":
		network, addr := "unix", f.pipe
		if f.socket != 0 {
			if f.socket < 0 || f.socket > 65535 {
				return usagef("serve: --socket wants a port between 1 and 65535, got %d", f.socket)
			}
			network, addr = "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(f.socket))
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return envf("serve: connecting to the client at %s: %w (the client must listen there before starting r2c)", addr, err)
		}
		return exitCode(lsp.New(opts).Serve(ctx, conn))
	}
	return exitCode(lsp.New(opts).Serve(ctx, stdioConn{r: pollable(s.in), w: s.out}))
}

// serveListener runs one session per connection until ctx ends.
func serveListener(ctx context.Context, ln net.Listener, opts lsp.Options, s stdio) int {
	var sessions conc.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			sessions.Wait()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return exitOK
			}
			fmt.Fprintf(s.err, "r2c: serve: %v\n", err)
			return exitFail
		}
		sessions.Go(func() {
			code := lsp.New(opts).Serve(ctx, conn)
			fmt.Fprintf(s.err, "r2c serve: session from %s ended (exit code %d)\n", conn.RemoteAddr(), code)
		})
	}
}

// stdioConn joins the process's stdin and stdout into one connection.
type stdioConn struct {
	r io.Reader
	w io.Writer
}

func (c stdioConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c stdioConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c stdioConn) Close() error {
	var errs []error
	if cl, ok := c.r.(io.Closer); ok {
		errs = append(errs, cl.Close())
	}
	if cl, ok := c.w.(io.Closer); ok {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// pollable returns stdin in a form whose Close interrupts a pending Read,
// so the server can exit as soon as the client sends exit: a pipe inherited
// in blocking mode is not watched by Go's poller, and closing it would not
// wake the reader. Terminals are left alone (their mode is shared).
func pollable(r io.Reader) io.Reader {
	f, ok := r.(*os.File)
	if !ok {
		return r
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return r
	}
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return r
	}
	return os.NewFile(uintptr(fd), f.Name())
}

// indexPapers adds papers to the retrieval index for the language server.
func indexPapers(ctx context.Context, cfg config.Config, papers []string, report func(string, float64)) (string, error) {
	emb, err := rag.EmbedderFromConfig(cfg)
	if err != nil {
		return "", err
	}
	ix, err := rag.Open(cfg.Index.Dir, emb)
	if err != nil {
		return "", err
	}
	// Stages in order, each with its share of the bar.
	span := map[string][2]float64{"scan": {0, 10}, "chunk": {10, 30}, "embed": {30, 90}, "save": {90, 99}}
	st, err := ix.Update(ctx, rag.Sources{Papers: papers}, rag.UpdateOptions{Progress: func(p rag.Progress) {
		sp := span[p.Stage]
		pct := sp[0]
		if p.Total > 0 {
			pct += (sp[1] - sp[0]) * float64(p.Done) / float64(p.Total)
		}
		report(fmt.Sprintf("%s %d/%d", p.Stage, p.Done, p.Total), pct)
	}})
	if err != nil {
		return "", err
	}
	if len(st.Failed) > 0 {
		return "", st.Failed[0]
	}
	return fmt.Sprintf("%d chunks written (%d embedded, %d reused); the index holds %d paper chunks",
		st.Chunks, st.Embedded, st.Reused, ix.Count(rag.Papers)), nil
}
