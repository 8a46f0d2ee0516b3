package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/rag"
	"github.com/r2c-ai/r2c/sandbox"
)

// needPytest skips when no interpreter with pytest (and numpy, which the
// scripted code imports) is available, naming what is missing.
func needPytest(t testing.TB) {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest and numpy (Debian: python3-pytest python3-numpy): %v", err)
	}
}

func testConfig(t testing.TB, endpoint string) config.Config {
	cfg := config.Default()
	cfg.Endpoint = endpoint
	cfg.RunsDir = filepath.Join(t.TempDir(), "runs")
	// Runs index their paper when no index holds it: never into the
	// source tree.
	cfg.Index.Dir = filepath.Join(t.TempDir(), "index")
	cfg.APIKeyEnv = "R2C_TEST_NO_KEY"
	return cfg
}

type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) OnEvent(e Event) { l.mu.Lock(); l.events = append(l.events, e); l.mu.Unlock() }

func (l *eventLog) has(node, kind, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Node == node && e.Kind == kind && strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}

func TestRunFixesFailingCodeInRoundTwo(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	log := &eventLog{}
	paperPath := orchestratortest.Paper(t)
	before := runtime.NumGoroutine()
	res, err := Run(context.Background(), Request{Paper: paperPath, Section: "3.2", Config: cfg}, log)
	if err != nil {
		t.Fatal(err)
	}
	settled(t, before) // no connection, worker or writer outlives the run
	if res.Status != StatusPassed || res.Rounds != 2 || res.PlanRevisions != 0 {
		t.Fatalf("status %s after %d rounds (%d revisions); report %+v", res.Status, res.Rounds, res.PlanRevisions, res.Report)
	}
	if res.Report.Tests.Total != 5 || res.Report.Tests.Passed != 5 {
		t.Errorf("tests %+v, want 5/5", res.Report.Tests)
	}
	if len(res.Spec.Ambiguities) == 0 || !strings.Contains(strings.Join(res.Spec.Ambiguities, " "), "WMT 2014") {
		t.Errorf("the missing dataset is not an ambiguity: %v", res.Spec.Ambiguities)
	}
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, ",") != "attention.py,test_attention.py" {
		t.Fatalf("files %v", paths)
	}
	src := string(res.Files[0].Content)
	if !strings.Contains(src, "np.sqrt(d_k)") || strings.Count(src, "import numpy as np") != 1 || strings.Contains(src, "</s>") || strings.Contains(src, "```") {
		t.Errorf("assembled module:\n%s", src)
	}

	// The correction round must carry the evidence: the failing test and
	// its traceback, for the attention task only being wrong.
	var fixReq *llmtest.Recorded
	for _, r := range srv.ChatRequests() {
		if strings.Contains(r.LastUser(), "Task attention:") && strings.Contains(r.LastUser(), "previous version failed") {
			fixReq = r
		}
	}
	if fixReq == nil {
		t.Fatal("no correction request reached the model")
	}
	for _, want := range []string{"test_known_values_use_sqrt_dk_scaling", "scores = q @ k.T", "AssertionError"} {
		if !strings.Contains(fixReq.LastUser(), want) {
			t.Errorf("correction prompt lacks %q", want)
		}
	}
	if fixReq.Messages[0].Role != "system" || strings.Contains(fixReq.Messages[0].Content, "[INST]") {
		t.Errorf("prompt is not a plain messages conversation: %+v", fixReq.Messages[0])
	}

	// The 503 was retried and the cut-off JSON re-asked: two requests each.
	count := func(sub string) int {
		n := 0
		for _, r := range srv.ChatRequests() {
			if strings.Contains(r.Messages[0].Content, sub) {
				n++
			}
		}
		return n
	}
	if count("You are the Planner") != 2 || count("You are the Analyzer") != 2 {
		t.Errorf("planner requests %d (503 then success), analyzer requests %d (malformed then repaired)", count("You are the Planner"), count("You are the Analyzer"))
	}

	// The run record holds every stage and the events reached the observer.
	for _, name := range []string{"run.json", "spec.json", "plan.json", "section.md", "reports/round-1.json", "reports/round-2.json", "code/round-1/attention.py", "events.jsonl"} {
		if _, err := os.Stat(filepath.Join(res.RunDir, name)); err != nil {
			t.Errorf("run record: %v", err)
		}
	}
	// Every round trip is recorded: the analyzer's cut-off JSON and the
	// client's repair re-ask, the planner's 503 and its retry, the tests,
	// and 2 implementer tasks in each of 2 rounds.
	ex, _ := filepath.Glob(filepath.Join(res.RunDir, "exchanges", "*.json"))
	if len(ex) != 9 {
		t.Errorf("%d exchanges recorded: %v", len(ex), ex)
	}
	var analyzer []agents.Exchange
	planner503 := false
	for _, p := range ex {
		var e agents.Exchange
		b, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(b, &e) != nil {
			t.Fatalf("exchange %s: %v", p, err)
		}
		switch {
		case e.Agent == "analyzer":
			analyzer = append(analyzer, e)
		case e.Agent == "planner" && e.Status == 503 && strings.Contains(e.Error, "overloaded"):
			planner503 = true
		}
	}
	spec := orchestratortest.Answer(t, "spec.json")
	if len(analyzer) != 2 || analyzer[0].Response != spec[:len(spec)/2] || analyzer[0].Invalid == "" || !analyzer[1].Repair {
		t.Fatalf("analyzer exchanges on disk: %+v", analyzer)
	}
	repairPrompt := analyzer[1].Messages[len(analyzer[1].Messages)-1]
	if repairPrompt.Role != "user" || !strings.Contains(repairPrompt.Content, "Your answer is not valid") || analyzer[1].Messages[len(analyzer[1].Messages)-2].Content != spec[:len(spec)/2] {
		t.Errorf("the repair prompt is not in the record: %+v", analyzer[1].Messages)
	}
	if !planner503 {
		t.Error("the planner's 503 attempt is not in the record")
	}
	rec, err := LoadRun(cfg.RunsDir, res.RunID[:12])
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != StatusPassed || rec.Rounds != 2 || rec.Tests.Passed != 5 || rec.Usage.TotalTokens == 0 || rec.Usage != res.Usage {
		t.Errorf("record %+v", rec)
	}
	var round1 agents.Verdict
	b, _ := os.ReadFile(filepath.Join(res.RunDir, "reports", "round-1.json"))
	if err := json.Unmarshal(b, &round1); err != nil || round1.Report.Tests.Failed != 1 || len(round1.FailingTasks) != 2 {
		t.Errorf("round 1 report: %v %+v", err, round1)
	}
	for _, want := range [][3]string{{"analyzer", EventFinished, "ambiguities"}, {"validator", EventFinished, "round 1 failed: 4/5"}, {"validator", EventFinished, "round 2 passed: 5/5"}, {"run", EventFinished, "passed"}} {
		if !log.has(want[0], want[1], want[2]) {
			t.Errorf("no %s %s event with %q", want[0], want[1], want[2])
		}
	}
}

