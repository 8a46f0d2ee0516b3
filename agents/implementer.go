package agents

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/style"
)

// ImplementInput is one task with everything its code must agree with.
type ImplementInput struct {
	Task Task
	Plan *Plan
	Spec *Spec
	// Style is the user's style profile summary (style.Profile.Summary);
	// empty when no profile was learned.
	Style string
	// Dependencies maps file paths to code already written that this task
	// builds on (its dependencies' files), so it imports what exists.
	Dependencies map[string]string
	// Examples are snippets of the user's own code close to the task
	// (retrieved), shown for style only; may be empty.
	Examples []string
	// Previous, Failures and Diagnostics are set in correction rounds:
	// the code that failed validation, its failing tests (Verdict.Failures:
	// source, assertion message, traceback frames; the first is always
	// sent) and its style diagnostics.
	Previous    string
	Failures    []string
	Diagnostics []string
	// Evidence is a single text of evidence, taken as the one failing test
	// when Failures is empty.
	Evidence string
}

// Implementer writes the code of one task in the user's style, against the
// interfaces the Plan fixed.
type Implementer struct{ Settings }

// implementView is the template's view of an ImplementInput.
type implementView struct {
	ImplementInput
	File      *PlannedFile
	Others    []PlannedFile
	DepFiles  []depFile
	WholeFile bool
	// Correction marks a correction round even when the previous code
	// was cut to fit.
	Correction bool
}

type depFile struct {
	Path, Code string
	Outlined   bool
}

func (v *implementView) partTexts() map[PromptPart]string {
	deps := ""
	for _, d := range v.DepFiles {
		if !d.Outlined {
			deps += d.Code
		}
	}
	more := ""
	if len(v.Failures) > 1 {
		more = strings.Join(v.Failures[1:], "\n")
	}
	first := ""
	if len(v.Failures) > 0 {
		first = v.Failures[0]
	}
	return map[PromptPart]string{
		PartFailingTest:  first,
		PartMoreFailures: more,
		PartCurrentCode:  v.Previous,
		PartDependencies: deps,
		PartStyle:        v.Style + strings.Join(v.Diagnostics, "\n"),
		PartExamples:     strings.Join(v.Examples, "\n"),
	}
}

// Implement asks the model for the task's code (streamed when OnToken is
// set) and returns it without fences or stray special tokens.
func (im *Implementer) Implement(ctx context.Context, in ImplementInput) (*Code, llm.Usage, error) {
	if in.Plan == nil || in.Spec == nil {
		return nil, llm.Usage{}, fmt.Errorf("implementer: task %s: plan and spec are required", in.Task.ID)
	}
	file := in.Plan.File(in.Task.File)
	if file == nil {
		return nil, llm.Usage{}, fmt.Errorf("implementer: task %s writes %q, which the plan does not list", in.Task.ID, in.Task.File)
	}
	if len(in.Failures) == 0 && in.Evidence != "" {
		in.Failures = []string{in.Evidence}
	}
	in.Failures = slices.Clone(in.Failures)
	in.Diagnostics = slices.Clone(in.Diagnostics)
	in.Examples = slices.Clone(in.Examples)
	view := implementView{ImplementInput: in, File: file, WholeFile: in.Task.Symbol == "" || len(in.Plan.tasksFor(file.Path)) == 1,
		Correction: in.Previous != "" || len(in.Failures) > 0}
	for _, f := range in.Plan.Files {
		if f.Path != file.Path {
			view.Others = append(view.Others, f)
		}
	}
	for p, c := range in.Dependencies {
		view.DepFiles = append(view.DepFiles, depFile{Path: p, Code: c})
	}
	sort.Slice(view.DepFiles, func(i, j int) bool { return view.DepFiles[i].Path < view.DepFiles[j].Path })
	// Cut order: the lowest priority first (see PromptPart).
	p, err := im.fit(ctx, fitSpec{
		agent: NameImplementer, taskID: in.Task.ID, template: "implementer", view: &view,
		fix: "plan smaller modules or lower agents.implementer.max_tokens",
		shrinkers: []shrinker{
			{PartExamples, dropLast(&view.Examples)}, // the least similar first
			{PartStyle, dropLast(&view.Diagnostics)},
			{PartStyle, clearText(&view.Style)},
			{PartDependencies, func() bool { // their interfaces are what matters
				for i := range view.DepFiles {
					if !view.DepFiles[i].Outlined {
						view.DepFiles[i].Code, view.DepFiles[i].Outlined = outline(view.DepFiles[i].Code), true
						return true
					}
				}
				return false
			}},
			{PartCurrentCode, halve(&view.Previous)},
			{PartMoreFailures, func() bool {
				if len(view.Failures) <= 1 {
					return false
				}
				view.Failures = view.Failures[:len(view.Failures)-1]
				return true
			}},
		}})
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("task %s: %w", in.Task.ID, err)
	}
	code, usage, err := im.chatCode(ctx, NameImplementer, in.Task.ID, p)
	if err != nil {
		return nil, usage, fmt.Errorf("implementer: task %s: %w", in.Task.ID, err)
	}
	return &Code{TaskID: in.Task.ID, File: file.Path, Source: code}, usage, nil
}

