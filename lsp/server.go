// Package lsp is r2c's language server: the editor-facing side of r2c.
//
// It speaks the Language Server Protocol over go.lsp.dev/jsonrpc2 and keeps
// one file per feature, as gopls does: lifecycle (initialize, shutdown,
// exit), text synchronisation into an incremental document store, style
// diagnostics while typing, code actions and commands (quick fixes, "Validate
// module", "Learn my style", "Implement paper section"), work-done progress
// with cancellation, configuration and a request log. Handlers stay thin and
// call the domain packages; long work runs off the connection's read loop so
// the server can call back into the editor without deadlocking.
//
// Positions below this package are 0-based lines and UTF-8 byte columns; the
// server converts to and from the encoding negotiated with the client
// (UTF-16 unless the client offers another).
package lsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/style"
)

// Options configures a Server. The zero value serves style diagnostics and
// quick fixes; the seams below add the features that need other packages.
type Options struct {
	// LogFile, when set, overrides the server.log_file setting (the --log
	// flag of r2c serve).
	LogFile string
	// Implement runs the paper-to-code graph. Nil: the implement command
	// answers that it is not available in this build.
	Implement Implementer
	// Index adds papers to the retrieval index. Nil: "Index paper" is not
	// offered.
	Index Indexer
	// WriteFiles writes generated files when the client cannot apply
	// workspace edits. Nil: core.WriteFiles, the one exclusive,
	// all-or-nothing writer (tests replace it to inject failures).
	WriteFiles func(dir string, files []core.File) error
	// Version is reported in the initialize result's serverInfo.
	Version string
	// PaperLimits bounds the child process that parses a paper (for
	// r2c.sections, and before Implement or Index read it in-process).
	PaperLimits PaperLimits
}

// serverState is the lifecycle position of a Server.
type serverState int

const (
	stateStarted     serverState = iota // before initialize
	stateInitialized                    // initialize answered
	stateShutdown                       // shutdown answered; only exit is accepted
)

// Server is one language-server session over one connection.
type Server struct {
	opts Options

	conn   jsonrpc2.Conn
	ctx    context.Context // the session's lifetime; cancelled on exit
	cancel context.CancelFunc
	tasks  conc.WaitGroup // background work (diagnostics, on-save validation)

	mu               sync.Mutex
	state            serverState
	closing          bool
	enc              encoding
	caps             clientCaps
	root             string
	initOptions      config.Config
	settings         config.Config
	cfg              config.Config
	profile          *style.Profile
	profilePath      string
	profileHintShown bool
	watchReady       bool // initialized received: file watchers may be registered
	watch            fileWatch
	implementing     map[string]string // target folder → the run writing into it
	inflight         map[jsonrpc2.ID]context.CancelFunc
	exited           chan struct{}
	exitOnce         sync.Once
	exitCode         int

	docs     *documents
	diags    *diagnostics
	progress *progressTracker
	log      *requestLog
}

// New returns a Server ready to Serve one connection.
func New(opts Options) *Server {
	s := &Server{
		opts:     opts,
		cfg:      config.Default(),
		inflight: make(map[jsonrpc2.ID]context.CancelFunc),
		exited:   make(chan struct{}),
		exitCode: 1,
		docs:     newDocuments(),
		log:      newRequestLog(),
	}
	s.diags = newDiagnostics(s)
	s.progress = newProgressTracker(s)
	return s
}

