package orchestrator

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/internal/atomicfile"
	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/validate"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/panics"
)

// Timing is one node visit's wall time.
type Timing struct {
	Node     string        `json:"node"`
	Round    int           `json:"round,omitempty"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

// Record is a run's summary, stored as run.json in its folder under
// .r2c/runs/<id>/ beside spec.json, plan.json (plan-2.json after a
// revision), exchanges/ (every prompt and answer), reports/ (every test
// report), code/round-N/ (the code each round validated) and events.jsonl.
type Record struct {
	SchemaVersion int                 `json:"schema_version"`
	ID            string              `json:"id"`
	Paper         string              `json:"paper"`
	Section       string              `json:"section"`
	Endpoint      string              `json:"endpoint"`
	Model         string              `json:"model"`
	Status        string              `json:"status"`
	Error         string              `json:"error,omitempty"`
	Started       time.Time           `json:"started"`
	Finished      time.Time           `json:"finished"`
	Duration      time.Duration       `json:"duration"`
	Rounds        int                 `json:"rounds"`
	PlanRevisions int                 `json:"plan_revisions"`
	BestRound     int                 `json:"best_round,omitempty"`
	Tests         validate.TestCounts `json:"tests"`
	StyleScore    float64             `json:"style_score"`
	Usage         llm.Usage           `json:"usage"`
	ModelCalls    int                 `json:"model_calls"`
	// Files are the paths of the best round's files; Written, those the
	// front door put in place (absolute), set after the run by
	// UpdateRecord. A run that wrote nothing never stays "passed".
	Files      []string `json:"files,omitempty"`
	Written    []string `json:"written,omitempty"`
	WriteError string   `json:"write_error,omitempty"`
	// Indexed says that the run indexed the paper itself, no index
	// holding it.
	Indexed  string   `json:"indexed,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Timings  []Timing `json:"timings"`
	// Prompts are every prompt's parts and sizes, with the cuts made to
	// fit the model's context (the context_trimmed events).
	Prompts []PromptRecord `json:"prompts,omitempty"`
}

// PromptRecord is one prompt's report and the round it was built in (0
// for the Analyzer and the Planner before the first round).
type PromptRecord struct {
	Round int `json:"round"`
	agents.PromptReport
}

// recorder writes one run's folder. Writes happen on one background
// goroutine, so disk latency never sits on a task's critical path; close
// waits for them. Writing the record must never fail the run, so write
// errors (and a panic of the writer, turned into an error) are collected
// and reported once by close.
type recorder struct {
	dir    string
	writes chan func() error
	writer conc.WaitGroup

	mu     sync.Mutex
	seq    int
	events *os.File
	errs   []error
}

func newRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

func newRecorder(runsDir, id string) (*recorder, error) {
	dir := filepath.Join(runsDir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run record: %w", err)
	}
	ev, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("run record: %w", err)
	}
	r := &recorder{dir: dir, events: ev, writes: make(chan func() error, 256)}
	r.writer.Go(r.loop)
	return r, nil
}

// loop performs the writes in order. A panicking write becomes an error,
// so the loop keeps draining and no writer is left blocked on a full queue.
func (r *recorder) loop() {
	for w := range r.writes {
		var err error
		var catcher panics.Catcher
		catcher.Try(func() { err = w() })
		if p := catcher.Recovered(); p != nil {
			err = p.AsError()
		}
		if err != nil {
			r.fail(err)
		}
	}
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// SchemaVersion is the version of the run record's JSON files; every
// object r2c writes there carries it as "schema_version".
const SchemaVersion = 1

// writeJSON records v as name; v is encoded now, so the caller may change
// it afterwards.
func (r *recorder) writeJSON(name string, v any) {
	b, err := encodeVersioned(v, "  ")
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", name, err))
		return
	}
	r.writeFile(name, b)
}

