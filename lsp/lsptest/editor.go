// Package lsptest drives a language server as a fake editor, the way
// gopls' integration tests do: the real server runs over a real JSON-RPC
// pipe, the editor keeps its own buffers (with its own, independent position
// arithmetic), answers the server's requests (progress tokens, workspace
// edits) and records every notification, and assertions wait for the
// notifications they need — with a timeout, never by sleeping.
package lsptest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sourcegraph/conc"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// DefaultTimeout bounds every Await unless Config.Timeout says otherwise.
// It is generous: a slow CI machine must not fail a correct server.
const DefaultTimeout = 60 * time.Second

// ServeFunc runs a server over rwc and returns its exit code (lsp.Server.Serve).
type ServeFunc func(ctx context.Context, rwc io.ReadWriteCloser) int

// Config describes the editor and its workspace.
type Config struct {
	// Files are written into the workspace (a temporary folder) first.
	Files map[string]string
	// PositionEncodings is sent as general.positionEncodings (nil: none).
	PositionEncodings []protocol.PositionEncodingKind
	// NoApplyEdit makes the editor declare no workspace/applyEdit support.
	NoApplyEdit bool
	// NoProgress makes the editor declare no work-done progress support.
	NoProgress bool
	// RejectEdits makes the editor answer workspace/applyEdit with applied=false.
	RejectEdits bool
	// NoWatchFiles makes the editor declare no dynamic registration for
	// workspace/didChangeWatchedFiles (as Neovim before 0.9 does).
	NoWatchFiles bool
	// NoRelativePatterns makes the editor declare no RelativePattern
	// support for file watchers, so the server must send string globs.
	NoRelativePatterns bool
	// InitializationOptions is sent with initialize (marshalled as JSON).
	InitializationOptions any
	// Timeout bounds each Await (0: DefaultTimeout).
	Timeout time.Duration
}

// Progress is what the editor saw of one work-done progress token.
type Progress struct {
	Token   string
	Created bool             // window/workDoneProgress/create was received
	Values  []map[string]any // $/progress values in order
}

// Kinds lists the values' kinds ("begin", "report", "end").
func (p *Progress) Kinds() []string {
	var out []string
	for _, v := range p.Values {
		k, _ := v["kind"].(string)
		out = append(out, k)
	}
	return out
}

// Ended reports whether the token's last value is "end", and its message.
func (p *Progress) Ended() (bool, string) {
	if len(p.Values) == 0 {
		return false, ""
	}
	last := p.Values[len(p.Values)-1]
	msg, _ := last["message"].(string)
	return last["kind"] == "end", msg
}

// State is everything the editor has recorded; Await predicates read it.
type State struct {
	Diagnostics  map[uri.URI]protocol.PublishDiagnosticsParams // latest per document
	Publications int                                           // publishDiagnostics received
	// Published lists, per document, the version of every publication
	// (-1 when it carried none).
	Published map[uri.URI][]int32
	Messages  []protocol.ShowMessageParams
	Logs      []protocol.LogMessageParams
	Progress  map[string]*Progress
	Edits     []protocol.ApplyWorkspaceEditParams
	// Registrations are the capabilities the server registered
	// dynamically and has not unregistered, by registration id.
	Registrations map[string]Registration
	// Registered counts client/registerCapability requests received.
	Registered int
	// FileEvents lists the file changes the editor reported to the server
	// through workspace/didChangeWatchedFiles.
	FileEvents []protocol.FileEvent
}

// Registration is one dynamically registered capability.
type Registration struct {
	ID, Method string
	// Options is the raw registerOptions.
	Options json.RawMessage
}

// Editor is the fake editor.
type Editor struct {
	t       testing.TB
	cfg     Config
	Dir     string // the workspace root
	conn    jsonrpc2.Conn
	raw     *queuedConn
	cancel  context.CancelFunc
	exit    chan int
	server  conc.WaitGroup
	timeout time.Duration

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every recorded event
	state   State
	buffers map[uri.URI]*buffer
	enc     protocol.PositionEncodingKind

	beforeApplyEdit func()
	closeOnce       sync.Once

	// InitializeResult is the server's answer to initialize.
	InitializeResult protocol.InitializeResult
}

type buffer struct {
	version int32
	text    string
}

