package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/validate"
)

const cliCalc = `def add(a, b):
    return a + b


def div(a, b):
    return a / b
`

const cliPassing = `from calc import add, div


def test_add():
    assert add(1, 2) == 3


def test_div():
    assert div(6, 2) == 3
`

const cliFailing = `from calc import add, div


def test_add():
    assert add(1, 2) == 3


def test_div_zero():
    assert div(1, 0) == 0
`

// validateWorkspace writes files into a fresh directory with its own
// (empty) user configuration, so the host's r2c.toml cannot interfere.
func validateWorkspace(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := sandbox.FindPython(""); err != nil {
		t.Skipf("pytest not available: %v", err)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestValidatePassingModule(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"calc.py": cliCalc, "test_calc.py": cliPassing})
	out, errOut, code := runCLI(t, "validate", filepath.Join(dir, "calc.py"))
	if code != exitOK || !strings.Contains(out, "tests: 2 passed, 0 failed, 0 errors, 0 skipped (of 2)") || !strings.HasSuffix(out, "PASS\n") {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestValidateFailingModuleFromTestsDir(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"calc.py": cliCalc, "tests/test_calc.py": cliFailing})
	out, errOut, code := runCLI(t, "validate", filepath.Join(dir, "calc.py"))
	if code != exitFail {
		t.Fatalf("code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Oracle: the line of "return a / b" in calc.py, 1-based, column of its
	// first non-blank character.
	want := fmt.Sprintf("%s:6:5: error [r2c-test test-failure] tests/test_calc.py::test_div_zero failed: ZeroDivisionError", filepath.Join(dir, "calc.py"))
	if strings.Split(cliCalc, "\n")[5] != "    return a / b" {
		t.Fatal("fixture changed: fix the oracle")
	}
	if !strings.Contains(out, want) || !strings.Contains(out, "tests: 1 passed, 1 failed") || !strings.HasSuffix(out, "FAIL\n") {
		t.Errorf("stdout lacks %q:\n%s", want, out)
	}
}

func TestValidateJSON(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"calc.py": cliCalc, "other_tests.py": cliFailing})
	out, errOut, code := runCLI(t, "validate", "--json", "--tests", filepath.Join(dir, "other_tests.py"), filepath.Join(dir, "calc.py"))
	if code != exitFail {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
	var res core.ValidateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if res.OK || res.SchemaVersion != core.SchemaVersion || res.Module != filepath.Join(dir, "calc.py") || res.Report == nil {
		t.Fatalf("result %+v", res)
	}
	rep := res.Report
	if rep.Tests != (validate.TestCounts{Total: 2, Passed: 1, Failed: 1}) || len(rep.Failures) != 1 || rep.Failures[0].Path != "calc.py" || rep.Failures[0].Line != 5 {
		t.Errorf("report %+v", rep)
	}
}

func TestValidateSyntaxErrorWithoutTests(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"broken.py": "def f(:\n    pass\n"})
	out, errOut, code := runCLI(t, "validate", filepath.Join(dir, "broken.py"))
	if code != exitFail || !strings.Contains(out, "broken.py:1:7: error [r2c-syntax SyntaxError]") || !strings.Contains(errOut, "no tests found") {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestValidateTimeoutFlag(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{
		"spin.py":      "def spin():\n    while True:\n        pass\n",
		"test_spin.py": "from spin import spin\n\n\ndef test_spin():\n    spin()\n",
	})
	out, _, code := runCLI(t, "validate", "--timeout", "2s", filepath.Join(dir, "spin.py"))
	if code != exitFail || !strings.Contains(out, "wall-clock") {
		t.Fatalf("code %d\n%s", code, out)
	}
}

func TestValidateUsageAndEnvironmentErrors(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"calc.py": cliCalc, "test_calc.py": cliPassing})
	if _, errOut, code := runCLI(t, "validate"); code != exitUsage || !strings.Contains(errOut, "exactly one MODULE.py") {
		t.Errorf("no module: code %d %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "validate", filepath.Join(dir, "missing.py")); code != exitUsage || !strings.Contains(errOut, "missing.py") {
		t.Errorf("missing module: code %d %q", code, errOut)
	}
	if exec.Command("/usr/bin/python3", "-c", "import venv").Run() != nil {
		t.Skip("no venv module to make an interpreter without pytest")
	}
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Skipf("venv: %v %s", err, out)
	}
	t.Setenv("R2C_PYTHON", filepath.Join(venv, "bin", "python3"))
	_, errOut, code := runCLI(t, "validate", filepath.Join(dir, "calc.py"))
	if code != exitUsage || !strings.Contains(errOut, "pytest") || !strings.Contains(errOut, "fix:") {
		t.Errorf("python without pytest: code %d %q", code, errOut)
	}
}

// TestQuickStartValidatesExample runs the second half of the README's quick
// start: the example module passes its tests in the sandbox and is scored
// against a profile learned from the examples.
func TestQuickStartValidatesExample(t *testing.T) {
	py, err := sandbox.FindPython("")
	if err != nil {
		t.Skipf("pytest not available: %v", err)
	}
	if out, err := exec.Command(py.Path, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Skipf("the example needs numpy (apt-get install python3-numpy): %s", out)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	profile := filepath.Join(t.TempDir(), "style.json")
	if _, errOut, code := runCLI(t, "style", "learn", "-o", profile, exampleDir); code != exitOK {
		t.Fatalf("learn: code %d: %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "validate", "--profile", profile, exampleModule)
	if code != exitOK {
		t.Fatalf("validate: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if !strings.Contains(out, "5 passed, 0 failed") || !strings.Contains(out, "style: ") {
		t.Errorf("want all five example tests passing and a style score:\n%s", out)
	}
}

func TestValidateDoesNotPassEscapeSequencesToTheTerminal(t *testing.T) {
	// The conftest prints an escape sequence (set the terminal title, clear
	// the screen) once pytest stops capturing, and ends the run with a status
	// that makes r2c quote its stderr.
	dir := validateWorkspace(t, map[string]string{
		"calc.py":      cliCalc,
		"test_calc.py": cliPassing,
		"conftest.py":  "import os\n\n\ndef pytest_unconfigure(config):\n    os.write(2, b'\\x1b]0;owned\\x07\\x1b[2J boom\\n')\n    os._exit(3)\n",
	})
	out, errOut, code := runCLI(t, "validate", filepath.Join(dir, "calc.py"))
	if code != exitFail || !strings.Contains(out, "boom") {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("raw escape sequence in the output: %q", out)
	}
}

func TestValidateShowsTheRealPathOfATestFileFromElsewhere(t *testing.T) {
	dir := validateWorkspace(t, map[string]string{"calc.py": cliCalc})
	other := t.TempDir()
	test := filepath.Join(other, "test_elsewhere.py")
	if err := os.WriteFile(test, []byte("from calc import add\n\n\ndef test_add():\n    assert add(1, 1) == 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "validate", "--tests", test, filepath.Join(dir, "calc.py"))
	// Oracle: the assert is on line 5 of the test file, column 5.
	want := test + ":5:5: error [r2c-test test-failure]"
	if code != exitFail || !strings.Contains(out, want) {
		t.Errorf("code %d, want a line starting %q\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
	}
}
