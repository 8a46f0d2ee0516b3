package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

// workDir holds the driver's outputs inside the run directory; its name
// cannot clash with a Python package.
const workDir = ".r2c-validate"

const (
	compileReport = workDir + "/compile.json"
	junitReport   = workDir + "/junit.xml"
	cwdReport     = workDir + "/cwd"
)

// driver runs in one interpreter, so a validation pays for one Python start:
// it compiles each module exactly as py_compile does (decode_source honours
// coding cookies, then compile), writing errors as JSON with byte columns
// computed from CPython's character offsets, then runs pytest in-process
// with a JUnit-XML report. Native tracebacks ("File ..., line N") are what
// the report's text is parsed for. "-o addopts=" cancels addopts from any
// pytest.ini, pyproject.toml, tox.ini or setup.cfg among the files, so
// generated configuration cannot deselect tests, stop early or drop the
// report; --rootdir=. keeps node ids relative to the run directory.
const driver = `import json, os, sys, importlib.util
modules, tests = json.loads(sys.argv[1]), json.loads(sys.argv[2])
os.makedirs(".r2c-validate", exist_ok=True)
with open(".r2c-validate/cwd", "w") as f:
    f.write(os.getcwd())
def bytecol(lines, lineno, offset):
    if not lineno or not offset or lineno > len(lines):
        return None
    return len(lines[lineno - 1][:offset - 1].encode("utf-8"))
errs = []
for m in modules:
    src = ""
    try:
        with open(m, "rb") as f:
            src = importlib.util.decode_source(f.read())
        compile(src, m, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeDecodeError) as e:
        d = {"path": m, "type": type(e).__name__, "msg": str(getattr(e, "msg", e))}
        if isinstance(e, SyntaxError):
            lines = src.splitlines()
            d.update(line=e.lineno, col=bytecol(lines, e.lineno, e.offset),
                     end_line=getattr(e, "end_lineno", None),
                     end_col=bytecol(lines, getattr(e, "end_lineno", None), getattr(e, "end_offset", None)))
        errs.append(d)
with open(".r2c-validate/compile.json", "w") as f:
    json.dump(errs, f)
if tests:
    import pytest
    sys.exit(int(pytest.main(["-q", "-p", "no:cacheprovider", "--tb=native", "--rootdir=.",
                              "-o", "addopts=", "-o", "junit_family=xunit1",
                              "--junitxml=.r2c-validate/junit.xml"] + tests)))
`

type compileError struct {
	Path    string `json:"path"`
	Type    string `json:"type"`
	Msg     string `json:"msg"`
	Line    *int   `json:"line"`
	Col     *int   `json:"col"`
	EndLine *int   `json:"end_line"`
	EndCol  *int   `json:"end_col"`
}

