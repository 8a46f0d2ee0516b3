package validate

import (
	"context"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/style"
)

// The tests here feed Validate the kind of test suites a model writes when it
// goes wrong: configuration files and conftests that change how pytest runs,
// suites that collect nothing or stop early. None of them may come out OK.

func validateSuite(t *testing.T, files map[string]string, tests ...string) *Report {
	t.Helper()
	requirePytest(t)
	fs := map[string][]byte{}
	for k, v := range files {
		fs[k] = []byte(v)
	}
	if len(tests) == 0 {
		tests = []string{"test_calc.py"}
	}
	r, err := Validate(context.Background(), Options{Files: fs, Modules: []string{"calc.py"}, Tests: tests})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func hasError(r *Report, code, substr string) bool {
	for _, d := range r.Diagnostics {
		if d.Severity == style.SeverityError && d.Code == code && strings.Contains(d.Message, substr) {
			return true
		}
	}
	return false
}

func TestNoTestsCollectedIsNotOK(t *testing.T) {
	// pytest exits 5 when it collects nothing: nothing was shown to work.
	r := validateSuite(t, map[string]string{"calc.py": calcModule, "test_calc.py": "from calc import add\n\ndef check_add():\n    assert add(1, 2) == 3\n"})
	if r.OK() || r.Tests.Total != 0 || !hasError(r, CodeTestSuite, "no tests") {
		t.Errorf("suite with no test functions: OK %v, counts %+v, diagnostics %+v", r.OK(), r.Tests, r.Diagnostics)
	}
}

func TestIniAddoptsCannotDeselectFailingTests(t *testing.T) {
	for name, cfg := range map[string]string{
		"pytest.ini":     "[pytest]\naddopts = -k \"not wrong\"\n",
		"pyproject.toml": "[tool.pytest.ini_options]\naddopts = \"-k 'not wrong'\"\n",
		"setup.cfg":      "[tool:pytest]\naddopts = --deselect test_calc.py::test_add_wrong\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := validateSuite(t, map[string]string{
				"calc.py":      calcModule,
				"test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_add_wrong():\n    assert add(2, 2) == 5\n",
				name:           cfg,
			})
			if r.OK() || r.Tests.Failed != 1 || r.Tests.Total != 2 {
				t.Errorf("%s deselecting the failing test: OK %v, counts %+v", name, r.OK(), r.Tests)
			}
		})
	}
}

func TestIniCannotDisableTheReport(t *testing.T) {
	// addopts is cancelled, so the suite runs and reports as if the file
	// were not there.
	r := validateSuite(t, map[string]string{
		"calc.py":      calcModule,
		"test_calc.py": passingTests,
		"pytest.ini":   "[pytest]\naddopts = -p no:junitxml\n",
	})
	if !r.OK() || r.Tests != (TestCounts{Total: 4, Passed: 4}) {
		t.Errorf("pytest.ini with -p no:junitxml: OK %v, counts %+v, diagnostics %+v", r.OK(), r.Tests, r.Diagnostics)
	}
}

func TestDisabledJUnitReportIsNotOK(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"conftest exits 0":    {"conftest.py": "import os\nos._exit(0)\n"},
		"test module exits 0": {"test_calc.py": "import os\nos._exit(0)\n"},
	} {
		t.Run(name, func(t *testing.T) {
			all := map[string]string{"calc.py": calcModule, "test_calc.py": passingTests}
			for k, v := range files {
				all[k] = v
			}
			r := validateSuite(t, all)
			if r.OK() {
				t.Errorf("no trustworthy report, yet OK: counts %+v, diagnostics %+v", r.Tests, r.Diagnostics)
			}
		})
	}
}

func TestInterruptedRunIsNotOK(t *testing.T) {
	// KeyboardInterrupt stops pytest (exit 2) after writing a report that
	// lists only the tests run so far, all passed.
	r := validateSuite(t, map[string]string{
		"calc.py":      calcModule,
		"test_calc.py": "from calc import add\n\ndef test_a():\n    assert add(1, 1) == 2\n\ndef test_b():\n    raise KeyboardInterrupt\n\ndef test_c():\n    assert add(1, 1) == 3\n",
	})
	if r.OK() || !hasError(r, CodeTestRun, "interrupted") {
		t.Errorf("interrupted run: OK %v, counts %+v, diagnostics %+v", r.OK(), r.Tests, r.Diagnostics)
	}
}

