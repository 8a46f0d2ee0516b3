package eval

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
)

// scripted is one task of the test suite and how the fake model answers it.
type scripted struct {
	id, fn  string
	code    string // the Implementer's answer
	ownTest string // the Validator's tests (r2c's own)
	hidden  string
	ref     string
	hang    bool // the Implementer never answers
	noSec   bool // the task folder lacks its section
}

var scriptedTasks = []scripted{
	{id: "double", fn: "double", code: "def double(x):\n    \"\"\"Return twice x.\"\"\"\n    return 2 * x\n",
		ownTest: "from double import double\n\n\ndef test_two():\n    assert double(2) == 4\n",
		hidden:  "from double import double\n\n\ndef test_a():\n    assert double(2) == 4\n\n\ndef test_b():\n    assert double(-3) == -6\n\n\ndef test_c():\n    assert double(0.5) == 1.0\n",
		ref:     "def double(x):\n    return 2 * x\n"},
	// Wrong: passes its own weak test, fails two of three hidden ones.
	{id: "square", fn: "square", code: "def square(x):\n    \"\"\"Return x squared.\"\"\"\n    return x * 2\n",
		ownTest: "from square import square\n\n\ndef test_two():\n    assert square(2) == 4\n",
		hidden:  "from square import square\n\n\ndef test_a():\n    assert square(2) == 4\n\n\ndef test_b():\n    assert square(3) == 9\n\n\ndef test_c():\n    assert square(-1) == 1\n",
		ref:     "def square(x):\n    return x * x\n"},
	// Broken: a syntax error in every round.
	{id: "negate", fn: "negate", code: "def negate(x)\n    return -x\n",
		ownTest: "from negate import negate\n\n\ndef test_one():\n    assert negate(1) == -1\n",
		hidden:  "from negate import negate\n\n\ndef test_a():\n    assert negate(1) == -1\n\n\ndef test_b():\n    assert negate(-2) == 2\n",
		ref:     "def negate(x):\n    return -x\n"},
	{id: "hang", fn: "hang", hang: true, code: "def hang():\n    return 0\n",
		ownTest: "from hang import hang\n\n\ndef test_one():\n    assert hang() == 0\n",
		hidden:  "from hang import hang\n\n\ndef test_a():\n    assert hang() == 0\n",
		ref:     "def hang():\n    return 0\n"},
	// A hidden test that does not import: the reference check fails.
	{id: "badhidden", fn: "badhidden", code: "def badhidden():\n    return 1\n",
		ownTest: "from badhidden import badhidden\n\n\ndef test_one():\n    assert badhidden() == 1\n",
		hidden:  "import no_such_helper_module\nfrom badhidden import badhidden\n\n\ndef test_a():\n    assert badhidden() == 1\n",
		ref:     "def badhidden():\n    return 1\n"},
	{id: "nosection", fn: "nosection", noSec: true, hidden: "def test_a():\n    pass\n", ref: "x = 1\n"},
}

// writeScriptedSuite writes the tasks as a suite folder.
func writeScriptedSuite(t *testing.T, tasks []scripted) string {
	root := t.TempDir()
	for _, s := range tasks {
		files := map[string]string{
			"task.toml":                     fmt.Sprintf("id = %q\ntitle = %q\nframework = \"numpy\"\npaper = \"Toy Functions\"\nsection = \"2\"\nmodule = \"%s.py\"\nmanual_minutes = 30\n", s.id, s.id, s.id),
			"hidden/test_" + s.id + "_h.py": s.hidden,
			"reference/" + s.id + ".py":     s.ref,
		}
		if !s.noSec {
			files["section.md"] = fmt.Sprintf("## 2 The %s function\n\nThe method computes %s of its input.\n\n**Interface.** A module `%s.py` with a function `%s`.\n", s.fn, s.fn, s.id, s.fn)
		}
		writeTask(t, root, s.id, files)
	}
	return root
}

const usageIn, usageOut = 100, 10

