package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// Run statuses.
const (
	StatusPassed    = "passed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// MaxPlanRevisions is the default bound (config plan_revisions) on how
// often the Planner may revise a plan whose code keeps failing after
// Config.Rounds rounds.
const MaxPlanRevisions = 1

// Request is one paper section to implement.
type Request struct {
	// Paper is a file (.pdf, .md, .tex, .txt) or an arXiv id or URL.
	Paper string
	// Section is a number, a title or both ("3.2 Scaled Dot-Product Attention").
	Section string
	// OutDir is where the caller will write Result.Files; Run itself never
	// writes there.
	OutDir  string
	Config  config.Config
	Profile *style.Profile
	// Context holds retrieved passages for the Analyzer; may be empty.
	Context []string
	// Root is the workspace root: relative Config.RunsDir and
	// Config.Index.Dir are taken relative to it ("" is the working
	// directory).
	Root string
}

// Result is a finished run. Files hold the best round's modules and tests
// (also when it failed, so the user can take over); they are empty when the
// run was cancelled or stopped on an error before any code was validated.
type Result struct {
	RunID  string
	Status string // passed|failed|cancelled
	Files  []File
	Spec   *agents.Spec
	// Plan is the plan Files implement: after a revision whose code did
	// worse, the earlier plan, not the last one asked for.
	Plan          *agents.Plan
	Report        *validate.Report
	Rounds        int // implementation rounds run, over all plans
	PlanRevisions int
	Usage         llm.Usage
	Duration      time.Duration
	RunDir        string
	// Warnings are problems that did not stop the run but explain a
	// failure, e.g. a library the test interpreter lacks.
	Warnings []string
	// Indexed says that the run indexed the paper itself because no index
	// held it (so retrieval was not empty), e.g. "indexed attention.md: 12
	// chunks"; "" when it was indexed already or retrieval is off.
	Indexed string
}

// runState is the graph's shared state.
type runState struct {
	req  Request
	em   *emitter
	rec  *recorder
	text agents.AnalyzeInput

	analyzer    agents.Analyzer
	planner     agents.Planner
	implementer agents.Implementer
	validator   agents.Validator
	check       agents.CheckInput

	examples  []string // the user's code closest to the section, for style
	spec      *agents.Spec
	plan      *agents.Plan
	revisions int

	mu      sync.Mutex
	code    map[string]string // task id → code
	tests   map[string]string // test path → code
	round   int               // rounds with the current plan
	rounds  int               // rounds over all plans
	verdict *agents.Verdict

	best      *snapshot
	indexed   string
	warnings  []string
	prompts   []PromptRecord
	meters    map[agents.Name]*tokenMeter // set up before any call, read-only after
	timings   []Timing
	exchanges atomic.Int32
}

type snapshot struct {
	round   int
	plan    *agents.Plan // the plan the round implemented
	files   []File
	report  *validate.Report
	passed  bool
	scoreOf [3]float64 // passed tests, -error diagnostics, style score
}

// Run implements one paper section: Analyzer → Planner → Implementer
// (tasks fanned out, bounded by Config.MaxInFlight) → Validator, looping
// back to the Implementer with the evidence while tests fail (Config.Rounds
// rounds per plan), then letting the Planner revise the plan
// (Config.PlanRevisions times, default once). Every
// step is recorded under Config.RunsDir/<id>/. Run writes no output files:
// the caller writes Result.Files (core.WriteFiles, or the language
// server with an edit). Validation failing is a "failed" Result, not an
// error; an error (model unreachable, timeout, cancellation) comes with a
// Result whose Status says what happened.
func Run(ctx context.Context, req Request, obs Observer) (*Result, error) {
	start := time.Now()
	cfg := req.Config
	if cfg.Rounds <= 0 {
		cfg.Rounds = 3
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4
	}
	if cfg.RunsDir == "" {
		cfg.RunsDir = ".r2c/runs"
	}
	for _, dir := range []*string{&cfg.RunsDir, &cfg.Index.Dir} {
		if *dir != "" && !filepath.IsAbs(*dir) {
			*dir = filepath.Join(req.Root, *dir)
		}
	}
	req.Config = cfg
	id := newRunID(start)
	rec, err := newRecorder(cfg.RunsDir, id)
	if err != nil {
		return nil, err
	}
	s := &runState{req: req, rec: rec, code: map[string]string{}, tests: map[string]string{}, meters: map[agents.Name]*tokenMeter{}}
	s.em = &emitter{run: id, obs: obs, sink: rec.event}
	res := &Result{RunID: id, Status: StatusFailed, RunDir: rec.dir}

	client, runErr := s.setup(ctx)
	if runErr == nil {
		limit := 2 + (planRevisions(cfg)+1)*(2*cfg.Rounds+1) + 2
		runErr = s.graph().Run(ctx, s, limit, s.hook)
	}
	if client != nil {
		res.Usage = client.Usage()
		client.Close() // the client lives for this run only
	}
	if ctx.Err() != nil && runErr != nil {
		res.Status = StatusCancelled
		runErr = fmt.Errorf("run cancelled: %w", ctx.Err())
	} else if runErr != nil {
		runErr = explain(runErr, cfg)
	}
	res.Spec, res.Plan, res.Rounds, res.PlanRevisions, res.Warnings, res.Indexed = s.spec, s.plan, s.rounds, s.revisions, s.warnings, s.indexed
	if s.best != nil && res.Status != StatusCancelled {
		// The plan that goes with the files: after a revision the best
		// round may be one of an earlier plan.
		res.Files, res.Report, res.Plan = s.best.files, s.best.report, s.best.plan
		if s.best.passed && runErr == nil {
			res.Status = StatusPassed
		}
	}
	res.Duration = time.Since(start)
	s.finish(res, runErr)
	if err := rec.close(); err != nil {
		// The record is a by-product: losing part of it must not cost the
		// user a run's result, which callers drop on an error.
		res.Warnings = append(res.Warnings, fmt.Sprintf("the run record is incomplete: %v", err))
	}
	return res, runErr
}

func (s *runState) setup(ctx context.Context) (*llm.Client, error) {
	cfg := s.req.Config
	s.em.emit("run", EventStarted, 0, fmt.Sprintf("%s, section %s", s.req.Paper, s.req.Section))
	// The paper first: a wrong path or section fails before any request.
	p, err := paper.Load(ctx, s.req.Paper, PaperOptions(cfg))
	if err != nil {
		return nil, err
	}
	sec, err := p.Find(s.req.Section)
	if err != nil {
		return nil, err
	}
	s.text = agents.AnalyzeInput{PaperTitle: p.Title, Section: sec.Heading(), Text: sec.Markdown(), Context: s.req.Context}
	s.rec.writeFile("section.md", []byte(s.text.Text))
	s.retrieve(ctx, sec)

	// Then the interpreter: without pytest no code can be validated, so
	// asking the model would be wasted.
	python, err := sandbox.FindPython(cfg.Sandbox.Python)
	if err != nil {
		return nil, err
	}

	key, err := cfg.APIKey()
	if err != nil {
		return nil, err
	}
	client, err := llm.New(ClientConfig(cfg, key))
	if err != nil {
		return nil, fmt.Errorf("model client: %w", err)
	}
	// Every agent streams (progress shows its tokens and tokens/s) and
	// builds its prompts against the server's real limit, reporting each
	// cut as a context_trimmed event.
	if _, err := client.ContextLimit(ctx); err != nil {
		return client, err
	}
	settings := func(agent agents.Name) agents.Settings {
		m := cfg.AgentModel(string(agent))
		meter := newTokenMeter(s.em, agent)
		s.meters[agent] = meter
		st := agents.Settings{Model: client, ModelName: m.Name, MaxTokens: m.MaxTokens, Timeout: m.Timeout.D(),
			OnExchange: s.onExchange, OnToken: meter.add, OnPrompt: s.onPrompt}
		if m.Temperature != nil {
			t := float32(*m.Temperature)
			st.Temperature = &t
		}
		return st
	}
	s.analyzer = agents.Analyzer{Settings: settings(agents.NameAnalyzer)}
	s.planner = agents.Planner{Settings: settings(agents.NamePlanner)}
	s.implementer = agents.Implementer{Settings: settings(agents.NameImplementer)}
	s.validator = agents.Validator{Settings: settings(agents.NameValidator)}

	level, err := sandbox.ParseLevel(cfg.Sandbox.MinIsolation)
	if err != nil {
		return client, fmt.Errorf("config sandbox.min_isolation: %w", err)
	}
	s.check = agents.CheckInput{
		Profile: s.req.Profile, Python: python.Path, MinLevel: level,
		Limits: validate.LimitsFromConfig(cfg.Sandbox),
	}

	return client, nil
}

// onPrompt keeps every prompt's report for run.json and shows every cut
// made to fit it.
func (s *runState) onPrompt(r agents.PromptReport) {
	s.mu.Lock()
	s.prompts = append(s.prompts, PromptRecord{Round: s.rounds, PromptReport: r})
	s.mu.Unlock()
	for _, t := range r.Trims {
		s.em.emit(string(t.Agent), EventContextTrimmed, 0, t.String())
	}
}

func (s *runState) onExchange(ex agents.Exchange) {
	s.exchanges.Add(1)
	if m := s.meters[ex.Agent]; m != nil {
		m.done(ex.TaskID)
		if ex.Err == nil && ex.Usage.CompletionTokens > 0 {
			note := ""
			if ex.Usage.Estimated {
				note = "(estimated)"
			}
			s.em.emit(string(ex.Agent), EventTokens, 0, tokenMessage(ex.TaskID, ex.Usage.CompletionTokens, ex.Duration, note))
		}
	}
	s.rec.exchange(ex)
}

func (s *runState) hook(st Step) {
	if !st.Done {
		s.em.emit(st.Node, EventStarted, 0, "")
		s.timings = append(s.timings, Timing{Node: st.Node, Start: time.Now()})
		return
	}
	t := &s.timings[len(s.timings)-1]
	t.Duration = time.Since(t.Start)
	if st.Node == "implementer" || st.Node == "validator" {
		t.Round = s.rounds
	} else {
		t.Round = 0
	}
	if st.Err != nil {
		t.Error = st.Err.Error()
		s.em.emit(st.Node, EventFailed, 0, st.Err.Error())
		return
	}
	s.em.emit(st.Node, EventFinished, 100, s.summary(st.Node))
}

func (s *runState) summary(node string) string {
	switch node {
	case "analyzer":
		return fmt.Sprintf("spec %q: %d hyper-parameters, %d ambiguities", s.spec.Algorithm, len(s.spec.HyperParameters), len(s.spec.Ambiguities))
	case "planner":
		return fmt.Sprintf("plan: %d files, %d tasks", len(s.plan.Files), len(s.plan.Tasks))
	case "implementer":
		return fmt.Sprintf("round %d: code written", s.rounds)
	case "validator":
		r := s.verdict.Report
		verdict := "failed"
		if s.verdict.Passed() {
			verdict = "passed"
		}
		return fmt.Sprintf("round %d %s: %d/%d tests passed, style %.0f", s.rounds, verdict, r.Tests.Passed, r.Tests.Total, r.StyleScore)
	}
	return ""
}

func (s *runState) graph() *Graph[*runState] {
	rounds, revisions := s.req.Config.Rounds, planRevisions(s.req.Config)
	return NewGraph[*runState]().
		Node("analyzer", func(ctx context.Context, s *runState) error { return s.analyze(ctx) }).
		Node("planner", func(ctx context.Context, s *runState) error { return s.planNode(ctx) }).
		Node("implementer", func(ctx context.Context, s *runState) error { return s.implement(ctx) }).
		Node("validator", func(ctx context.Context, s *runState) error { return s.validateNode(ctx) }).
		Edge("analyzer", "planner").
		Edge("planner", "implementer").
		Edge("implementer", "validator").
		Conditional("validator", func(s *runState) string {
			switch {
			case s.verdict.Passed():
				return End
			case s.round < rounds:
				return "implementer"
			case s.revisions < revisions:
				return "planner"
			}
			return End
		}, "implementer", "planner", End)
}

func (s *runState) analyze(ctx context.Context) error {
	spec, _, err := s.analyzer.Analyze(ctx, s.text)
	if err != nil {
		return err
	}
	s.spec = spec
	s.rec.writeJSON("spec.json", spec)
	return nil
}

func (s *runState) planNode(ctx context.Context) error {
	in := agents.PlanInput{Spec: s.spec}
	revise := s.verdict != nil // only a failing round routes back here
	if revise {
		in.Previous, in.Evidence = s.plan, s.allEvidence()
	}
	plan, _, err := s.planner.Plan(ctx, in)
	if err != nil {
		return err
	}
	name := "plan.json"
	if revise {
		s.revisions++
		name = fmt.Sprintf("plan-%d.json", s.revisions+1)
	}
	s.plan = plan
	s.rec.writeJSON(name, plan)
	s.checkLibraries(ctx)
	s.checkOutDir()
	s.code, s.tests, s.round, s.verdict = map[string]string{}, map[string]string{}, 0, nil
	return nil
}

// checkLibraries warns, before any code is written, when the plan relies on
// libraries the test interpreter cannot import: those tests cannot pass
// here, whatever the model writes.
func (s *runState) checkLibraries(ctx context.Context) {
	missing, err := s.validator.MissingLibraries(ctx, s.check.Python, s.plan.Libraries, s.check.MinLevel)
	switch {
	case err != nil:
		s.warn("planner", fmt.Sprintf("could not check the plan's libraries: %v", err))
	case len(missing) > 0:
		s.warn("planner", fmt.Sprintf("the plan uses %s, which the test interpreter cannot import: tests using it cannot pass here (install it for that interpreter or set sandbox.python)", strings.Join(missing, ", ")))
	}
}

// checkOutDir warns, before any code is written, when planned files (or
// their tests) already exist in the output folder: the caller never
// overwrites, so finding out only at the end would waste the whole run.
func (s *runState) checkOutDir() {
	if s.req.OutDir == "" {
		return
	}
	var exist []string
	for _, f := range s.plan.Files {
		for _, p := range []string{f.Path, agents.TestPath(f.Path)} {
			if _, err := os.Lstat(filepath.Join(s.req.OutDir, filepath.FromSlash(p))); err == nil {
				exist = append(exist, p)
			}
		}
	}
	if len(exist) > 0 {
		verb := "exist"
		if len(exist) == 1 {
			verb = "exists"
		}
		s.warn("planner", fmt.Sprintf("%s already %s in %s and will not be overwritten, so the result cannot be written there: cancel and choose another output folder, or move them", strings.Join(exist, ", "), verb, s.req.OutDir))
	}
}

// warn reports a problem that does not stop the run, as an event and in
// the Result.
func (s *runState) warn(node, msg string) {
	s.mu.Lock()
	s.warnings = append(s.warnings, msg)
	s.mu.Unlock()
	s.em.emit(node, EventProgress, 0, "warning: "+msg)
}

func (s *runState) allEvidence() string {
	var parts []string
	for _, m := range sortedKeys(s.verdict.Evidence) {
		parts = append(parts, "## "+m+"\n"+s.verdict.Evidence[m])
	}
	return strings.Join(parts, "\n\n")
}

// testTaskPrefix marks the scheduler's pseudo-tasks that write tests, so
// test generation shares the in-flight bound with implementation.
const testTaskPrefix = agents.TestTaskPrefix

func (s *runState) implement(ctx context.Context) error {
	s.round++
	s.rounds++
	var work []agents.Task
	redo := map[string]bool{}
	if s.round == 1 {
		for _, t := range s.plan.Tasks {
			redo[t.ID] = true
		}
		for _, f := range s.plan.Files {
			work = append(work, agents.Task{ID: testTaskPrefix + f.Path, File: f.Path})
		}
	} else {
		for _, id := range s.verdict.FailingTasks {
			redo[id] = true
		}
		for _, p := range s.verdict.BrokenTests {
			work = append(work, agents.Task{ID: testTaskPrefix + p, File: s.moduleOfTest(p)})
		}
	}
	for _, t := range s.plan.Tasks {
		if !redo[t.ID] {
			continue
		}
		t.DependsOn = slicesFilter(t.DependsOn, func(d string) bool { return redo[d] })
		work = append(work, t)
	}
	var done atomic.Int32
	total := len(work)
	return Schedule(ctx, work, s.req.Config.MaxInFlight, func(ctx context.Context, t agents.Task) error {
		defer func() {
			n := done.Add(1)
			s.em.emit("implementer", EventProgress, 100*float64(n)/float64(total), fmt.Sprintf("%d/%d %s", n, total, t.ID))
		}()
		if strings.HasPrefix(t.ID, testTaskPrefix) {
			in := agents.TestInput{Spec: s.spec, Plan: s.plan, Module: t.File}
			if s.verdict != nil {
				in.Problem = s.verdict.TestEvidence[agents.TestPath(t.File)]
			}
			code, _, err := s.validator.GenerateTests(ctx, in)
			if err != nil {
				return err
			}
			s.mu.Lock()
			s.tests[code.File] = code.Source
			s.mu.Unlock()
			return nil
		}
		in := agents.ImplementInput{Task: t, Plan: s.plan, Spec: s.spec, Dependencies: map[string]string{}, Examples: s.examples}
		if s.req.Profile != nil {
			in.Style = s.req.Profile.Summary()
		}
		task := s.plan.Task(t.ID)
		s.mu.Lock()
		for _, d := range task.DependsOn {
			if dep := s.plan.Task(d); dep != nil && dep.File != t.File {
				in.Dependencies[dep.File] = s.fileLocked(dep.File)
			}
		}
		if s.round > 1 {
			in.Previous = s.code[t.ID]
			in.Failures, in.Diagnostics = s.verdict.Failures[t.File], s.verdict.Diagnostics[t.File]
		}
		s.mu.Unlock()
		code, _, err := s.implementer.Implement(ctx, in)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.code[t.ID] = code.Source
		s.mu.Unlock()
		return nil
	})
}

func (s *runState) moduleOfTest(test string) string {
	for _, f := range s.plan.Files {
		if agents.TestPath(f.Path) == test {
			return f.Path
		}
	}
	return ""
}

// fileLocked assembles one module from its tasks' current code; s.mu held.
func (s *runState) fileLocked(path string) string {
	var parts []agents.Part
	for _, t := range s.plan.Tasks {
		if c, ok := s.code[t.ID]; ok && t.File == path {
			parts = append(parts, agents.Part{Symbol: t.Symbol, Source: c})
		}
	}
	return agents.AssembleFile(parts)
}

func (s *runState) validateNode(ctx context.Context) error {
	in := s.check
	in.Plan = s.plan
	in.Modules, in.Tests = map[string]string{}, map[string]string{}
	var files []File
	s.mu.Lock()
	for _, f := range s.plan.Files {
		src := s.fileLocked(f.Path)
		in.Modules[f.Path] = src
		files = append(files, File{Path: f.Path, Content: []byte(src)})
	}
	for p, src := range s.tests {
		in.Tests[p] = src
		files = append(files, File{Path: p, Content: []byte(src)})
	}
	s.mu.Unlock()
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	s.rec.code(s.rounds, files)
	verdict, err := s.validator.Check(ctx, in)
	if err != nil {
		return err
	}
	s.verdict = verdict
	s.rec.writeJSON(fmt.Sprintf("reports/round-%d.json", s.rounds), verdict)
	snap := &snapshot{round: s.rounds, plan: s.plan, files: files, report: verdict.Report, passed: verdict.Passed()}
	errorsFound := 0
	for _, d := range verdict.Report.Diagnostics {
		if d.Severity == style.SeverityError {
			errorsFound++
		}
	}
	snap.scoreOf = [3]float64{float64(verdict.Report.Tests.Passed), -float64(errorsFound), verdict.Report.StyleScore}
	if s.best == nil || better(snap, s.best) {
		s.best = snap
	}
	return nil
}

// better prefers a passing round, then more passed tests, fewer errors and
// a higher style score; on a tie the later round wins.
func better(a, b *snapshot) bool {
	if a.passed != b.passed {
		return a.passed
	}
	for i := range a.scoreOf {
		if a.scoreOf[i] != b.scoreOf[i] {
			return a.scoreOf[i] > b.scoreOf[i]
		}
	}
	return true
}

func (s *runState) finish(res *Result, runErr error) {
	cfg := s.req.Config
	rec := Record{
		SchemaVersion: SchemaVersion, Indexed: res.Indexed,
		ID: res.RunID, Paper: s.req.Paper, Section: s.req.Section, Endpoint: cfg.Endpoint, Model: cfg.Model.Name,
		Status: res.Status, Started: time.Now().Add(-res.Duration), Finished: time.Now(), Duration: res.Duration,
		Rounds: res.Rounds, PlanRevisions: res.PlanRevisions, Usage: res.Usage, ModelCalls: int(s.exchanges.Load()), Timings: s.timings,
	}
	if runErr != nil {
		rec.Error = runErr.Error()
	}
	if s.best != nil {
		rec.BestRound = s.best.round
	}
	rec.Warnings = res.Warnings
	s.mu.Lock()
	rec.Prompts = s.prompts
	s.mu.Unlock()
	if res.Report != nil {
		rec.Tests, rec.StyleScore = res.Report.Tests, res.Report.StyleScore
	}
	for _, f := range res.Files {
		rec.Files = append(rec.Files, f.Path)
	}
	s.rec.writeJSON("run.json", rec)
	kind, msg := EventFinished, res.Status
	if runErr != nil {
		kind, msg = EventFailed, runErr.Error()
	}
	s.em.emit("run", kind, 100, msg)
}

// ErrUnreachable is wrapped by Run's error when the model server could not
// be reached at all (connection refused, unknown host).
var ErrUnreachable = errors.New("model server not reachable")

// explain adds the fix to errors whose cause the user can act on.
func explain(err error, cfg config.Config) error {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &opErr), errors.As(err, &dnsErr):
		return fmt.Errorf("%w: %w\nthe model server at %s is not reachable: start it (e.g. text-generation-inference or vLLM) or point r2c at it with --endpoint, R2C_ENDPOINT or endpoint in r2c.toml; r2c doctor checks it", ErrUnreachable, err, cfg.Endpoint)
	case errors.Is(err, llm.ErrTimeout):
		return fmt.Errorf("%w\nthe model did not answer within %s: raise model.timeout in r2c.toml (or R2C_TIMEOUT), or lower model.max_tokens", err, cfg.Model.Timeout)
	}
	return err
}

func slicesFilter(in []string, keep func(string) bool) []string {
	var out []string
	for _, s := range in {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}
