package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r2c-ai/r2c/runstore"
)

// OpenAPI is the service's description (OpenAPI 3.1), served at
// /openapi.json and kept in the repository as api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Defaults for Options' zero fields.
const (
	DefaultMaxConcurrent  = 2
	DefaultQueue          = 16
	DefaultMaxBody        = 8 << 20
	DefaultRequestTimeout = 10 * time.Minute
	DefaultRunTimeout     = 60 * time.Minute
	// retryAfterSeconds is what a 429 tells the client to wait: about one
	// validation's time.
	retryAfterSeconds = 5
)

// Options configure a Server. Zero values take the defaults above.
type Options struct {
	// Root is the workspace the service works in: its r2c.toml, style
	// profile, run records and run store. Required.
	Root string
	// Token is the bearer token every /v1 request must carry. Empty only
	// on loopback (see CheckListen).
	Token string
	// MaxConcurrent bounds validations and implement runs in flight.
	MaxConcurrent int
	// Queue bounds admitted work waiting for a slot; beyond it, 429.
	Queue int
	// MaxBody bounds a request body in bytes; beyond it, 413.
	MaxBody int64
	// AllowedRoots are the folders whose files requests may name by path;
	// empty means Root only. Paths are taken relative to the first root
	// that holds them and may not leave it, symlinks included.
	AllowedRoots []string
	// RequestTimeout bounds a synchronous request (validate, papers).
	RequestTimeout time.Duration
	// RunTimeout bounds an implement run.
	RunTimeout time.Duration
	// Store receives a row per finished run; nil opens Root/.r2c/runs.db.
	Store *runstore.Store
	// Log receives one line per run and per server error; nil discards.
	Log io.Writer
	// HeaderTimeout bounds how long a client may take to send its request
	// headers (slow-loris clients); default 10 s.
	HeaderTimeout time.Duration
}

// Server is the HTTP service. Create it with New, serve Handler, and call
// Shutdown to stop: it cancels what is still running after its deadline
// and records every run's final state.
type Server struct {
	opts      Options
	tokenHash [32]byte
	adm       *admission
	met       *metrics
	store     *runstore.Store
	ownsStore bool
	runs      *runManager
	mux       *http.ServeMux

	// baseCtx is the parent of every run; cancelled by Shutdown.
	baseCtx    context.Context
	cancelRuns context.CancelFunc
	closing    atomic.Bool
	logMu      sync.Mutex
}

// New makes a Server for opts.Root.
func New(opts Options) (*Server, error) {
	if opts.Root == "" {
		return nil, errors.New("api: no workspace root")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("api: workspace root: %w", err)
	}
	opts.Root = root
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.Queue < 0 {
		return nil, fmt.Errorf("api: queue %d: want 0 or more", opts.Queue)
	}
	if opts.Queue == 0 {
		opts.Queue = DefaultQueue
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.RunTimeout <= 0 {
		opts.RunTimeout = DefaultRunTimeout
	}
	if len(opts.AllowedRoots) == 0 {
		opts.AllowedRoots = []string{root}
	}
	for i, r := range opts.AllowedRoots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("api: allowed root %s: %w", r, err)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		opts.AllowedRoots[i] = abs
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = 10 * time.Second
	}
	s := &Server{opts: opts, adm: newAdmission(opts.MaxConcurrent, opts.Queue)}
	if opts.Token != "" {
		s.tokenHash = sha256.Sum256([]byte(opts.Token))
	}
	s.store = opts.Store
	if s.store == nil {
		st, err := runstore.Open(filepath.Join(root, ".r2c", runstore.FileName))
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		s.store, s.ownsStore = st, true
	}
	s.met = newMetrics(func() float64 { return float64(s.adm.queued()) }, func() float64 { return float64(s.adm.running.Load()) })
	s.baseCtx, s.cancelRuns = context.WithCancel(context.Background())
	s.runs = newRunManager(s)
	s.routes()
	return s, nil
}

