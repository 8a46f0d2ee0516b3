package lsp

import (
	"context"
	"fmt"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// progressTracker creates and tracks work-done progress, as gopls'
// progress package does: every report it starts is ended exactly once — as
// completed, failed or cancelled — and its messages are sent with
// context.WithoutCancel, so a cancelled operation still tells the editor
// that it ended.
type progressTracker struct {
	s *Server

	mu     sync.Mutex
	seq    int
	active map[string]*workDone // by token key
}

func newProgressTracker(s *Server) *progressTracker {
	return &progressTracker{s: s, active: make(map[string]*workDone)}
}

// workDone is one progress report in the editor.
type workDone struct {
	t      *progressTracker
	token  protocol.ProgressToken // nil when the client has no progress support
	key    string
	title  string
	cancel func()

	mu      sync.Mutex
	percent uint32
	ended   bool
}

func tokenKey(tok protocol.ProgressToken) string {
	switch v := tok.(type) {
	case protocol.String:
		return "s:" + string(v)
	case protocol.Integer:
		return fmt.Sprintf("i:%d", int32(v))
	}
	return ""
}

// start begins a progress report titled title. clientToken is the request's
// workDoneToken, used as is when present; otherwise a token is created with
// window/workDoneProgress/create when the client supports it. cancel, when
// not nil, makes the report cancellable from the editor. start must not be
// called on the read loop: creating a token waits for the client.
func (t *progressTracker) start(ctx context.Context, title, message string, clientToken protocol.ProgressToken, cancel func()) *workDone {
	ctx = context.WithoutCancel(ctx)
	wd := &workDone{t: t, title: title, cancel: cancel}
	token := clientToken
	if token == nil {
		t.s.mu.Lock()
		supported := t.s.caps.workDoneProgress
		t.s.mu.Unlock()
		if supported {
			t.mu.Lock()
			t.seq++
			tok := protocol.String(fmt.Sprintf("r2c-%d", t.seq))
			t.mu.Unlock()
			if err := t.s.call(ctx, "window/workDoneProgress/create", &protocol.WorkDoneProgressCreateParams{Token: tok}, nil); err != nil {
				t.s.log.eventf("progress create: %v", err)
			} else {
				token = tok
			}
		}
	}
	if token == nil {
		t.s.logMessage(protocol.MessageTypeInfo, fmt.Sprintf("r2c: %s: %s", title, message))
		return wd
	}
	wd.token, wd.key = token, tokenKey(token)
	t.mu.Lock()
	t.active[wd.key] = wd
	t.mu.Unlock()
	cancellable := cancel != nil
	var zero uint32
	wd.send(&protocol.WorkDoneProgressBegin{Kind: "begin", Title: title, Cancellable: &cancellable, Message: &message, Percentage: &zero})
	return wd
}

// report updates the message and, when percent >= 0, the percentage (the
// protocol wants it never to go down).
func (wd *workDone) report(message string, percent float64) {
	wd.mu.Lock()
	if wd.ended {
		wd.mu.Unlock()
		return
	}
	if p := uint32(max(0, min(100, percent))); percent >= 0 && p > wd.percent {
		wd.percent = p
	}
	pct := wd.percent
	wd.mu.Unlock()
	if wd.token == nil {
		wd.t.s.logMessage(protocol.MessageTypeLog, fmt.Sprintf("r2c: %s: %s (%d%%)", wd.title, message, pct))
		return
	}
	wd.send(&protocol.WorkDoneProgressReport{Kind: "report", Message: &message, Percentage: &pct})
}

// end closes the report with a final message; later calls do nothing.
func (wd *workDone) end(message string) {
	wd.mu.Lock()
	if wd.ended {
		wd.mu.Unlock()
		return
	}
	wd.ended = true
	wd.mu.Unlock()
	if wd.token == nil {
		wd.t.s.logMessage(protocol.MessageTypeInfo, fmt.Sprintf("r2c: %s: %s", wd.title, message))
		return
	}
	wd.t.mu.Lock()
	delete(wd.t.active, wd.key)
	wd.t.mu.Unlock()
	wd.send(&protocol.WorkDoneProgressEnd{Kind: "end", Message: &message})
}

func (wd *workDone) send(value any) {
	raw, err := protocol.Marshal(value)
	if err != nil {
		wd.t.s.log.eventf("progress: %v", err)
		return
	}
	wd.t.s.notify(protocol.MethodProgress, &protocol.ProgressParams{Token: wd.token, Value: protocol.LSPAny(raw)})
}

// workDoneProgressCancel handles window/workDoneProgress/cancel.
func (s *Server) workDoneProgressCancel(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.WorkDoneProgressCancelParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	s.progress.mu.Lock()
	wd := s.progress.active[tokenKey(p.Token)]
	s.progress.mu.Unlock()
	if wd != nil && wd.cancel != nil {
		s.log.eventf("progress %q cancelled by the client", wd.title)
		wd.cancel()
	}
	return nil, nil
}

// workDoneToken extracts a request's workDoneToken, nil when absent.
func workDoneToken(p protocol.WorkDoneProgressParams) protocol.ProgressToken {
	return p.WorkDoneToken
}