// encodeVersioned is v as JSON with "schema_version" first when v is an
// object (a Record sets its own), ending in a newline; indent "" writes
// one line.
func encodeVersioned(v any, indent string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) > 1 && b[0] == '{' && !bytes.HasPrefix(b, []byte(`{"schema_version":`)) {
		head := fmt.Sprintf(`{"schema_version":%d`, SchemaVersion)
		if string(b) != "{}" {
			head += ","
		}
		b = append([]byte(head), b[1:]...)
	}
	if indent != "" {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", indent); err != nil {
			return nil, err
		}
		b = out.Bytes()
	}
	return append(b, '\n'), nil
}

func (r *recorder) writeFile(name string, data []byte) {
	if err := safepath.Check(name); err != nil {
		// Names carry planned paths; Plan.Validate rejects unsafe ones, and
		// the record never writes outside its folder whatever reaches it.
		r.fail(fmt.Errorf("%q is not a path inside the run folder: %w", name, err))
		return
	}
	r.writes <- func() error {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return atomicfile.Write(p, data, 0o644, nil)
	}
}

func (r *recorder) exchange(ex agents.Exchange) {
	r.mu.Lock()
	r.seq++
	n := r.seq
	r.mu.Unlock()
	name := fmt.Sprintf("exchanges/%03d-%s", n, ex.Agent)
	if ex.TaskID != "" {
		name += "-" + sanitize(ex.TaskID)
	}
	r.writeJSON(name+".json", ex)
}

func (r *recorder) event(e Event) {
	b, err := encodeVersioned(e, "")
	if err != nil {
		r.fail(fmt.Errorf("events.jsonl: %w", err))
		return
	}
	r.writes <- func() error {
		_, err := r.events.Write(b)
		return err
	}
}

func (r *recorder) code(round int, files []File) {
	for _, f := range files {
		r.writeFile(fmt.Sprintf("code/round-%d/%s", round, f.Path), f.Content)
	}
}

// close waits for every write and returns the errors, if any. The
// recorder must not be used afterwards.
func (r *recorder) close() error {
	close(r.writes)
	r.writer.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.events.Close(); err != nil {
		r.errs = append(r.errs, err)
	}
	if len(r.errs) > 0 {
		return fmt.Errorf("run record %s: %w", r.dir, errors.Join(r.errs...))
	}
	return nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// ListRuns returns the records under runsDir, newest first. Folders
// without a readable run.json are skipped.
func ListRuns(runsDir string) ([]*Record, error) {
	entries, err := os.ReadDir(runsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var out []*Record
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if rec, err := LoadRun(runsDir, e.Name()); err == nil {
			out = append(out, rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out, nil
}

// LoadRun reads the record of run id under runsDir. A unique prefix of an
// id is accepted.
func LoadRun(runsDir, id string) (*Record, error) {
	dir := filepath.Join(runsDir, id)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		entries, _ := os.ReadDir(runsDir)
		var matches []string
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), id) {
				matches = append(matches, e.Name())
			}
		}
		switch len(matches) {
		case 0:
			return nil, fmt.Errorf("runs: no run %q under %s (see r2c runs list)", id, runsDir)
		case 1:
			dir = filepath.Join(runsDir, matches[0])
		default:
			return nil, fmt.Errorf("runs: %q matches several runs: %s", id, strings.Join(matches, ", "))
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("runs: %s: %w", filepath.Join(dir, "run.json"), err)
	}
	return &rec, nil
}

// UpdateRecord rewrites run.json in runDir after the run, through change:
// a front door records there what it did with the files. The file is
// replaced atomically.
func UpdateRecord(runDir string, change func(*Record)) error {
	p := filepath.Join(runDir, "run.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("run record: %s: %w", p, err)
	}
	change(&rec)
	rec.SchemaVersion = SchemaVersion
	out, err := encodeVersioned(&rec, "  ")
	if err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	if err := atomicfile.Write(p, out, 0o644, nil); err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	return nil
}

// RunDir returns the folder of a recorded run.
func RunDir(runsDir, id string) string { return filepath.Join(runsDir, id) }
