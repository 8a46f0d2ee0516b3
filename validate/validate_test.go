package validate

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

// requirePytest skips when no interpreter with pytest is available.
func requirePytest(t testing.TB) {
	t.Helper()
	if _, err := sandbox.FindPython(""); err != nil {
		t.Skipf("pytest not available: %v", err)
	}
}

// lineOf is the oracle for positions: the 0-based line of the first line of
// src containing needle, and the byte column where needle starts.
func lineOf(t *testing.T, src, needle string) (line, col int) {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if c := strings.Index(l, needle); c >= 0 {
			return i, c
		}
	}
	t.Fatalf("%q not in source", needle)
	return 0, 0
}

func diagsOf(r *Report, source string) []Diagnostic {
	var out []Diagnostic
	for _, d := range r.Diagnostics {
		if d.Source == source {
			out = append(out, d)
		}
	}
	return out
}

const calcModule = `"""Small calculator."""


def add(a, b):
    return a + b


def div(a, b):
    return a / b


def mean(xs):
    return sum(xs) / len(xs)
`

const passingTests = `import pytest
from calc import add, div, mean


def test_add():
    assert add(2, 3) == 5


def test_div():
    assert div(6, 3) == 2


@pytest.mark.parametrize("xs,want", [([1, 2, 3], 2), ([4], 4)])
def test_mean(xs, want):
    assert mean(xs) == want
`

