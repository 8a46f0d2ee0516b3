package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/panics"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/internal/atomicfile"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/runstore"
	"github.com/r2c-ai/r2c/validate"
)

// Run statuses as the API reports them: the orchestrator's final statuses
// plus the two before it starts and "error" for a run that stopped on an
// error before it had anything to show.
const (
	statusQueued  = "queued"
	statusRunning = "running"
	statusError   = "error"
)

// maxEvents bounds a run's kept events; token deltas are the bulk and are
// dropped first (they are progress, not record).
const maxEvents = 20000

// Run is one implement run as GET /v1/runs/{id} shows it. It is written to
// state.json in the run's folder whenever its status changes.
type Run struct {
	SchemaVersion int                 `json:"schema_version"`
	ID            string              `json:"id"`
	Kind          string              `json:"kind"`
	Status        string              `json:"status"`
	Paper         string              `json:"paper"`
	Section       string              `json:"section"`
	Created       time.Time           `json:"created"`
	Started       *time.Time          `json:"started,omitempty"`
	Finished      *time.Time          `json:"finished,omitempty"`
	Error         string              `json:"error,omitempty"`
	Files         []string            `json:"files"`
	Tests         validate.TestCounts `json:"tests"`
	StyleScore    float64             `json:"style_score"`
	Rounds        int                 `json:"rounds"`
	Usage         llm.Usage           `json:"usage"`
	// RecordID is the orchestrator's run record under .r2c/runs.
	RecordID string   `json:"record_id,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Links    runLinks `json:"links"`
}

type runLinks struct {
	Self   string `json:"self"`
	Events string `json:"events"`
	Files  string `json:"files"`
}

// run is a Run with its live state.
type run struct {
	mu      sync.Mutex
	view    Run
	dir     string // .r2c/api/runs/<id>
	events  []orchestrator.Event
	changed chan struct{} // closed and replaced on every change
	done    chan struct{} // closed when the run has its final state
	cancel  context.CancelFunc
	// tracker sees every event, for the run store's model time and
	// failed agent.
	tracker core.RunTracker
	// result is the core's, once Implement has returned one.
	result *core.Result
}

func (r *run) snapshot() Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.view
	v.Files = append([]string{}, v.Files...)
	return v
}

// notify wakes the event streams; the caller holds r.mu.
func (r *run) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *run) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// runManager holds the server's runs.
type runManager struct {
	s    *Server
	dir  string
	mu   sync.Mutex
	runs map[string]*run
	wg   conc.WaitGroup
}

func newRunManager(s *Server) *runManager {
	m := &runManager{s: s, dir: filepath.Join(s.opts.Root, ".r2c", "api", "runs"), runs: map[string]*run{}}
	m.loadFinished()
	return m
}

// loadFinished reads the runs an earlier server process left, so their
// results and files stay reachable after a restart. A run that was still
// going when that process died is shown as an error: nothing runs it now.
func (m *runManager) loadFinished() {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(m.dir, e.Name(), "state.json"))
		if err != nil {
			continue
		}
		var v Run
		if json.Unmarshal(b, &v) != nil || v.ID != e.Name() {
			continue
		}
		if v.Status == statusQueued || v.Status == statusRunning {
			v.Status, v.Error = statusError, "the server stopped before this run finished"
		}
		r := &run{view: v, dir: filepath.Join(m.dir, v.ID), changed: make(chan struct{}), done: make(chan struct{})}
		close(r.done)
		m.runs[v.ID] = r
	}
}

func newAPIRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

func (m *runManager) get(id string) (*run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[id]
	if r == nil {
		return nil, newError(http.StatusNotFound, codeNotFound, "no run %q (GET /v1/runs lists them)", id)
	}
	return r, nil
}

func (m *runManager) list() []Run {
	m.mu.Lock()
	rs := make([]*run, 0, len(m.runs))
	for _, r := range m.runs {
		rs = append(rs, r)
	}
	m.mu.Unlock()
	out := make([]Run, len(rs))
	for i, r := range rs {
		out[i] = r.snapshot()
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// start creates the run's folder and state and runs exec in the
// background under t. exec gets the run's context and its folder.
func (m *runManager) start(t *ticket, paperName, section string, exec func(ctx context.Context, r *run) error) (*run, error) {
	now := time.Now().UTC()
	id := newAPIRunID(now)
	r := &run{
		dir:     filepath.Join(m.dir, id),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
		view: Run{SchemaVersion: 1, ID: id, Kind: runstore.KindImplement, Status: statusQueued, Paper: paperName,
			Section: section, Created: now, Files: []string{},
			Links: runLinks{Self: "/v1/runs/" + id, Events: "/v1/runs/" + id + "/events", Files: "/v1/runs/" + id + "/files/"}},
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	ctx, cancel := context.WithTimeout(m.s.baseCtx, m.s.opts.RunTimeout)
	r.cancel = cancel
	m.saveState(r)
	m.mu.Lock()
	m.runs[id] = r
	m.mu.Unlock()
	m.wg.Go(func() {
		defer cancel()
		defer t.release()
		var err error
		var catcher panics.Catcher
		catcher.Try(func() {
			if err = t.wait(ctx); err != nil {
				return
			}
			m.setStatus(r, statusRunning, "")
			err = exec(ctx, r)
		})
		if p := catcher.Recovered(); p != nil {
			m.s.logf("run %s: panic: %v\n%s", id, p.Value, p.Stack)
			err = errors.New("internal error (see the server log)")
		}
		m.finish(ctx, r, err)
	})
	return r, nil
}

func (m *runManager) setStatus(r *run, status, msg string) {
	r.mu.Lock()
	r.view.Status = status
	if status == statusRunning {
		now := time.Now().UTC()
		r.view.Started = &now
	}
	if msg != "" {
		r.view.Error = msg
	}
	r.notify()
	r.mu.Unlock()
	m.saveState(r)
}

// finish settles a run's final status after exec returned err, records it
// in the run store and wakes the event streams for the last time.
func (m *runManager) finish(ctx context.Context, r *run, err error) {
	r.mu.Lock()
	now := time.Now().UTC()
	r.view.Finished = &now
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.view.Status, r.view.Error = statusError, fmt.Sprintf("the run took longer than the server's run timeout (%s): %v", m.s.opts.RunTimeout, err)
	case ctx.Err() != nil:
		r.view.Status, r.view.Error = orchestrator.StatusCancelled, "cancelled"
	default:
		if r.view.Status != orchestrator.StatusFailed {
			r.view.Status = statusError
		}
		r.view.Error = err.Error()
	}
	// A run that wrote nothing has nothing that passed.
	if r.view.Status == orchestrator.StatusPassed && len(r.view.Files) == 0 {
		r.view.Status = orchestrator.StatusFailed
	}
	view := r.view
	row := core.ImplementRow(runstore.FrontDoorAPI, view.ID, view.Created, r.result, err, &r.tracker)
	row.Status = view.Status // the API's own statuses: a queued run cancelled, a run timeout
	if row.Status == orchestrator.StatusPassed {
		row.ErrorClass = ""
	}
	r.mu.Unlock()
	m.saveState(r)
	// The store write uses its own context: a cancelled run's final state
	// must still be recorded.
	if serr := m.s.store.Append(context.Background(), row); serr != nil {
		m.s.logf("run %s: %v", view.ID, serr)
	}
	m.s.met.runs.WithLabelValues(runstore.FrontDoorAPI, runstore.KindImplement, view.Status).Inc()
	m.s.met.sandboxKills.Add(float64(row.SandboxKills))
	m.s.met.rounds.Observe(float64(view.Rounds))
	m.s.met.tokens.WithLabelValues("in").Add(float64(view.Usage.PromptTokens))
	m.s.met.tokens.WithLabelValues("out").Add(float64(view.Usage.CompletionTokens))
	m.s.logf("run %s: %s %s", view.ID, view.Status, view.Error)
	r.mu.Lock()
	close(r.done)
	r.notify()
	r.mu.Unlock()
}

// saveState writes state.json; a failure is logged, the run goes on.
func (m *runManager) saveState(r *run) {
	v := r.snapshot()
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = atomicfile.Write(filepath.Join(r.dir, "state.json"), append(b, '\n'), 0o644, nil)
	}
	if err != nil {
		m.s.logf("run %s: state: %v", v.ID, err)
	}
}

// addEvent keeps one orchestrator event for the event streams.
func (r *run) addEvent(e orchestrator.Event) {
	r.tracker.OnEvent(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) >= maxEvents && e.Kind == orchestrator.EventTokens {
		return
	}
	r.events = append(r.events, e)
	r.notify()
}

// drain waits until every run has finished or ctx ends.
func (m *runManager) drain(ctx context.Context) error {
	for {
		m.mu.Lock()
		var pending *run
		for _, r := range m.runs {
			if !r.finished() {
				pending = r
				break
			}
		}
		m.mu.Unlock()
		if pending == nil {
			return nil
		}
		select {
		case <-pending.done:
		case <-ctx.Done():
			return fmt.Errorf("shutdown: runs still going at the deadline were cancelled: %w", ctx.Err())
		}
	}
}

// wait waits for every run goroutine to return.
func (m *runManager) wait() { m.wg.Wait() }
