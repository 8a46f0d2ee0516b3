package orchestrator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

// benchLatency is the fake model's fixed answer time.
const benchLatency = 50 * time.Millisecond

// BenchmarkCriticalPath runs plans of 1, 8 and 32 tasks against the fake
// model server over real HTTP, each task one chat request answered after a
// fixed latency, with at most 8 requests in flight. It reports the wall time
// of one plan divided by the lower bound max(critical path, ⌈tasks/8⌉) ×
// latency as "x-bound"; 1.00 is a perfect schedule, the target is ≤ 1.10.
func BenchmarkCriticalPath(b *testing.B) {
	const maxInFlight = 8
	srv := llmtest.New(b)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "def f():\n    return 1\n", Latency: benchLatency})
	client, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "tgi", MaxInFlight: maxInFlight, MaxRetries: -1})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 8, 32} {
		// About three layers deep (four for 32 tasks), at most 8 wide.
		tasks := layeredDAG(n, max(1, min(maxInFlight, (n+2)/3)), 42)
		bound := time.Duration(max(criticalPath(tasks), (n+maxInFlight-1)/maxInFlight)) * benchLatency
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			var sink int
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				err := Schedule(context.Background(), tasks, maxInFlight, func(ctx context.Context, t agents.Task) error {
					resp, err := client.Chat(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "implement " + t.ID}}})
					if err == nil {
						sink += len(resp.Content)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			perPlan := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(perPlan)/float64(bound), "x-bound")
			b.ReportMetric(float64(bound.Milliseconds()), "bound-ms")
			if sink == 0 {
				b.Fatal("no answers")
			}
		})
	}
}
