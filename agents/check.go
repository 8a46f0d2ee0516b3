package agents

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
	"github.com/sourcegraph/conc/pool"
)

// CheckInput is generated code to validate, in memory.
type CheckInput struct {
	Plan    *Plan
	Modules map[string]string // planned path → source
	Tests   map[string]string // test path → source
	Profile *style.Profile    // nil: no style check
	Python  string            // "" finds one with pytest
	Limits  sandbox.Limits
	// MinLevel refuses to run below this isolation level.
	MinLevel sandbox.Level
}

// Verdict is a validation report plus the evidence the correction loop
// sends back to the Implementer.
type Verdict struct {
	Report *validate.Report `json:"report"`
	// Evidence maps each module with problems to a text of failing tests,
	// tracebacks and diagnostics (Failures and Diagnostics joined), for
	// the Planner's revision prompt.
	Evidence map[string]string `json:"evidence,omitempty"`
	// Failures maps each module to its failing tests, one text each: the
	// test's source, its assertion message and its traceback frames in the
	// run's files, the first the most telling (an assertion before an
	// error).
	Failures map[string][]string `json:"failures,omitempty"`
	// Diagnostics maps each module to its style and lint findings.
	Diagnostics map[string][]string `json:"diagnostics,omitempty"`
	// FailingTasks are the ids of the tasks writing those modules, in plan
	// order.
	FailingTasks []string `json:"failing_tasks,omitempty"`
	// BrokenTests are test files that could not run through their own
	// fault (they do not parse, or import a library that is not there);
	// they are written again rather than the code changed. TestEvidence
	// says why, per test file.
	BrokenTests  []string          `json:"broken_tests,omitempty"`
	TestEvidence map[string]string `json:"test_evidence,omitempty"`
}

// Passed reports whether the code passed every check.
func (v *Verdict) Passed() bool { return v.Report != nil && v.Report.OK() }

// Check runs the model-free validation (syntax, sandboxed pytest, style) on
// the in-memory files and attributes every problem to the module it is
// about: a diagnostic by its path, a failing test by the module its file
// tests and by the modules its traceback passes through. Each module is
// validated with its own tests in its own sandbox, concurrently (bounded
// by the CPUs), so one module's broken tests cannot hide another's results;
// every run sees all modules, since modules import each other.
func (v *Validator) Check(ctx context.Context, in CheckInput) (*Verdict, error) {
	if in.Plan == nil {
		return nil, fmt.Errorf("validator: no plan")
	}
	files := map[string][]byte{}
	var modules []string
	for p, src := range in.Modules {
		files[p] = []byte(src)
		modules = append(modules, p)
	}
	sort.Strings(modules)
	reports := make([]*validate.Report, len(modules))
	pl := pool.New().WithContext(ctx).WithMaxGoroutines(max(1, runtime.NumCPU())).WithCancelOnError().WithFirstError()
	for i, m := range modules {
		pl.Go(func(ctx context.Context) error {
			opts := validate.Options{Files: maps.Clone(files), Modules: []string{m}, Profile: in.Profile, Python: in.Python, Limits: in.Limits, MinLevel: in.MinLevel}
			if test, ok := in.Tests[TestPath(m)]; ok {
				opts.Files[TestPath(m)] = []byte(test)
				opts.Tests = []string{TestPath(m)}
			}
			r, err := validate.Validate(ctx, opts)
			reports[i] = r
			return err
		})
	}
	if err := pl.Wait(); err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	return attribute(in.Plan, modules, in.Tests, mergeReports(reports)), nil
}

// mergeReports joins per-module reports into one: counts and findings
// added up, the style score averaged, the duration the longest (they ran
// side by side).
func mergeReports(reports []*validate.Report) *validate.Report {
	out := &validate.Report{StyleScore: 100}
	var style float64
	var outputs []string
	for _, r := range reports {
		out.Diagnostics = append(out.Diagnostics, r.Diagnostics...)
		out.Failures = append(out.Failures, r.Failures...)
		out.Tests.Total += r.Tests.Total
		out.Tests.Passed += r.Tests.Passed
		out.Tests.Failed += r.Tests.Failed
		out.Tests.Errors += r.Tests.Errors
		out.Tests.Skipped += r.Tests.Skipped
		style += r.StyleScore
		out.Duration = max(out.Duration, r.Duration)
		if out.Isolation == "" {
			out.Isolation, out.Python = r.Isolation, r.Python
		}
		if r.TestOutput != "" {
			outputs = append(outputs, r.TestOutput)
		}
	}
	if len(reports) > 0 {
		out.StyleScore = style / float64(len(reports))
	}
	out.TestOutput = strings.Join(outputs, "\n")
	return out
}

