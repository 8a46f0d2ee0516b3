// Package agents holds r2c's four agents — Analyzer, Planner, Implementer and
// Validator — and the plain-data values they hand to each other (Spec, Plan,
// Task, Code, Verdict).
//
// Every agent is a thin layer over the model client: it renders an embedded
// prompt template (prompts/*.tmpl), asks the model through the server's chat
// template (the messages API), checks the answer (JSON schema for hand-offs,
// fence and special-token stripping for code) and returns a typed value. The
// values are JSON-serialisable so a run record is just those values written
// down. The orchestrator package decides the order and the loops; nothing
// here imports it.
package agents

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/r2c-ai/r2c/internal/safepath"
)

// Tensor is one input or output of the algorithm.
type Tensor struct {
	Name string `json:"name"`
	// Shape names each dimension symbolically, e.g. ["batch", "seq_len", "d_k"].
	Shape       []string `json:"shape"`
	DType       string   `json:"dtype"`
	Description string   `json:"description,omitempty"`
}

// HyperParameter is a value the paper fixes (or leaves open).
type HyperParameter struct {
	Name string `json:"name"`
	// Value is kept as text ("1e-3", "sqrt(d_k)") so nothing is lost to
	// number parsing; empty when the paper gives none (then it is also an
	// ambiguity).
	Value string `json:"value"`
	// Source says where in the paper the value comes from, e.g.
	// "Section 3.2, Eq. (1)" or "Table 3".
	Source      string `json:"source"`
	Description string `json:"description,omitempty"`
}

// Spec is the Analyzer's reading of a paper section: what to implement and
// what the paper leaves open. Ambiguities list what the paper does not say
// (including data files it assumes) instead of invented details.
type Spec struct {
	Algorithm       string           `json:"algorithm"`
	Summary         string           `json:"summary"`
	Inputs          []Tensor         `json:"inputs"`
	Outputs         []Tensor         `json:"outputs"`
	HyperParameters []HyperParameter `json:"hyper_parameters"`
	// Equations are the equations to implement, as LaTeX or plain text.
	Equations []string `json:"equations"`
	// Dependencies are PyPI distribution names (numpy, torch, scikit-learn).
	Dependencies []string `json:"dependencies"`
	Metrics      []string `json:"metrics"`
	Ambiguities  []string `json:"ambiguities"`
}

// Function is one planned function or method with its fixed interface.
type Function struct {
	Name string `json:"name"`
	// Signature is the full Python def line without the trailing colon,
	// e.g. "def attention(q: np.ndarray, k: np.ndarray) -> np.ndarray".
	Signature string `json:"signature"`
	Docstring string `json:"docstring"`
}

// Class is one planned class.
type Class struct {
	Name      string     `json:"name"`
	Bases     []string   `json:"bases,omitempty"`
	Docstring string     `json:"docstring"`
	Methods   []Function `json:"methods,omitempty"`
}

// PlannedFile is one Python module of the plan.
type PlannedFile struct {
	// Path is relative, slash-separated and ends in .py, e.g. "attention.py".
	Path      string     `json:"path"`
	Purpose   string     `json:"purpose"`
	Classes   []Class    `json:"classes,omitempty"`
	Functions []Function `json:"functions,omitempty"`
}

// Task is one unit of implementation work: code for one file, or for one
// symbol of a file, after the tasks it depends on.
type Task struct {
	ID   string `json:"id"`
	File string `json:"file"`
	// Symbol is the class or function the task writes; empty means the
	// whole file.
	Symbol      string   `json:"symbol,omitempty"`
	Description string   `json:"description"`
	DependsOn   []string `json:"depends_on,omitempty"`
}

// Plan is the Planner's design: files with fixed interfaces, library
// choices and a DAG of tasks.
type Plan struct {
	Files     []PlannedFile `json:"files"`
	Libraries []string      `json:"libraries"`
	Tasks     []Task        `json:"tasks"`
}

// File returns the planned file at path, or nil.
func (p *Plan) File(path string) *PlannedFile {
	for i := range p.Files {
		if p.Files[i].Path == path {
			return &p.Files[i]
		}
	}
	return nil
}

// Task returns the task with id, or nil.
func (p *Plan) Task(id string) *Task {
	for i := range p.Tasks {
		if p.Tasks[i].ID == id {
			return &p.Tasks[i]
		}
	}
	return nil
}