// script answers every agent for every scripted task, with fixed token
// counts so the totals can be checked exactly.
func script(srv *llmtest.Server, tasks []scripted) {
	u := &llmtest.Usage{PromptTokens: usageIn, CompletionTokens: usageOut, TotalTokens: usageIn + usageOut}
	for _, s := range tasks {
		module := s.id + ".py"
		both := func(a, b llmtest.Matcher) llmtest.Matcher {
			return func(r *llmtest.Recorded) bool { return a(r) && b(r) }
		}
		spec := fmt.Sprintf(`{"algorithm": "%s", "summary": "Computes %s in %s.", "inputs": [{"name": "x", "shape": [], "dtype": "float64", "description": "input"}], "outputs": [{"name": "y", "shape": [], "dtype": "float64", "description": "output"}], "hyper_parameters": [], "equations": [], "dependencies": [], "metrics": [], "ambiguities": []}`, s.fn, s.fn, module)
		plan := fmt.Sprintf(`{"files": [{"path": %q, "purpose": "the %s function", "functions": [{"name": %q, "signature": "def %s(x)", "docstring": "%s of x"}]}], "libraries": [], "tasks": [{"id": %q, "file": %q, "symbol": %q, "description": "implement %s"}]}`, module, s.fn, s.fn, s.fn, s.fn, s.fn, module, s.fn, s.fn)
		srv.On(both(llmtest.Contains(orchestratortest.AnalyzerPrompt), llmtest.Contains("`"+module+"`")), llmtest.Reply{Content: spec, Usage: u})
		srv.On(both(llmtest.Contains(orchestratortest.PlannerPrompt), llmtest.Contains(module)), llmtest.Reply{Content: plan, Usage: u})
		srv.On(both(llmtest.Contains(orchestratortest.ValidatorPrompt), llmtest.Contains(module)), llmtest.Reply{Content: "```python\n" + s.ownTest + "```", Usage: u})
		reply := llmtest.Reply{Content: "```python\n" + s.code + "```", Usage: u}
		if s.hang {
			reply.Latency = time.Hour
		}
		srv.On(orchestratortest.UserContains("Task "+s.fn+":"), reply)
	}
}

func scriptedConfig(endpoint string) config.Config {
	cfg := config.Default()
	cfg.Endpoint = endpoint
	cfg.APIKeyEnv = "R2C_TEST_NO_KEY"
	cfg.Rounds = 2
	zero := 0
	cfg.PlanRevisions = &zero
	cfg.Model.MaxTokens = 512
	return cfg
}

// requestsFor counts the chat requests that belong to one task.
func requestsFor(srv *llmtest.Server, s scripted) int {
	n := 0
	for _, r := range srv.ChatRequests() {
		for _, m := range r.Messages {
			if strings.Contains(m.Content, s.id+".py") || strings.Contains(m.Content, "Task "+s.fn+":") {
				n++
				break
			}
		}
	}
	return n
}

