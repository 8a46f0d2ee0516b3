// Package validate is r2c's model-free Validator: it checks Python modules
// for syntax errors, runs their pytest suites inside the sandbox, and scores
// their style against the user's profile, producing one Report whose
// diagnostics carry precise ranges for the editor.
//
// Syntax is checked twice: by tree-sitter (every error it recovers from) and
// by CPython's py_compile inside the sandbox (the authoritative first error,
// including those the grammar accepts, such as 'return' outside a function).
// Tests run through pytest with a JUnit-XML report; no terminal output is
// parsed. Each failure is placed on the line of the module under test where
// the exception surfaced (the deepest traceback frame in that module), or on
// the test's own line when the module was not involved (a wrong result).
//
// Files are passed in memory because generated code is never written to
// the user's tree before it passes; the core package builds Options for
// files on disk or in an editor. Validate may be called concurrently.
package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

// Diagnostic sources.
const (
	SourceSyntax = "r2c-syntax"
	SourceTest   = "r2c-test"
	SourceStyle  = "r2c-style"
)

// Diagnostic codes of the test source; syntax diagnostics use the Python
// exception name (SyntaxError, IndentationError, TabError) or tree-sitter's
// "syntax-error", and style diagnostics the style rule.
const (
	CodeTestFailure = "test-failure" // an assertion or exception in a test
	CodeTestError   = "test-error"   // collection, fixture or setup/teardown error
	CodeTestRun     = "test-run"     // pytest could not run or report (timeout, crash)
	// CodeTestSuite marks a run that finished but shows nothing about the
	// code: no tests collected, every test skipped, pytest refusing its
	// command line. The tests, not the module, need another look.
	CodeTestSuite = "test-suite"
)

// Diagnostic is one finding in one file of Options.Files.
type Diagnostic struct {
	// Path is the key of Options.Files the diagnostic is about.
	Path     string         `json:"path"`
	Source   string         `json:"source"`
	Code     string         `json:"code"`
	Severity style.Severity `json:"severity"`
	// Range uses 0-based lines and 0-based UTF-8 byte columns.
	Range   style.Range `json:"range"`
	Message string      `json:"message"`
	Fix     *style.Fix  `json:"fix,omitempty"`
}