// Serve runs the session over rwc until the client sends exit, the
// connection ends or ctx is cancelled, and returns the process exit code the
// protocol asks for: 0 after shutdown then exit, 1 otherwise.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) int {
	st := newStream(rwc)
	st.onBadFrame = func(err error) { s.log.eventf("rejected frame: %v", err) }
	s.conn = jsonrpc2.NewConn(st)
	s.ctx, s.cancel = context.WithCancel(ctx)
	if s.opts.LogFile != "" {
		s.log.open(s.opts.LogFile)
	}
	s.conn.Go(s.ctx, s.handle)

	select {
	case <-s.exited:
	case <-s.conn.Done():
	case <-ctx.Done():
	}

	s.mu.Lock()
	s.closing = true
	code := s.exitCode
	s.mu.Unlock()
	s.cancel() // request contexts derive from s.ctx: in-flight work stops
	s.diags.stop()

	// Close drains in-flight handlers, then closes the stream. It is waited
	// for only until the deadline: a reader blocked on a terminal's stdin
	// cannot be interrupted, and the process is about to exit anyway, so
	// the closer is then left behind on purpose (conc still recovers it).
	closed := make(chan struct{})
	var closer conc.WaitGroup
	closer.Go(func() {
		defer close(closed)
		_ = s.conn.Close()
	})
	select {
	case <-closed:
		closer.Wait()
	case <-time.After(2 * time.Second):
		_ = rwc.Close()
	}
	s.tasks.Wait()
	s.docs.closeAll()
	s.log.close()
	return code
}

// handlerFunc handles one method; params are valid until it returns.
type handlerFunc func(s *Server, ctx context.Context, params jsonrpc2.RawMessage) (any, error)

// method describes how a method is dispatched.
type method struct {
	fn handlerFunc
	// inline handlers run on the read loop, in wire order. Text
	// synchronisation must be inline: jsonrpc2 would otherwise let a
	// didChange race the request that follows it.
	inline bool
	// beforeInit methods are accepted before initialize.
	beforeInit bool
}

// methods is the one place that lists what the server implements; every
// other request is answered MethodNotFound.
var methods = map[string]method{
	protocol.MethodInitialize:                      {fn: (*Server).initialize, inline: true, beforeInit: true},
	protocol.MethodInitialized:                     {fn: (*Server).initialized, inline: true},
	protocol.MethodShutdown:                        {fn: (*Server).shutdown, inline: true},
	protocol.MethodExit:                            {fn: (*Server).exit, inline: true, beforeInit: true},
	protocol.MethodCancelRequest:                   {fn: (*Server).cancelRequest, inline: true, beforeInit: true},
	protocol.MethodSetTrace:                        {fn: ignore, inline: true},
	protocol.MethodTextDocumentDidOpen:             {fn: (*Server).didOpen, inline: true},
	protocol.MethodTextDocumentDidChange:           {fn: (*Server).didChange, inline: true},
	protocol.MethodTextDocumentDidClose:            {fn: (*Server).didClose, inline: true},
	protocol.MethodTextDocumentDidSave:             {fn: (*Server).didSave, inline: true},
	protocol.MethodWorkspaceDidChangeConfiguration: {fn: (*Server).didChangeConfiguration, inline: true},
	protocol.MethodWorkspaceDidChangeWatchedFiles:  {fn: (*Server).didChangeWatchedFiles, inline: true},
	"window/workDoneProgress/cancel":               {fn: (*Server).workDoneProgressCancel, inline: true},
	protocol.MethodTextDocumentCodeAction:          {fn: (*Server).codeAction},
	protocol.MethodWorkspaceExecuteCommand:         {fn: (*Server).executeCommand},
}

func ignore(*Server, context.Context, jsonrpc2.RawMessage) (any, error) { return nil, nil }

// errServerNotInitialized answers requests that arrive before initialize.
var errServerNotInitialized = jsonrpc2.NewError(jsonrpc2.ServerNotInitialized, "r2c: the server is not initialized yet (send initialize first)")

