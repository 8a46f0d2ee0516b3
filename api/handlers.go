package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/runstore"
)

// ValidateRequest is POST /v1/validate's body: either the files themselves
// (Files, with Module naming the one under test) or a module on disk
// (Path, under an allowed root). Tests are found as every front door finds
// them (core.DiscoverTests) unless Tests names a file or folder.
type ValidateRequest struct {
	Module         string            `json:"module,omitempty"`
	Files          map[string]string `json:"files,omitempty"`
	Tests          string            `json:"tests,omitempty"`
	Path           string            `json:"path,omitempty"`
	TimeoutSeconds float64           `json:"timeout_seconds,omitempty"`
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) error {
	var req ValidateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cfg, profile, err := s.workspace()
	if err != nil {
		return err
	}
	if req.TimeoutSeconds < 0 {
		return badRequest("timeout_seconds must be positive")
	}
	creq := core.ValidateRequest{Root: s.opts.Root, Config: &cfg, Profile: profile,
		Timeout: time.Duration(req.TimeoutSeconds * float64(time.Second))}
	shown := req.Path
	switch {
	case req.Path != "" && req.Files != nil:
		return badRequest("give either path or files, not both")
	case req.Path != "":
		if creq.Module, err = s.resolvePath(req.Path); err != nil {
			return err
		}
		if req.Tests != "" {
			if creq.Tests, err = s.resolvePath(req.Tests); err != nil {
				return err
			}
		}
	case req.Files != nil:
		// Uploaded files are written to a folder of their own under the
		// workspace, validated as files on disk are, and removed.
		if err := checkUploadName(req.Module); err != nil {
			return err
		}
		if _, ok := req.Files[req.Module]; !ok {
			return badRequest("module %q is not among files", req.Module)
		}
		dir, err := os.MkdirTemp(s.uploadsDir(), "validate-")
		if err != nil {
			return fmt.Errorf("upload folder: %w", err)
		}
		defer os.RemoveAll(dir)
		files := make([]core.File, 0, len(req.Files))
		for name, text := range req.Files {
			if err := checkUploadName(name); err != nil {
				return err
			}
			files = append(files, core.File{Path: name, Content: []byte(text)})
		}
		if err := core.WriteFiles(dir, files); err != nil {
			return badRequest("files: %v", err)
		}
		creq.Module, shown = filepath.Join(dir, filepath.FromSlash(req.Module)), req.Module
		if req.Tests != "" {
			if creq.Tests, err = safepath.Join(dir, req.Tests); err != nil {
				return badRequest("tests: %v", err)
			}
			if _, err := os.Stat(creq.Tests); err != nil {
				return badRequest("tests %q is not among files", req.Tests)
			}
		}
	default:
		return badRequest("give path (a module under the served root) or files with module")
	}

	t, err := s.admit(w)
	if err != nil {
		return err
	}
	defer t.release()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	if err := t.wait(ctx); err != nil {
		return newError(http.StatusServiceUnavailable, codeTimeout, "waited for a free slot until the request ended: %v", err)
	}
	start := time.Now()
	rep, err := core.Validate(ctx, creq)
	s.record(core.ValidationRow(runstore.FrontDoorAPI, "validate-"+newAPIRunID(start), start, rep, err))
	if err != nil {
		switch {
		case core.Environmental(err):
			return newError(http.StatusServiceUnavailable, codeEnvironment, "%s", core.Hint(err))
		case ctx.Err() != nil:
			return newError(http.StatusGatewayTimeout, codeTimeout, "validation did not finish within the request timeout (%s)", s.opts.RequestTimeout)
		}
		return badRequest("%v", err)
	}
	s.met.sandboxTime.Observe(rep.Duration.Seconds())
	s.met.tests.WithLabelValues("passed").Add(float64(rep.Tests.Passed))
	s.met.tests.WithLabelValues("failed").Add(float64(rep.Tests.Failed + rep.Tests.Errors))
	if profile != nil {
		s.met.styleScore.Observe(rep.StyleScore)
	}
	res := core.Summarize(creq.Module, rep)
	// Clients see the names they gave, never the server's file paths.
	res.Module, rep.Paths, rep.RunDir = shown, nil, ""
	writeJSON(w, http.StatusOK, res)
	return nil
}