// New starts serve over a pipe, initializes it as an editor with the
// workspace described by cfg, and shuts it down when the test ends.
func New(t testing.TB, serve ServeFunc, cfg Config) *Editor {
	t.Helper()
	e := Start(t, serve, cfg)
	e.Initialize()
	t.Cleanup(func() { e.Close() })
	return e
}

// Start starts serve over a pipe without initializing, for lifecycle tests.
func Start(t testing.TB, serve ServeFunc, cfg Config) *Editor {
	t.Helper()
	dir := t.TempDir()
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	for name, text := range cfg.Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clientSide, serverSide := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	e := &Editor{
		t: t, cfg: cfg, Dir: dir, cancel: cancel,
		exit:    make(chan int, 1),
		timeout: cfg.Timeout,
		changed: make(chan struct{}),
		buffers: make(map[uri.URI]*buffer),
		state:   State{Diagnostics: map[uri.URI]protocol.PublishDiagnosticsParams{}, Progress: map[string]*Progress{}, Published: map[uri.URI][]int32{}, Registrations: map[string]Registration{}},
		enc:     protocol.PositionEncodingKindUTF16,
	}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}
	// Not waited for: a server that never returns must fail the test
	// (close's timeout), not hang it.
	e.server.Go(func() { e.exit <- serve(ctx, serverSide) })
	e.raw = newQueuedConn(clientSide)
	e.conn = jsonrpc2.NewConn(jsonrpc2.NewHeaderStream(e.raw))
	e.conn.Go(ctx, e.handle)
	return e
}

// Close ends the session: shutdown and exit if the server still runs.
// It may be called more than once.
func (e *Editor) Close() { e.closeOnce.Do(e.close) }

func (e *Editor) close() {
	select {
	case <-e.conn.Done():
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = protocol.Call(ctx, e.conn, protocol.MethodShutdown, nil, nil)
		_ = e.conn.Notify(ctx, protocol.MethodExit, nil)
		cancel()
	}
	select {
	case code := <-e.exit:
		e.exit <- code
	case <-time.After(10 * time.Second):
		e.t.Errorf("server did not exit within 10s after shutdown/exit")
	}
	e.cancel()
	_ = e.raw.Close()
}

// Initialize sends initialize and initialized.
func (e *Editor) Initialize() {
	e.t.Helper()
	yes, no := true, false
	applyEdit := !e.cfg.NoApplyEdit
	progress := !e.cfg.NoProgress
	root := uri.File(e.Dir)
	params := map[string]any{
		"processId":        os.Getpid(),
		"rootUri":          root,
		"workspaceFolders": []map[string]any{{"uri": root, "name": "ws"}},
		"capabilities": map[string]any{
			"general": map[string]any{"positionEncodings": e.cfg.PositionEncodings},
			"workspace": map[string]any{
				"applyEdit": applyEdit,
				"workspaceEdit": map[string]any{
					"documentChanges":    applyEdit,
					"resourceOperations": []string{"create"},
				},
				"configuration": no,
				"didChangeWatchedFiles": map[string]any{
					"dynamicRegistration":    !e.cfg.NoWatchFiles,
					"relativePatternSupport": !e.cfg.NoRelativePatterns,
				},
			},
			"window": map[string]any{"workDoneProgress": progress},
			"textDocument": map[string]any{
				"publishDiagnostics": map[string]any{"versionSupport": yes},
				"codeAction": map[string]any{"codeActionLiteralSupport": map[string]any{
					"codeActionKind": map[string]any{"valueSet": []string{"quickfix", "refactor", "source"}}}},
			},
		},
	}
	if e.cfg.PositionEncodings == nil {
		delete(params["capabilities"].(map[string]any), "general")
	}
	if e.cfg.InitializationOptions != nil {
		params["initializationOptions"] = e.cfg.InitializationOptions
	}
	var res protocol.InitializeResult
	if err := e.Call(protocol.MethodInitialize, params, &res); err != nil {
		e.t.Fatalf("initialize: %v", err)
	}
	e.InitializeResult = res
	e.mu.Lock()
	if res.Capabilities.PositionEncoding != "" {
		e.enc = res.Capabilities.PositionEncoding
	}
	e.mu.Unlock()
	e.Notify(protocol.MethodInitialized, map[string]any{})
}

// Call sends a request and waits for its answer.
func (e *Editor) Call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	return e.CallContext(ctx, method, params, result)
}