// runInSandbox runs the driver and adds compile errors and test results to r.
func runInSandbox(ctx context.Context, opts Options, r *Report) error {
	py, err := sandbox.FindPython(opts.Python)
	if err != nil && (py == nil || len(opts.Tests) > 0) {
		return fmt.Errorf("validate: %w", err)
	}
	r.Python = py.Path
	modules, _ := json.Marshal(nonNil(opts.Modules))
	tests, _ := json.Marshal(nonNil(opts.Tests))
	res, err := sandbox.Run(ctx, sandbox.Spec{
		Files:    opts.Files,
		Argv:     []string{py.Path, "-c", driver, string(modules), string(tests)},
		ReadOnly: py.Dirs,
		Limits:   opts.Limits,
		Level:    opts.Level,
		MinLevel: opts.MinLevel,
		Collect:  append([]string{compileReport, junitReport, cwdReport}, opts.Modules...),
		Keep:     opts.KeepRunDir,
	})
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	r.Isolation = res.Level.String()
	r.RunDir = res.Dir
	r.TestOutput = string(res.Stdout)
	if b, ok := res.Collected[compileReport]; ok {
		var errs []compileError
		if err := json.Unmarshal(b, &errs); err == nil {
			for _, e := range errs {
				d := compileDiagnostic(e, opts.Files[e.Path])
				r.Diagnostics = append(dropTreeSitterOnLine(r.Diagnostics, d.Path, d.Range.Start.Line), d)
			}
		}
	}
	if len(opts.Tests) == 0 {
		if _, ok := res.Collected[compileReport]; !ok {
			r.Diagnostics = append(r.Diagnostics, runDiagnostic(opts, res, "the syntax check did not complete"))
		}
		return nil
	}
	for _, m := range opts.Modules {
		// A test that rewrites the module (say, with a stub that passes)
		// makes the results about other code than the code under test.
		if got, ok := res.Collected[m]; !ok || !bytes.Equal(got, opts.Files[m]) {
			r.Diagnostics = append(r.Diagnostics, Diagnostic{
				Path: m, Source: SourceTest, Code: CodeTestRun, Severity: style.SeverityError,
				Message: "the test run changed or deleted this module: its results do not describe the code under test",
			})
		}
	}
	xmlReport, ok := res.Collected[junitReport]
	if !ok {
		r.Diagnostics = append(r.Diagnostics, runDiagnostic(opts, res, "pytest produced no report"))
		return nil
	}
	suite, err := parseJUnit(xmlReport)
	if err != nil {
		r.Diagnostics = append(r.Diagnostics, runDiagnostic(opts, res, "pytest's report is unreadable: "+err.Error()))
		return nil
	}
	addTestResults(r, suite, opts, string(res.Collected[cwdReport]))
	if res.Killed != "" {
		r.Diagnostics = append(r.Diagnostics, runDiagnostic(opts, res, "the test run did not finish"))
	} else if what := exitProblem(res.ExitCode, r.Tests); what != "" {
		d := runDiagnostic(opts, res, what)
		if suiteShowsNothing(res.ExitCode, r.Tests) {
			d.Code = CodeTestSuite
		}
		r.Diagnostics = append(r.Diagnostics, d)
	}
	return nil
}

// pytest's exit statuses (pytest.ExitCode).
const (
	pytestOK          = 0
	pytestTestsFailed = 1
	pytestInterrupted = 2
	pytestInternal    = 3
	pytestUsage       = 4
	pytestNoTests     = 5
)

// exitProblem says why pytest's exit status and its report together do not
// show a complete run, or "". The report alone is not enough: pytest writes
// it when interrupted (KeyboardInterrupt, pytest.exit, -x), listing only
// the tests run so far, and a suite that collects nothing has an empty one.
// A suite whose tests were all skipped shows nothing either.
func exitProblem(code int, counts TestCounts) string {
	switch {
	case (code == pytestOK || code == pytestNoTests) && counts.Total > 0 && counts.Passed+counts.Failed+counts.Errors == 0:
		// Everything skipped, typically pytest.importorskip of a library
		// this interpreter lacks (pytest then exits 5): nothing was shown
		// to work.
		return fmt.Sprintf("no test passed: all %d were skipped or expected to fail", counts.Total)
	case code == pytestNoTests || counts.Total == 0:
		return "pytest collected no tests (test functions must be named test_*, in files named test_*.py)"
	case code == pytestOK:
		return ""
	case code == pytestTestsFailed && counts.Failed+counts.Errors > 0:
		return ""
	case code == pytestTestsFailed:
		return "pytest exited with status 1 (tests failed) but its report lists no failure"
	case code == pytestInterrupted:
		return "pytest was interrupted (exit status 2): tests after the interruption did not run"
	case code == pytestInternal:
		return "pytest stopped with an internal error (exit status 3)"
	case code == pytestUsage:
		return "pytest refused its command line or configuration (exit status 4)"
	case code > 128:
		return fmt.Sprintf("the test process died of signal %d", code-128)
	}
	return fmt.Sprintf("pytest exited with status %d, which is not a test result", code)
}

