package agents

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/sandbox"
)

func settingsFor(t *testing.T, srv *llmtest.Server) (Settings, *[]Exchange) {
	t.Helper()
	client, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "tgi", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	var log []Exchange
	return Settings{Model: client, OnExchange: func(e Exchange) { log = append(log, e) }}, &log
}

const attentionSpec = `{"algorithm": "Scaled Dot-Product Attention", "summary": "softmax(QK^T/sqrt(d_k))V",
 "inputs": [{"name": "q", "shape": ["n", "d_k"], "dtype": "float64"}],
 "outputs": [{"name": "out", "shape": ["n", "d_v"], "dtype": "float64"}],
 "hyper_parameters": [{"name": "d_k", "value": "64", "source": "Section 3.2"}, {"name": "dropout", "value": "", "source": "not given"}],
 "equations": ["softmax(QK^T / sqrt(d_k)) V"], "dependencies": ["numpy", "sklearn", "numpy"], "metrics": [],
 "ambiguities": ["Training data (WMT 2014) is not available."]}`

func TestAnalyzerPromptAndNormalisation(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: attentionSpec})
	st, log := settingsFor(t, srv)
	an := Analyzer{st}
	spec, _, err := an.Analyze(context.Background(), AnalyzeInput{PaperTitle: "Attention Is All You Need", Section: "3.2 Scaled Dot-Product Attention", Text: "We compute softmax(QK^T / sqrt(d_k)) V.", Context: []string{"3.1 Encoder stacks"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(spec.Dependencies, ",") != "numpy,scikit-learn" {
		t.Errorf("dependencies %v", spec.Dependencies)
	}
	if !containsFold(spec.Ambiguities, `"dropout"`) {
		t.Errorf("a hyper-parameter without value is not an ambiguity: %v", spec.Ambiguities)
	}
	req := srv.ChatRequests()[0]
	sys, user := req.Messages[0], req.Messages[1]
	if sys.Role != "system" || !strings.Contains(sys.Content, "Do not fabricate") || !strings.Contains(sys.Content, "data file") {
		t.Errorf("system prompt: %s", sys.Content)
	}
	for _, want := range []string{"Attention Is All You Need", "3.2 Scaled Dot-Product Attention", "softmax(QK^T / sqrt(d_k)) V", "3.1 Encoder stacks"} {
		if !strings.Contains(user.Content, want) {
			t.Errorf("user prompt lacks %q", want)
		}
	}
	if len(*log) != 1 || (*log)[0].Agent != "analyzer" || (*log)[0].Response == "" {
		t.Errorf("exchange log %+v", *log)
	}
	if _, _, err := an.Analyze(context.Background(), AnalyzeInput{Section: "empty"}); err == nil {
		t.Error("an empty section was analysed")
	}
}

func TestAnalyzerInvalidJSONTwiceIsAnError(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: `{"algorithm": "x"`})
	st, log := settingsFor(t, srv)
	_, _, err := (&Analyzer{st}).Analyze(context.Background(), AnalyzeInput{Section: "3.2", Text: "text"})
	var bad *llm.InvalidJSONError
	if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), "analyzer: ") {
		t.Fatalf("err %v", err)
	}
	// Both round trips are recorded, each with its raw answer and why it
	// was rejected; the second is the repair re-ask.
	if len(*log) != 2 {
		t.Fatalf("%d exchanges recorded, want the first answer and the repair: %+v", len(*log), *log)
	}
	for i, e := range *log {
		if e.Response != `{"algorithm": "x"` || e.Invalid == "" || e.Repair != (i == 1) {
			t.Errorf("exchange %d is not recorded with the raw answer and its problem: %+v", i, e)
		}
	}
	if last := (*log)[1].Messages[len((*log)[1].Messages)-1]; !strings.Contains(last.Content, "Your answer is not valid") {
		t.Errorf("the repair prompt is not recorded: %q", last.Content)
	}
}

