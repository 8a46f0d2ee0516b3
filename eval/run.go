package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/internal/atomicfile"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// SchemaVersion is results.json's format version.
const SchemaVersion = 1

// Failure kinds of a sample: every failure is recorded with one of these
// and an explanation, and the run goes on.
const (
	FailTaskInvalid   = "task_invalid"      // the task folder is broken (e.g. no section)
	FailReference     = "reference_failed"  // the hidden tests fail on the reference: not scored
	FailModel         = "model_error"       // the pipeline stopped on an error (server gone, bad answers)
	FailTimeout       = "timeout"           // the task ran past its time limit
	FailNoModule      = "no_module"         // the generated files lack the module the tests import
	FailHiddenTests   = "hidden_tests"      // some hidden tests failed or did not run
	FailHiddenRunFail = "hidden_run_failed" // the hidden tests could not be started
)

// Options configure Run.
type Options struct {
	Tasks   []*Task
	Suite   string // the suite's name in results.json
	Samples int
	Jobs    int
	Out     string
	// Config is the base configuration (endpoint, model, temperature
	// already applied by the caller).
	Config config.Config
	// Profile scores style; nil learns one from the suite's reference code.
	Profile     *style.Profile
	ProfileName string
	Env         Env
	// TaskTimeout bounds one sample (pipeline and hidden tests); default 20 min.
	TaskTimeout time.Duration
	// Progress receives one line per finished sample, with an ETA.
	Progress io.Writer
}

// Sample is one run of the pipeline on one task, as stored in
// samples/<task>/<n>.json.
type Sample struct {
	Task   string `json:"task"`
	Index  int    `json:"index"`
	Status string `json:"status"` // passed | failed
	// Failure is one of the Fail* kinds, "" when every hidden test passed.
	Failure string `json:"failure,omitempty"`
	// Explanation says what went wrong, in words.
	Explanation string `json:"explanation,omitempty"`
	// ExecutionSuccess: the generated code compiled, imported and r2c's own
	// tests for it ran (collected, no import or collection error, no crash
	// or time-out), whether or not they passed.
	ExecutionSuccess bool `json:"execution_success"`
	// ResearchAccuracy is the share of the hidden tests that passed.
	ResearchAccuracy float64 `json:"research_accuracy"`
	HiddenPassed     int     `json:"hidden_passed"`
	HiddenTotal      int     `json:"hidden_total"`
	// StyleConsistency is the style engine's score (0–1) of the modules
	// against the profile; absent when no code came back.
	StyleConsistency *float64 `json:"style_consistency,omitempty"`
	Rounds           int      `json:"rounds"`
	TokensIn         int      `json:"tokens_in"`
	TokensOut        int      `json:"tokens_out"`
	TokensEstimated  bool     `json:"tokens_estimated,omitempty"`
	// ModelSeconds is the time of the model-calling steps (Analyzer,
	// Planner, Implementer with test writing).
	ModelSeconds float64 `json:"model_seconds"`
	WallSeconds  float64 `json:"wall_seconds"`
	// ProductivityGain is 1 − wall time / recorded manual time for a sample
	// whose code passes every hidden test, 0 for one that does not (the
	// person still does the work); absent without a recorded manual time.
	ProductivityGain *float64 `json:"productivity_gain,omitempty"`
	RunID            string   `json:"run_id,omitempty"`
	Files            []string `json:"files,omitempty"`
	Warnings         []string `json:"warnings,omitempty"`
}

// Correct reports whether the sample passed every hidden test.
func (s *Sample) Correct() bool { return s.HiddenTotal > 0 && s.HiddenPassed == s.HiddenTotal }

// runMeta is out/run.json: what the samples in the folder were made with,
// so a resumed run cannot mix models.
type runMeta struct {
	Suite       string    `json:"suite"`
	Endpoint    string    `json:"endpoint"`
	Model       string    `json:"model"`
	Temperature *float64  `json:"temperature,omitempty"`
	Profile     string    `json:"profile"`
	Samples     int       `json:"samples"`
	Started     time.Time `json:"started"`
}

