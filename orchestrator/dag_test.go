package orchestrator

import (
	"fmt"
	"math/rand"

	"github.com/r2c-ai/r2c/agents"
)

// layeredDAG builds n tasks in layers of at most width; every task after
// the first layer depends on one to three tasks of the layer before, so the
// critical path is exactly the number of layers. Seeded, so runs compare.
func layeredDAG(n, width int, seed int64) []agents.Task {
	rng := rand.New(rand.NewSource(seed))
	var tasks []agents.Task
	var prev []string
	for len(tasks) < n {
		size := min(width, n-len(tasks))
		var layer []string
		for i := 0; i < size; i++ {
			id := fmt.Sprintf("t%02d", len(tasks))
			task := agents.Task{ID: id, File: id + ".py"}
			if len(prev) > 0 {
				k := 1 + rng.Intn(min(3, len(prev)))
				for _, j := range rng.Perm(len(prev))[:k] {
					task.DependsOn = append(task.DependsOn, prev[j])
				}
			}
			tasks = append(tasks, task)
			layer = append(layer, id)
		}
		prev = layer
	}
	return tasks
}

// criticalPath is the number of tasks on the longest dependency chain.
func criticalPath(tasks []agents.Task) int {
	depth := map[string]int{}
	best := 0
	for _, t := range tasks { // layeredDAG lists dependencies first
		d := 1
		for _, dep := range t.DependsOn {
			d = max(d, depth[dep]+1)
		}
		depth[t.ID] = d
		best = max(best, d)
	}
	return best
}