const cyclicPlan = `{"files": [{"path": "attention.py", "purpose": "p"}], "libraries": ["numpy"],
 "tasks": [{"id": "a", "file": "attention.py", "description": "d", "depends_on": ["b"]}, {"id": "b", "file": "attention.py", "description": "d", "depends_on": ["a"]}]}`

const goodPlan = `{"files": [{"path": "attention.py", "purpose": "p"}], "libraries": ["numpy"],
 "tasks": [{"id": "a", "file": "attention.py", "symbol": "softmax", "description": "d"}, {"id": "b", "file": "attention.py", "symbol": "attention", "description": "d", "depends_on": ["a"]}]}`

func TestPlannerRepairsAnInvalidDAGOnce(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: cyclicPlan}, llmtest.Reply{Content: goodPlan})
	st, _ := settingsFor(t, srv)
	spec := &Spec{Algorithm: "attention"}
	plan, _, err := (&Planner{st}).Plan(context.Background(), PlanInput{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Tasks) != 2 || plan.Tasks[1].DependsOn[0] != "a" {
		t.Fatalf("plan %+v", plan)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].LastUser(), "cycle: a → b → a") {
		t.Fatalf("repair request does not name the cycle: %d requests", len(reqs))
	}

	srv2 := llmtest.New(t)
	srv2.On(llmtest.Always(), llmtest.Reply{Content: cyclicPlan})
	st2, _ := settingsFor(t, srv2)
	if _, _, err := (&Planner{st2}).Plan(context.Background(), PlanInput{Spec: spec}); err == nil || !strings.Contains(err.Error(), "still invalid after one repair") {
		t.Fatalf("err %v", err)
	}
}

func TestImplementerPromptCarriesStyleInterfacesAndEvidence(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "Sure!\n```python\ndef attention(q, k, v):\n    return q\n```\n<eos>"})
	st, _ := settingsFor(t, srv)
	plan := validPlan()
	plan.Files[0].Functions = []Function{{Name: "scaled_dot_product_attention", Signature: "def scaled_dot_product_attention(q: np.ndarray) -> np.ndarray", Docstring: "Eq. (1)."}}
	in := ImplementInput{
		Task: plan.Tasks[2], Plan: plan, Spec: &Spec{Algorithm: "attention"},
		Style:        "- function names: snake_case (97% of 212)",
		Dependencies: map[string]string{"pkg/mask.py": "def causal_mask(n):\n    ...\n"},
		Previous:     "def attention(q, k, v):\n    return q @ k.T\n",
		Evidence:     "Failing test test_attention.py::test_known_values\nAssertionError: not close",
	}
	code, _, err := (&Implementer{st}).Implement(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if code.Source != "def attention(q, k, v):\n    return q\n" || code.File != "attention.py" {
		t.Fatalf("code %q", code.Source)
	}
	req := srv.ChatRequests()[0]
	for _, want := range []string{"snake_case (97% of 212)"} {
		if !strings.Contains(req.Messages[0].Content, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
	for _, want := range []string{"def scaled_dot_product_attention(q: np.ndarray) -> np.ndarray", "def causal_mask(n):", "test_known_values", "return q @ k.T", "`scaled_dot_product_attention` in attention.py", "pkg/mask.py: masks"} {
		if !strings.Contains(req.LastUser(), want) {
			t.Errorf("user prompt lacks %q", want)
		}
	}

	empty := llmtest.New(t)
	empty.On(llmtest.Always(), llmtest.Reply{Content: "```python\n```"})
	st2, _ := settingsFor(t, empty)
	if _, _, err := (&Implementer{st2}).Implement(context.Background(), in); err == nil || !strings.Contains(err.Error(), "held no code") {
		t.Fatalf("err %v", err)
	}
}

func TestAssembleFileIsValidPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3")
	}
	// The attention answer repeats a softmax of its own; the softmax task
	// owns that symbol, so its version is kept and the copy dropped.
	src := AssembleFile([]Part{
		{Symbol: "softmax", Source: "from __future__ import annotations\nimport numpy as np\n\n\ndef softmax(x):\n    return np.exp(x) / np.exp(x).sum()\n"},
		{Symbol: "attention", Source: "import math\nimport numpy as np\nfrom __future__ import annotations\n\n\n@staticmethod\ndef softmax(x):\n    return 'copy'\n\n\ndef attention(q, k, v):\n    return softmax(q @ k.T / math.sqrt(q.shape[-1])) @ v\n"},
	})
	if strings.Contains(src, "'copy'") || strings.Contains(src, "@staticmethod") {
		t.Fatalf("the repeated softmax was kept:\n%s", src)
	}
	if strings.Count(src, "import numpy as np") != 1 || !strings.HasPrefix(src, "from __future__ import annotations\n") {
		t.Fatalf("assembled:\n%s", src)
	}
	// CPython's own parser is the oracle: the file compiles and defines
	// both functions at top level.
	check := `import ast, sys
tree = ast.parse(sys.stdin.read())
print(",".join(n.name for n in tree.body if isinstance(n, ast.FunctionDef)))`
	cmd := exec.Command(py, "-c", check)
	cmd.Stdin = strings.NewReader(src)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "softmax,attention" {
		t.Fatalf("python: %v %s\n%s", err, out, src)
	}
}

