package lsp

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
)

// requestLog is the debugging log: one line per request or notification
// with its duration and outcome, plus server events (rejected frames,
// panics with stacks, calls to the client). With no file it discards.
type requestLog struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

func newRequestLog() *requestLog { return &requestLog{} }

// open starts (or moves) the log to path. Failures are reported on stderr
// because the log is where they would otherwise go.
func (l *requestLog) open(path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if path == l.path {
		return
	}
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	l.path = path
	if path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "r2c serve: log file: %v\n", err)
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "r2c serve: log file: %v\n", err)
		return
	}
	l.f = f
	fmt.Fprintf(f, "%s r2c language server log started (pid %d)\n", time.Now().Format(time.RFC3339Nano), os.Getpid())
}

func (l *requestLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// request records one handled message; a zero id marks a notification.
func (l *requestLog) request(method string, id jsonrpc2.ID, d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	kind := "notification"
	if id.IsValid() {
		kind = fmt.Sprintf("request %v", id)
	}
	fmt.Fprintf(l.f, "%s %s %s %s %s\n", time.Now().Format(time.RFC3339Nano), kind, method, d.Round(time.Microsecond), errOrOK(err))
}

func (l *requestLog) eventf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	fmt.Fprintf(l.f, "%s event %s\n", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}
