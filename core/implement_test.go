package core

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// implementConfig is the effective configuration of a fresh workspace
// talking to the scripted model server.
func implementConfig(t *testing.T, root, endpoint string) *config.Config {
	t.Helper()
	cfg, err := LoadConfig(root, config.Config{Endpoint: endpoint, APIKeyEnv: "R2C_TEST_NO_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// An output folder that is not new or empty is refused before anything
// else: no model request, no run record, nothing written.
func TestImplementPreflightRefusesANonEmptyOutDir(t *testing.T) {
	isolated(t)
	root := t.TempDir()
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	out := filepath.Join(root, "out")
	writeTree(t, out, map[string]string{"mine.py": "x = 1\n"})
	res, err := Implement(context.Background(), ImplementRequest{
		Paper: orchestratortest.Paper(t), Section: "3.2", OutDir: out, Root: root, Config: implementConfig(t, root, srv.URL()),
	}, nil)
	if res != nil || !errors.Is(err, ErrPreflight) || !Environmental(err) || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("res %v, err %v", res, err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests to the model server", n)
	}
	if _, err := os.Stat(filepath.Join(root, ".r2c", "runs")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused run left a record: %v", err)
	}
	for _, req := range []ImplementRequest{{Section: "3.2", OutDir: out}, {Paper: "p.md", OutDir: out}, {Paper: "p.md", Section: "3.2"}} {
		req.Root = root
		if _, err := Implement(context.Background(), req, nil); !errors.Is(err, ErrPreflight) {
			t.Errorf("%+v: err %v", req, err)
		}
	}
}

// A run whose files cannot be written (here: a file of the plan appears in
// the output folder while the run is going) is not recorded as passed, and
// run.json says why; the file that appeared is left alone.
func TestImplementThatWroteNothingIsNotPassed(t *testing.T) {
	requirePytest(t)
	isolated(t)
	root := t.TempDir()
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	out := filepath.Join(root, "out")
	obs := orchestrator.ObserverFunc(func(e orchestrator.Event) {
		if e.Node == "validator" && e.Kind == orchestrator.EventFinished {
			writeTree(t, out, map[string]string{"attention.py": "mine\n"})
		}
	})
	res, err := Implement(context.Background(), ImplementRequest{
		Paper: orchestratortest.Paper(t), Section: "3.2", OutDir: out, Root: root, Config: implementConfig(t, root, srv.URL()),
	}, obs)
	if err == nil || !strings.Contains(err.Error(), "not written") || res == nil || res.Status != orchestrator.StatusFailed || len(res.Written) != 0 {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if Environmental(err) {
		t.Error("a write failure counted as an environment error")
	}
	rec, err := orchestrator.LoadRun(filepath.Join(root, ".r2c", "runs"), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != orchestrator.StatusFailed || len(rec.Written) != 0 || !strings.Contains(rec.WriteError, "already exists") {
		t.Errorf("run.json: status %q, written %v, write_error %q", rec.Status, rec.Written, rec.WriteError)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "attention.py")); string(b) != "mine\n" {
		t.Errorf("attention.py = %q", b)
	}
}

// snakeKey is what every key of a JSON object r2c writes looks like.
var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// dataMaps are keys whose values map data (file paths, dimension names and
// values) rather than field names, with how many levels of keys are data:
// the index manifest's files map collection → path → entry, a profile's
// dimensions map dimension → value → count.
var dataMaps = map[string]int{"evidence": 1, "test_evidence": 1, "failures": 1, "diagnostics": 1, "paths": 1, "files": 2, "dimensions": 2}

// skipData checks what lies depth levels of data keys below v.
func skipData(t *testing.T, where string, v any, depth int, path string) {
	m, ok := v.(map[string]any)
	if !ok || depth == 0 {
		checkKeys(t, where, v, path)
		return
	}
	for _, child := range m {
		skipData(t, where, child, depth-1, path+".*")
	}
}

// checkKeys reports keys that are not snake_case, with their path.
func checkKeys(t *testing.T, where string, v any, path string) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if !snakeKey.MatchString(k) {
				t.Errorf("%s: key %q at %s is not snake_case", where, k, path)
			}
			if depth, ok := dataMaps[k]; ok {
				skipData(t, where, child, depth, path+"."+k)
				continue
			}
			checkKeys(t, where, child, path+"."+k)
		}
	case []any:
		for _, child := range x {
			checkKeys(t, where, child, path+"[]")
		}
	}
}

// checkFile decodes one JSON (or JSON-lines) file and checks that each
// object carries schema_version and only snake_case keys.
func checkFile(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{b}
	if strings.HasSuffix(p, ".jsonl") {
		docs = nil
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			docs = append(docs, append([]byte(nil), sc.Bytes()...))
		}
	}
	for _, d := range docs {
		var v any
		if err := json.Unmarshal(d, &v); err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: not a JSON object", p)
			continue
		}
		if obj["schema_version"] != float64(orchestrator.SchemaVersion) {
			t.Errorf("%s: schema_version %v", p, obj["schema_version"])
		}
		checkKeys(t, p, v, "$")
	}
}