func TestRunScriptedSuiteRecordsEveryOutcome(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	script(srv, scriptedTasks)
	tasks, err := LoadSuiteDir(writeScriptedSuite(t, scriptedTasks))
	if err != nil {
		t.Fatal(err)
	}
	// A relative --out, as people type it: each sample's pipeline runs
	// with its own work folder as root, and must still find its run record.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out, err := filepath.Rel(wd, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var progress syncBuffer
	opts := Options{Tasks: tasks, Suite: "scripted", Samples: 2, Jobs: 2, Out: out, Config: scriptedConfig(srv.URL()), TaskTimeout: 20 * time.Second, Progress: &progress}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	tr := map[string]TaskResult{}
	for _, x := range res.Tasks {
		tr[x.ID] = x
	}
	type want struct {
		scored    bool
		exec, acc float64
		rounds    float64
		correct   int
		failure   string
		explain   string
		gain      float64 // -1: check it is 0 < g < 1
	}
	wants := map[string]want{
		"double":    {scored: true, exec: 1, acc: 1, rounds: 1, correct: 2, gain: -1},
		"square":    {scored: true, exec: 1, acc: 1.0 / 3, rounds: 1, failure: FailHiddenTests, explain: "1 of 3 hidden tests passed"},
		"negate":    {scored: true, exec: 0, acc: 0, rounds: 2, failure: FailHiddenTests, explain: "0 of 2 hidden tests passed"},
		"hang":      {scored: true, exec: 0, acc: 0, rounds: 1, failure: FailTimeout, explain: "ran past its limit of 20s"},
		"badhidden": {failure: FailReference, explain: "No module named 'no_such_helper_module'"},
		"nosection": {failure: FailTaskInvalid, explain: "the section section.md is missing"},
	}
	for id, w := range wants {
		x, ok := tr[id]
		if !ok {
			t.Fatalf("task %s missing from results", id)
		}
		if x.Scored != w.scored || x.Samples != 2 {
			t.Errorf("%s: scored %v with %d samples, want %v with 2 (%s)", id, x.Scored, x.Samples, w.scored, x.Error)
		}
		for _, s := range x.SampleResults {
			if s.Failure != w.failure || !strings.Contains(s.Explanation, w.explain) {
				t.Errorf("%s#%d: failure %q %q, want %q saying %q", id, s.Index, s.Failure, s.Explanation, w.failure, w.explain)
			}
		}
		if !w.scored {
			if !strings.Contains(x.Error, w.explain) {
				t.Errorf("%s: error %q should say %q", id, x.Error, w.explain)
			}
			continue
		}
		if x.ExecutionSuccess != w.exec || math.Abs(x.ResearchAccuracy-w.acc) > 1e-12 || x.Correct != w.correct {
			t.Errorf("%s: execution %v accuracy %v correct %d; want %v %v %d", id, x.ExecutionSuccess, x.ResearchAccuracy, x.Correct, w.exec, w.acc, w.correct)
		}
		if id != "hang" && x.Rounds != w.rounds {
			t.Errorf("%s: %v rounds, want %v", id, x.Rounds, w.rounds)
		}
		wantP1 := float64(w.correct) / 2
		if x.PassAtK["1"] != wantP1 || x.PassAtK["2"] != map[bool]float64{true: 1, false: 0}[w.correct > 0] {
			t.Errorf("%s: pass@k %v", id, x.PassAtK)
		}
		if x.ProductivityGain == nil {
			t.Errorf("%s: no productivity gain despite manual_minutes", id)
		} else if g := *x.ProductivityGain; (w.gain == -1 && !(g > 0.9 && g < 1)) || (w.gain != -1 && g != w.gain) {
			t.Errorf("%s: productivity gain %v", id, g)
		}
		if id == "double" || id == "square" {
			if x.StyleConsistency == nil || *x.StyleConsistency <= 0 || *x.StyleConsistency > 1 {
				t.Errorf("%s: style %v", id, x.StyleConsistency)
			}
		}
	}
	if x := tr["double"]; x.ModelSeconds <= 0 || x.ModelSeconds > x.WallSeconds {
		t.Errorf("double: model time %v s of %v s wall", x.ModelSeconds, x.WallSeconds)
	}
	// Tokens: exactly the scripted usage of every request the task made.
	for _, s := range scriptedTasks[:3] {
		x := tr[s.id]
		wantIn := float64(requestsFor(srv, s)*usageIn) / 2
		if x.TokensIn != wantIn || x.TokensOut != wantIn/usageIn*usageOut {
			t.Errorf("%s: tokens %v/%v, want %v/%v", s.id, x.TokensIn, x.TokensOut, wantIn, wantIn/usageIn*usageOut)
		}
	}

	sum := res.Summary
	if sum.Tasks != 6 || sum.Scored != 4 || sum.Samples != 12 || len(sum.Unscored) != 2 {
		t.Errorf("summary counts %+v", sum)
	}
	if m := sum.Metrics[MetricExecution]; m.Mean != 0.5 || m.N != 4 {
		t.Errorf("execution %+v, want mean 0.5 over 4 tasks", m)
	}
	if m := sum.Metrics[MetricAccuracy]; math.Abs(m.Mean-(1+1.0/3)/4) > 1e-12 {
		t.Errorf("accuracy %+v, want %v", m, (1+1.0/3)/4)
	}
	if sum.PassAtK["1"] != 0.25 || sum.PassAtK["2"] != 0.25 {
		t.Errorf("suite pass@k %v, want 0.25", sum.PassAtK)
	}
	for _, tg := range sum.Targets {
		if tg.Value == nil || tg.Met == nil {
			t.Errorf("target %s not measured: %s", tg.Name, tg.Note)
		}
	}
	if sum.Failures[FailTimeout] != 2 || sum.Failures[FailHiddenTests] != 4 || sum.Failures[FailReference] != 2 || sum.Failures[FailTaskInvalid] != 2 {
		t.Errorf("failure counts %v", sum.Failures)
	}

	// The reports: a loadable results.json, Markdown, one offline HTML file.
	back, err := LoadResults(out)
	if err != nil || len(back.Tasks) != 6 || back.SchemaVersion != SchemaVersion {
		t.Fatalf("results.json: %v", err)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if strings.Count(string(html), "<svg") != 5 || strings.Contains(string(html), "<script") || strings.Contains(string(html), "src=") || strings.Contains(string(html), "href=") {
		t.Errorf("report.html is not one offline page with 5 charts")
	}
	for _, want := range []string{"| square | numpy | 2 | 100.0% | 33.3% |", "| badhidden | numpy | 2 | not scored: the hidden tests fail on the reference code (0 of 1 passed): fix the task before it judges anything: test_badhidden_h.py: ModuleNotFoundError: No module named 'no_such_helper_module'", "hang#0 (timeout)", "Aggregation: each task counts once"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(progress.String(), "[12/12]") || !strings.Contains(progress.String(), "ETA") {
		t.Errorf("progress:\n%s", progress.String())
	}

	// Resuming a finished run asks the model nothing and gives the same numbers.
	before := len(srv.ChatRequests())
	again, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.ChatRequests()) != before || again.Summary.Metrics[MetricAccuracy] != sum.Metrics[MetricAccuracy] {
		t.Errorf("a resumed finished run made %d requests", len(srv.ChatRequests())-before)
	}
	// Another model into the same folder is refused.
	other := opts
	other.Config.Model.Name = "another"
	if _, err := Run(context.Background(), other); err == nil || !strings.Contains(err.Error(), "choose another --out") {
		t.Errorf("mixing models: %v", err)
	}
}

func TestRunResumesAfterKillAndSurvivesServerDeath(t *testing.T) {
	needPytest(t)
	tasks3 := []scripted{scriptedTasks[0], scriptedTasks[1]}
	srv := llmtest.New(t)
	// The server dies during the resumed run: the square task's Planner
	// request takes it down. Its samples are explained failures; the run
	// still finishes. (Rules added first win over script's.)
	var armed atomic.Bool
	var once sync.Once
	srv.OnFunc(func(r *llmtest.Recorded) bool {
		return armed.Load() && strings.Contains(r.Messages[0].Content, orchestratortest.PlannerPrompt) && strings.Contains(r.LastUser(), "square.py")
	}, func(*llmtest.Recorded) llmtest.Reply {
		once.Do(func() { go srv.Close() })
		return llmtest.Reply{Status: 503, ErrorMessage: "shutting down"}
	})
	script(srv, tasks3)
	tasks, err := LoadSuiteDir(writeScriptedSuite(t, tasks3))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kill := &cancelOn{substr: "[1/", cancel: cancel}
	opts := Options{Tasks: tasks, Suite: "scripted", Samples: 2, Jobs: 1, Out: out, Config: scriptedConfig(srv.URL()), Progress: kill}
	if _, err := Run(ctx, opts); err == nil || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("killed run: %v", err)
	}
	kept, _ := filepath.Glob(filepath.Join(out, "samples", "*", "*.json"))
	if len(kept) != 1 {
		t.Fatalf("%d samples kept after the kill, want 1: %v", len(kept), kept)
	}
	armed.Store(true)
	opts.Progress = nil
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res.Tasks {
		if x.Samples != 2 {
			t.Errorf("%s: %d samples after resuming, want 2", x.ID, x.Samples)
		}
		for _, s := range x.SampleResults {
			switch x.ID {
			case "double":
				if s.Status != "passed" {
					t.Errorf("double#%d: %s %s", s.Index, s.Failure, s.Explanation)
				}
			case "square":
				t.Logf("square#%d: %s", s.Index, s.Explanation)
				if s.Failure != FailModel || !(strings.Contains(s.Explanation, "not reachable") || strings.Contains(s.Explanation, "shutting down")) {
					t.Errorf("square#%d after the server died: %q %q", s.Index, s.Failure, s.Explanation)
				}
			}
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type cancelOn struct {
	substr string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.substr) {
		c.cancel()
	}
	return len(p), nil
}