// Run evaluates every task Samples times and writes the samples, the
// reference checks, results.json and the reports into Out. Samples already
// in Out are kept (a killed run resumes). Task failures are recorded, never
// returned; the error is for a bad Out folder or cancellation.
func Run(ctx context.Context, opts Options) (*Results, error) {
	if opts.Samples <= 0 {
		opts.Samples = 1
	}
	if opts.Jobs <= 0 {
		opts.Jobs = 1
	}
	if opts.TaskTimeout <= 0 {
		opts.TaskTimeout = 20 * time.Minute
	}
	if opts.Out == "" {
		return nil, errors.New("eval: no output folder: pass --out DIR")
	}
	// Absolute, because each sample's pipeline runs with its own work
	// folder as root and would resolve a relative runs folder inside it
	// (the run records, and so the samples' model time, went missing).
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, fmt.Errorf("eval: output folder: %w", err)
	}
	opts.Out = out
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("eval: output folder: %w", err)
	}
	if opts.Profile == nil {
		p, err := SuiteProfile(opts.Tasks)
		if err != nil {
			return nil, err
		}
		opts.Profile, opts.ProfileName = p, "learned from the suite's reference code"
	}
	meta := runMeta{Suite: opts.Suite, Endpoint: opts.Config.Endpoint, Model: opts.Config.Model.Name, Temperature: opts.Config.Model.Temperature, Profile: opts.ProfileName, Samples: opts.Samples, Started: time.Now().UTC()}
	if err := checkMeta(opts.Out, &meta); err != nil {
		return nil, err
	}

	h := &harness{opts: opts, refs: map[string]*Reference{}}
	if err := h.references(ctx); err != nil {
		return nil, err
	}
	var todo []unit
	for _, t := range opts.Tasks {
		for i := 0; i < opts.Samples; i++ {
			if s, ok := h.load(t.ID, i); ok {
				h.done = append(h.done, s)
				continue
			}
			todo = append(todo, unit{t, i})
		}
	}
	h.progress(fmt.Sprintf("%d tasks × %d samples: %d to run, %d kept from an earlier run", len(opts.Tasks), opts.Samples, len(todo), len(h.done)))
	h.total, h.start = len(todo), time.Now()
	if err := h.runAll(ctx, todo); err != nil {
		return nil, err
	}
	res := Summarise(meta.Suite, meta.Model, meta.Endpoint, meta.Profile, opts.Tasks, h.refs, h.done)
	if err := WriteReport(opts.Out, res); err != nil {
		return res, err
	}
	return res, nil
}

type unit struct {
	task  *Task
	index int
}

type harness struct {
	opts Options
	refs map[string]*Reference

	mu       sync.Mutex
	done     []*Sample
	total    int
	finished int
	start    time.Time
}

func checkMeta(out string, meta *runMeta) error {
	p := filepath.Join(out, "run.json")
	b, err := os.ReadFile(p)
	if err == nil {
		var old runMeta
		if json.Unmarshal(b, &old) == nil {
			if old.Model != meta.Model || old.Endpoint != meta.Endpoint || old.Suite != meta.Suite || old.Profile != meta.Profile || !sameTemp(old.Temperature, meta.Temperature) {
				return fmt.Errorf("eval: %s holds a run of model %q at %s (suite %s): resuming with other settings would mix them; choose another --out", out, old.Model, old.Endpoint, old.Suite)
			}
			meta.Started = old.Started
		}
	}
	return writeJSON(p, meta)
}

func sameTemp(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o644, nil)
}

// references checks (or reloads) every task's reference first: a task is
// only scored once its hidden tests pass on its reference.
func (h *harness) references(ctx context.Context) error {
	for _, t := range h.opts.Tasks {
		p := filepath.Join(h.opts.Out, "reference", t.ID+".json")
		var ref Reference
		if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &ref) == nil && ref.Task == t.ID {
			h.refs[t.ID] = &ref
			continue
		}
		r, err := CheckReference(ctx, t, h.opts.Env)
		if err != nil {
			return err
		}
		h.refs[t.ID] = r
		if r.OK() {
			h.progress(fmt.Sprintf("reference %s: %d/%d hidden tests pass in %.1fs, limit %.0fs", t.ID, r.Passed, r.Total, r.Seconds, r.TimeoutSeconds))
		} else {
			h.progress(fmt.Sprintf("reference %s: not scored: %s", t.ID, firstLine(r.Error)))
		}
		if err := writeJSON(p, r); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	return nil
}

func samplePath(out, task string, i int) string {
	return filepath.Join(out, "samples", task, fmt.Sprintf("%d.json", i))
}

