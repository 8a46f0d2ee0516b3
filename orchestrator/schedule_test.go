package orchestrator

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/agents"
)

func TestScheduleRespectsDependenciesAndBound(t *testing.T) {
	tasks := layeredDAG(32, 8, 1)
	var (
		mu       sync.Mutex
		finished = map[string]bool{}
		inFlight atomic.Int32
		peak     atomic.Int32
	)
	err := Schedule(context.Background(), tasks, 4, func(_ context.Context, task agents.Task) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		mu.Lock()
		for _, d := range task.DependsOn {
			if !finished[d] {
				t.Errorf("%s started before its dependency %s finished", task.ID, d)
			}
		}
		mu.Unlock()
		mu.Lock()
		finished[task.ID] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(finished) != 32 {
		t.Fatalf("ran %d of 32 tasks", len(finished))
	}
	if peak.Load() > 4 {
		t.Fatalf("%d tasks in flight, bound 4", peak.Load())
	}
}

// A task must start as soon as its own dependencies are done, not when the
// whole previous "layer" is: here c (after a) must start while b (no
// dependencies) is still running; b waits for c to start.
func TestScheduleStartsTasksAsSoonAsReady(t *testing.T) {
	tasks := []agents.Task{{ID: "a"}, {ID: "b"}, {ID: "c", DependsOn: []string{"a"}}}
	cStarted := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Schedule(ctx, tasks, 4, func(ctx context.Context, task agents.Task) error {
		switch task.ID {
		case "b":
			select {
			case <-cStarted:
				return nil
			case <-ctx.Done():
				return errors.New("c never started while b was running")
			}
		case "c":
			close(cStarted)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScheduleFirstErrorCancelsAndSkipsDependents(t *testing.T) {
	tasks := []agents.Task{{ID: "a"}, {ID: "b"}, {ID: "c", DependsOn: []string{"a"}}}
	boom := errors.New("model timed out")
	var ranC atomic.Bool
	bStarted := make(chan struct{})
	err := Schedule(context.Background(), tasks, 4, func(ctx context.Context, task agents.Task) error {
		switch task.ID {
		case "a":
			<-bStarted
			return boom
		case "b":
			close(bStarted)
			<-ctx.Done() // released only by the cancellation a's error causes
			return ctx.Err()
		case "c":
			ranC.Store(true)
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the first error", err)
	}
	if ranC.Load() {
		t.Fatal("c ran although its dependency failed")
	}
}

func TestSchedulePanicAndBadInput(t *testing.T) {
	err := Schedule(context.Background(), []agents.Task{{ID: "a"}}, 1, func(context.Context, agents.Task) error { panic("nil map") })
	if err == nil || !strings.Contains(err.Error(), "task a: panic: nil map") {
		t.Fatalf("panic: err %v", err)
	}
	err = Schedule(context.Background(), []agents.Task{{ID: "a", DependsOn: []string{"zz"}}}, 1, func(context.Context, agents.Task) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `unknown task "zz"`) {
		t.Fatalf("unknown dep: err %v", err)
	}
	cyc := []agents.Task{{ID: "a", DependsOn: []string{"b"}}, {ID: "b", DependsOn: []string{"a"}}}
	err = Schedule(context.Background(), cyc, 1, func(context.Context, agents.Task) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: err %v", err)
	}
}

func TestScheduleCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tasks := []agents.Task{{ID: "a"}, {ID: "b", DependsOn: []string{"a"}}}
	err := Schedule(ctx, tasks, 2, func(ctx context.Context, task agents.Task) error {
		if task.ID == "b" {
			t.Error("b started after cancellation")
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}