// Every JSON file a run writes — run.json, spec, plan, reports, exchanges,
// events, the index manifest, the style profile — uses snake_case keys
// and carries a schema_version; and a run that wrote its files records
// them.
func TestEveryFileAnImplementRunWritesIsSnakeCaseAndVersioned(t *testing.T) {
	requirePytest(t)
	isolated(t)
	root := t.TempDir()
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	// A profile learned from code with a mixed style, so style diagnostics
	// (with fixes) land in the reports.
	code := t.TempDir()
	writeTree(t, code, map[string]string{"a.py": "def compute_value(input_value):\n    result_value = input_value + 1\n    return result_value\n"})
	profile, err := style.Learn(context.Background(), []string{code})
	if err != nil {
		t.Fatal(err)
	}
	cfg := implementConfig(t, root, srv.URL())
	if err := profile.Save(ProfilePath(*cfg, root)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out")
	res, err := Implement(context.Background(), ImplementRequest{Paper: orchestratortest.Paper(t), Section: "3.2", OutDir: out, Root: root, Config: cfg}, nil)
	if err != nil || res.Status != orchestrator.StatusPassed {
		t.Fatalf("%v %+v", err, res)
	}
	rec, err := orchestrator.LoadRun(cfg.RunsDir, res.RunID)
	if err != nil || rec.Status != orchestrator.StatusPassed || len(rec.Written) != len(res.Files) || len(res.Written) != len(res.Files) {
		t.Fatalf("run.json %+v, %v; result wrote %v", rec, err, res.Written)
	}
	var files []string
	for _, dir := range []string{cfg.RunsDir, cfg.Index.Dir, filepath.Dir(ProfilePath(*cfg, root))} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl")) {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"run.json", "spec.json", "plan.json", "round-1.json", "events.jsonl", "manifest.json", "style.json", "001-analyzer.json"}
	for _, w := range want {
		found := false
		for _, f := range files {
			found = found || filepath.Base(f) == w
		}
		if !found {
			t.Errorf("no %s among the files written: %v", w, files)
		}
	}
	for _, f := range files {
		checkFile(t, f)
	}
}

// The values written to run records, filled in so that nested and optional
// fields appear, encode with snake_case keys only: the file test above
// sees only what one scripted run happens to produce.
func TestRecordedTypesEncodeSnakeCase(t *testing.T) {
	fix := &style.Fix{Title: "rename", Edits: []style.TextEdit{{NewText: "x"}}}
	rep := &validate.Report{
		Diagnostics: []validate.Diagnostic{{Path: "m.py", Source: "r2c-style", Code: "naming", Message: "m", Fix: fix}},
		Failures:    []validate.TestFailure{{Test: "t", Message: "m", Traceback: "tb", Path: "m.py", Error: true}},
		Python:      "python3", TestOutput: "out", RunDir: "/tmp/x", TestPaths: []string{"t.py"}, Paths: map[string]string{"m.py": "/w/m.py"},
	}
	values := map[string]any{
		"verdict": &agents.Verdict{Report: rep, Evidence: map[string]string{"m.py": "e"}, Failures: map[string][]string{"m.py": {"f"}}, Diagnostics: map[string][]string{"m.py": {"d"}}, FailingTasks: []string{"t"}, BrokenTests: []string{"b"}, TestEvidence: map[string]string{"b": "e"}},
		"record": &orchestrator.Record{SchemaVersion: 1, Error: "e", BestRound: 1, Files: []string{"m.py"}, Written: []string{"/w/m.py"}, WriteError: "e", Indexed: "i", Warnings: []string{"w"},
			Timings: []orchestrator.Timing{{Node: "n", Round: 1, Error: "e"}},
			Prompts: []orchestrator.PromptRecord{{Round: 1, PromptReport: agents.PromptReport{Agent: "a", TaskID: "t", Parts: map[agents.PromptPart]int{agents.PartFailingTest: 1},
				Limit: llm.ContextLimit{Total: 2, Input: 1, Source: "s"}, Trims: []agents.Trim{{Agent: "a", TaskID: "t", Part: agents.PartExamples, Tokens: 1}}}}}},
		"event":    &orchestrator.Event{Run: "r", Node: "n", Kind: "k", Percent: 1, Message: "m"},
		"exchange": &agents.Exchange{Agent: "a", TaskID: "t", Exchange: llm.Exchange{Model: "m", Messages: []llm.Message{{Role: "user", Content: "c"}}, FinishReason: "stop", Repair: true, Status: 200, Error: "e", Invalid: "i"}},
		"spec":     &agents.Spec{Inputs: []agents.Tensor{{Name: "q", Description: "d"}}, HyperParameters: []agents.HyperParameter{{Name: "d_k", Description: "d"}}},
		"plan": &agents.Plan{Files: []agents.PlannedFile{{Path: "m.py", Classes: []agents.Class{{Name: "C", Bases: []string{"B"}, Methods: []agents.Function{{Name: "f"}}}}, Functions: []agents.Function{{Name: "g"}}}},
			Tasks: []agents.Task{{ID: "t", Symbol: "s", DependsOn: []string{"u"}}}},
		"validate_result": Summarize("/w/m.py", rep),
	}
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var decoded any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, name, decoded, "$")
	}
}