// CheckListen refuses a listen address that is not loopback when no token
// is configured: an unauthenticated service that runs generated code must
// never be reachable from another machine.
func CheckListen(addr, token string) error {
	if token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w (want host:port, e.g. 127.0.0.1:8787)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without a token: set R2C_API_TOKEN or --token-file, or listen on 127.0.0.1", addr)
}

// Handler is the service's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// HTTPServer is the handler in an http.Server with the limits a service
// reachable by others needs: a client that trickles its headers
// (slow-loris) is cut off after HeaderTimeout and one that trickles its
// body after a minute; responses (event streams) have no write timeout.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.opts.HeaderTimeout,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(s.opts.Log, "r2c api: ", 0),
	}
}

// routes wires every route through authentication (for /v1 and the
// dashboard), metrics and panic recovery.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	handle := func(pattern string, authed bool, h func(http.ResponseWriter, *http.Request) error) {
		var hh http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					s.logf("panic in %s: %v", pattern, p)
					writeError(w, newError(http.StatusInternalServerError, codeInternal, "internal error (the server keeps serving; see its log)"))
				}
			}()
			if authed && !s.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="r2c"`)
				writeError(w, newError(http.StatusUnauthorized, codeUnauthorized, "missing or wrong bearer token (send Authorization: Bearer $R2C_API_TOKEN)"))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
			if err := h(w, r); err != nil {
				writeError(w, err)
			}
		})
		route := pattern
		if _, path, ok := strings.Cut(pattern, " "); ok {
			route = path
		}
		s.mux.Handle(pattern, s.met.instrument(route, hh))
	}
	handle("GET /healthz", false, s.handleHealth)
	handle("GET /readyz", false, s.handleReady)
	handle("GET /openapi.json", false, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(OpenAPI)
		return err
	})
	s.mux.Handle("GET /metrics", s.met.handler())
	handle("GET /dashboard", true, s.handleDashboard)
	handle("GET /v1/stats", true, s.handleStats)
	handle("POST /v1/validate", true, s.handleValidate)
	handle("POST /v1/implement", true, s.handleImplement)
	handle("POST /v1/papers", true, s.handlePapers)
	handle("GET /v1/runs", true, s.handleListRuns)
	handle("GET /v1/runs/{id}", true, s.handleGetRun)
	handle("DELETE /v1/runs/{id}", true, s.handleCancelRun)
	handle("GET /v1/runs/{id}/events", true, s.handleEvents)
	handle("GET /v1/runs/{id}/files/{path...}", true, s.handleRunFile)
	handle("/", false, func(w http.ResponseWriter, r *http.Request) error {
		return newError(http.StatusNotFound, codeNotFound, "no route %s %s (see /openapi.json)", r.Method, r.URL.Path)
	})
}

// authorized compares the request's bearer token with the configured one
// in constant time (over hashes, so the length leaks nothing either).
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) == 1
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	status := "ok"
	if s.closing.Load() {
		status = "shutting_down"
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": status, "in_flight": s.adm.running.Load(), "queued": s.adm.queued()})
	return nil
}

// admit reserves a place for one piece of work or answers 429 / 503.
func (s *Server) admit(w http.ResponseWriter) (*ticket, error) {
	if s.closing.Load() {
		return nil, newError(http.StatusServiceUnavailable, codeShuttingDown, "the server is shutting down")
	}
	t, err := s.adm.enter()
	if err != nil {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfterSeconds))
		return nil, newError(http.StatusTooManyRequests, codeQueueFull,
			"%d requests are running and %d waiting, the most this server takes (r2c api --max-concurrent, --queue); retry after %d s",
			s.opts.MaxConcurrent, s.opts.Queue, retryAfterSeconds)
	}
	return t, nil
}

// Shutdown stops taking work, waits for running work until ctx ends, then
// cancels what is left and waits for it to record its final state. The
// HTTP listener is the caller's (http.Server.Shutdown) to stop.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	err := s.runs.drain(ctx)
	s.cancelRuns()
	s.runs.wait()
	if s.ownsStore {
		if cerr := s.store.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opts.Log, time.Now().UTC().Format(time.RFC3339)+" "+format+"\n", args...)
}