// Validate checks what the schema cannot: file paths are safe relative .py
// paths, names are unique, every task names a planned file and known
// dependencies, and the tasks form a DAG. All problems are reported
// together.
func (p *Plan) Validate() error {
	var errs []error
	if len(p.Files) == 0 {
		errs = append(errs, errors.New("plan has no files"))
	}
	if len(p.Tasks) == 0 {
		errs = append(errs, errors.New("plan has no tasks"))
	}
	files := map[string]bool{}
	testOf := map[string]string{} // test path → the module it tests
	for _, f := range p.Files {
		if _, ok := testOf[TestPath(f.Path)]; !ok {
			testOf[TestPath(f.Path)] = f.Path
		} else if !files[f.Path] {
			errs = append(errs, fmt.Errorf("files %q and %q would share the test file %s; rename one", testOf[TestPath(f.Path)], f.Path, TestPath(f.Path)))
		}
		if err := checkModulePath(f.Path); err != nil {
			errs = append(errs, err)
		}
		if files[f.Path] {
			errs = append(errs, fmt.Errorf("file %q is planned twice", f.Path))
		}
		files[f.Path] = true
	}
	ids := map[string]bool{}
	for _, t := range p.Tasks {
		if t.ID == "" {
			errs = append(errs, fmt.Errorf("a task for %q has no id", t.File))
			continue
		}
		if ids[t.ID] {
			errs = append(errs, fmt.Errorf("task id %q is used twice", t.ID))
		}
		if strings.HasPrefix(t.ID, TestTaskPrefix) {
			errs = append(errs, fmt.Errorf("task id %q starts with %q, which marks test-writing work; choose another id", t.ID, TestTaskPrefix))
		}
		ids[t.ID] = true
	}
	for _, f := range p.Files {
		for dir := path.Dir(f.Path); dir != "." && dir != "/"; dir = path.Dir(dir) { // "/" for absolute paths, reported above
			if files[dir] {
				errs = append(errs, fmt.Errorf("file %q lies inside %q, which is planned as a file", f.Path, dir))
			}
		}
		// The Validator writes each module's tests beside the modules; a
		// module at the same path would be overwritten by them.
		if other, ok := testOf[f.Path]; ok {
			errs = append(errs, fmt.Errorf("file %q has the path of the tests of %q (%s); rename it", f.Path, other, TestPath(other)))
		}
	}
	tasked := map[string]bool{}
	writer := map[[2]string]string{} // file and symbol → the task writing it
	for _, t := range p.Tasks {
		tasked[t.File] = true
		key := [2]string{t.File, t.Symbol}
		if first, ok := writer[key]; ok && t.ID != "" && first != t.ID {
			what := "the whole of " + t.File
			if t.Symbol != "" {
				what = fmt.Sprintf("%s in %s", t.Symbol, t.File)
			}
			errs = append(errs, fmt.Errorf("tasks %q and %q both write %s; give each symbol one task, or one task the whole file", first, t.ID, what))
		} else if !ok {
			writer[key] = t.ID
		}
		if !files[t.File] {
			errs = append(errs, fmt.Errorf("task %q writes unknown file %q (planned files: %s)", t.ID, t.File, strings.Join(p.filePaths(), ", ")))
		}
		for _, d := range t.DependsOn {
			switch {
			case d == t.ID:
				errs = append(errs, fmt.Errorf("task %q depends on itself", t.ID))
			case !ids[d]:
				errs = append(errs, fmt.Errorf("task %q depends on unknown task %q", t.ID, d))
			}
		}
	}
	for _, f := range p.Files {
		if !tasked[f.Path] {
			errs = append(errs, fmt.Errorf("file %q has no task that writes it", f.Path))
		}
	}
	if cycle := p.findCycle(); cycle != nil {
		errs = append(errs, fmt.Errorf("tasks form a cycle: %s", strings.Join(cycle, " → ")))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid plan: %w", errors.Join(errs...))
	}
	return nil
}

func (p *Plan) filePaths() []string {
	out := make([]string, len(p.Files))
	for i, f := range p.Files {
		out[i] = f.Path
	}
	return out
}

func checkModulePath(p string) error {
	switch {
	case p == "":
		return errors.New("a planned file has an empty path")
	case !strings.HasSuffix(p, ".py"):
		return fmt.Errorf("planned file %q is not a .py module", p)
	case safepath.Check(p) != nil:
		return fmt.Errorf("planned file %q must be a clean relative path inside the output folder: %w", p, safepath.Check(p))
	}
	// The tests import each module by its dotted name (ImportName), so
	// every part must be a Python identifier.
	for _, part := range strings.Split(strings.TrimSuffix(p, ".py"), "/") {
		if !pythonIdentifier.MatchString(part) {
			return fmt.Errorf("planned file %q cannot be imported: %q is not a Python identifier (use letters, digits and underscores)", p, part)
		}
	}
	return nil
}

var pythonIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// findCycle returns one cycle of task ids (first id repeated at the end),
// or nil. Unknown dependencies are ignored here; Validate reports them.
func (p *Plan) findCycle() []string {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	deps := map[string][]string{}
	for _, t := range p.Tasks {
		deps[t.ID] = t.DependsOn
	}
	var stack []string
	var visit func(id string) []string
	visit = func(id string) []string {
		state[id] = onStack
		stack = append(stack, id)
		for _, d := range deps[id] {
			if _, known := deps[d]; !known {
				continue
			}
			switch state[d] {
			case onStack:
				i := slices.Index(stack, d)
				return append(slices.Clone(stack[i:]), d)
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
		return nil
	}
	for _, t := range p.Tasks {
		if state[t.ID] == unvisited {
			if c := visit(t.ID); c != nil {
				return c
			}
		}
	}
	return nil
}

// Order returns the task ids in a dependency-respecting order (stable: ties
// keep plan order). The plan must be valid.
func (p *Plan) Order() []string {
	indeg := map[string]int{}
	children := map[string][]string{}
	for _, t := range p.Tasks {
		indeg[t.ID] += 0
		for _, d := range t.DependsOn {
			indeg[t.ID]++
			children[d] = append(children[d], t.ID)
		}
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(p.Tasks) {
		progressed := false
		for _, t := range p.Tasks {
			if !done[t.ID] && indeg[t.ID] == 0 {
				done[t.ID] = true
				order = append(order, t.ID)
				for _, c := range children[t.ID] {
					indeg[c]--
				}
				progressed = true
			}
		}
		if !progressed {
			break // a cycle; Validate reports it
		}
	}
	return order
}

// TestTaskPrefix starts the ids of the Validator's test-writing work
// ("tests:attention.py"), which is scheduled beside the plan's tasks; plan
// task ids may not use it.
const TestTaskPrefix = "tests:"

// Code is the Implementer's answer for one task.
type Code struct {
	TaskID string `json:"task_id"`
	File   string `json:"file"`
	Source string `json:"source"`
}
