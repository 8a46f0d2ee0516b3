package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
)

// BenchmarkPipeline runs the whole Analyzer → Planner → Implementer (+ test
// generation) → Validator pipeline against the fake model at a fixed
// latency, for plans of 1, 8 and 32 tasks (one module each, layered DAG,
// 8 requests in flight). The model-bound part — wall time minus the
// Validator's sandboxed pytest run, which is not model work — is divided by
// its lower bound (2 + max(critical path, ⌈2·tasks/8⌉)) × latency: the
// Analyzer and Planner calls, then the fan-out of implementation and
// test-writing requests. Reported as "x-bound"; the target is ≤ 1.10.
func BenchmarkPipeline(b *testing.B) {
	needPytest(b)
	const maxInFlight = 8
	taskRe := regexp.MustCompile(`Task (t\d+):`)
	moduleRe := regexp.MustCompile("Import the module as `(t\\d+)`")
	for _, n := range []int{1, 8, 32} {
		tasks := layeredDAG(n, max(1, min(maxInFlight, (n+2)/3)), 42)
		plan := agents.Plan{Libraries: []string{}}
		for _, t := range tasks {
			plan.Files = append(plan.Files, agents.PlannedFile{Path: t.File, Purpose: "one step",
				Functions: []agents.Function{{Name: "f", Signature: "def f() -> int", Docstring: "Return 1."}}})
			plan.Tasks = append(plan.Tasks, agents.Task{ID: t.ID, File: t.File, Description: "write f", DependsOn: t.DependsOn})
		}
		planJSON, _ := json.Marshal(plan)
		fanout := max(criticalPath(tasks), (2*n+maxInFlight-1)/maxInFlight)
		bound := time.Duration(2+fanout) * benchLatency

		srv := llmtest.New(b)
		srv.On(llmtest.Contains(orchestratortest.AnalyzerPrompt), llmtest.Reply{Content: orchestratortest.Answer(b, "spec.json"), Latency: benchLatency})
		srv.On(llmtest.Contains(orchestratortest.PlannerPrompt), llmtest.Reply{Content: string(planJSON), Latency: benchLatency})
		srv.OnFunc(llmtest.Contains(orchestratortest.ValidatorPrompt), func(r *llmtest.Recorded) llmtest.Reply {
			m := moduleRe.FindStringSubmatch(r.Messages[0].Content)[1]
			return llmtest.Reply{Content: fmt.Sprintf("```python\nimport %s\n\n\ndef test_f():\n    assert %s.f() == 1\n```", m, m), Latency: benchLatency}
		})
		srv.OnFunc(llmtest.Always(), func(r *llmtest.Recorded) llmtest.Reply {
			id := taskRe.FindStringSubmatch(r.LastUser())[1]
			return llmtest.Reply{Content: fmt.Sprintf("```python\ndef f() -> int:\n    \"\"\"Return 1 (%s).\"\"\"\n    return 1\n```", id), Latency: benchLatency}
		})
		paperPath := orchestratortest.Paper(b)
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			cfg := testConfig(b, srv.URL())
			cfg.MaxInFlight = maxInFlight
			var modelBound time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res, err := Run(context.Background(), Request{Paper: paperPath, Section: "3.2", Config: cfg}, nil)
				if err != nil || res.Status != StatusPassed {
					b.Fatalf("%v %+v", err, res.Report)
				}
				wall := time.Since(start)
				rec, err := LoadRun(cfg.RunsDir, res.RunID)
				if err != nil {
					b.Fatal(err)
				}
				for _, t := range rec.Timings {
					if t.Node == "validator" {
						wall -= t.Duration
					}
				}
				modelBound += wall
				if testing.Verbose() { // every node's time per iteration
					for _, t := range rec.Timings {
						b.Logf("%s at +%v for %v", t.Node, t.Start.Sub(start), t.Duration)
					}
					b.Logf("total %v", time.Since(start))
				}
			}
			b.ReportMetric(float64(modelBound/time.Duration(b.N))/float64(bound), "x-bound")
			b.ReportMetric(float64(bound.Milliseconds()), "bound-ms")
		})
	}
}