func TestRunTimeoutIsAClearError(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "{}", Latency: time.Hour})
	cfg := testConfig(t, srv.URL())
	cfg.Model.Timeout = config.Duration(200 * time.Millisecond)
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "Scaled Dot-Product Attention", Config: cfg}, nil)
	if !errors.Is(err, llm.ErrTimeout) || !strings.Contains(err.Error(), "raise model.timeout") || !strings.Contains(err.Error(), "analyzer") {
		t.Fatalf("err %v", err)
	}
	if res.Status != StatusFailed || len(res.Files) != 0 {
		t.Fatalf("result %+v", res)
	}
	rec, err := LoadRun(cfg.RunsDir, res.RunID)
	if err != nil || rec.Status != StatusFailed || !strings.Contains(rec.Error, "timeout") {
		t.Fatalf("record %+v, %v", rec, err)
	}
}

func TestRunUnreachableEndpointNamesTheFix(t *testing.T) {
	needPytest(t)
	cfg := testConfig(t, "http://127.0.0.1:1/v1")
	cfg.MaxRetries = -1
	_, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	if err == nil || !strings.Contains(err.Error(), "not reachable") || !strings.Contains(err.Error(), "--endpoint") {
		t.Fatalf("err %v", err)
	}
}

func TestRunCancelledMidRunReturnsNoFiles(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first implementer request cancels the run and then hangs, as a
	// slow model would; the run must stop that request and return. This
	// rule comes first, so it wins over the scripted softmax answer.
	srv.OnFunc(orchestratortest.UserContains("Task softmax:"), func(*llmtest.Recorded) llmtest.Reply {
		cancel()
		// Answered only if the client never hangs up: a run that does not
		// stop its in-flight requests hangs here and the test times out.
		return llmtest.Reply{Content: "late", Latency: time.Hour}
	})
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	res, err := Run(ctx, Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if res.Status != StatusCancelled || len(res.Files) != 0 {
		t.Fatalf("status %s, %d files", res.Status, len(res.Files))
	}
}

func TestRunUnknownSectionListsSections(t *testing.T) {
	srv := llmtest.New(t)
	_, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "9.9", Config: testConfig(t, srv.URL())}, nil)
	if err == nil || !strings.Contains(err.Error(), "3.2") {
		t.Fatalf("err %v", err)
	}
	if n := len(srv.ChatRequests()); n != 0 {
		t.Fatalf("%d model requests before the section was found", n)
	}
}

