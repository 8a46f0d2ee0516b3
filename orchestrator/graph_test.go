package orchestrator

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type counterState struct {
	visits []string
	rounds int
}

func loopGraph(maxRounds int) *Graph[*counterState] {
	return NewGraph[*counterState]().
		Node("plan", func(_ context.Context, s *counterState) error { s.visits = append(s.visits, "plan"); return nil }).
		Node("implement", func(_ context.Context, s *counterState) error {
			s.visits = append(s.visits, "implement")
			s.rounds++
			return nil
		}).
		Node("validate", func(_ context.Context, s *counterState) error { s.visits = append(s.visits, "validate"); return nil }).
		Edge("plan", "implement").
		Edge("implement", "validate").
		Conditional("validate", func(s *counterState) string {
			if s.rounds < maxRounds {
				return "implement"
			}
			return End
		}, "implement", End)
}

func TestGraphRunsCycleUntilRouteEnds(t *testing.T) {
	s := &counterState{}
	var steps []Step
	if err := loopGraph(3).Run(context.Background(), s, 0, func(st Step) { steps = append(steps, st) }); err != nil {
		t.Fatal(err)
	}
	want := "plan implement validate implement validate implement validate"
	if got := strings.Join(s.visits, " "); got != want {
		t.Fatalf("visits %q, want %q", got, want)
	}
	if len(steps) != 14 || steps[0].Done || !steps[1].Done || steps[13].Node != "validate" {
		t.Fatalf("hook saw %+v", steps)
	}
}

func TestGraphRecursionLimit(t *testing.T) {
	s := &counterState{}
	err := loopGraph(1000).Run(context.Background(), s, 10, nil)
	var re *RecursionError
	if !errors.As(err, &re) || re.Limit != 10 || len(s.visits) != 10 {
		t.Fatalf("err %v after %d visits", err, len(s.visits))
	}
	if !strings.Contains(err.Error(), "validate → implement") {
		t.Errorf("error does not show the loop: %v", err)
	}
}

func TestGraphNodeErrorAndPanicStopTheRun(t *testing.T) {
	boom := errors.New("boom")
	g := NewGraph[*counterState]().
		Node("a", func(context.Context, *counterState) error { return boom }).
		Edge("a", End)
	if err := g.Run(context.Background(), &counterState{}, 0, nil); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	g = NewGraph[*counterState]().
		Node("a", func(context.Context, *counterState) error { panic("broken parser") }).
		Edge("a", End)
	if err := g.Run(context.Background(), &counterState{}, 0, nil); err == nil || !strings.Contains(err.Error(), "panic: broken parser") {
		t.Fatalf("err %v", err)
	}
}

func TestGraphRouteOutsideTargets(t *testing.T) {
	g := NewGraph[*counterState]().
		Node("a", func(context.Context, *counterState) error { return nil }).
		Conditional("a", func(*counterState) string { return "elsewhere" }, End)
	err := g.Run(context.Background(), &counterState{}, 0, nil)
	if err == nil || !strings.Contains(err.Error(), `routed to "elsewhere"`) {
		t.Fatalf("err %v", err)
	}
}

func TestGraphCheck(t *testing.T) {
	nop := func(context.Context, *counterState) error { return nil }
	g := NewGraph[*counterState]().
		Node("a", nop).
		Node("b", nop).
		Node("c", nop).
		Edge("a", "missing").
		Edge("c", End).
		Conditional("c", func(*counterState) string { return End }, End).
		Entry("nowhere")
	err := g.Check()
	for _, want := range []string{`entry node "nowhere"`, `unknown node "missing"`, `node "b" has no outgoing edge`, `node "c" has both`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want it to mention %q", err, want)
		}
	}
}

func TestGraphStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	g := NewGraph[*counterState]().
		Node("a", func(context.Context, *counterState) error { cancel(); return nil }).
		Node("b", func(context.Context, *counterState) error { t.Error("b ran after cancel"); return nil }).
		Edge("a", "b").Edge("b", End)
	if err := g.Run(ctx, &counterState{}, 0, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}