// The Validator's evidence comes from a real validation: real pytest on the
// unscaled attention, attributed to the module and its tasks.
func TestCheckAttributesRealFailures(t *testing.T) {
	py := needPytest(t)
	plan := &Plan{
		Files: []PlannedFile{{Path: "attention.py"}, {Path: "util.py"}},
		Tasks: []Task{{ID: "attn", File: "attention.py"}, {ID: "util", File: "util.py"}},
	}
	in := CheckInput{
		Plan: plan,
		Modules: map[string]string{
			"attention.py": "import numpy as np\n\n\ndef attention(q, k):\n    scores = q @ k.T\n    return np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)\n",
			"util.py":      "def double(x):\n    return 2 * x\n",
		},
		Tests: map[string]string{
			TestPath("attention.py"): "import numpy as np\nimport attention\n\n\ndef test_scaled():\n    w = attention.attention(np.eye(2), np.eye(2))\n    np.testing.assert_allclose(w[0, 0], 0.66976, atol=1e-4)\n",
			// This test file cannot even be collected; in one shared pytest
			// run that would stop attention's tests too.
			TestPath("util.py"): "import torch\nimport util\n\n\ndef test_double():\n    assert util.double(2) == 4\n",
		},
		Python: py,
	}
	v, err := (&Validator{}).Check(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if v.Passed() || v.Report.Tests.Failed != 1 || v.Report.Tests.Errors != 1 {
		t.Fatalf("tests %+v", v.Report.Tests)
	}
	if strings.Join(v.FailingTasks, ",") != "attn" || strings.Join(v.BrokenTests, ",") != "test_util.py" {
		t.Errorf("failing tasks %v (want attn only), broken tests %v", v.FailingTasks, v.BrokenTests)
	}
	ev := v.Evidence["attention.py"]
	for _, want := range []string{"test_attention.py::test_scaled", "0.66976", "Traceback"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if _, ok := v.Evidence["util.py"]; ok {
		t.Errorf("util.py blamed for its test's missing library: %s", v.Evidence["util.py"])
	}
}

// A test file that does not parse, or imports a library that is not there,
// is the test's fault: it is marked for rewriting and no module is blamed.
// A test importing a planned name the module lacks is the module's fault.
func TestCheckBlamesBrokenTestsNotModules(t *testing.T) {
	py := needPytest(t)
	plan := &Plan{Files: []PlannedFile{{Path: "util.py"}}, Tasks: []Task{{ID: "util", File: "util.py"}}}
	module := map[string]string{"util.py": "def double(x):\n    return 2 * x\n"}
	for _, c := range []struct{ name, test, broken, failing string }{
		{"syntax", "import util\n\n\ndef test_broken(:\n    pass\n", "test_util.py", ""},
		{"missing library", "import torch\nimport util\n\n\ndef test_double():\n    assert util.double(2) == 4\n", "test_util.py", ""},
		{"missing name", "from util import triple\n\n\ndef test_triple():\n    assert triple(2) == 6\n", "", "util"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := (&Validator{}).Check(context.Background(), CheckInput{Plan: plan, Modules: module, Tests: map[string]string{"test_util.py": c.test}, Python: py})
			if err != nil {
				t.Fatal(err)
			}
			if v.Passed() || strings.Join(v.BrokenTests, ",") != c.broken || strings.Join(v.FailingTasks, ",") != c.failing {
				t.Fatalf("broken %v (want %q), failing %v (want %q); failures %+v", v.BrokenTests, c.broken, v.FailingTasks, c.failing, v.Report.Failures)
			}
		})
	}
}

func TestGenerateTestsRepairsUnparsableTests(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(),
		llmtest.Reply{Content: "```python\nimport attention\n\ndef test_shape(:\n    pass\n```"},
		llmtest.Reply{Content: "```python\nimport attention\n\n\ndef test_shape():\n    assert attention\n```"})
	st, _ := settingsFor(t, srv)
	plan := validPlan()
	code, _, err := (&Validator{st}).GenerateTests(context.Background(), TestInput{Spec: &Spec{Algorithm: "a"}, Plan: plan, Module: "pkg/mask.py"})
	if err != nil {
		t.Fatal(err)
	}
	if code.File != "test_pkg_mask.py" || !strings.Contains(code.Source, "def test_shape():") {
		t.Fatalf("code %+v", code)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].LastUser(), "does not parse") || !strings.Contains(reqs[0].Messages[0].Content, "Import the module as `pkg.mask`") {
		t.Fatalf("%d requests; repair prompt %q", len(reqs), reqs[len(reqs)-1].LastUser())
	}
}