func (h *harness) load(task string, i int) (*Sample, bool) {
	b, err := os.ReadFile(samplePath(h.opts.Out, task, i))
	if err != nil {
		return nil, false
	}
	var s Sample
	if json.Unmarshal(b, &s) != nil || s.Task != task || s.Index != i {
		return nil, false
	}
	return &s, true
}

func (h *harness) runAll(ctx context.Context, todo []unit) error {
	work := make(chan unit)
	var wg sync.WaitGroup
	errs := make(chan error, h.opts.Jobs)
	for j := 0; j < h.opts.Jobs; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				s := h.sample(ctx, u.task, u.index)
				if ctx.Err() != nil {
					return // a cancelled sample is not recorded: a resumed run redoes it
				}
				if err := writeJSON(samplePath(h.opts.Out, u.task.ID, u.index), s); err != nil {
					errs <- fmt.Errorf("eval: %w", err)
					return
				}
				h.finishedOne(s)
			}
		}()
	}
	for _, u := range todo {
		select {
		case work <- u:
		case <-ctx.Done():
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	if ctx.Err() != nil {
		return fmt.Errorf("eval: stopped (%w); run the same command again to continue", ctx.Err())
	}
	return nil
}

func (h *harness) finishedOne(s *Sample) {
	h.mu.Lock()
	h.done = append(h.done, s)
	h.finished++
	n, total := h.finished, h.total
	elapsed := time.Since(h.start)
	h.mu.Unlock()
	eta := time.Duration(float64(elapsed) / float64(n) * float64(total-n)).Round(time.Second)
	verdict := s.Status
	if s.Failure != "" {
		verdict += " (" + s.Failure + ")"
	}
	h.progress(fmt.Sprintf("[%d/%d] %s#%d %s: hidden %d/%d, %d rounds, %.0fs; ETA %s", n, total, s.Task, s.Index, verdict, s.HiddenPassed, s.HiddenTotal, s.Rounds, s.WallSeconds, eta))
}

func (h *harness) progress(line string) {
	if h.opts.Progress == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintln(h.opts.Progress, line)
}

// sample runs the pipeline once on t and then its hidden tests.
func (h *harness) sample(ctx context.Context, t *Task, index int) *Sample {
	start := time.Now()
	s := &Sample{Task: t.ID, Index: index, Status: "failed"}
	defer func() {
		s.WallSeconds = time.Since(start).Seconds()
		h.gain(t, s)
	}()
	ref := h.refs[t.ID]
	if t.Err != nil {
		s.Failure, s.Explanation = FailTaskInvalid, t.Err.Error()
		return s
	}
	if !ref.OK() {
		s.Failure, s.Explanation = FailReference, ref.Error
		return s
	}
	s.HiddenTotal = ref.Total
	ctx, cancel := context.WithTimeout(ctx, h.opts.TaskTimeout)
	defer cancel()

	dir := filepath.Join(h.opts.Out, "work", t.ID, fmt.Sprint(index))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.Failure, s.Explanation = FailModel, err.Error()
		return s
	}
	paperPath := filepath.Join(dir, "paper.md")
	if err := os.WriteFile(paperPath, []byte(t.PaperMarkdown()), 0o644); err != nil {
		s.Failure, s.Explanation = FailModel, err.Error()
		return s
	}
	cfg := h.opts.Config
	cfg.RunsDir = filepath.Join(h.opts.Out, "runs")
	cfg.Sandbox.Python = ref.Python
	if t.Framework == FrameworkTorch && cfg.Sandbox.MemoryMB < 64<<10 {
		cfg.Sandbox.MemoryMB, cfg.Sandbox.MaxProcesses = 64<<10, max(cfg.Sandbox.MaxProcesses, 512)
	}
	// The core's implement, as every front door runs it; the files land
	// in work/<task>/<n>/code for a look at what was judged.
	cres, runErr := core.Implement(ctx, core.ImplementRequest{Paper: paperPath, Section: t.Section, OutDir: filepath.Join(dir, "code"), Root: dir, Config: &cfg, Profile: h.opts.Profile, Apply: core.WriteToOutDir}, nil)
	var res *orchestrator.Result
	if cres != nil {
		res = cres.Result
		h.fromResult(s, res, cfg.RunsDir)
	}
	if runErr != nil {
		s.Failure, s.Explanation = FailModel, runErr.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.Failure, s.Explanation = FailTimeout, fmt.Sprintf("the task ran past its limit of %s: %v", h.opts.TaskTimeout, runErr)
		}
		if res == nil || len(res.Files) == 0 {
			return s
		}
		// Keep going with the best files the run produced: a server that
		// died after a validated round still leaves code to judge.
	}
	modules := map[string][]byte{}
	for _, f := range res.Files {
		if !strings.HasPrefix(filepath.Base(f.Path), "test_") {
			modules[filepath.Base(f.Path)] = f.Content
		}
	}
	if _, ok := modules[t.Module]; !ok {
		if s.Failure == "" {
			s.Failure = FailNoModule
			s.Explanation = fmt.Sprintf("the generated files (%s) lack %s, the module the section's interface names", strings.Join(s.Files, ", "), t.Module)
		}
		return s
	}
	wall := time.Duration(ref.TimeoutSeconds * float64(time.Second))
	rep, err := runHidden(ctx, t, modules, ref.Python, h.opts.Env, wall)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.Failure, s.Explanation = FailTimeout, fmt.Sprintf("the task ran past its limit of %s", h.opts.TaskTimeout)
	case err != nil:
		s.Failure, s.Explanation = FailHiddenRunFail, err.Error()
	default:
		s.HiddenPassed = rep.Tests.Passed
		s.ResearchAccuracy = float64(rep.Tests.Passed) / float64(s.HiddenTotal)
		if s.Correct() && s.Failure == "" {
			s.Status = "passed"
		} else if s.Failure == "" {
			s.Failure = FailHiddenTests
			s.Explanation = fmt.Sprintf("%d of %d hidden tests passed%s", rep.Tests.Passed, s.HiddenTotal, hiddenProblem(rep, wall))
		}
	}
	return s
}

