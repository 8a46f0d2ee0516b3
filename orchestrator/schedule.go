package orchestrator

import (
	"context"
	"fmt"

	"github.com/r2c-ai/r2c/agents"
	"github.com/sourcegraph/conc/pool"
)

// Schedule runs fn once per task of a dependency DAG: every task starts as
// soon as all its dependencies have finished, with at most maxInFlight
// running at once (maxInFlight <= 0 means 1), so a model server sees a
// steady batch of requests. The first error (or panic, turned into an
// error) cancels the context the running tasks see, starts nothing more and
// is returned. The tasks must form a valid DAG (agents.Plan.Validate);
// unknown dependencies are reported, never waited on forever.
func Schedule(ctx context.Context, tasks []agents.Task, maxInFlight int, fn func(ctx context.Context, t agents.Task) error) error {
	if maxInFlight <= 0 {
		maxInFlight = 1
	}
	byID := make(map[string]int, len(tasks))
	for i, t := range tasks {
		byID[t.ID] = i
	}
	indeg := make([]int, len(tasks))
	children := make([][]int, len(tasks))
	for i, t := range tasks {
		for _, d := range t.DependsOn {
			j, ok := byID[d]
			if !ok {
				return fmt.Errorf("schedule: task %q depends on unknown task %q", t.ID, d)
			}
			indeg[i]++
			children[j] = append(children[j], i)
		}
	}

	type outcome struct {
		index int
		ok    bool
	}
	// Buffered for every task, so a finishing worker never waits on the
	// coordinator while the coordinator waits in p.Go for a free worker.
	done := make(chan outcome, len(tasks))
	p := pool.New().WithContext(ctx).WithMaxGoroutines(maxInFlight).WithCancelOnError().WithFirstError()
	submit := func(i int) {
		p.Go(func(ctx context.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("task %s: panic: %v", tasks[i].ID, r)
				}
				done <- outcome{i, err == nil}
			}()
			return fn(ctx, tasks[i])
		})
	}

	running, finished, failed := 0, 0, false
	for i := range tasks {
		if indeg[i] == 0 {
			submit(i)
			running++
		}
	}
	for running > 0 {
		o := <-done
		running--
		finished++
		if !o.ok || failed || ctx.Err() != nil {
			failed = true
			continue
		}
		for _, c := range children[o.index] {
			if indeg[c]--; indeg[c] == 0 {
				submit(c)
				running++
			}
		}
	}
	err := p.Wait()
	if err == nil && finished < len(tasks) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return fmt.Errorf("schedule: %d of %d tasks never became ready (a dependency cycle)", len(tasks)-finished, len(tasks))
	}
	return err
}