// CallContext sends a request; cancelling ctx sends $/cancelRequest.
func (e *Editor) CallContext(ctx context.Context, method string, params, result any) error {
	return protocol.Call(ctx, e.conn, method, params, result)
}

// Notify sends a notification, failing the test if it cannot be written.
func (e *Editor) Notify(method string, params any) {
	e.t.Helper()
	if err := e.conn.Notify(context.Background(), method, params); err != nil {
		e.t.Fatalf("notify %s: %v", method, err)
	}
}

// WriteRaw writes bytes straight to the server, between whole frames.
func (e *Editor) WriteRaw(b []byte) {
	e.t.Helper()
	if _, err := e.raw.Write(b); err != nil {
		e.t.Fatalf("raw write: %v", err)
	}
}

// ExitCode waits for the server to return and gives its exit code.
func (e *Editor) ExitCode() int {
	e.t.Helper()
	select {
	case code := <-e.exit:
		e.exit <- code // keep it for Close
		return code
	case <-time.After(e.timeout):
		e.t.Fatalf("server did not exit within %v", e.timeout)
		return -1
	}
}

// URI returns the URI of a workspace-relative path.
func (e *Editor) URI(rel string) uri.URI { return uri.File(e.Path(rel)) }

// Path returns the absolute path of a workspace-relative path.
func (e *Editor) Path(rel string) string { return filepath.Join(e.Dir, filepath.FromSlash(rel)) }

func languageID(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".py":
		return "python"
	case ".md":
		return "markdown"
	case ".tex":
		return "tex"
	}
	return "plaintext"
}

// OpenFile opens a workspace file as a buffer.
func (e *Editor) OpenFile(rel string) {
	e.t.Helper()
	b, err := os.ReadFile(e.Path(rel))
	if err != nil {
		e.t.Fatalf("open %s: %v", rel, err)
	}
	e.CreateBuffer(rel, string(b))
}

// CreateBuffer opens a buffer with text that need not be on disk.
func (e *Editor) CreateBuffer(rel, text string) {
	e.t.Helper()
	u := e.URI(rel)
	e.mu.Lock()
	e.buffers[u] = &buffer{version: 1, text: text}
	e.mu.Unlock()
	e.Notify(protocol.MethodTextDocumentDidOpen, map[string]any{"textDocument": map[string]any{
		"uri": u, "languageId": languageID(rel), "version": 1, "text": text,
	}})
}

// BufferText returns the editor's text of a buffer.
func (e *Editor) BufferText(rel string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.buffers[e.URI(rel)]; b != nil {
		return b.text
	}
	return ""
}

// BufferVersion returns a buffer's version.
func (e *Editor) BufferVersion(rel string) int32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.buffers[e.URI(rel)]; b != nil {
		return b.version
	}
	return 0
}

// Edit is one change in the negotiated encoding.
type Edit struct {
	Range protocol.Range
	Text  string
}

// EditBuffer applies edits to the editor's buffer and sends them as one
// incremental didChange.
func (e *Editor) EditBuffer(rel string, edits ...Edit) {
	e.t.Helper()
	u := e.URI(rel)
	e.mu.Lock()
	b := e.buffers[u]
	if b == nil {
		e.mu.Unlock()
		e.t.Fatalf("edit %s: not open", rel)
	}
	changes := make([]map[string]any, len(edits))
	for i, ed := range edits {
		text, err := applyEdit(b.text, e.enc, ed.Range, ed.Text)
		if err != nil {
			e.mu.Unlock()
			e.t.Fatalf("edit %s: %v", rel, err)
		}
		b.text = text
		changes[i] = map[string]any{"range": ed.Range, "text": ed.Text}
	}
	b.version++
	version := b.version
	e.mu.Unlock()
	e.Notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument":   map[string]any{"uri": u, "version": version},
		"contentChanges": changes,
	})
}

// EditBufferAtVersion is EditBuffer with the version the didChange carries
// chosen by the test (a misbehaving client's versions may go backwards).
func (e *Editor) EditBufferAtVersion(rel string, version int32, edits ...Edit) {
	e.t.Helper()
	e.mu.Lock()
	b := e.buffers[e.URI(rel)]
	if b == nil {
		e.mu.Unlock()
		e.t.Fatalf("edit %s: not open", rel)
	}
	b.version = version - 1 // EditBuffer increments it
	e.mu.Unlock()
	e.EditBuffer(rel, edits...)
}

