package validate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/sandbox"
)

// benchSuite is a small but realistic suite: a module of 20 functions and
// one test per function.
func benchSuite() map[string][]byte {
	var mod, tests strings.Builder
	tests.WriteString("import mod\n\n")
	for i := range 20 {
		fmt.Fprintf(&mod, "def f%d(x):\n    return sum(range(x)) + %d\n\n\n", i, i)
		fmt.Fprintf(&tests, "def test_f%d():\n    assert mod.f%d(10) == %d\n\n\n", i, i, 45+i)
	}
	return map[string][]byte{"mod.py": []byte(mod.String()), "test_mod.py": []byte(tests.String())}
}

var benchSink any

func benchPython(b *testing.B) string {
	p, err := sandbox.FindPython("")
	if err != nil {
		b.Skipf("pytest not available: %v", err)
	}
	return p.Path
}

// pytestArgs are the flags validate's driver gives pytest, so the plain and
// sandboxed runs do the same work.
var pytestArgs = []string{"-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=native", "-o", "junit_family=xunit1", "--junitxml=report.xml", "test_mod.py"}

// BenchmarkPlainPytest is the reference: pytest on the suite, no sandbox.
func BenchmarkPlainPytest(b *testing.B) {
	py := benchPython(b)
	dir := b.TempDir()
	for name, content := range benchSuite() {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(py, pytestArgs...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1", "HOME=" + dir}
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("pytest: %v\n%s", err, out)
		}
		benchSink = out
	}
}

// BenchmarkSandboxedPytest runs the same command through sandbox.Run at the
// best level: copying the files, the run uid, rlimits and isolation.
func BenchmarkSandboxedPytest(b *testing.B) {
	py := benchPython(b)
	files := benchSuite()
	b.ResetTimer()
	for range b.N {
		res, err := sandbox.Run(context.Background(), sandbox.Spec{Files: files, Argv: append([]string{py}, pytestArgs...), Collect: []string{"report.xml"}})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("sandboxed pytest: %v %+v", err, res)
		}
		benchSink = res
	}
}

// BenchmarkValidate is the whole Validator on the suite: tree-sitter syntax
// check, compile and pytest in the sandbox, JUnit parsing.
func BenchmarkValidate(b *testing.B) {
	benchPython(b)
	opts := Options{Files: benchSuite(), Modules: []string{"mod.py"}, Tests: []string{"test_mod.py"}}
	b.ResetTimer()
	for range b.N {
		r, err := Validate(context.Background(), opts)
		if err != nil || !r.OK() || r.Tests.Passed != 20 {
			b.Fatalf("validate: %v %+v", err, r)
		}
		benchSink = r
	}
}

// BenchmarkOverheadRatio interleaves plain pytest, sandboxed pytest and the
// whole Validator on the same suite, so that load from other processes hits
// all three alike, and reports the ratios of the medians: the figures
// bench/sandbox.sh prints (target: sandbox under 1.15x).
func BenchmarkOverheadRatio(b *testing.B) {
	py := benchPython(b)
	files := benchSuite()
	dir := b.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	opts := Options{Files: files, Modules: []string{"mod.py"}, Tests: []string{"test_mod.py"}}
	var plain, boxed, full []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		cmd := exec.Command(py, pytestArgs...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1", "HOME=" + dir}
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("pytest: %v\n%s", err, out)
		}
		plain = append(plain, time.Since(start))

		start = time.Now()
		res, err := sandbox.Run(context.Background(), sandbox.Spec{Files: files, Argv: append([]string{py}, pytestArgs...), Collect: []string{"report.xml"}})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("sandboxed pytest: %v %+v", err, res)
		}
		boxed = append(boxed, time.Since(start))

		start = time.Now()
		r, err := Validate(context.Background(), opts)
		if err != nil || !r.OK() {
			b.Fatalf("validate: %v %+v", err, r)
		}
		full = append(full, time.Since(start))
		benchSink = r
	}
	b.StopTimer()
	b.ReportMetric(float64(median(plain).Milliseconds()), "pytest-ms")
	b.ReportMetric(float64(median(boxed).Milliseconds()), "sandboxed-ms")
	b.ReportMetric(float64(median(full).Milliseconds()), "validate-ms")
	b.ReportMetric(float64(median(boxed))/float64(median(plain)), "sandbox-ratio")
	b.ReportMetric(float64(median(full))/float64(median(plain)), "validate-ratio")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