// uploadsDir is where uploaded files wait while they are validated.
func (s *Server) uploadsDir() string {
	d := filepath.Join(s.opts.Root, ".r2c", "api", "uploads")
	_ = os.MkdirAll(d, 0o755)
	return d
}

// record appends a validation's row and counts it.
func (s *Server) record(row runstore.Row) {
	if err := s.store.Append(context.Background(), row); err != nil {
		s.logf("%s: %v", row.ID, err)
	}
	s.met.runs.WithLabelValues(row.FrontDoor, row.Kind, row.Status).Inc()
	s.met.sandboxKills.Add(float64(row.SandboxKills))
}

// PaperInput names a paper: a path under an allowed root, an upload (Name
// plus Content as text or ContentBase64 for PDFs), or an arXiv id.
type PaperInput struct {
	Path          string `json:"path,omitempty"`
	Name          string `json:"name,omitempty"`
	Content       string `json:"content,omitempty"`
	ContentBase64 string `json:"content_base64,omitempty"`
	Arxiv         string `json:"arxiv,omitempty"`
}

var paperExts = map[string]bool{".pdf": true, ".md": true, ".markdown": true, ".tex": true, ".txt": true}

// upload returns the paper's bytes and a file name for it, for uploads.
func (p PaperInput) upload() (string, []byte, error) {
	name := path.Base(p.Name)
	if p.Name == "" || name != p.Name || !paperExts[strings.ToLower(path.Ext(name))] || checkUploadName(name) != nil {
		return "", nil, badRequest("paper name %q: want a plain file name ending in .pdf, .md, .tex or .txt", p.Name)
	}
	if p.Content != "" && p.ContentBase64 != "" {
		return "", nil, badRequest("paper: give content or content_base64, not both")
	}
	data := []byte(p.Content)
	if p.ContentBase64 != "" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(p.ContentBase64); err != nil {
			return "", nil, badRequest("paper content_base64: %v", err)
		}
	}
	if len(data) == 0 {
		return "", nil, badRequest("paper %q is empty", name)
	}
	return name, data, nil
}

// source resolves the paper to what paper.Load and the orchestrator take,
// writing an upload into dir (the run's folder) first.
func (s *Server) paperSource(p PaperInput, dir string) (string, error) {
	n := 0
	for _, set := range []bool{p.Path != "", p.Name != "" || p.Content != "" || p.ContentBase64 != "", p.Arxiv != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return "", badRequest("paper: give exactly one of path, name with content, or arxiv")
	}
	switch {
	case p.Path != "":
		return s.resolvePath(p.Path)
	case p.Arxiv != "":
		if _, ok := paper.ParseArxivID(p.Arxiv); !ok {
			return "", badRequest("arxiv %q is not an arXiv id (e.g. 1706.03762)", p.Arxiv)
		}
		return p.Arxiv, nil
	}
	name, data, err := p.upload()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return "", fmt.Errorf("saving the paper: %w", err)
	}
	return dst, nil
}

