package validate

import (
	"context"
	"path"
	"strings"
	"testing"
)

// Where a failure surfaces when the traceback runs through files that are
// not the module under test. Expected lines come from lineOf on the sources.

func failureOf(t *testing.T, files map[string]string, module string) TestFailure {
	t.Helper()
	requirePytest(t)
	fs := map[string][]byte{}
	tests := []string{}
	for k, v := range files {
		fs[k] = []byte(v)
		if strings.HasPrefix(path.Base(k), "test_") {
			tests = append(tests, k)
		}
	}
	r, err := Validate(context.Background(), Options{Files: fs, Modules: []string{module}, Tests: tests})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) != 1 {
		t.Fatalf("want one failure, got %+v (diagnostics %+v)", r.Failures, r.Diagnostics)
	}
	return r.Failures[0]
}

func TestFailureInAStandardLibraryFileOfTheSameName(t *testing.T) {
	// json's own decoder.py raises; the module under test is also called
	// decoder.py. Frames outside the run directory must not map onto it.
	mod := "import json\n\n\ndef parse(text):\n    return json.loads(text)\n"
	f := failureOf(t, map[string]string{
		"decoder.py":      mod,
		"test_decoder.py": "from decoder import parse\n\n\ndef test_parse():\n    assert parse(\"{bad\") == {}\n",
	}, "decoder.py")
	want, _ := lineOf(t, mod, "json.loads(text)")
	if f.Path != "decoder.py" || f.Line != want {
		t.Errorf("failure at %s:%d, want decoder.py:%d\n%s", f.Path, f.Line, want, f.Traceback)
	}
}

func TestFailureInAHelperModuleMapsToTheCallInTheModule(t *testing.T) {
	mod := "from helper import check\n\n\ndef scale(x):\n    check(x)\n    return 2 * x\n"
	f := failureOf(t, map[string]string{
		"calc.py":      mod,
		"helper.py":    "def check(x):\n    if x < 0:\n        raise ValueError(\"negative\")\n",
		"test_calc.py": "from calc import scale\n\n\ndef test_scale():\n    assert scale(-1) == -2\n",
	}, "calc.py")
	want, _ := lineOf(t, mod, "check(x)\n"[:8])
	if f.Path != "calc.py" || f.Line != want {
		t.Errorf("failure at %s:%d, want calc.py:%d\n%s", f.Path, f.Line, want, f.Traceback)
	}
}

func TestChainedExceptionMapsToTheFinalRaise(t *testing.T) {
	mod := `from helper import lookup


def get(key):
    try:
        return lookup(key)
    except KeyError as e:
        raise ValueError("missing " + key) from e
`
	f := failureOf(t, map[string]string{
		"store.py":      mod,
		"helper.py":     "TABLE = {}\n\n\ndef lookup(key):\n    return TABLE[key]\n",
		"test_store.py": "from store import get\n\n\ndef test_get():\n    assert get(\"a\") == 1\n",
	}, "store.py")
	want, _ := lineOf(t, mod, "raise ValueError")
	if f.Path != "store.py" || f.Line != want || f.Message == "" {
		t.Errorf("failure at %s:%d (%q), want store.py:%d\n%s", f.Path, f.Line, f.Message, want, f.Traceback)
	}
}

func TestFixtureErrorInConftestMapsToTheConftest(t *testing.T) {
	conftest := "import pytest\n\n\n@pytest.fixture\ndef data():\n    raise RuntimeError(\"no data\")\n"
	f := failureOf(t, map[string]string{
		"calc.py":      calcModule,
		"conftest.py":  conftest,
		"test_calc.py": "def test_uses(data):\n    assert data\n",
	}, "calc.py")
	want, _ := lineOf(t, conftest, "raise RuntimeError")
	if f.Path != "conftest.py" || f.Line != want || !f.Error {
		t.Errorf("failure at %s:%d error=%v, want conftest.py:%d\n%s", f.Path, f.Line, f.Error, want, f.Traceback)
	}
}

func TestTestInASubdirectoryMapsToItsKey(t *testing.T) {
	test := "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 5\n"
	f := failureOf(t, map[string]string{
		"calc.py":            calcModule,
		"tests/test_calc.py": test,
	}, "calc.py")
	want, _ := lineOf(t, test, "assert add")
	if f.Path != "tests/test_calc.py" || f.Line != want || f.Test != "tests/test_calc.py::test_add" {
		t.Errorf("failure %s at %s:%d, want tests/test_calc.py::test_add at tests/test_calc.py:%d\n%s", f.Test, f.Path, f.Line, want, f.Traceback)
	}
}

func TestLineEndingsDoNotMoveRanges(t *testing.T) {
	// CPython counts "\r\n" and a lone "\r" as line ends; the failing line
	// must be the same as in the "\n" file.
	requirePytest(t)
	mod := "def f(x):\n    y = x + 1\n    return y / 0\n"
	want, col := lineOf(t, mod, "return y / 0")
	for name, end := range map[string]string{"CRLF": "\r\n", "CR": "\r"} {
		t.Run(name, func(t *testing.T) {
			conv := strings.ReplaceAll(mod, "\n", end)
			r, err := Validate(context.Background(), Options{
				Files:   map[string][]byte{"m.py": []byte(conv), "test_m.py": []byte("from m import f\n\n\ndef test_f():\n    f(1)\n")},
				Modules: []string{"m.py"},
				Tests:   []string{"test_m.py"},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []Diagnostic
			for _, d := range r.Diagnostics {
				if d.Code == CodeTestFailure {
					got = append(got, d)
				}
			}
			if len(got) != 1 || got[0].Range.Start.Line != want || got[0].Range.Start.Column != col || got[0].Range.End.Column != col+len("return y / 0") {
				t.Errorf("want one failure at %d:%d..%d, got %+v", want, col, col+len("return y / 0"), got)
			}
		})
	}
}