// WriteFile writes a workspace file on disk, as another program would, and
// — like an editor's file watcher — reports the change with
// workspace/didChangeWatchedFiles when a watcher the server registered
// matches the path. It reports whether one did.
func (e *Editor) WriteFile(rel, text string) bool {
	e.t.Helper()
	path := e.Path(rel)
	_, statErr := os.Stat(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	typ, kind := protocol.FileChangeTypeChanged, protocol.WatchKindChange
	if statErr != nil {
		typ, kind = protocol.FileChangeTypeCreated, protocol.WatchKindCreate
	}
	return e.reportFileEvent(path, typ, kind)
}

// RemoveFile deletes a workspace file and reports it as WriteFile does.
func (e *Editor) RemoveFile(rel string) bool {
	e.t.Helper()
	path := e.Path(rel)
	if err := os.Remove(path); err != nil {
		e.t.Fatal(err)
	}
	return e.reportFileEvent(path, protocol.FileChangeTypeDeleted, protocol.WatchKindDelete)
}

func (e *Editor) reportFileEvent(path string, typ protocol.FileChangeType, kind protocol.WatchKind) bool {
	e.t.Helper()
	e.mu.Lock()
	regs := make([]Registration, 0, len(e.state.Registrations))
	for _, r := range e.state.Registrations {
		regs = append(regs, r)
	}
	e.mu.Unlock()
	matched := false
	for _, r := range regs {
		if r.Method != protocol.MethodWorkspaceDidChangeWatchedFiles {
			continue
		}
		ok, err := watchersMatch(r.Options, path, kind)
		if err != nil {
			e.t.Errorf("registration %s: %v", r.ID, err)
		}
		matched = matched || ok
	}
	if !matched {
		return false
	}
	ev := protocol.FileEvent{URI: uri.File(path), Type: typ}
	e.record(func(s *State) { s.FileEvents = append(s.FileEvents, ev) })
	e.Notify(protocol.MethodWorkspaceDidChangeWatchedFiles, map[string]any{"changes": []protocol.FileEvent{ev}})
	return true
}

// watchersMatch reports whether a didChangeWatchedFiles registration's
// watchers cover path for an event of kind.
func watchersMatch(options json.RawMessage, path string, kind protocol.WatchKind) (bool, error) {
	var opts struct {
		Watchers []struct {
			GlobPattern json.RawMessage `json:"globPattern"`
			Kind        *uint32         `json:"kind"`
		} `json:"watchers"`
	}
	if err := json.Unmarshal(options, &opts); err != nil {
		return false, fmt.Errorf("registerOptions: %w", err)
	}
	for _, w := range opts.Watchers {
		if w.Kind != nil && *w.Kind&uint32(kind) == 0 {
			continue
		}
		var pattern string
		target := filepath.ToSlash(path)
		if json.Unmarshal(w.GlobPattern, &pattern) != nil {
			var rel struct {
				BaseURI json.RawMessage `json:"baseUri"`
				Pattern string          `json:"pattern"`
			}
			if err := json.Unmarshal(w.GlobPattern, &rel); err != nil {
				return false, fmt.Errorf("globPattern %s: %w", w.GlobPattern, err)
			}
			var base string
			if json.Unmarshal(rel.BaseURI, &base) != nil { // a WorkspaceFolder
				var folder struct {
					URI string `json:"uri"`
				}
				if err := json.Unmarshal(rel.BaseURI, &folder); err != nil {
					return false, fmt.Errorf("baseUri %s: %w", rel.BaseURI, err)
				}
				base = folder.URI
			}
			r, err := filepath.Rel(uri.URI(base).FsPath(), path)
			if err != nil || r == ".." || strings.HasPrefix(r, "../") {
				continue
			}
			pattern, target = rel.Pattern, filepath.ToSlash(r)
		}
		ok, err := globMatch(pattern, target)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// globMatch matches the LSP glob syntax: "*" and "?" within one path
// segment, "**" across segments, "{a,b}" alternatives and "[...]" classes.
func globMatch(pattern, name string) (bool, error) {
	var re strings.Builder
	re.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			i++
			if i+1 < len(pattern) && pattern[i+1] == '/' {
				i++
				re.WriteString("(?:.*/)?")
			} else {
				re.WriteString(".*")
			}
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		case c == '{':
			depth++
			re.WriteString("(?:")
		case c == '}' && depth > 0:
			depth--
			re.WriteString(")")
		case c == ',' && depth > 0:
			re.WriteString("|")
		case c == '[':
			j := strings.IndexByte(pattern[i:], ']')
			if j < 0 {
				return false, fmt.Errorf("glob %q: unclosed [", pattern)
			}
			class := pattern[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			re.WriteString("[" + class + "]")
			i += j
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return false, fmt.Errorf("glob %q: %w", pattern, err)
	}
	return rx.MatchString(name), nil
}

// SaveBuffer writes a buffer to disk and sends didSave.
func (e *Editor) SaveBuffer(rel string) {
	e.t.Helper()
	if err := os.WriteFile(e.Path(rel), []byte(e.BufferText(rel)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.Notify(protocol.MethodTextDocumentDidSave, map[string]any{"textDocument": map[string]any{"uri": e.URI(rel)}})
}

// CodeActions requests the code actions for a range of a buffer.
func (e *Editor) CodeActions(rel string, rng protocol.Range, only ...protocol.CodeActionKind) []protocol.CodeAction {
	e.t.Helper()
	ctxMap := map[string]any{"diagnostics": []any{}}
	if len(only) > 0 {
		ctxMap["only"] = only
	}
	var actions []protocol.CodeAction
	if err := e.Call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": e.URI(rel)},
		"range":        rng,
		"context":      ctxMap,
	}, &actions); err != nil {
		e.t.Fatalf("codeAction %s: %v", rel, err)
	}
	return actions
}

// ExecuteCommand runs a command and decodes its result into result.
func (e *Editor) ExecuteCommand(ctx context.Context, cmd protocol.Command, result any) error {
	args := cmd.Arguments
	if args == nil {
		args = []protocol.LSPAny{}
	}
	return e.CallContext(ctx, protocol.MethodWorkspaceExecuteCommand, map[string]any{"command": cmd.Command, "arguments": args}, result)
}

// ApplyCodeAction applies a code action's edit to the buffers (sending
// didChange, as an editor does) and runs its command, if any.
func (e *Editor) ApplyCodeAction(a protocol.CodeAction) error {
	e.t.Helper()
	if a.Edit != nil {
		if err := e.applyWorkspaceEdit(*a.Edit, true); err != nil {
			return err
		}
	}
	if a.Command.Command != "" {
		return e.ExecuteCommand(context.Background(), a.Command, nil)
	}
	return nil
}

// SetBeforeApplyEdit installs a hook the editor runs when a
// workspace/applyEdit arrives, before applying it: a user typing meanwhile.
func (e *Editor) SetBeforeApplyEdit(hook func()) {
	e.mu.Lock()
	e.beforeApplyEdit = hook
	e.mu.Unlock()
}

// Snapshot returns a copy of the recorded state.
func (e *Editor) Snapshot() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.state
	s.Diagnostics = make(map[uri.URI]protocol.PublishDiagnosticsParams, len(e.state.Diagnostics))
	for k, v := range e.state.Diagnostics {
		s.Diagnostics[k] = v
	}
	s.Published = make(map[uri.URI][]int32, len(e.state.Published))
	for k, v := range e.state.Published {
		s.Published[k] = slices.Clone(v)
	}
	s.Messages = slices.Clone(e.state.Messages)
	s.Logs = slices.Clone(e.state.Logs)
	s.Edits = slices.Clone(e.state.Edits)
	s.FileEvents = slices.Clone(e.state.FileEvents)
	s.Registrations = make(map[string]Registration, len(e.state.Registrations))
	for k, v := range e.state.Registrations {
		s.Registrations[k] = v
	}
	s.Progress = make(map[string]*Progress, len(e.state.Progress))
	for k, v := range e.state.Progress {
		c := *v
		c.Values = slices.Clone(v.Values)
		s.Progress[k] = &c
	}
	return s
}

// Await waits until pred holds for the recorded state, failing the test
// (with what was recorded) after the timeout.
func (e *Editor) Await(what string, pred func(*State) bool) State {
	e.t.Helper()
	deadline := time.NewTimer(e.timeout)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		ok := pred(&e.state)
		ch := e.changed
		e.mu.Unlock()
		if ok {
			return e.Snapshot()
		}
		select {
		case <-ch:
		case <-deadline.C:
			s := e.Snapshot()
			dump, _ := json.MarshalIndent(map[string]any{"diagnostics": s.Diagnostics, "messages": s.Messages, "progress": s.Progress}, "", "  ")
			e.t.Fatalf("timed out after %v waiting for %s; editor state:\n%s", e.timeout, what, truncate(string(dump), 6000))
			return s
		}
	}
}

// AwaitDiagnostics waits for diagnostics of a buffer, at its current
// version, that satisfy pred, and returns them.
func (e *Editor) AwaitDiagnostics(rel string, what string, pred func([]protocol.Diagnostic) bool) []protocol.Diagnostic {
	e.t.Helper()
	u := e.URI(rel)
	version := e.BufferVersion(rel)
	s := e.Await(fmt.Sprintf("diagnostics of %s (version %d): %s", rel, version, what), func(s *State) bool {
		p, ok := s.Diagnostics[u]
		if !ok {
			return false
		}
		if v, has := p.Version.Get(); has && version > 0 && v != version {
			return false
		}
		return pred(p.Diagnostics)
	})
	return s.Diagnostics[u].Diagnostics
}

func (e *Editor) record(f func(s *State)) {
	e.mu.Lock()
	f(&e.state)
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

// handle answers the server's requests and records its notifications.
func (e *Editor) handle(_ context.Context, req *jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case protocol.MethodTextDocumentPublishDiagnostics:
		var p protocol.PublishDiagnosticsParams
		if err := protocol.Unmarshal(req.Params(), &p); err != nil {
			e.t.Errorf("bad publishDiagnostics: %v", err)
			return nil, nil
		}
		v, ok := p.Version.Get()
		if !ok {
			v = -1
		}
		e.record(func(s *State) {
			s.Diagnostics[p.URI] = p
			s.Publications++
			s.Published[p.URI] = append(s.Published[p.URI], v)
		})
	case protocol.MethodWindowShowMessage:
		var p protocol.ShowMessageParams
		_ = protocol.Unmarshal(req.Params(), &p)
		e.record(func(s *State) { s.Messages = append(s.Messages, p) })
	case protocol.MethodWindowLogMessage:
		var p protocol.LogMessageParams
		_ = protocol.Unmarshal(req.Params(), &p)
		e.record(func(s *State) { s.Logs = append(s.Logs, p) })
	case "window/workDoneProgress/create":
		var p struct {
			Token json.RawMessage `json:"token"`
		}
		_ = json.Unmarshal(req.Params(), &p)
		tok := tokenString(p.Token)
		e.record(func(s *State) { s.progressFor(tok).Created = true })
		return nil, nil
	case protocol.MethodProgress:
		var p struct {
			Token json.RawMessage `json:"token"`
			Value map[string]any  `json:"value"`
		}
		_ = json.Unmarshal(req.Params(), &p)
		tok := tokenString(p.Token)
		e.record(func(s *State) { pr := s.progressFor(tok); pr.Values = append(pr.Values, p.Value) })
	case protocol.MethodClientRegisterCapability:
		var p struct {
			Registrations []struct {
				ID              string          `json:"id"`
				Method          string          `json:"method"`
				RegisterOptions json.RawMessage `json:"registerOptions"`
			} `json:"registrations"`
		}
		if err := json.Unmarshal(req.Params(), &p); err != nil {
			return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "registerCapability: %v", err)
		}
		e.record(func(s *State) {
			s.Registered++
			for _, r := range p.Registrations {
				s.Registrations[r.ID] = Registration{ID: r.ID, Method: r.Method, Options: r.RegisterOptions}
			}
		})
		return nil, nil
	case protocol.MethodClientUnregisterCapability:
		var p struct {
			// The specification's misspelling is the wire name.
			Unregisterations []struct {
				ID string `json:"id"`
			} `json:"unregisterations"`
		}
		if err := json.Unmarshal(req.Params(), &p); err != nil {
			return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "unregisterCapability: %v", err)
		}
		e.record(func(s *State) {
			for _, r := range p.Unregisterations {
				delete(s.Registrations, r.ID)
			}
		})
		return nil, nil
	case "workspace/applyEdit":
		var p protocol.ApplyWorkspaceEditParams
		if err := protocol.Unmarshal(req.Params(), &p); err != nil {
			return nil, err
		}
		e.record(func(s *State) { s.Edits = append(s.Edits, p) })
		e.mu.Lock()
		hook := e.beforeApplyEdit
		e.mu.Unlock()
		if hook != nil {
			hook()
		}
		if e.cfg.RejectEdits {
			reason := "rejected by the test editor"
			return protocol.ApplyWorkspaceEditResult{Applied: false, FailureReason: &reason}, nil
		}
		if err := e.applyWorkspaceEdit(p.Edit, false); err != nil {
			reason := err.Error()
			return protocol.ApplyWorkspaceEditResult{Applied: false, FailureReason: &reason}, nil
		}
		return protocol.ApplyWorkspaceEditResult{Applied: true}, nil
	default:
		if req.IsCall() {
			return nil, jsonrpc2.ErrMethodNotFound
		}
	}
	return nil, nil
}