// When the code keeps failing, the Planner revises the plan once, with the
// evidence; the run then ends failed, honestly, with the best files.
func TestRunRevisesPlanThenFailsHonestly(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	// Rules before Script's win: the attention code is never fixed.
	srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask), llmtest.Reply{Content: orchestratortest.Answer(t, orchestratortest.UnscaledAttention)})
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	cfg.Rounds = 1
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || res.Rounds != 2 || res.PlanRevisions != 1 {
		t.Fatalf("status %s, rounds %d, revisions %d", res.Status, res.Rounds, res.PlanRevisions)
	}
	if len(res.Files) != 2 || res.Report.Tests.Passed != 4 || res.Report.Tests.Failed != 1 {
		t.Fatalf("best result: %d files, tests %+v", len(res.Files), res.Report.Tests)
	}
	var revision *llmtest.Recorded
	for _, r := range srv.ChatRequests() {
		if strings.Contains(r.LastUser(), orchestratortest.RevisionPrompt) {
			revision = r
		}
	}
	if revision == nil || !strings.Contains(revision.LastUser(), "test_known_values_use_sqrt_dk_scaling") {
		t.Fatal("the plan revision did not get the failing test as evidence")
	}
	if _, err := os.Stat(filepath.Join(res.RunDir, "plan-2.json")); err != nil {
		t.Error(err)
	}
}

// Every agent streams its answers; progress reports each agent's tokens
// and tokens/s, and every request went out as a stream.
func TestRunStreamsTokens(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	log := &eventLog{}
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: testConfig(t, srv.URL())}, log)
	if err != nil || res.Status != StatusPassed {
		t.Fatalf("%v, %+v", err, res)
	}
	for _, agent := range agents.Names() {
		if !log.has(string(agent), EventTokens, "tokens/s") {
			t.Errorf("no tokens event for %s", agent)
		}
	}
	if !log.has("implementer", EventTokens, "attention: ") {
		t.Error("the implementer's tokens events do not name the task")
	}
	for _, r := range srv.ChatRequests() {
		if !r.Stream {
			t.Errorf("a request was not streamed: %.80q", r.LastUser())
		}
	}
}

// Tests that cannot run through their own fault (here: they import torch,
// which is not installed) are written again with the reason, and the code
// is left alone for that round.
func TestRunRewritesBrokenTests(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	torchTest := "```python\nimport numpy as np\nimport torch\n\nimport attention\n\n\ndef test_shapes():\n    q = torch.randn(3, 4)\n    assert attention.scaled_dot_product_attention(q, q, q)[0].shape == (3, 4)\n```"
	srv.On(func(r *llmtest.Recorded) bool {
		return strings.Contains(r.Messages[0].Content, orchestratortest.ValidatorPrompt) && !strings.Contains(r.LastUser(), "could not run")
	}, llmtest.Reply{Content: torchTest})
	orchestratortest.Script(t, srv)
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: testConfig(t, srv.URL())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusPassed || res.Rounds != 3 {
		t.Fatalf("status %s after %d rounds", res.Status, res.Rounds)
	}
	implementer, rewrite := 0, 0
	for _, r := range srv.ChatRequests() {
		switch {
		case strings.Contains(r.Messages[0].Content, "You are the Implementer"):
			implementer++
		case strings.Contains(r.LastUser(), "could not run"):
			rewrite++
			if !strings.Contains(r.LastUser(), "No module named 'torch'") {
				t.Errorf("rewrite prompt lacks the reason:\n%s", r.LastUser())
			}
		}
	}
	if implementer != 4 || rewrite != 1 {
		t.Errorf("%d implementer requests (want 2 in round 1 and 2 in round 3), %d test rewrites (want 1)", implementer, rewrite)
	}
}