func needPytest(t *testing.T) string {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest and numpy (Debian: python3-pytest python3-numpy): %v", err)
	}
	return py.Path
}

// A prompt over the server's real limit loses its lowest-priority parts
// first (examples, style, dependency bodies, then the code being
// corrected) and keeps the failing test; every cut is reported with its
// size; max_tokens is lowered to what the context leaves; one whose
// mandatory part cannot fit is an error with the numbers and the fix,
// never a request the server would refuse.
func TestImplementerFitsTheServersLimitEvidenceFirst(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "m", MaxTotalTokens: 1800}), llmtest.WithTokenizer(), llmtest.WithEnforcedLimit(1800, 0))
	srv.On(llmtest.Always(), llmtest.Reply{Content: "```python\ndef f():\n    return 1\n```"})
	st, _ := settingsFor(t, srv)
	var reports []PromptReport
	st.OnPrompt = func(r PromptReport) { reports = append(reports, r) }
	plan := validPlan()
	body := strings.Repeat("    total = total + 1  # accumulate\n", 40)
	in := ImplementInput{
		Task: plan.Tasks[2], Plan: plan, Spec: &Spec{Algorithm: "attention"},
		Style:        "- function names: snake_case (97% of 212)",
		Dependencies: map[string]string{"pkg/mask.py": "def causal_mask(n):\n    total = 0\n" + body + "    return total\n"},
		Examples:     []string{strings.Repeat("def example_one(x):\n    return x\n", 30), strings.Repeat("def example_two(x):\n    return x\n", 30)},
		Previous:     strings.Repeat("def attention(q, k, v):\n    return q @ k.T  # previous\n", 25),
		Failures:     []string{"Failing test test_attention.py::test_known_values\nAssertionError: Not equal to tolerance rtol=1e-07"},
	}
	if _, _, err := (&Implementer{st}).Implement(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	sent := srv.ChatRequests()[0]
	user := sent.LastUser()
	if !strings.Contains(user, "Not equal to tolerance") || !strings.Contains(user, "def causal_mask(n):") || strings.Contains(user, "example_one") || strings.Contains(user, "example_two") {
		t.Errorf("want the failing test and the interfaces kept, the examples cut:\n%s", user)
	}
	if len(reports) != 1 {
		t.Fatalf("%d prompt reports", len(reports))
	}
	r := reports[0]
	prompt := llmtest.PromptTokens(sent.Messages)
	if !r.Exact || r.Prompt < prompt || r.Prompt > prompt+8 || sent.MaxTokens != r.MaxTokens || prompt+sent.MaxTokens > 1800 || r.MaxTokens < MinMaxTokens(NameImplementer) || r.MaxTokens >= DefaultMaxTokens(NameImplementer) {
		t.Errorf("report %+v; server counted %d, max_tokens %d", r, prompt, sent.MaxTokens)
	}
	if len(r.Trims) == 0 || r.Trims[0].Part != PartExamples || r.Trims[0].Tokens <= 0 {
		t.Fatalf("trims %+v", r.Trims)
	}
	order := map[PromptPart]int{}
	for i, p := range PromptParts() {
		order[p] = i
	}
	for i := 1; i < len(r.Trims); i++ {
		if order[r.Trims[i].Part] > order[r.Trims[i-1].Part] {
			t.Errorf("cut %s after %s: lower priorities go first", r.Trims[i].Part, r.Trims[i-1].Part)
		}
	}
	for _, tr := range r.Trims {
		if tr.Part == PartFailingTest || tr.Part == PartTask {
			t.Errorf("mandatory part cut: %+v", tr)
		}
	}

	// A context that cannot hold the task and the failing test.
	small := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "m", MaxTotalTokens: 700}), llmtest.WithTokenizer())
	small.On(llmtest.Always(), llmtest.Reply{Content: "```python\ndef f():\n    return 1\n```"})
	st2, _ := settingsFor(t, small)
	_, _, err := (&Implementer{st2}).Implement(context.Background(), in)
	var berr *BudgetError
	if !errors.As(err, &berr) || !errors.Is(err, ErrContextTooSmall) || berr.Limit.Total != 700 || berr.Mandatory <= 0 || berr.MinAnswer != MinMaxTokens(NameImplementer) ||
		!strings.Contains(err.Error(), "--max-model-len") || !strings.Contains(err.Error(), "700") {
		t.Fatalf("err %v", err)
	}
	if len(small.ChatRequests()) != 0 {
		t.Error("a prompt over the limit was sent")
	}
}