// TestCounts counts pytest's test cases by outcome. Collection errors count
// as Errors.
type TestCounts struct {
	Total   int `json:"total"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errors  int `json:"errors"`
	Skipped int `json:"skipped"`
}

// TestFailure is one failed or erroring test.
type TestFailure struct {
	// Test is pytest's node name, e.g. "test_mod.py::TestAdd::test_neg".
	Test string `json:"test"`
	// Message is the exception line, e.g. "AssertionError: assert 3 == 4".
	Message string `json:"message"`
	// Traceback is the Python traceback as pytest reported it.
	Traceback string `json:"traceback"`
	// Path and Line (0-based) locate where the failure surfaced: in a module
	// under test when the traceback passes through one, else in the test.
	Path string `json:"path"`
	Line int    `json:"line"`
	// Error is true for errors (collection, fixtures), false for failures.
	Error bool `json:"error,omitempty"`
}

// Report is the outcome of one validation.
type Report struct {
	Diagnostics []Diagnostic  `json:"diagnostics"`
	Tests       TestCounts    `json:"tests"`
	Failures    []TestFailure `json:"failures,omitempty"`
	// StyleScore is the mean style consistency (0–100) of the modules; 100
	// when no profile was given (StyleChecked false).
	StyleScore   float64 `json:"style_score"`
	StyleChecked bool    `json:"style_checked"`
	// Isolation is the sandbox level the code ran under ("" if nothing ran).
	Isolation string `json:"isolation"`
	// Python is the interpreter used.
	Python string `json:"python,omitempty"`
	// TestOutput is pytest's terminal output (capped), for feeding back to a
	// model; tools should use the structured fields instead.
	TestOutput string `json:"test_output,omitempty"`
	// Duration is in nanoseconds in JSON (see MarshalJSON).
	Duration time.Duration `json:"duration"`
	// RunDir is the kept run directory (only with Options.KeepRunDir).
	RunDir string `json:"run_dir,omitempty"`
	// TestPaths are the test files and folders given to pytest
	// (Options.Tests); empty when no test ran.
	TestPaths []string `json:"test_paths,omitempty"`
	// Paths maps the keys of Options.Files that were read from disk to
	// their files (Options.DiskPaths), so diagnostics can be shown where
	// the user's files are.
	Paths map[string]string `json:"paths,omitempty"`
}

// MarshalJSON encodes r with encoding/json whatever the caller's encoder:
// JSON v2 (the language server's) has no default for time.Duration, and a
// report must read the same from every front door.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(plain(r))
}

// UnmarshalJSON is MarshalJSON's inverse.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	return json.Unmarshal(b, (*plain)(r))
}

// OK reports whether validation passed: no error diagnostics (syntax errors,
// test failures, test-run problems) and no failed or erroring test. Style
// warnings do not fail validation.
func (r *Report) OK() bool {
	if r.Tests.Failed > 0 || r.Tests.Errors > 0 {
		return false
	}
	for _, d := range r.Diagnostics {
		if d.Severity == style.SeverityError {
			return false
		}
	}
	return true
}

// Counts returns the number of diagnostics per source.
func (r *Report) Counts() map[string]int {
	m := map[string]int{}
	for _, d := range r.Diagnostics {
		m[d.Source]++
	}
	return m
}

// Options says what to validate.
type Options struct {
	// Files maps relative slash-separated paths to contents: the modules,
	// the tests and anything they import. All are copied into the sandbox.
	Files map[string][]byte
	// Modules are the keys of Files under test: syntax and style checked.
	Modules []string
	// Tests are the keys of Files (or directories among them) given to
	// pytest; empty means no test run.
	Tests []string
	// Profile is the user's style profile; nil skips the style check.
	Profile *style.Profile
	// Python is the configured interpreter (sandbox.FindPython's argument).
	Python string
	// Limits bound the sandboxed run; zero fields take sandbox defaults.
	Limits sandbox.Limits
	// MinLevel refuses to run below this isolation level.
	MinLevel sandbox.Level
	// Level forces an isolation level (sandbox.LevelAuto: the best).
	Level sandbox.Level
	// KeepRunDir keeps the sandbox's run directory for debugging (config
	// sandbox.keep_dirs) and reports it in Report.RunDir.
	KeepRunDir bool
	// DiskPaths maps keys of Files to the files they were read from, when
	// read from disk (core.Validate): a test file from another directory
	// has a key under tests/ but lives elsewhere. Validate does not use it;
	// it is for showing diagnostics' paths.
	DiskPaths map[string]string
}

// Validate checks opts.Modules and runs opts.Tests. Findings, failing tests
// and a killed test run are reported in the Report; errors are reserved for
// problems of the environment (no Python, no pytest when tests are asked
// for, isolation below MinLevel, cancellation) and invalid Options.
func Validate(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	if err := opts.check(); err != nil {
		return nil, err
	}
	r := &Report{StyleScore: 100, StyleChecked: opts.Profile != nil, TestPaths: opts.Tests, Paths: opts.DiskPaths}
	styleDiags, score, err := checkStyle(ctx, opts)
	if err != nil {
		return nil, err
	}
	r.StyleScore = score
	r.Diagnostics = append(r.Diagnostics, styleDiags...)
	if err := runInSandbox(ctx, opts, r); err != nil {
		return nil, err
	}
	sortDiagnostics(r.Diagnostics)
	r.Duration = time.Since(start)
	return r, nil
}

func (o Options) check() error {
	if len(o.Modules) == 0 && len(o.Tests) == 0 {
		return fmt.Errorf("validate: nothing to validate: no modules and no tests")
	}
	for _, m := range o.Modules {
		if _, ok := o.Files[m]; !ok {
			return fmt.Errorf("validate: module %q is not among the files", m)
		}
	}
	for _, t := range o.Tests {
		// Tests are pytest arguments: "-p", "--co" or "-k=..." would be options.
		if t == "" || strings.HasPrefix(t, "-") {
			return fmt.Errorf("validate: test path %q is not a file or directory name", t)
		}
	}
	for k := range o.Files {
		// The driver's reports live there; a planted junit.xml must not be
		// read back as pytest's.
		if c := path.Clean(k); c == workDir || strings.HasPrefix(c, workDir+"/") {
			return fmt.Errorf("validate: file %q is inside %s, which is reserved for r2c's reports", k, workDir)
		}
	}
	return nil
}