func (p *Plan) tasksFor(path string) []Task {
	var out []Task
	for _, t := range p.Tasks {
		if t.File == path {
			out = append(out, t)
		}
	}
	return out
}

// Part is one task's code for a module: the symbol the task owns (empty
// for a whole-module task) and its source.
type Part struct {
	Symbol string
	Source string
}

// AssembleFile joins the code of the tasks that write one module, in plan
// order: import lines are hoisted to the top (deduplicated, __future__
// first) so each symbol-sized answer may carry its own imports, and a
// top-level definition of a symbol another part owns is dropped — models
// asked for one function often repeat the helpers they were shown, and the
// owner's version is the one that counts.
func AssembleFile(parts []Part) string {
	if len(parts) == 1 {
		return parts[0].Source
	}
	owned := map[string]bool{}
	for _, p := range parts {
		if p.Symbol != "" {
			owned[p.Symbol] = true
		}
	}
	chunks := make([]string, len(parts))
	for i, p := range parts {
		chunks[i] = dropDefinitions(p.Source, func(name string) bool { return owned[name] && name != p.Symbol })
	}
	var future, imports, bodies []string
	seen := map[string]bool{}
	for _, c := range chunks {
		lines := strings.Split(strings.TrimRight(c, "\n"), "\n")
		i := 0
		for ; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if l == "" {
				continue
			}
			if !(strings.HasPrefix(l, "import ") || strings.HasPrefix(l, "from ")) || strings.HasSuffix(l, "(") || strings.HasSuffix(l, `\`) {
				break
			}
			if !seen[l] {
				seen[l] = true
				if strings.HasPrefix(l, "from __future__") {
					future = append(future, l)
				} else {
					imports = append(imports, l)
				}
			}
		}
		if body := strings.Trim(strings.Join(lines[i:], "\n"), "\n"); body != "" {
			bodies = append(bodies, body)
		}
	}
	var b strings.Builder
	for _, group := range [][]string{future, imports} {
		if len(group) > 0 {
			b.WriteString(strings.Join(group, "\n"))
			b.WriteString("\n\n")
		}
	}
	b.WriteString(strings.Join(bodies, "\n\n\n"))
	b.WriteString("\n")
	return b.String()
}

// dropDefinitions removes the top-level functions and classes (decorators
// included) whose name drop reports; source that does not parse is returned
// unchanged, for the Validator to report.
func dropDefinitions(src string, drop func(name string) bool) string {
	symbols, err := style.Symbols([]byte(src))
	if err != nil {
		return src
	}
	out := src
	for i := len(symbols) - 1; i >= 0; i-- { // from the end, so offsets hold
		sym := symbols[i]
		if sym.Parent != "" || sym.Kind == "method" || !drop(sym.Name) || sym.EndByte > len(out) {
			continue
		}
		out = out[:sym.StartByte] + out[sym.EndByte:]
	}
	if out == src {
		return src
	}
	return strings.TrimLeft(extraBlankLines.ReplaceAllString(out, "\n\n\n"), "\n")
}

// extraBlankLines matches the gap a removed definition leaves behind.
var extraBlankLines = regexp.MustCompile(`\n{4,}`)