func (s *State) progressFor(tok string) *Progress {
	p := s.Progress[tok]
	if p == nil {
		p = &Progress{Token: tok}
		s.Progress[tok] = p
	}
	return p
}

func tokenString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// applyWorkspaceEdit applies an edit as an editor does: open buffers are
// edited in memory (with a version check), other files on disk; CreateFile
// refuses to overwrite. notify sends didChange for edited buffers (for code
// actions the editor applies itself; for workspace/applyEdit too, when set).
func (e *Editor) applyWorkspaceEdit(we protocol.WorkspaceEdit, notify bool) error {
	type pending struct {
		rel   string
		edits []Edit
	}
	var toNotify []pending
	apply := func(u uri.URI, version *int32, edits []protocol.TextEdit) error {
		e.mu.Lock()
		b := e.buffers[u]
		if b != nil {
			if version != nil && *version != b.version {
				e.mu.Unlock()
				return fmt.Errorf("%s: version %d does not match the buffer's %d", u, *version, b.version)
			}
			e.mu.Unlock()
			rel, _ := filepath.Rel(e.Dir, u.FsPath())
			var list []Edit
			for _, te := range edits {
				list = append(list, Edit{Range: te.Range, Text: te.NewText})
			}
			toNotify = append(toNotify, pending{rel: filepath.ToSlash(rel), edits: list})
			return nil
		}
		enc := e.enc
		e.mu.Unlock()
		path := u.FsPath()
		old, _ := os.ReadFile(path)
		text := string(old)
		// Apply from the end so earlier ranges stay valid.
		sorted := slices.Clone(edits)
		slices.SortFunc(sorted, func(a, b protocol.TextEdit) int {
			if a.Range.Start.Line != b.Range.Start.Line {
				return int(b.Range.Start.Line) - int(a.Range.Start.Line)
			}
			return int(b.Range.Start.Character) - int(a.Range.Start.Character)
		})
		for _, te := range sorted {
			var err error
			if text, err = applyEdit(text, enc, te.Range, te.NewText); err != nil {
				return err
			}
		}
		return os.WriteFile(path, []byte(text), 0o644)
	}
	for u, edits := range we.Changes {
		if err := apply(u, nil, edits); err != nil {
			return err
		}
	}
	for _, dc := range we.DocumentChanges {
		switch c := dc.(type) {
		case *protocol.CreateFile:
			path := c.URI.FsPath()
			if _, err := os.Stat(path); err == nil {
				if c.Options == nil || c.Options.Overwrite == nil || !*c.Options.Overwrite {
					return fmt.Errorf("%s exists", path)
				}
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				return err
			}
		case *protocol.TextDocumentEdit:
			var edits []protocol.TextEdit
			for _, el := range c.Edits {
				if te, ok := el.(*protocol.TextEdit); ok {
					edits = append(edits, *te)
				}
			}
			if err := apply(c.TextDocument.URI, c.TextDocument.Version, edits); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unsupported document change %T", dc)
		}
	}
	if notify || len(toNotify) > 0 {
		for _, p := range toNotify {
			// A buffer edit's ranges refer to the text before the edit;
			// apply from the end, one change at a time.
			slices.SortFunc(p.edits, func(a, b Edit) int {
				if a.Range.Start.Line != b.Range.Start.Line {
					return int(b.Range.Start.Line) - int(a.Range.Start.Line)
				}
				return int(b.Range.Start.Character) - int(a.Range.Start.Character)
			})
			e.EditBuffer(p.rel, p.edits...)
		}
	}
	return nil
}

