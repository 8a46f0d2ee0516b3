package orchestrator

import (
	"container/heap"
	"context"
	"fmt"

	"github.com/r2c-ai/r2c/agents"
	"github.com/sourcegraph/conc/pool"
)

// Schedule runs fn once per task of a dependency DAG: every task starts as
// soon as all its dependencies have finished and a slot is free, with at
// most maxInFlight running at once (maxInFlight <= 0 means 1), so a model
// server sees a steady batch of requests. When more tasks are ready than
// slots, those heading the longest chain of dependents go first (highest
// level first), which keeps the critical path moving. The first error (or
// panic, turned into an error) cancels the context the running tasks see,
// starts nothing more and is returned. Unknown dependencies are reported,
// and tasks caught in a cycle are reported instead of waited on forever.
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
	ready := &readyQueue{level: levels(children)}

	type outcome struct {
		index int
		ok    bool
	}
	// Buffered for every task, so a finishing worker never waits on the
	// coordinator.
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

	for i := range tasks {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	running, finished, failed := 0, 0, false
	for {
		for !failed && running < maxInFlight && ready.Len() > 0 {
			submit(heap.Pop(ready).(int))
			running++
		}
		if running == 0 {
			break
		}
		o := <-done
		running--
		finished++
		if !o.ok || ctx.Err() != nil {
			failed = true
		}
		if failed {
			continue
		}
		for _, c := range children[o.index] {
			if indeg[c]--; indeg[c] == 0 {
				heap.Push(ready, c)
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

// levels returns, per task, the number of tasks on the longest chain from
// it to a task nothing depends on (1 for those). Tasks in a cycle get the
// level their DFS reaches; they never become ready anyway.
func levels(children [][]int) []int {
	level := make([]int, len(children))
	var visit func(i int) int
	visit = func(i int) int {
		if level[i] != 0 {
			return level[i]
		}
		level[i] = 1 // also breaks cycles
		best := 1
		for _, c := range children[i] {
			best = max(best, 1+visit(c))
		}
		level[i] = best
		return best
	}
	for i := range children {
		visit(i)
	}
	return level
}

// readyQueue orders ready tasks by level, highest first, then by their
// position in the plan.
type readyQueue struct {
	level []int
	items []int
}

func (q *readyQueue) Len() int { return len(q.items) }
func (q *readyQueue) Less(a, b int) bool {
	ia, ib := q.items[a], q.items[b]
	if q.level[ia] != q.level[ib] {
		return q.level[ia] > q.level[ib]
	}
	return ia < ib
}
func (q *readyQueue) Swap(a, b int) { q.items[a], q.items[b] = q.items[b], q.items[a] }
func (q *readyQueue) Push(x any)    { q.items = append(q.items, x.(int)) }
func (q *readyQueue) Pop() any {
	last := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return last
}