// The JSON-schema instruction ChatJSON appends is counted.
func TestSchemaInstructionIsCounted(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithTokenizer())
	srv.On(llmtest.Always(), llmtest.Reply{Content: goodPlan})
	st, _ := settingsFor(t, srv)
	var reports []PromptReport
	st.OnPrompt = func(r PromptReport) { reports = append(reports, r) }
	if _, _, err := (&Planner{st}).Plan(context.Background(), PlanInput{Spec: &Spec{Algorithm: "attention"}}); err != nil {
		t.Fatal(err)
	}
	schema, _ := schemaOf(PlanSchemaJSON())
	note, _ := llm.JSONInstruction(schema)
	sent := srv.ChatRequests()[0]
	if !strings.Contains(sent.LastUser(), note) {
		t.Fatal("the schema instruction was not sent")
	}
	if len(reports) != 1 || reports[0].Parts[PartSchema] != llmtest.Tokens(note) || reports[0].Prompt < llmtest.PromptTokens(sent.Messages) {
		t.Errorf("report %+v, schema %d tokens, sent %d", reports, llmtest.Tokens(note), llmtest.PromptTokens(sent.Messages))
	}
}

// A server that reports more than it accepts: its 422 reveals the real
// limit and the prompt is built again, once, against it.
func TestPromptRebuiltForALyingServer(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "m", MaxInputTokens: 8000, MaxTotalTokens: 8192}), llmtest.WithTokenizer(), llmtest.WithEnforcedLimit(0, 1200))
	srv.On(llmtest.Always(), llmtest.Reply{Content: "```python\ndef f():\n    return 1\n```"})
	st, _ := settingsFor(t, srv)
	var reports []PromptReport
	st.OnPrompt = func(r PromptReport) { reports = append(reports, r) }
	plan := validPlan()
	in := ImplementInput{Task: plan.Tasks[2], Plan: plan, Spec: &Spec{Algorithm: "attention"},
		Examples: []string{strings.Repeat("def example_one(x):\n    return x\n", 60)},
		Failures: []string{"Failing test test_attention.py::test_known_values\nAssertionError: Not equal to tolerance"}}
	if _, _, err := (&Implementer{st}).Implement(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].LastUser(), "example_one") || strings.Contains(reqs[1].LastUser(), "example_one") || !strings.Contains(reqs[1].LastUser(), "Not equal to tolerance") {
		t.Fatalf("%d requests", len(reqs))
	}
	if len(reports) != 2 || reports[1].Limit.Source != llm.LimitFromServer || len(reports[1].Trims) == 0 {
		t.Errorf("reports %+v", reports)
	}
}