// With an index (r2c index), the Analyzer sees related passages of the
// paper beyond the section and the Implementer sees the user's own code.
func TestRunUsesRetrievedContext(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	cfg.Index.Dir = filepath.Join(t.TempDir(), "index")
	paperPath := orchestratortest.Paper(t)
	code := t.TempDir()
	userCode := "import numpy as np\n\n\ndef masked_row_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:\n    \"\"\"Softmax over the last axis with masked entries at zero weight.\"\"\"\n    scores = np.where(mask, -np.inf, scores)\n    scores = scores - scores.max(axis=-1, keepdims=True)\n    weights = np.exp(scores)\n    return weights / weights.sum(axis=-1, keepdims=True)\n"
	if err := os.WriteFile(filepath.Join(code, "layers.py"), []byte(userCode), 0o644); err != nil {
		t.Fatal(err)
	}
	emb, err := rag.EmbedderFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := rag.Create(cfg.Index.Dir, emb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Update(context.Background(), rag.Sources{Papers: []string{paperPath}, Code: []string{code}}, rag.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	log := &eventLog{}
	res, err := Run(context.Background(), Request{Paper: paperPath, Section: "3.2", Config: cfg}, log)
	if err != nil || res.Status != StatusPassed {
		t.Fatalf("%v %+v", err, res)
	}
	if !log.has("run", EventProgress, "retrieved") {
		t.Error("no retrieval event")
	}
	for _, r := range srv.ChatRequests() {
		switch {
		case strings.Contains(r.Messages[0].Content, orchestratortest.AnalyzerPrompt):
			if !strings.Contains(r.Messages[1].Content, "Related passages") || !strings.Contains(r.Messages[1].Content, "attention.md") {
				t.Errorf("analyzer prompt has no retrieved passages:\n%s", r.Messages[1].Content)
			}
		case strings.Contains(r.Messages[0].Content, "You are the Implementer"):
			if !strings.Contains(r.LastUser(), "def masked_row_softmax") {
				t.Errorf("implementer prompt lacks the user's code:\n%s", r.LastUser())
			}
		}
	}
}

// A run whose paper no index holds indexes it first, with progress events,
// so retrieval is not silently empty; the next run finds it indexed.
func TestRunIndexesItsPaperWhenNoIndexHoldsIt(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	paperPath := orchestratortest.Paper(t)
	log := &eventLog{}
	res, err := Run(context.Background(), Request{Paper: paperPath, Section: "3.2", Config: cfg}, log)
	if err != nil || res.Status != StatusPassed {
		t.Fatalf("%v %+v", err, res)
	}
	if !strings.Contains(res.Indexed, "indexed attention.md") {
		t.Errorf("Result.Indexed = %q", res.Indexed)
	}
	for _, want := range []string{"no index holds attention.md", "indexing attention.md: chunk", "retrieved"} {
		if !log.has("run", EventProgress, want) {
			t.Errorf("no %q event", want)
		}
	}
	emb, err := rag.EmbedderFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := rag.Open(cfg.Index.Dir, emb)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Count(rag.Papers) == 0 {
		t.Fatal("the index holds no paper chunks after the run")
	}
	rec, err := LoadRun(cfg.RunsDir, res.RunID)
	if err != nil || rec.Indexed != res.Indexed {
		t.Errorf("run.json indexed %q, %v", rec.Indexed, err)
	}
	res, err = Run(context.Background(), Request{Paper: paperPath, Section: "3.2", Config: cfg}, &eventLog{})
	if err != nil || res.Indexed != "" {
		t.Errorf("second run indexed again: %q, %v", res.Indexed, err)
	}
}

// A plan that relies on a library the test interpreter lacks is reported
// before any code is written, and the warning stays in the result.
func TestRunWarnsAboutMissingLibraries(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	plan := strings.Replace(orchestratortest.Answer(t, "plan.json"), `"libraries": ["numpy"]`, `"libraries": ["numpy", "nonexistent-r2c-lib"]`, 1)
	srv.On(llmtest.Contains(orchestratortest.PlannerPrompt), llmtest.Reply{Content: plan})
	orchestratortest.Script(t, srv)
	log := &eventLog{}
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: testConfig(t, srv.URL())}, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "nonexistent-r2c-lib") || strings.Contains(res.Warnings[0], "numpy") {
		t.Fatalf("warnings %q", res.Warnings)
	}
	if !log.has("planner", EventProgress, "warning: the plan uses nonexistent-r2c-lib") {
		t.Error("no warning event")
	}
}