func TestConftestThatBreaksItsExitStatusIsNotOK(t *testing.T) {
	// The report lists only passes, but pytest ends with an internal error.
	r := validateSuite(t, map[string]string{
		"calc.py":      calcModule,
		"test_calc.py": passingTests,
		"conftest.py":  "def pytest_sessionfinish(session, exitstatus):\n    session.exitstatus = 3\n",
	})
	if r.OK() || !hasError(r, CodeTestRun, "exit status 3") {
		t.Errorf("exit status 3 with passing report: OK %v, diagnostics %+v", r.OK(), r.Diagnostics)
	}
}

func TestConftestImportErrorIsNotOK(t *testing.T) {
	r := validateSuite(t, map[string]string{
		"calc.py":      calcModule,
		"test_calc.py": passingTests,
		"conftest.py":  "import no_such_module_r2c\n",
	})
	if r.OK() {
		t.Errorf("conftest that cannot be imported: OK, diagnostics %+v", r.Diagnostics)
	}
}

func TestOptionsThatWouldSteerPytestAreRefused(t *testing.T) {
	base := func() Options {
		return Options{
			Files:   map[string][]byte{"calc.py": []byte(calcModule), "test_calc.py": []byte(passingTests)},
			Modules: []string{"calc.py"},
			Tests:   []string{"test_calc.py"},
		}
	}
	planted := base()
	planted.Files[".r2c-validate/junit.xml"] = []byte(`<testsuites><testsuite><testcase name="test_fake"/></testsuite></testsuites>`)
	asOption := base()
	asOption.Tests = append(asOption.Tests, "--collect-only")
	for name, opts := range map[string]Options{"planted report": planted, "test path as option": asOption} {
		if _, err := Validate(context.Background(), opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTestsThatRewriteTheModuleAreNotOK(t *testing.T) {
	for name, test := range map[string]string{
		"rewrite": "import pathlib\npathlib.Path('calc.py').write_text('def add(a, b):\\n    return 5\\n')\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 5\n",
		"delete":  "import os\nfrom calc import add\nos.remove('calc.py')\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := validateSuite(t, map[string]string{
				"calc.py":      "def add(a, b):\n    return a - b\n",
				"test_calc.py": test,
			})
			if r.OK() || !hasError(r, CodeTestRun, "changed or deleted this module") {
				t.Errorf("tests that %s the module under test: OK %v, counts %+v, diagnostics %+v", name, r.OK(), r.Tests, r.Diagnostics)
			}
		})
	}
}

func TestAllTestsSkippedIsNotOK(t *testing.T) {
	// importorskip of a library the interpreter lacks skips the whole
	// module: pytest exits 0, yet nothing was tested.
	r := validateSuite(t, map[string]string{
		"calc.py":      calcModule,
		"test_calc.py": "import pytest\n\ntorch = pytest.importorskip(\"r2c_no_such_library\")\n\n\ndef test_add():\n    assert torch.add(1, 2) == 3\n",
	})
	if r.OK() || !hasError(r, CodeTestSuite, "no test passed") {
		t.Errorf("all tests skipped: OK %v, counts %+v, diagnostics %+v", r.OK(), r.Tests, r.Diagnostics)
	}
	// One passing test next to skipped ones is fine.
	r = validateSuite(t, map[string]string{
		"calc.py":      calcModule,
		"test_calc.py": "import pytest\nfrom calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n@pytest.mark.skip(reason=\"later\")\ndef test_later():\n    pass\n",
	})
	if !r.OK() || r.Tests != (TestCounts{Total: 2, Passed: 1, Skipped: 1}) {
		t.Errorf("one passed, one skipped: OK %v, counts %+v, diagnostics %+v", r.OK(), r.Tests, r.Diagnostics)
	}
}