// applyEdit replaces rng of text (positions in enc) with newText. It is the
// editor's own position arithmetic, written independently of the server's.
func applyEdit(text string, enc protocol.PositionEncodingKind, rng protocol.Range, newText string) (string, error) {
	start, err := offsetOf(text, enc, rng.Start)
	if err != nil {
		return "", err
	}
	end, err := offsetOf(text, enc, rng.End)
	if err != nil {
		return "", err
	}
	if end < start {
		return "", fmt.Errorf("range end before start")
	}
	return text[:start] + newText + text[end:], nil
}

func offsetOf(text string, enc protocol.PositionEncodingKind, p protocol.Position) (int, error) {
	lines := strings.SplitAfter(text, "\n")
	if int(p.Line) >= len(lines) {
		return 0, fmt.Errorf("line %d beyond %d lines", p.Line, len(lines))
	}
	off := 0
	for _, l := range lines[:p.Line] {
		off += len(l)
	}
	line := strings.TrimSuffix(strings.TrimSuffix(lines[p.Line], "\n"), "\r")
	switch enc {
	case protocol.PositionEncodingKindUTF8:
		return off + min(int(p.Character), len(line)), nil
	case protocol.PositionEncodingKindUTF32:
		runes := []rune(line)
		n := min(int(p.Character), len(runes))
		return off + len(string(runes[:n])), nil
	default:
		units := utf16.Encode([]rune(line))
		n := min(int(p.Character), len(units))
		return off + len(string(utf16.Decode(units[:n]))), nil
	}
}

