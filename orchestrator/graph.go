package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// End is the pseudo-node a graph finishes at.
const End = "END"

// DefaultRecursionLimit bounds the node visits of one Graph.Run when the
// caller gives no limit.
const DefaultRecursionLimit = 25

// NodeFunc is one step of a graph. It reads and updates the shared run state
// s (usually a pointer) and returns an error to stop the run.
type NodeFunc[S any] func(ctx context.Context, s S) error

// RouteFunc picks the next node after a conditional node from the state.
type RouteFunc[S any] func(s S) string

// Graph is a small typed state graph in the spirit of LangGraph: named
// nodes, plain edges, conditional edges and cycles, run over one shared
// state with a recursion limit. The zero value is not usable; call NewGraph.
// A Graph is built once and may then be run concurrently on distinct states.
type Graph[S any] struct {
	entry   string
	nodes   map[string]NodeFunc[S]
	edges   map[string]string
	routes  map[string]RouteFunc[S]
	targets map[string][]string // the nodes a conditional edge may route to
}

// NewGraph returns an empty graph.
func NewGraph[S any]() *Graph[S] {
	return &Graph[S]{
		nodes:   map[string]NodeFunc[S]{},
		edges:   map[string]string{},
		routes:  map[string]RouteFunc[S]{},
		targets: map[string][]string{},
	}
}

// Node adds a node; the first node added is the entry unless Entry says
// otherwise.
func (g *Graph[S]) Node(name string, fn NodeFunc[S]) *Graph[S] {
	if g.entry == "" {
		g.entry = name
	}
	g.nodes[name] = fn
	return g
}

// Entry sets the node a run starts at.
func (g *Graph[S]) Entry(name string) *Graph[S] { g.entry = name; return g }

// Edge makes to always follow from.
func (g *Graph[S]) Edge(from, to string) *Graph[S] { g.edges[from] = to; return g }

// Conditional makes route choose what follows from; route must return one
// of targets (End included when the run may finish there).
func (g *Graph[S]) Conditional(from string, route RouteFunc[S], targets ...string) *Graph[S] {
	g.routes[from] = route
	g.targets[from] = targets
	return g
}

// Check reports every structural problem: a missing entry, edges to or from
// unknown nodes, nodes with no way out or with both kinds of edge.
func (g *Graph[S]) Check() error {
	var errs []error
	known := func(n string) bool { _, ok := g.nodes[n]; return ok || n == End }
	if _, ok := g.nodes[g.entry]; !ok {
		errs = append(errs, fmt.Errorf("entry node %q does not exist", g.entry))
	}
	for _, name := range sortedKeys(g.nodes) {
		_, plain := g.edges[name]
		_, cond := g.routes[name]
		switch {
		case plain && cond:
			errs = append(errs, fmt.Errorf("node %q has both a plain and a conditional edge", name))
		case !plain && !cond:
			errs = append(errs, fmt.Errorf("node %q has no outgoing edge (add one to %s to finish there)", name, End))
		}
	}
	for _, from := range sortedKeys(g.edges) {
		to := g.edges[from]
		if !known(from) || from == End {
			errs = append(errs, fmt.Errorf("edge from unknown node %q", from))
		}
		if !known(to) {
			errs = append(errs, fmt.Errorf("edge %s → %s: unknown node %q", from, to, to))
		}
	}
	for _, from := range sortedKeys(g.routes) {
		if !known(from) || from == End {
			errs = append(errs, fmt.Errorf("conditional edge from unknown node %q", from))
		}
		for _, to := range g.targets[from] {
			if !known(to) {
				errs = append(errs, fmt.Errorf("conditional edge %s → %s: unknown node %q", from, to, to))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("graph: %w", errors.Join(errs...))
	}
	return nil
}

// Step describes one node visit, for Run's hook.
type Step struct {
	Node  string
	Index int   // 0-based visit number within the run
	Err   error // set on the visit's end when the node failed
	Done  bool  // false when the node starts, true when it has returned
}

// RecursionError is returned when a run visits more nodes than its limit,
// typically a correction cycle that never converges.
type RecursionError struct {
	Limit int
	Path  []string // the visits so far, oldest first (at most the last 10)
}

func (e *RecursionError) Error() string {
	return fmt.Sprintf("graph: recursion limit %d reached (last steps: %s)", e.Limit, strings.Join(e.Path, " → "))
}

// Run walks the graph from its entry over state s until End, a node error,
// the recursion limit (limit <= 0 means DefaultRecursionLimit) or ctx's
// cancellation, which is checked before every node. hook, if not nil, sees
// every node start and end.
func (g *Graph[S]) Run(ctx context.Context, s S, limit int, hook func(Step)) error {
	if err := g.Check(); err != nil {
		return err
	}
	if limit <= 0 {
		limit = DefaultRecursionLimit
	}
	var path []string
	node := g.entry
	for i := 0; node != End; i++ {
		if i >= limit {
			if len(path) > 10 {
				path = path[len(path)-10:]
			}
			return &RecursionError{Limit: limit, Path: path}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		path = append(path, node)
		if hook != nil {
			hook(Step{Node: node, Index: i})
		}
		err := callNode(ctx, g.nodes[node], s)
		if hook != nil {
			hook(Step{Node: node, Index: i, Err: err, Done: true})
		}
		if err != nil {
			return err
		}
		next, err := g.next(node, s)
		if err != nil {
			return err
		}
		node = next
	}
	return nil
}

func (g *Graph[S]) next(node string, s S) (string, error) {
	if to, ok := g.edges[node]; ok {
		return to, nil
	}
	to := g.routes[node](s)
	for _, t := range g.targets[node] {
		if t == to {
			return to, nil
		}
	}
	return "", fmt.Errorf("graph: node %q routed to %q, which is not one of its targets %v", node, to, g.targets[node])
}

// callNode runs fn, turning a panic into an error so one broken node never
// takes the language server down.
func callNode[S any](ctx context.Context, fn NodeFunc[S], s S) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx, s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