// handle is the connection's only handler: it routes, enforces the
// lifecycle, makes requests cancellable, recovers panics and logs timing.
func (s *Server) handle(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
	isCall := req.IsCall()
	m, known := methods[req.Method()]
	if !known {
		if isCall {
			s.log.request(req.Method(), req.ID(), 0, jsonrpc2.ErrMethodNotFound)
			return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not found: %q", req.Method())
		}
		// Unknown notifications are ignored ("$/" ones must be, by the spec).
		s.log.eventf("ignored notification %s", req.Method())
		return nil, nil
	}
	if !m.inline {
		jsonrpc2.Async(ctx) // clones the borrowed method and params
	}
	name, id := req.Method(), req.ID()

	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	switch {
	case state == stateStarted && !m.beforeInit:
		if isCall {
			return nil, errServerNotInitialized
		}
		return nil, nil
	case state == stateShutdown && name != protocol.MethodExit && name != protocol.MethodCancelRequest:
		if isCall {
			return nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "r2c: %s after shutdown", name)
		}
		return nil, nil
	}

	if isCall && m.fn != nil && !m.inline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		s.mu.Lock()
		s.inflight[id] = cancel
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.inflight, id)
			s.mu.Unlock()
			cancel()
		}()
	}

	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			s.log.eventf("panic in %s: %v\n%s", name, r, debug.Stack())
			s.logMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: internal error in %s: %v (the server keeps running; the log file has the stack)", name, r))
			result, err = nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "r2c: internal error in %s: %v", name, r)
		}
		if err != nil && isCall && errors.Is(err, context.Canceled) {
			err = protocol.ErrRequestCancelled
		}
		s.log.request(name, id, time.Since(start), err)
		if !isCall && err != nil {
			// A notification has nobody to answer; returning the error would
			// make jsonrpc2 end the connection.
			s.logMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: %s: %v", name, err))
			err = nil
		}
	}()
	return m.fn(s, ctx, req.Params())
}

// decode unmarshals params, answering InvalidParams on failure.
func decode(params jsonrpc2.RawMessage, v any) error {
	if len(params) == 0 {
		return jsonrpc2.NewError(jsonrpc2.InvalidParams, "missing params")
	}
	if err := protocol.Unmarshal(params, v); err != nil {
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params: %v", err)
	}
	return nil
}

// invalidParams wraps a handler's complaint about otherwise well-formed params.
func invalidParams(format string, args ...any) error {
	return jsonrpc2.Errorf(jsonrpc2.InvalidParams, format, args...)
}

// cancelRequest turns $/cancelRequest into context cancellation.
func (s *Server) cancelRequest(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.CancelParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	var id jsonrpc2.ID
	switch v := p.ID.(type) {
	case protocol.Integer:
		id = jsonrpc2.NewNumberID(int64(v))
	case protocol.String:
		id = jsonrpc2.NewStringID(string(v))
	default:
		return nil, invalidParams("malformed cancel id")
	}
	s.mu.Lock()
	cancel := s.inflight[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil, nil
}

// notify sends a notification to the client. It never blocks on the client,
// so it is safe anywhere, including inline handlers.
func (s *Server) notify(method string, params any) {
	if err := s.conn.Notify(context.Background(), method, params); err != nil {
		s.log.eventf("notify %s: %v", method, err)
	}
}

// call sends a request to the client and waits for its answer. It must not
// run on the read loop (inline handlers), or it would wait forever.
func (s *Server) call(ctx context.Context, method string, params, result any) error {
	start := time.Now()
	err := protocol.Call(ctx, s.conn, method, params, result)
	s.log.eventf("call %s → client: %s (%v)", method, time.Since(start).Round(time.Microsecond), errOrOK(err))
	return err
}

func (s *Server) logMessage(typ protocol.MessageType, msg string) {
	s.notify(protocol.MethodWindowLogMessage, &protocol.LogMessageParams{Type: typ, Message: msg})
}

// showMessage tells the user something that needs them, naming the fix.
func (s *Server) showMessage(typ protocol.MessageType, msg string) {
	s.log.eventf("showMessage: %s", msg)
	s.notify(protocol.MethodWindowShowMessage, &protocol.ShowMessageParams{Type: typ, Message: msg})
}

// goBackground runs fn off the read loop, tracked so Serve waits for it;
// panics are recovered and reported.
func (s *Server) goBackground(name string, fn func(ctx context.Context)) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	ctx := s.ctx
	s.tasks.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.eventf("panic in %s: %v\n%s", name, r, debug.Stack())
				s.logMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: internal error in %s: %v", name, r))
			}
		}()
		fn(ctx)
	})
	s.mu.Unlock()
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