func TestPassingSuite(t *testing.T) {
	requirePytest(t)
	r, err := Validate(context.Background(), Options{
		Files:   map[string][]byte{"calc.py": []byte(calcModule), "test_calc.py": []byte(passingTests)},
		Modules: []string{"calc.py"},
		Tests:   []string{"test_calc.py"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Four test cases by construction: two functions and two parameters.
	if r.Tests != (TestCounts{Total: 4, Passed: 4}) {
		t.Errorf("counts %+v, want 4 passed", r.Tests)
	}
	if !r.OK() || len(r.Failures) != 0 {
		t.Errorf("passing suite not OK: %+v", r)
	}
	if r.Isolation != sandbox.Detect().Best.String() {
		t.Errorf("isolation %q, want the best level %s", r.Isolation, sandbox.Detect().Best)
	}
	if r.Python == "" || r.Duration <= 0 {
		t.Errorf("python %q duration %v", r.Python, r.Duration)
	}
}

const failingTests = `import pytest
from calc import add, div, mean


def test_add_wrong():
    assert add(2, 2) == 5, "two and two"


def test_div_by_zero():
    assert div(1, 0) == 0


class TestMean:
    def test_empty(self):
        assert mean([]) == 0

    def test_ok(self):
        assert mean([2, 4]) == 3


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_uses_broken(broken):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert add(1, 1) == 3
`

func TestFailingSuiteCountsAndRanges(t *testing.T) {
	requirePytest(t)
	r, err := Validate(context.Background(), Options{
		Files:   map[string][]byte{"calc.py": []byte(calcModule), "test_calc.py": []byte(failingTests)},
		Modules: []string{"calc.py"},
		Tests:   []string{"test_calc.py"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// By construction: 3 failures (add_wrong, div_by_zero, empty), 1 pass
	// (ok), 1 error (fixture), 2 skipped (skip, xfail).
	want := TestCounts{Total: 7, Passed: 1, Failed: 3, Errors: 1, Skipped: 2}
	if r.Tests != want {
		t.Errorf("counts %+v, want %+v", r.Tests, want)
	}
	if r.OK() {
		t.Error("failing suite reported OK")
	}
	byTest := map[string]TestFailure{}
	for _, f := range r.Failures {
		byTest[f.Test] = f
	}
	type place struct {
		path, needle, msg string
		isErr             bool
	}
	cases := map[string]place{
		// The exception surfaced in the module: point at the module's line.
		"test_calc.py::test_div_by_zero":     {"calc.py", "return a / b", "ZeroDivisionError", false},
		"test_calc.py::TestMean::test_empty": {"calc.py", "return sum(xs) / len(xs)", "ZeroDivisionError", false},
		// A wrong result: the module was not in the traceback, so the test's
		// assertion line carries it, with pytest's assertion message.
		"test_calc.py::test_add_wrong":   {"test_calc.py", `assert add(2, 2) == 5, "two and two"`, "two and two", false},
		"test_calc.py::test_uses_broken": {"test_calc.py", `raise RuntimeError("fixture broke")`, "fixture broke", true},
	}
	for test, p := range cases {
		f, ok := byTest[test]
		if !ok {
			t.Errorf("no failure reported for %s (have %v)", test, keys(byTest))
			continue
		}
		src := calcModule
		if p.path == "test_calc.py" {
			src = failingTests
		}
		line, col := lineOf(t, src, p.needle)
		if f.Path != p.path || f.Line != line || f.Error != p.isErr || !strings.Contains(f.Message, p.msg) {
			t.Errorf("%s: at %s:%d error=%v %q; want %s:%d error=%v containing %q", test, f.Path, f.Line, f.Error, f.Message, p.path, line, p.isErr, p.msg)
		}
		var found bool
		for _, d := range diagsOf(r, SourceTest) {
			if d.Path == p.path && strings.HasPrefix(d.Message, test+" ") {
				found = true
				wantRange := style.Range{Start: style.Position{Line: line, Column: col}, End: style.Position{Line: line, Column: col + len(p.needle)}}
				if d.Range != wantRange || d.Severity != style.SeverityError {
					t.Errorf("%s: diagnostic range %+v severity %v, want %+v error", test, d.Range, d.Severity, wantRange)
				}
			}
		}
		if !found {
			t.Errorf("%s: no r2c-test diagnostic in %s", test, p.path)
		}
	}
	if len(r.Failures) != 4 {
		t.Errorf("%d failures, want 4: %v", len(r.Failures), keys(byTest))
	}
}

func keys(m map[string]TestFailure) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSyntaxErrorsFromCPython(t *testing.T) {
	requirePytest(t)
	cases := []struct {
		name, src, needle, code string
		width                   int
	}{
		// Unclosed bracket after non-ASCII text: the column is in bytes.
		{"unclosed", "s = \"héllo wörld\" + (1,\n", "(", "SyntaxError", 1},
		// Grammatical, so only the compiler catches it.
		{"return outside function", "x = 1\nreturn x\n", "return x", "SyntaxError", len("return x")},
		{"bad indent", "def f():\n    a = 1\n      b = 2\n", "      b = 2", "IndentationError", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Validate(context.Background(), Options{Files: map[string][]byte{"m.py": []byte(c.src)}, Modules: []string{"m.py"}})
			if err != nil {
				t.Fatal(err)
			}
			var got []Diagnostic
			for _, d := range diagsOf(r, SourceSyntax) {
				if d.Code == c.code {
					got = append(got, d)
				}
			}
			if len(got) != 1 {
				t.Fatalf("want one %s diagnostic, got %+v", c.code, r.Diagnostics)
			}
			line, col := lineOf(t, c.src, c.needle)
			d := got[0]
			if d.Range.Start.Line != line || d.Range.Start.Column != col && c.code != "IndentationError" {
				t.Errorf("range %+v, want start %d:%d", d.Range, line, col)
			}
			if c.width > 0 && d.Range.End != (style.Position{Line: line, Column: col + c.width}) {
				t.Errorf("range end %+v, want %d:%d", d.Range.End, line, col+c.width)
			}
			for _, other := range diagsOf(r, SourceSyntax) {
				if other.Code == style.RuleSyntaxError && other.Range.Start.Line == line {
					t.Errorf("tree-sitter's error duplicates CPython's on line %d: %+v", line, other)
				}
			}
			if r.OK() {
				t.Error("syntax error reported OK")
			}
		})
	}
}

func TestCollectionErrorMapsIntoTheModule(t *testing.T) {
	requirePytest(t)
	broken := "def f(:\n    pass\n"
	r, err := Validate(context.Background(), Options{
		Files:   map[string][]byte{"broken.py": []byte(broken), "test_broken.py": []byte("from broken import f\n\ndef test_f():\n    f()\n")},
		Modules: []string{"broken.py"},
		Tests:   []string{"test_broken.py"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tests.Errors != 1 || r.Tests.Passed != 0 {
		t.Fatalf("counts %+v, want one collection error", r.Tests)
	}
	f := r.Failures[0]
	if f.Path != "broken.py" || f.Line != 0 || !f.Error || !strings.Contains(f.Message, "SyntaxError") {
		t.Errorf("collection failure %+v, want broken.py:0 SyntaxError", f)
	}
}

func TestTimeoutIsAReportedFailure(t *testing.T) {
	requirePytest(t)
	r, err := Validate(context.Background(), Options{
		Files:   map[string][]byte{"loop.py": []byte("def spin():\n    while True:\n        pass\n"), "test_loop.py": []byte("from loop import spin\n\ndef test_spin():\n    spin()\n")},
		Modules: []string{"loop.py"},
		Tests:   []string{"test_loop.py"},
		Limits:  sandbox.Limits{Wall: 3 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() {
		t.Fatal("a test run killed by the wall-clock limit was reported OK")
	}
	var found bool
	for _, d := range r.Diagnostics {
		if d.Code == CodeTestRun && strings.Contains(d.Message, "wall-clock") {
			found = true
		}
	}
	if !found {
		t.Errorf("no test-run diagnostic naming the wall-clock limit: %+v", r.Diagnostics)
	}
}

func TestNoPytestIsAnEnvironmentError(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import venv").Run() != nil {
		t.Skip("no python3 venv module")
	}
	dir := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make a venv: %v %s", err, out)
	}
	_, err := Validate(context.Background(), Options{
		Files:   map[string][]byte{"m.py": []byte("x = 1\n"), "test_m.py": []byte("def test_x():\n    pass\n")},
		Modules: []string{"m.py"},
		Tests:   []string{"test_m.py"},
		Python:  filepath.Join(dir, "bin", "python3"),
	})
	if !errors.Is(err, sandbox.ErrNoPytest) || !strings.Contains(err.Error(), "fix:") {
		t.Fatalf("err = %v, want ErrNoPytest with a fix", err)
	}
}

// Several modules validated at once (as the orchestrator does) must not
// interfere: each run has its own directory and uid.
func TestConcurrentValidations(t *testing.T) {
	requirePytest(t)
	var mu sync.Mutex
	results := map[int]*Report{}
	p := pool.New().WithErrors().WithMaxGoroutines(4)
	for i := range 4 {
		p.Go(func() error {
			tests := passingTests
			if i%2 == 1 {
				tests = failingTests
			}
			r, err := Validate(context.Background(), Options{
				Files:   map[string][]byte{"calc.py": []byte(calcModule), "test_calc.py": []byte(tests)},
				Modules: []string{"calc.py"},
				Tests:   []string{"test_calc.py"},
			})
			mu.Lock()
			results[i] = r
			mu.Unlock()
			return err
		})
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.OK() != (i%2 == 0) {
			t.Errorf("validation %d: OK %v, counts %+v", i, r.OK(), r.Tests)
		}
	}
}

func TestStyleAgainstProfile(t *testing.T) {
	dir := t.TempDir()
	var snake strings.Builder
	for i := range 30 {
		snake.WriteString("def compute_value_" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "(input_value):\n    result_value = input_value + 1\n    return result_value\n\n\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "mine.py"), []byte(snake.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	profile, err := style.Learn(context.Background(), []string{dir})
	if err != nil {
		t.Fatalf("learn: %v", err)
	}
	camel := "def computeValue(inputValue):\n    resultValue = inputValue + 1\n    return resultValue\n\n\ndef otherThing(x):\n    return x\n"
	files := map[string][]byte{"m.py": []byte(camel)}
	r, err := Validate(context.Background(), Options{Files: files, Modules: []string{"m.py"}, Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the style engine itself, called directly.
	direct, err := style.CheckSource(profile, "m.py", []byte(camel))
	if err != nil {
		t.Fatal(err)
	}
	if r.StyleScore != direct.Score || len(diagsOf(r, SourceStyle)) != len(direct.Diagnostics) {
		t.Errorf("score %v with %d style diagnostics; style engine says %v with %d", r.StyleScore, len(diagsOf(r, SourceStyle)), direct.Score, len(direct.Diagnostics))
	}
	if r.StyleScore >= 100 || len(diagsOf(r, SourceStyle)) == 0 {
		t.Errorf("camelCase code against a snake_case profile: score %v, diagnostics %+v", r.StyleScore, r.Diagnostics)
	}
}

func TestKeepRunDir(t *testing.T) {
	requirePytest(t)
	r, err := Validate(context.Background(), Options{
		Files:      map[string][]byte{"calc.py": []byte(calcModule), "test_calc.py": []byte(passingTests)},
		Modules:    []string{"calc.py"},
		Tests:      []string{"test_calc.py"},
		KeepRunDir: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.RunDir == "" {
		t.Fatal("run directory not reported")
	}
	defer os.RemoveAll(r.RunDir)
	// The JUnit report pytest wrote is there for inspection.
	if _, err := os.Stat(filepath.Join(r.RunDir, ".r2c-validate", "junit.xml")); err != nil {
		t.Errorf("kept directory lacks the report: %v", err)
	}
}