// hiddenProblem explains a hidden-test run beyond its counts.
func hiddenProblem(rep *validate.Report, wall time.Duration) string {
	for _, d := range rep.Diagnostics {
		if d.Code == validate.CodeTestRun && strings.Contains(d.Message, "wall") {
			return fmt.Sprintf("; killed at the time limit of %s (4× the reference)", wall)
		}
	}
	return failureText(rep)
}

func (h *harness) gain(t *Task, s *Sample) {
	if t.ManualMinutes <= 0 {
		return
	}
	g := 0.0
	if s.Correct() {
		g = 1 - s.WallSeconds/(t.ManualMinutes*60)
	}
	s.ProductivityGain = &g
}

// fromResult copies what the pipeline measured into the sample.
func (h *harness) fromResult(s *Sample, res *orchestrator.Result, runsDir string) {
	s.RunID, s.Rounds = res.RunID, res.Rounds
	s.TokensIn, s.TokensOut, s.TokensEstimated = res.Usage.PromptTokens, res.Usage.CompletionTokens, res.Usage.Estimated
	s.Warnings = res.Warnings
	for _, f := range res.Files {
		s.Files = append(s.Files, f.Path)
	}
	sort.Strings(s.Files)
	if res.Report != nil {
		score := res.Report.StyleScore / 100
		s.StyleConsistency = &score
		s.ExecutionSuccess = executed(res.Report)
	}
	if rec, err := orchestrator.LoadRun(runsDir, res.RunID); err == nil {
		for _, tm := range rec.Timings {
			switch tm.Node {
			case "analyzer", "planner", "implementer":
				s.ModelSeconds += tm.Duration.Seconds()
			}
		}
	}
}

// executed: the code compiled and its tests ran, passing or not.
func executed(r *validate.Report) bool {
	if r.Tests.Total == 0 || r.Tests.Errors > 0 {
		return false
	}
	for _, d := range r.Diagnostics {
		if d.Severity == style.SeverityError && d.Source != validate.SourceStyle && d.Code != validate.CodeTestFailure {
			return false
		}
	}
	return true
}

// SuiteProfile learns a style profile from the reference code of the
// tasks: the house style of the suite, used when no --profile is given.
func SuiteProfile(tasks []*Task) (*style.Profile, error) {
	p := style.NewProfile()
	for _, t := range tasks {
		for name, b := range t.Reference {
			if strings.HasSuffix(name, ".py") {
				if err := p.AddSource(t.ID+"/"+name, b); err != nil {
					return nil, fmt.Errorf("eval: learn the suite's style from %s/%s: %w", t.ID, name, err)
				}
			}
		}
	}
	return p, nil
}