func TestMissingLibraries(t *testing.T) {
	py := needPytest(t)
	missing, err := (&Validator{}).MissingLibraries(context.Background(), py, []string{"numpy", "pytest", "math", "surely-not-installed-r2c", "pyyaml-missing"}, sandbox.LevelAuto)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(missing, ",") != "surely-not-installed-r2c,pyyaml-missing" {
		t.Fatalf("missing %v", missing)
	}
}

func TestAnalyzerNotesMissingData(t *testing.T) {
	srv := llmtest.New(t)
	spec := `{"algorithm": "Adam", "summary": "s", "inputs": [], "outputs": [], "hyper_parameters": [], "equations": [], "dependencies": ["numpy"], "metrics": [], "ambiguities": []}`
	srv.On(llmtest.Always(), llmtest.Reply{Content: spec})
	st, _ := settingsFor(t, srv)
	text := "We update the parameters with bias-corrected moment estimates. We evaluate on the MNIST dataset with a logistic regression model."
	got, _, err := (&Analyzer{st}).Analyze(context.Background(), AnalyzeInput{Section: "2 Algorithm", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ambiguities) != 1 || !strings.Contains(got.Ambiguities[0], "MNIST dataset") || !strings.Contains(got.Ambiguities[0], "not available") {
		t.Fatalf("ambiguities %q", got.Ambiguities)
	}
	// No data mentioned: nothing added.
	got, _, err = (&Analyzer{st}).Analyze(context.Background(), AnalyzeInput{Section: "2 Algorithm", Text: "We update the parameters with bias-corrected moment estimates."})
	if err != nil || len(got.Ambiguities) != 0 {
		t.Fatalf("%v %q", err, got.Ambiguities)
	}
}

// An answer whose code block is empty is sent back once, naming the
// problem; the second answer's code is used. Two empty answers are an
// error that says so.
func TestImplementerReasksAfterAnEmptyCodeBlock(t *testing.T) {
	plan := validPlan()
	in := ImplementInput{Task: plan.Tasks[0], Plan: plan, Spec: &Spec{Algorithm: "attention"}}

	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "```python\n```</s>"}, llmtest.Reply{Content: "```python\ndef causal_mask(n):\n    return n\n```"})
	st, log := settingsFor(t, srv)
	code, _, err := (&Implementer{st}).Implement(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if code.Source != "def causal_mask(n):\n    return n\n" {
		t.Fatalf("code %q", code.Source)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].LastUser(), "held no code") || len(*log) != 2 {
		t.Fatalf("%d requests, %d exchanges; second prompt %q", len(reqs), len(*log), reqs[len(reqs)-1].LastUser())
	}

	srv2 := llmtest.New(t)
	srv2.On(llmtest.Always(), llmtest.Reply{Content: "```python\n\n```"})
	st2, _ := settingsFor(t, srv2)
	if _, _, err := (&Implementer{st2}).Implement(context.Background(), in); err == nil || !strings.Contains(err.Error(), "held no code") || len(srv2.ChatRequests()) != 2 {
		t.Fatalf("err %v after %d requests", err, len(srv2.ChatRequests()))
	}
}
