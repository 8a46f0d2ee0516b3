package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPythonConfiguredSystemInterpreter(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	p, err := FindPython("/usr/bin/python3")
	if p == nil {
		t.Fatalf("FindPython: %v", err)
	}
	// Oracle: ask the interpreter itself.
	out, cerr := exec.Command("/usr/bin/python3", "-c", "import sys; print(sys.version.split()[0])").Output()
	if cerr != nil {
		t.Fatal(cerr)
	}
	if p.Version != strings.TrimSpace(string(out)) || p.Path != "/usr/bin/python3" {
		t.Errorf("got %+v, want version %s", p, out)
	}
	hasPytest := exec.Command("/usr/bin/python3", "-c", "import pytest").Run() == nil
	if p.HasPytest != hasPytest || (err == nil) != hasPytest {
		t.Errorf("HasPytest %v, err %v; python3 -c 'import pytest' ok: %v", p.HasPytest, err, hasPytest)
	}
}

func TestFindPythonMissingConfigured(t *testing.T) {
	_, err := FindPython("/nonexistent/bin/python3")
	if err == nil || !strings.Contains(err.Error(), "sandbox.python") {
		t.Fatalf("err = %v, want one naming the sandbox.python setting", err)
	}
}

// A venv made without pip has no pytest: configured, it is a clear error;
// first on PATH, it is passed over for an interpreter that has pytest.
func TestFindPythonWithoutPytest(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import pytest, venv").Run() != nil {
		t.Skip("/usr/bin/python3 lacks pytest or venv")
	}
	dir := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make a venv: %v %s", err, out)
	}
	venvPython := filepath.Join(dir, "bin", "python3")
	p, err := FindPython(venvPython)
	if !errors.Is(err, ErrNoPytest) || p == nil || p.HasPytest {
		t.Fatalf("venv without pytest: %+v, %v", p, err)
	}
	if !strings.Contains(err.Error(), "pip install pytest") {
		t.Errorf("error names no fix: %v", err)
	}
	t.Setenv("PATH", filepath.Join(dir, "bin")+":/usr/bin:/bin")
	p, err = FindPython("")
	if err != nil || !p.HasPytest || strings.HasPrefix(p.Path, dir) {
		t.Fatalf("from PATH: %+v, %v; want an interpreter with pytest, not the venv", p, err)
	}
}

func TestRunRefusesProgramTheRunUIDCannotStart(t *testing.T) {
	if !Detect().Root {
		t.Skip("only root runs programs under a separate uid")
	}
	dir := t.TempDir() // 0700
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Run(t.Context(), Spec{Argv: []string{prog}})
	if err == nil || !strings.Contains(err.Error(), "not searchable by other users") {
		t.Fatalf("err = %v", err)
	}
}