// suiteShowsNothing reports the exitProblem cases that are the test suite's
// own doing rather than a crash or a limit: nothing collected, nothing that
// did not skip, or a command line (from the suite's ini files) pytest refused.
func suiteShowsNothing(code int, counts TestCounts) bool {
	return code == pytestNoTests || code == pytestUsage || counts.Total == 0 ||
		(code == pytestOK && counts.Passed+counts.Failed+counts.Errors == 0)
}

// dropTreeSitterOnLine removes tree-sitter's syntax errors on the line where
// CPython reported one: CPython's message is the precise one, and two errors
// on one line are noise in an editor.
func dropTreeSitterOnLine(ds []Diagnostic, path string, line int) []Diagnostic {
	out := ds[:0]
	for _, d := range ds {
		if d.Source == SourceSyntax && d.Code == style.RuleSyntaxError && d.Path == path && d.Range.Start.Line == line {
			continue
		}
		out = append(out, d)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// runDiagnostic reports a run that ended without the reports it should have
// written: killed by a limit, crashed interpreter, broken pytest.
func runDiagnostic(opts Options, res *sandbox.Result, what string) Diagnostic {
	msg := fmt.Sprintf("%s (%s)", what, res.Summary())
	if tail := lastLines(res.Stderr, 8); tail != "" {
		msg += ":\n" + tail
	} else if tail := lastLines(res.Stdout, 8); tail != "" {
		msg += ":\n" + tail
	}
	return Diagnostic{Path: firstTestFile(opts), Source: SourceTest, Code: CodeTestRun, Severity: style.SeverityError, Message: msg}
}

func firstTestFile(opts Options) string {
	for _, t := range opts.Tests {
		if _, ok := opts.Files[t]; ok {
			return t
		}
	}
	if len(opts.Modules) > 0 {
		return opts.Modules[0]
	}
	return ""
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(b, []byte("?"))), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// compileDiagnostic turns the driver's 1-based lines and 0-based byte
// columns into a range of src, clamped to the text.
func compileDiagnostic(e compileError, src []byte) Diagnostic {
	d := Diagnostic{Path: e.Path, Source: SourceSyntax, Code: e.Type, Severity: style.SeverityError, Message: e.Type + ": " + e.Msg}
	if d.Code == "" {
		d.Code = "SyntaxError"
	}
	lines := splitLines(src)
	if e.Line == nil || *e.Line < 1 {
		return d
	}
	line := min(*e.Line-1, max(len(lines)-1, 0))
	col := 0
	if e.Col != nil {
		col = min(max(*e.Col, 0), len(lineAt(lines, line)))
	}
	d.Range.Start = style.Position{Line: line, Column: col}
	endLine, endCol := line, -1
	if e.EndLine != nil && e.EndCol != nil && *e.EndLine >= 1 {
		endLine = min(*e.EndLine-1, max(len(lines)-1, 0))
		endCol = min(max(*e.EndCol, 0), len(lineAt(lines, endLine)))
	}
	if endLine < line || (endLine == line && endCol <= col) {
		// No usable end: cover the character at the start, or the rest of
		// the line when the error is at its end.
		endLine = line
		text := lineAt(lines, line)
		if col < len(text) {
			_, size := utf8.DecodeRuneInString(text[col:])
			endCol = col + size
		} else {
			endCol = len(text)
		}
	}
	d.Range.End = style.Position{Line: endLine, Column: endCol}
	return d
}

// splitLines splits at "\n", "\r\n" and a lone "\r", the line ends of
// CPython (whose line numbers index the result) and of LSP editors.
func splitLines(src []byte) []string {
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

func lineAt(lines []string, i int) string {
	if i < 0 || i >= len(lines) {
		return ""
	}
	return lines[i]
}

var errNoSuite = errors.New("no test suite in the report")
