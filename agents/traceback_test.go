package agents

import (
	"strings"
	"testing"
)

func TestCleanTracebackKeepsTheRunsFrames(t *testing.T) {
	python := `Traceback (most recent call last):
  File "/tmp/r2c-sandbox-2272874437/test_attention.py", line 38, in test_known_values
    assert_allclose(weights, [[0.66976, 0.33024]], atol=1e-5)
  File "/usr/lib/python3/dist-packages/numpy/testing/_private/utils.py", line 1592, in assert_allclose
    assert_array_compare(compare, actual, desired, err_msg=str(err_msg),
  File "/usr/lib/python3.11/contextlib.py", line 81, in inner
    return func(*args, **kwds)
           ^^^^^^^^^^^^^^^^^^^
  File "/tmp/r2c-sandbox-2272874437/attention.py", line 9, in scaled_dot_product_attention
    scores = q @ k.T
AssertionError: 
Not equal to tolerance rtol=1e-07, atol=1e-05`
	got := cleanTraceback(python)
	want := `File "test_attention.py", line 38, in test_known_values
    assert_allclose(weights, [[0.66976, 0.33024]], atol=1e-5)
File "attention.py", line 9, in scaled_dot_product_attention
    scores = q @ k.T`
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}

	pytest := `/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule
    mod = import_path(self.path, mode=importmode, root=self.config.rootpath)
<frozen importlib._bootstrap>:1206: in _gcd_import
    ???
/tmp/r2c-sandbox-1/test_util.py:1: in <module>
    from util import triple
E   ImportError: cannot import name 'triple' from 'util'`
	if got := cleanTraceback(pytest); got != "test_util.py:1: in <module>\n    from util import triple" {
		t.Fatalf("pytest style: %q", got)
	}

	plain := strings.Repeat("line\n", 30) + "Timeout"
	if got := cleanTraceback(plain); !strings.HasPrefix(got, "...\n") || !strings.HasSuffix(got, "Timeout") || strings.Count(got, "\n") != 15 {
		t.Fatalf("no frames: %q", got)
	}
}