// plan_revisions bounds the Planner's revisions: 0 ends the run after the
// first plan's rounds, 2 lets it revise twice.
func TestRunPlanRevisionsFromConfig(t *testing.T) {
	needPytest(t)
	for _, revisions := range []int{0, 2} {
		t.Run(fmt.Sprint(revisions), func(t *testing.T) {
			srv := llmtest.New(t)
			srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask), llmtest.Reply{Content: orchestratortest.Answer(t, orchestratortest.UnscaledAttention)})
			orchestratortest.Script(t, srv)
			cfg := testConfig(t, srv.URL())
			over, err := config.ParseJSON([]byte(fmt.Sprintf(`{"rounds":1,"plan_revisions":%d}`, revisions)))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Merge(over)
			res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusFailed || res.PlanRevisions != revisions || res.Rounds != revisions+1 {
				t.Fatalf("plan_revisions = %d: status %s, rounds %d, revisions %d", revisions, res.Status, res.Rounds, res.PlanRevisions)
			}
			asked := 0
			for _, r := range srv.ChatRequests() {
				if strings.Contains(r.LastUser(), orchestratortest.RevisionPrompt) {
					asked++
				}
			}
			if asked != revisions {
				t.Fatalf("the Planner was asked to revise %d times, want %d", asked, revisions)
			}
		})
	}
}

// A plan naming files outside the output folder is rejected (the Planner
// is asked once to repair it) before any code is asked for, validated or
// written, the record included.
func TestRunRejectsPathTraversalInThePlan(t *testing.T) {
	needPytest(t)
	for _, bad := range []string{"../../etc/x.py", "/etc/x.py"} {
		t.Run(bad, func(t *testing.T) {
			srv := llmtest.New(t)
			plan := strings.ReplaceAll(orchestratortest.Answer(t, "plan.json"), `"attention.py"`, strconv.Quote(bad))
			srv.On(llmtest.Contains(orchestratortest.PlannerPrompt), llmtest.Reply{Content: plan})
			orchestratortest.Script(t, srv)
			cfg := testConfig(t, srv.URL())
			res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
			if err == nil || !strings.Contains(err.Error(), "must be a clean relative path") {
				t.Fatalf("err %v", err)
			}
			if res.Status != StatusFailed || len(res.Files) != 0 {
				t.Fatalf("status %s, %d files", res.Status, len(res.Files))
			}
			planner := 0
			for _, r := range srv.ChatRequests() {
				switch {
				case strings.Contains(r.Messages[0].Content, orchestratortest.PlannerPrompt):
					planner++
				case !strings.Contains(r.Messages[0].Content, orchestratortest.AnalyzerPrompt):
					t.Errorf("a request after the bad plan: %.80q", r.Messages[0].Content)
				}
			}
			if planner != 2 {
				t.Errorf("%d planner requests, want the plan and one repair", planner)
			}
			if _, err := os.Stat(filepath.Join(res.RunDir, "code")); err == nil {
				t.Error("code was recorded for the rejected plan")
			}
		})
	}
}

// The run ends with the best round, not the last: here the revised plan's
// code does worse than the first plan's, so the result is round 1 — its
// files, its report and its plan.
func TestRunKeepsAnEarlierBetterRoundAndItsPlan(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	revised := strings.Replace(orchestratortest.Answer(t, "plan.json"), "Equation (1) with the optional decoder mask.", "Equation (1) with the optional decoder mask (revised).", 1)
	zeros := "```python\nimport numpy as np\n\n\ndef scaled_dot_product_attention(q, k, v, mask=None):\n    \"\"\"Return zeros of the right shapes.\"\"\"\n    return np.zeros((q.shape[0], v.shape[1])), np.zeros((q.shape[0], k.shape[0]))\n```"
	srv.On(orchestratortest.UserContains(orchestratortest.RevisionPrompt), llmtest.Reply{Content: revised})
	srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask, "(revised)"), llmtest.Reply{Content: zeros})
	srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask), llmtest.Reply{Content: orchestratortest.Answer(t, orchestratortest.UnscaledAttention)})
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	cfg.Rounds = 1
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || res.Rounds != 2 || res.PlanRevisions != 1 {
		t.Fatalf("status %s, rounds %d, revisions %d", res.Status, res.Rounds, res.PlanRevisions)
	}
	var round2 agents.Verdict
	b, _ := os.ReadFile(filepath.Join(res.RunDir, "reports", "round-2.json"))
	if err := json.Unmarshal(b, &round2); err != nil || round2.Report.Tests.Passed >= 4 {
		t.Fatalf("round 2 was meant to do worse than 4/5: %v %+v", err, round2.Report)
	}
	if res.Report.Tests.Passed != 4 || !strings.Contains(string(res.Files[0].Content), "scores = q @ k.T") {
		t.Errorf("result is not round 1: tests %+v\n%s", res.Report.Tests, res.Files[0].Content)
	}
	if task := res.Plan.Task("attention"); task == nil || strings.Contains(task.Description, "(revised)") {
		t.Errorf("result's plan is not the one its files implement: %+v", task)
	}
	rec, err := LoadRun(cfg.RunsDir, res.RunID)
	if err != nil || rec.BestRound != 1 || rec.Tests.Passed != 4 {
		t.Errorf("record %+v, %v", rec, err)
	}
}

