package validate

import (
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/r2c-ai/r2c/style"
)

// junitSuites is pytest's --junitxml output with junit_family=xunit1,
// which records each test's file and (0-based) line.
type junitSuites struct {
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Cases []junitCase `xml:"testcase"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	File      string        `xml:"file,attr"`
	Line      *int          `xml:"line,attr"`
	Failures  []junitResult `xml:"failure"`
	Errors    []junitResult `xml:"error"`
	Skipped   []junitResult `xml:"skipped"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func parseJUnit(b []byte) (*junitSuite, error) {
	var all junitSuites
	if err := xml.Unmarshal(b, &all); err != nil {
		// Older pytest writes a bare <testsuite>.
		var one junitSuite
		if err2 := xml.Unmarshal(b, &one); err2 != nil {
			return nil, fmt.Errorf("junit xml: %w", err)
		}
		return &one, nil
	}
	if len(all.Suites) == 0 {
		return nil, errNoSuite
	}
	merged := &junitSuite{}
	for _, s := range all.Suites {
		merged.Cases = append(merged.Cases, s.Cases...)
	}
	return merged, nil
}

// addTestResults counts the cases and turns each failure and error into a
// TestFailure and a diagnostic placed where it surfaced.
// runDir is the run directory as the interpreter saw it, for telling the
// run's files from installed ones in tracebacks.
func addTestResults(r *Report, suite *junitSuite, opts Options, runDir string) {
	for _, c := range suite.Cases {
		r.Tests.Total++
		var res junitResult
		isError := false
		switch {
		case len(c.Failures) > 0:
			r.Tests.Failed++
			res = c.Failures[0]
		case len(c.Errors) > 0:
			r.Tests.Errors++
			res, isError = c.Errors[0], true
		case len(c.Skipped) > 0:
			r.Tests.Skipped++
			continue
		default:
			r.Tests.Passed++
			continue
		}
		f := TestFailure{Test: nodeID(c), Message: failureMessage(res), Traceback: strings.TrimSpace(res.Text), Error: isError}
		f.Path, f.Line = locate(res.Text, c, opts, runDir)
		r.Failures = append(r.Failures, f)
		r.Diagnostics = append(r.Diagnostics, failureDiagnostic(f, opts))
	}
}

// nodeID rebuilds pytest's node id ("tests/test_m.py::TestX::test_a") from
// the file and the dotted class name.
func nodeID(c junitCase) string {
	if c.File == "" {
		if c.ClassName == "" {
			return c.Name
		}
		return c.ClassName + "::" + c.Name
	}
	parts := []string{c.File}
	module := strings.ReplaceAll(strings.TrimSuffix(c.File, ".py"), "/", ".")
	if rest, ok := strings.CutPrefix(c.ClassName, module); ok && rest != "" {
		parts = append(parts, strings.Split(strings.TrimPrefix(rest, "."), ".")...)
	}
	if c.ClassName != "" || c.Name != strings.TrimSuffix(pathBase(c.File), ".py") {
		parts = append(parts, c.Name)
	}
	return strings.Join(parts, "::")
}

func pathBase(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// failureMessage is the exception line: the message attribute, or for
// collection errors (whose attribute is just "collection failure") the last
// "E   ..." line of the report.
func failureMessage(res junitResult) string {
	msg := strings.TrimSpace(res.Message)
	if msg == "collection failure" || msg == "" {
		for _, line := range strings.Split(res.Text, "\n") {
			if rest, ok := strings.CutPrefix(line, "E "); ok && strings.TrimSpace(rest) != "" {
				msg = strings.TrimSpace(rest)
			}
		}
	}
	if msg == "" {
		lines := strings.Split(strings.TrimSpace(res.Text), "\n")
		msg = strings.TrimSpace(lines[len(lines)-1])
	}
	return msg
}

var (
	// Native traceback frames: `  File "/tmp/r2c-sandbox-1/mod.py", line 5, in div`
	// (also as `E     File "...", line 1` under a collection error's SyntaxError).
	nativeFrame = regexp.MustCompile(`File "([^"]+)", line (\d+)`)
	// pytest's long-format frames in collection errors: `test_bad.py:1: in <module>`
	longFrame = regexp.MustCompile(`(?m)^(\S+\.py):(\d+): in `)
)

type frame struct {
	path string // key of opts.Files
	line int    // 0-based
	pos  int    // offset in the traceback text, for ordering
}

// locate finds where a failure surfaced: the deepest traceback frame in a
// module under test; else the deepest frame in any file of the run (the
// test itself); else the test's own definition line.
func locate(text string, c junitCase, opts Options, runDir string) (string, int) {
	var frames []frame
	for _, re := range []*regexp.Regexp{nativeFrame, longFrame} {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			p := text[m[2]:m[3]]
			n, err := strconv.Atoi(text[m[4]:m[5]])
			if err != nil || n < 1 {
				continue
			}
			if key := matchFile(p, runDir, opts.Files); key != "" {
				frames = append(frames, frame{path: key, line: n - 1, pos: m[0]})
			}
		}
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].pos < frames[j].pos })
	isModule := map[string]bool{}
	for _, m := range opts.Modules {
		isModule[m] = true
	}
	for i := len(frames) - 1; i >= 0; i-- {
		if isModule[frames[i].path] {
			return frames[i].path, frames[i].line
		}
	}
	if len(frames) > 0 {
		f := frames[len(frames)-1]
		return f.path, f.line
	}
	if key := matchFile(c.File, runDir, opts.Files); key != "" {
		line := 0
		if c.Line != nil {
			line = *c.Line
		}
		return key, line
	}
	return firstTestFile(opts), 0
}

// matchFile maps a path from a traceback to the key of files it names: an
// absolute path must lie in runDir (a frame in site-packages' json/decoder.py
// is not the run's decoder.py), a relative one is relative to runDir.
func matchFile(p, runDir string, files map[string][]byte) string {
	if p == "" {
		return ""
	}
	if path.IsAbs(p) {
		rel, ok := strings.CutPrefix(p, strings.TrimSuffix(runDir, "/")+"/")
		if runDir == "" || !ok {
			return ""
		}
		p = rel
	}
	p = path.Clean(p)
	if _, ok := files[p]; ok {
		return p
	}
	// Keys may be spelt unclean ("./m.py"); the sandbox refuses two
	// spellings of one file, so at most one key cleans to p.
	for k := range files {
		if path.Clean(k) == p {
			return k
		}
	}
	return ""
}

func failureDiagnostic(f TestFailure, opts Options) Diagnostic {
	code, verb := CodeTestFailure, "failed"
	if f.Error {
		code, verb = CodeTestError, "errored"
	}
	return Diagnostic{
		Path:     f.Path,
		Source:   SourceTest,
		Code:     code,
		Severity: style.SeverityError,
		Range:    lineRange(opts.Files[f.Path], f.Line),
		Message:  fmt.Sprintf("%s %s: %s", f.Test, verb, f.Message),
	}
}

// lineRange spans a line's text without its indentation and trailing space.
func lineRange(src []byte, line int) style.Range {
	text := lineAt(splitLines(src), line)
	start := len(text) - len(strings.TrimLeft(text, " \t"))
	end := len(strings.TrimRight(text, " \t\r"))
	if end < start {
		end = start
	}
	return style.Range{Start: style.Position{Line: line, Column: start}, End: style.Position{Line: line, Column: end}}
}