func (s *Server) handlePapers(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Paper PaperInput `json:"paper"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cfg, _, err := s.workspace()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	var p *paper.Paper
	if req.Paper.Path != "" || req.Paper.Arxiv != "" {
		src, err := s.paperSource(req.Paper, "")
		if err != nil {
			return err
		}
		p, err = paper.Load(ctx, src, orchestrator.PaperOptions(cfg))
		if err != nil {
			return badRequest("%v", err)
		}
	} else {
		name, data, err := req.Paper.upload()
		if err != nil {
			return err
		}
		if p, err = paper.Parse(name, data, orchestrator.PaperOptions(cfg)); err != nil {
			return badRequest("%v", err)
		}
	}
	writeJSON(w, http.StatusOK, p.Outline())
	return nil
}

// ImplementRequest is POST /v1/implement's body.
type ImplementRequest struct {
	Paper   PaperInput `json:"paper"`
	Section string     `json:"section"`
	// Rounds and Model override the workspace configuration for this run.
	Rounds int    `json:"rounds,omitempty"`
	Model  string `json:"model,omitempty"`
}

func (s *Server) handleImplement(w http.ResponseWriter, r *http.Request) error {
	var req ImplementRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Section) == "" {
		return badRequest("section is required (a number such as \"3.2\", a title, or both)")
	}
	if req.Rounds < 0 || req.Rounds > 20 {
		return badRequest("rounds %d: want 1 to 20", req.Rounds)
	}
	cfg, profile, err := s.workspace()
	if err != nil {
		return err
	}
	cfg.Merge(configOverride(req))
	// Validate the paper reference before admitting: a bad path is the
	// client's error and must not take a queue place.
	if req.Paper.Path != "" {
		if _, err := s.resolvePath(req.Paper.Path); err != nil {
			return err
		}
	} else if req.Paper.Arxiv == "" {
		if _, _, err := req.Paper.upload(); err != nil {
			return err
		}
	}
	t, err := s.admit(w)
	if err != nil {
		return err
	}
	paperName := req.Paper.Path + req.Paper.Name + req.Paper.Arxiv
	rn, err := s.runs.start(t, paperName, req.Section, func(ctx context.Context, rn *run) error {
		src, err := s.paperSource(req.Paper, filepath.Join(rn.dir, "paper"))
		if err != nil {
			return err
		}
		out := filepath.Join(rn.dir, "out")
		res, err := core.Implement(ctx, core.ImplementRequest{Paper: src, Section: req.Section, OutDir: out,
			Config: &cfg, Profile: profile, Root: s.opts.Root, Apply: core.WriteToOutDir}, orchestrator.ObserverFunc(rn.addEvent))
		return s.settle(rn, res, err, out)
	})
	if err != nil {
		t.release()
		return err
	}
	writeJSON(w, http.StatusAccepted, rn.snapshot())
	return nil
}

// settle copies a run's result into the run's view. The core has written
// its best files (also for a failed run, as the CLI does) under out.
func (s *Server) settle(rn *run, res *core.Result, runErr error, out string) error {
	if res == nil || res.Result == nil {
		return runErr
	}
	var written []string
	for _, p := range res.Written {
		if rel, ok := safepath.Within(out, p); ok {
			written = append(written, rel)
		}
	}
	rn.mu.Lock()
	rn.result = res
	rn.view.Status, rn.view.Files, rn.view.Rounds, rn.view.Usage = res.Status, written, res.Rounds, res.Usage
	rn.view.RecordID, rn.view.Warnings = res.RunID, res.Warnings
	if rn.view.Files == nil {
		rn.view.Files = []string{}
	}
	if res.Report != nil {
		rn.view.Tests, rn.view.StyleScore = res.Report.Tests, res.Report.StyleScore
	}
	rn.mu.Unlock()
	if res.Report != nil {
		s.met.tests.WithLabelValues("passed").Add(float64(res.Report.Tests.Passed))
		s.met.tests.WithLabelValues("failed").Add(float64(res.Report.Tests.Failed + res.Report.Tests.Errors))
		if res.Report.Duration > 0 {
			s.met.sandboxTime.Observe(res.Report.Duration.Seconds())
		}
	}
	return runErr
}

func (s *Server) handleListRuns(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"runs": s.runs.list()})
	return nil
}

func (s *Server) handleGetRun(w http.ResponseWriter, r *http.Request) error {
	rn, err := s.runs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rn.snapshot())
	return nil
}

func (s *Server) handleCancelRun(w http.ResponseWriter, r *http.Request) error {
	rn, err := s.runs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	if rn.finished() {
		return newError(http.StatusConflict, codeConflict, "run %s has already finished (%s)", rn.view.ID, rn.snapshot().Status)
	}
	rn.cancel()
	select {
	case <-rn.done:
	case <-time.After(30 * time.Second):
		// Cancellation reaches the model request and the sandbox at once;
		// this bound only keeps a stuck run from holding the request.
	case <-r.Context().Done():
	}
	writeJSON(w, http.StatusOK, rn.snapshot())
	return nil
}

// handleEvents streams a run's events as server-sent events: every event
// so far (or after Last-Event-ID), then each new one, then an "end" event
// with the final run when it finishes.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	rn, err := s.runs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return newError(http.StatusInternalServerError, codeInternal, "streaming is not supported by this connection")
	}
	next := 0
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		if _, err := fmt.Sscan(last, &next); err != nil || next < 0 {
			return badRequest("Last-Event-ID %q is not an event number", last)
		}
		next++
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		rn.mu.Lock()
		batch := append([]orchestrator.Event(nil), rn.events[min(next, len(rn.events)):]...)
		changed := rn.changed
		done := rn.finished()
		rn.mu.Unlock()
		for _, e := range batch {
			b, _ := json.Marshal(e)
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", next, e.Kind, b); err != nil {
				return nil // the client went away
			}
			next++
		}
		if done {
			b, _ := json.Marshal(rn.snapshot())
			fmt.Fprintf(w, "event: end\ndata: %s\n\n", b)
			flusher.Flush()
			return nil
		}
		flusher.Flush()
		select {
		case <-changed:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			flusher.Flush()
		case <-r.Context().Done():
			return nil
		}
	}
}

// handleRunFile serves one of a run's written files. os.Root confines the
// lookup to the run's output folder: no "..", no symlink out of it.
func (s *Server) handleRunFile(w http.ResponseWriter, r *http.Request) error {
	rn, err := s.runs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	name := r.PathValue("path")
	if err := checkUploadName(name); err != nil {
		return err
	}
	root, err := os.OpenRoot(filepath.Join(rn.dir, "out"))
	if err != nil {
		return newError(http.StatusNotFound, codeNotFound, "run %s has written no files", rn.view.ID)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return newError(http.StatusNotFound, codeNotFound, "run %s has no file %q", rn.view.ID, name)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return newError(http.StatusNotFound, codeNotFound, "run %s has no file %q", rn.view.ID, name)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	cfg, _, err := s.workspace()
	if err != nil {
		return err
	}
	key, err := cfg.APIKey()
	if err != nil {
		return newError(http.StatusServiceUnavailable, codeEnvironment, "%v", err)
	}
	client, err := llm.New(orchestrator.ProbeClientConfig(cfg, key, 10*time.Second))
	if err != nil {
		return newError(http.StatusServiceUnavailable, codeEnvironment, "model server: %v", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	info, err := client.Info(ctx)
	if err != nil {
		return newError(http.StatusServiceUnavailable, codeUnavailable, "model server %s is not reachable: %v (start it, or set endpoint in r2c.toml)", cfg.Endpoint, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "endpoint": cfg.Endpoint, "model": info.ModelID, "server_kind": string(info.Kind)})
	return nil
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.stats(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// stats reads the store for ?since=7d (default 30 days).
func (s *Server) stats(r *http.Request) (runstore.Stats, error) {
	since := 30 * 24 * time.Hour
	if v := r.URL.Query().Get("since"); v != "" {
		d, err := runstore.ParseSince(v)
		if err != nil {
			return runstore.Stats{}, badRequest("since: %v", err)
		}
		since = d
	}
	from := time.Now().Add(-since)
	rows, err := s.store.Runs(r.Context(), from)
	if err != nil {
		return runstore.Stats{}, err
	}
	return runstore.Summarise(rows, from), nil
}