func attribute(plan *Plan, modules []string, tests map[string]string, report *validate.Report) *Verdict {
	verdict := &Verdict{Report: report, Evidence: map[string]string{}, TestEvidence: map[string]string{},
		Failures: map[string][]string{}, Diagnostics: map[string][]string{}}
	if report.OK() {
		return verdict
	}
	testFor := map[string]string{} // test path → module
	for _, m := range modules {
		testFor[TestPath(m)] = m
	}
	notes := map[string][]string{}
	failing := map[string]bool{}
	add := func(module, note string, fails bool) {
		notes[module] = append(notes[module], note)
		if fails {
			failing[module] = true
		}
	}
	addFailure := func(module, note string) {
		add(module, note, true)
		verdict.Failures[module] = append(verdict.Failures[module], note)
	}
	addDiagnostic := func(module, note string, fails bool) {
		add(module, note, fails)
		verdict.Diagnostics[module] = append(verdict.Diagnostics[module], note)
	}
	isModule := map[string]bool{}
	for _, m := range modules {
		isModule[m] = true
	}
	broken := map[string]bool{}
	for _, f := range report.Failures {
		targets := map[string]bool{}
		testFile, _, _ := strings.Cut(f.Test, "::")
		if _, isTest := tests[f.Path]; isTest && f.Error && testFault(f, modules) {
			broken[f.Path] = true
			verdict.TestEvidence[f.Path] = formatFailure(f, "")
			continue
		}
		if m, ok := testFor[testFile]; ok {
			targets[m] = true
		}
		if isModule[f.Path] {
			targets[f.Path] = true
		}
		for _, m := range modules {
			if strings.Contains(f.Traceback, m+":") || strings.Contains(f.Traceback, "/"+m+"\"") {
				targets[m] = true
			}
		}
		if len(targets) == 0 {
			for _, m := range modules {
				targets[m] = true
			}
		}
		note := formatFailure(f, testSource(tests[testFile], f.Test))
		for m := range targets {
			addFailure(m, note)
		}
	}
	for _, d := range report.Diagnostics {
		if _, isTest := tests[d.Path]; isTest {
			switch {
			case d.Source == validate.SourceSyntax, d.Code == validate.CodeTestSuite:
				// The tests do not parse, or show nothing (none collected,
				// all skipped): they are rewritten, the code is not blamed.
				broken[d.Path] = true
				verdict.TestEvidence[d.Path] = fmt.Sprintf("%s:%d:%d: %s", d.Path, d.Range.Start.Line+1, d.Range.Start.Column+1, d.Message)
				continue
			case d.Code != validate.CodeTestRun, len(report.Failures) > 0:
				// Failures already carry the evidence; pytest's stop after
				// collection errors ("interrupted") adds nothing to them.
				continue
			}
			// A run that did not finish (a limit, a crash) is reported on
			// the test file but may well be the module's doing, such as an
			// endless loop: it is evidence for every module below.
		}
		if d.Source == validate.SourceTest && d.Code != validate.CodeTestRun {
			continue // the failure itself is already in the evidence
		}
		note := fmt.Sprintf("%s:%d:%d: %s %s: %s", d.Path, d.Range.Start.Line+1, d.Range.Start.Column+1, d.Source, d.Code, d.Message)
		if !isModule[d.Path] { // e.g. the whole test run timed out
			for _, m := range modules {
				addFailure(m, note)
			}
			continue
		}
		if d.Source == validate.SourceSyntax || d.Source == validate.SourceTest {
			addFailure(d.Path, note) // the code does not run: as telling as a failing test
			continue
		}
		addDiagnostic(d.Path, note, d.Severity == style.SeverityError)
	}
	for p := range broken {
		verdict.BrokenTests = append(verdict.BrokenTests, p)
	}
	sort.Strings(verdict.BrokenTests)
	if len(failing) == 0 && len(broken) == 0 {
		for _, m := range modules { // not OK, but nothing names a module
			failing[m] = true
		}
	}
	for m := range failing {
		text := strings.Join(notes[m], "\n\n")
		if text == "" {
			text = fmt.Sprintf("Validation failed (%d of %d tests passed) without evidence naming %s.", report.Tests.Passed, report.Tests.Total, m)
		}
		verdict.Evidence[m] = text
		if len(verdict.Failures[m]) == 0 && len(verdict.Diagnostics[m]) == 0 {
			verdict.Failures[m] = []string{text}
		}
		sortFailures(verdict.Failures[m])
	}
	for _, t := range plan.Tasks {
		if failing[t.File] {
			verdict.FailingTasks = append(verdict.FailingTasks, t.ID)
		}
	}
	return verdict
}

