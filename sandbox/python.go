package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNoPytest is returned (wrapped) by FindPython when no usable interpreter
// has pytest.
var ErrNoPytest = errors.New("pytest not available")

// Python is an interpreter r2c can run code and tests with.
type Python struct {
	// Path is the interpreter as found (a venv's bin/python stays a venv path).
	Path    string `json:"path"`
	Version string `json:"version"`
	// HasPytest says whether "import pytest" works; PytestVersion is its version.
	HasPytest     bool   `json:"has_pytest"`
	PytestVersion string `json:"pytest_version,omitempty"`
	// Dirs are the directories the interpreter needs to read (sys.prefix,
	// sys.base_prefix, sys.exec_prefix); give them to Spec.ReadOnly.
	Dirs []string `json:"dirs,omitempty"`
}

const probeScript = `import json, sys
info = {"version": sys.version.split()[0], "dirs": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix})}
try:
    import pytest
    info["pytest"] = pytest.__version__
except Exception:
    pass
print(json.dumps(info))`

var pythonCache sync.Map // key: configured + "\x00" + PATH → *Python

// FindPython picks the interpreter for test runs: the configured one (a path
// or a name looked up on PATH) when set, else the first python3 on PATH that
// has pytest, else /usr/bin/python3. When the chosen interpreter lacks pytest
// it returns that interpreter together with an error wrapping ErrNoPytest
// that names the fix. Successful results are cached per configuration and
// PATH.
func FindPython(configured string) (*Python, error) {
	key := configured + "\x00" + os.Getenv("PATH")
	if p, ok := pythonCache.Load(key); ok {
		return p.(*Python), nil
	}
	p, err := findPython(configured)
	if err == nil {
		pythonCache.Store(key, p)
	}
	return p, err
}

func findPython(configured string) (*Python, error) {
	if configured != "" {
		path, err := exec.LookPath(configured)
		if err != nil {
			return nil, fmt.Errorf("sandbox: configured python %q: %w (fix: set sandbox.python or R2C_PYTHON to an existing interpreter)", configured, err)
		}
		p, err := inspectPython(path)
		if err != nil {
			return nil, err
		}
		if !p.HasPytest {
			return p, fmt.Errorf("sandbox: %w: configured python %s (%s) cannot import pytest (fix: install pytest into it, e.g. %s -m pip install pytest, or apt-get install python3-pytest for /usr/bin/python3)", ErrNoPytest, p.Path, p.Version, p.Path)
		}
		return p, nil
	}
	var first *Python
	seen := map[string]bool{}
	candidates := []string{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		candidates = append(candidates, filepath.Join(dir, "python3"))
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, c := range candidates {
		fi, err := os.Stat(c)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		// Deduplicate by path, not by resolved binary: a venv's python is a
		// link to the system one but sees other packages.
		if seen[c] {
			continue
		}
		seen[c] = true
		if os.Geteuid() == 0 && othersCanExec(c) != nil {
			// Runs happen under an unprivileged uid that could not start it
			// (e.g. pyenv under /root).
			continue
		}
		p, err := inspectPython(c)
		if err != nil {
			continue
		}
		if p.HasPytest {
			return p, nil
		}
		if first == nil {
			first = p
		}
	}
	if first == nil {
		return nil, errors.New("sandbox: no python3 found on PATH or at /usr/bin/python3 (fix: apt-get install python3 python3-pytest, or set sandbox.python)")
	}
	return first, fmt.Errorf("sandbox: %w: no python3 on PATH can import pytest (first found: %s %s) (fix: apt-get install python3-pytest, or set sandbox.python / R2C_PYTHON to an interpreter with pytest, e.g. a venv's bin/python)", ErrNoPytest, first.Path, first.Version)
}

// inspectPython runs the interpreter (trusted: the user's own) to learn its
// version, whether it has pytest and which directories it reads.
func inspectPython(path string) (*Python, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-I", "-c", probeScript)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sandbox: run %s: %w", path, err)
	}
	var info struct {
		Version string   `json:"version"`
		Dirs    []string `json:"dirs"`
		Pytest  string   `json:"pytest"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(out))), &info); err != nil {
		return nil, fmt.Errorf("sandbox: %s is not a working python3: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return &Python{Path: abs, Version: info.Version, HasPytest: info.Pytest != "", PytestVersion: info.Pytest, Dirs: info.Dirs}, nil
}

// othersCanExec reports whether a user other than the owner (the run's
// unprivileged uid, when r2c is root) can execute path: every directory on
// the way must be searchable by others and the file executable by others.
func othersCanExec(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	for _, p := range []string{path, real} {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
			fi, err := os.Stat(dir)
			if err != nil {
				return err
			}
			if fi.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("directory %s is not searchable by other users", dir)
			}
			if dir == "/" {
				break
			}
		}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o001 == 0 {
		return fmt.Errorf("%s is not executable by other users", real)
	}
	return nil
}