// A configured answer length that fills the server's whole context is
// lowered to what each prompt leaves, so the server never has to refuse a
// request; a context too small for even the mandatory part of a prompt is
// a clear error, with the numbers, before any request.
func TestRunMaxTokensAreLoweredToFitTheContext(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t, llmtest.WithEnforcedLimit(4096, 4095)) // /info: max_total_tokens 4096
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	cfg.Model.MaxTokens = 4096
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	if err != nil || res.Status != StatusPassed {
		t.Fatalf("%v, %+v", err, res)
	}
	for _, r := range srv.ChatRequests() {
		if r.MaxTokens >= 4096 || r.MaxTokens < agents.MinMaxTokens(agents.NameAnalyzer) {
			t.Errorf("max_tokens %d sent", r.MaxTokens)
		}
	}

	small := llmtest.New(t)
	orchestratortest.Script(t, small)
	cfg = testConfig(t, small.URL())
	cfg.ContextTokens = 700
	res, err = Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, nil)
	if !errors.Is(err, agents.ErrContextTooSmall) || !strings.Contains(err.Error(), "analyzer") || !strings.Contains(err.Error(), "total 700") || !strings.Contains(err.Error(), "model.context_tokens") {
		t.Fatalf("err %v", err)
	}
	if res.Status != StatusFailed || len(small.ChatRequests()) != 0 {
		t.Fatalf("status %s after %d chat requests", res.Status, len(small.ChatRequests()))
	}
}

// Planned files that already exist in the output folder are reported as
// soon as the plan names them, not only when the caller refuses to write.
func TestRunWarnsEarlyAboutExistingOutputFiles(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "attention.py"), []byte("# the user's own\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &eventLog{}
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: testConfig(t, srv.URL()), OutDir: out}, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "attention.py already exists in "+out) || strings.Contains(res.Warnings[0], "test_attention.py") {
		t.Fatalf("warnings %q", res.Warnings)
	}
	if !log.has("planner", EventProgress, "will not be overwritten") {
		t.Error("no warning event from the planner step")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "attention.py")); string(b) != "# the user's own\n" {
		t.Error("Run touched the output folder")
	}
}

// A run record that cannot be written completely (here: its exchanges/
// folder is blocked by a file) is a warning, not an error that would make
// the caller drop a passing result.
func TestRunRecordFailureDoesNotFailTheRun(t *testing.T) {
	needPytest(t)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	cfg := testConfig(t, srv.URL())
	var blockErr error
	obs := ObserverFunc(func(e Event) {
		if e.Node == "run" && e.Kind == EventStarted { // before any exchange
			blockErr = os.WriteFile(filepath.Join(cfg.RunsDir, e.Run, "exchanges"), []byte("in the way"), 0o644)
		}
	})
	res, err := Run(context.Background(), Request{Paper: orchestratortest.Paper(t), Section: "3.2", Config: cfg}, obs)
	if blockErr != nil {
		t.Fatal(blockErr)
	}
	if err != nil || res.Status != StatusPassed || len(res.Files) != 2 {
		t.Fatalf("err %v, status %s, %d files", err, res.Status, len(res.Files))
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "run record is incomplete") || !strings.Contains(res.Warnings[0], "exchanges") {
		t.Fatalf("warnings %q", res.Warnings)
	}
}