// testFault reports whether a collection error of a test file is the test's
// own fault (it does not parse, or imports a library that is not there)
// rather than the module's (a planned name missing from it).
func testFault(f validate.TestFailure, modules []string) bool {
	msg := f.Message + "\n" + f.Traceback
	for _, kind := range []string{"SyntaxError", "IndentationError", "TabError"} {
		if strings.Contains(f.Message, kind) {
			return true
		}
	}
	if strings.Contains(f.Message, "ModuleNotFoundError") {
		for _, m := range modules {
			if strings.Contains(msg, "'"+ImportName(m)+"'") {
				return false
			}
		}
		return true
	}
	return false
}

// sortFailures puts assertion failures (the test ran and found a wrong
// value) before errors, keeping the order otherwise: the first failure is
// the one every correction prompt keeps.
func sortFailures(notes []string) {
	sort.SliceStable(notes, func(i, j int) bool {
		return strings.Contains(notes[i], "AssertionError") && !strings.Contains(notes[j], "AssertionError")
	})
}

// testSource returns the source of the test function id names
// ("test_x.py::test_f" or "test_x.py::TestC::test_f") in src, or "".
func testSource(src, id string) string {
	if src == "" {
		return ""
	}
	parts := strings.Split(id, "::")
	name, _, _ := strings.Cut(parts[len(parts)-1], "[") // parametrised ids
	symbols, err := style.Symbols([]byte(src))
	if err != nil {
		return ""
	}
	for _, sym := range symbols {
		if sym.Name == name && sym.EndByte <= len(src) {
			return strings.TrimRight(src[sym.StartByte:sym.EndByte], "\n")
		}
	}
	return ""
}

func formatFailure(f validate.TestFailure, source string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Failing test %s", f.Test)
	if f.Path != "" {
		fmt.Fprintf(&b, " (%s line %d)", f.Path, f.Line+1)
	}
	if source != "" {
		fmt.Fprintf(&b, ":\n```python\n%s\n```", source)
	}
	if f.Message != "" {
		fmt.Fprintf(&b, "\n%s", f.Message)
	}
	if tb := cleanTraceback(f.Traceback); tb != "" {
		fmt.Fprintf(&b, "\nTraceback (the run's own files):\n%s", tb)
	}
	return b.String()
}

var (
	// Python's frames: `  File "/tmp/r2c-sandbox-1/mod.py", line 3, in f`;
	// pytest's: `/tmp/r2c-sandbox-1/mod.py:3: in f`.
	pythonFrame = regexp.MustCompile(`^\s*File "([^"]+)", line \d+`)
	pytestFrame = regexp.MustCompile(`^(\S+):\d+: in \S+`)
	sandboxDir  = regexp.MustCompile(`/tmp/r2c-sandbox-[^/]*/`)
)

// cleanTraceback keeps the frames in the run's own files (with their code
// lines) and drops the interpreter's and libraries' frames and the repeated
// exception text (the message is given separately): what a model needs to
// find the bug, in a fraction of the tokens. A traceback without
// recognisable frames is kept, shortened to its last lines.
func cleanTraceback(tb string) string {
	tb = strings.TrimSpace(sandboxDir.ReplaceAllString(tb, ""))
	if tb == "" {
		return ""
	}
	lines := strings.Split(tb, "\n")
	var keep []string
	inFrame, keepFrame, frames := false, false, 0
	for _, line := range lines {
		var file string
		if m := pythonFrame.FindStringSubmatch(line); m != nil {
			file = m[1]
		} else if m := pytestFrame.FindStringSubmatch(line); m != nil {
			file = m[1]
		}
		switch {
		case file != "":
			frames++
			inFrame = true
			keepFrame = !strings.Contains(file, "-packages/") && !strings.Contains(file, "/lib/python") && !strings.HasPrefix(file, "<")
			if keepFrame {
				keep = append(keep, strings.TrimSpace(line))
			}
		case inFrame && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")) && !strings.HasPrefix(strings.TrimSpace(line), "E "):
			if keepFrame && strings.Trim(strings.TrimSpace(line), "^~ ") != "" {
				keep = append(keep, "    "+strings.TrimSpace(line))
			}
		default:
			inFrame = false
		}
	}
	if frames == 0 || len(keep) == 0 {
		if len(lines) > 15 {
			lines = append([]string{"..."}, lines[len(lines)-15:]...)
		}
		return strings.Join(lines, "\n")
	}
	return strings.Join(keep, "\n")
}