// PositionOf returns the position of the first occurrence of substr in a
// buffer, in the negotiated encoding.
func (e *Editor) PositionOf(rel, substr string) protocol.Position {
	e.t.Helper()
	text := e.BufferText(rel)
	i := strings.Index(text, substr)
	if i < 0 {
		e.t.Fatalf("%q not found in %s", substr, rel)
	}
	e.mu.Lock()
	enc := e.enc
	e.mu.Unlock()
	before := text[:i]
	line := strings.Count(before, "\n")
	col := before[strings.LastIndex(before, "\n")+1:]
	var n int
	switch enc {
	case protocol.PositionEncodingKindUTF8:
		n = len(col)
	case protocol.PositionEncodingKindUTF32:
		n = utf8.RuneCountInString(col)
	default:
		n = len(utf16.Encode([]rune(col)))
	}
	return protocol.Position{Line: uint32(line), Character: uint32(n)}
}

// queuedConn is the editor's end of the pipe. Writes are queued and sent in
// order by one writer goroutine, so a write never blocks: real editors write
// asynchronously too, and a net.Pipe is unbuffered, so an editor whose read
// loop blocked on writing an answer while the server's read loop blocked on
// writing a notification would deadlock — a deadlock no real client has.
// Whole Write calls stay whole, so WriteRaw never splits a frame.
type queuedConn struct {
	net.Conn

	mu     sync.Mutex
	wake   *sync.Cond
	queue  [][]byte
	closed bool
	err    error
	writer conc.WaitGroup
}

func newQueuedConn(c net.Conn) *queuedConn {
	q := &queuedConn{Conn: c}
	q.wake = sync.NewCond(&q.mu)
	q.writer.Go(q.drain)
	return q
}

func (q *queuedConn) Write(b []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, net.ErrClosed
	}
	if q.err != nil {
		return 0, q.err
	}
	q.queue = append(q.queue, slices.Clone(b))
	q.wake.Signal()
	return len(b), nil
}

// drain writes queued messages until the connection is closed.
func (q *queuedConn) drain() {
	for {
		q.mu.Lock()
		for len(q.queue) == 0 && !q.closed {
			q.wake.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		b := q.queue[0]
		q.queue = q.queue[1:]
		q.mu.Unlock()
		if _, err := q.Conn.Write(b); err != nil {
			q.mu.Lock()
			q.err = err
			q.queue = nil
			q.mu.Unlock()
		}
	}
}

// Close closes the pipe (unblocking a pending write) and stops the writer.
func (q *queuedConn) Close() error {
	q.mu.Lock()
	q.closed = true
	q.wake.Broadcast()
	q.mu.Unlock()
	err := q.Conn.Close()
	q.writer.Wait()
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n…"
	}
	return s
}
