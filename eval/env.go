package eval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/validate"
)

// Env says which interpreters run the tasks and how strictly.
type Env struct {
	// Python runs NumPy tasks ("" lets sandbox.FindPython choose).
	Python string
	// TorchPython runs PyTorch tasks; "" means FindTorchPython's choice.
	TorchPython string
	MinLevel    sandbox.Level
	// MinTimeout is the floor of the hidden tests' time limit (default 4 s,
	// EvalPlus's).
	MinTimeout time.Duration
}

// TorchPythonEnv names an interpreter with torch and pytest, overriding the
// search of FindTorchPython.
const TorchPythonEnv = "R2C_TORCH_PYTHON"

// torchCandidates are the virtual environments r2c's own tooling creates
// (r2c train setup, CI's cached venvs), searched in this order.
var torchCandidates = []string{
	"/var/cache/r2c/venv-eval-torch/bin/python",
	"/var/cache/r2c/venv-trainer/bin/python",
	"/var/cache/r2c/*/bin/python",
	".r2c/train/venv/bin/python",
}

// FindTorchPython returns an interpreter that imports torch and pytest:
// $R2C_TORCH_PYTHON, else the first of r2c's cached virtual environments
// that has both. The error says how to get one.
func FindTorchPython(ctx context.Context) (string, error) {
	if p := os.Getenv(TorchPythonEnv); p != "" {
		if err := probeTorch(ctx, p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", TorchPythonEnv, p, err)
		}
		return p, nil
	}
	seen := map[string]bool{}
	for _, pat := range torchCandidates {
		matches, _ := filepath.Glob(pat)
		sort.Strings(matches)
		for _, p := range matches {
			if seen[p] {
				continue
			}
			seen[p] = true
			if probeTorch(ctx, p) == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("no Python interpreter with torch and pytest: run `r2c train setup`, or create one (python3 -m venv --system-site-packages V && V/bin/pip install torch pytest) and name it with --torch-python or %s", TorchPythonEnv)
}

func probeTorch(ctx context.Context, python string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import torch, pytest").CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot import torch and pytest: %w: %s", err, strings.TrimSpace(lastLine(string(out))))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// python returns the interpreter for a task's framework.
func (e Env) python(ctx context.Context, t *Task) (string, error) {
	if t.Framework != FrameworkTorch {
		return e.Python, nil
	}
	if e.TorchPython != "" {
		return e.TorchPython, nil
	}
	return FindTorchPython(ctx)
}

// limits bound one hidden-test run; torch maps far more address space
// than the sandbox's default 2 GiB just by being imported.
func limits(t *Task, wall time.Duration) sandbox.Limits {
	l := sandbox.Limits{Wall: wall, CPU: wall + 10*time.Second}
	if t.Framework == FrameworkTorch {
		l.MemoryBytes = 64 << 30
		l.Processes = 512
	}
	return l
}

// Reference is the check of a task's hidden tests against its reference.
type Reference struct {
	Task    string  `json:"task"`
	Passed  int     `json:"passed"`
	Total   int     `json:"total"`
	Seconds float64 `json:"seconds"`
	// Timeout is the hidden tests' limit derived from Seconds.
	TimeoutSeconds float64 `json:"timeout_seconds"`
	Python         string  `json:"python,omitempty"`
	// Error explains why the reference does not pass; such a task is not
	// scored.
	Error string `json:"error,omitempty"`
}

// OK reports whether every hidden test passed on the reference.
func (r *Reference) OK() bool { return r.Error == "" && r.Total > 0 && r.Passed == r.Total }

// referenceBudget bounds the reference run itself.
const referenceBudget = 5 * time.Minute

// CheckReference runs the task's hidden tests on its reference code. A
// failure is described in Reference.Error; the error return is kept for
// cancellation.
func CheckReference(ctx context.Context, t *Task, env Env) (*Reference, error) {
	ref := &Reference{Task: t.ID}
	if t.Err != nil {
		ref.Error = t.Err.Error()
		return ref, nil
	}
	if len(t.Reference) == 0 {
		ref.Error = "no reference/ code: the hidden tests cannot be checked, so the task is not scored"
		return ref, nil
	}
	if _, ok := t.Reference[t.Module]; !ok {
		ref.Error = fmt.Sprintf("reference/ lacks %s, the module the hidden tests import", t.Module)
		return ref, nil
	}
	py, err := env.python(ctx, t)
	if err != nil {
		ref.Error = err.Error()
		return ref, nil
	}
	ref.Python = py
	rep, err := runHidden(ctx, t, t.Reference, py, env, referenceBudget)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		ref.Error = err.Error()
		return ref, nil
	}
	ref.Passed, ref.Total, ref.Seconds = rep.Tests.Passed, rep.Tests.Total, rep.Duration.Seconds()
	timeout := max(env.minTimeout(), 4*rep.Duration)
	if t.TimeoutSeconds > 0 {
		timeout = time.Duration(t.TimeoutSeconds * float64(time.Second))
	}
	ref.TimeoutSeconds = timeout.Seconds()
	if !ref.OK() {
		ref.Error = fmt.Sprintf("the hidden tests fail on the reference code (%d of %d passed): fix the task before it judges anything%s", rep.Tests.Passed, rep.Tests.Total, failureText(rep))
	}
	return ref, nil
}

func (e Env) minTimeout() time.Duration {
	if e.MinTimeout > 0 {
		return e.MinTimeout
	}
	return 4 * time.Second
}

// runHidden runs the hidden tests next to modules (the generated or the
// reference files) in the sandbox.
func runHidden(ctx context.Context, t *Task, modules map[string][]byte, python string, env Env, wall time.Duration) (*validate.Report, error) {
	files := map[string][]byte{}
	for name, b := range modules {
		files[name] = b
	}
	for name, b := range t.Hidden {
		files[name] = b // a generated file never replaces a hidden one
	}
	rep, err := validate.Validate(ctx, validate.Options{
		Files:    files,
		Tests:    t.HiddenTests(),
		Python:   python,
		Limits:   limits(t, wall),
		MinLevel: env.MinLevel,
	})
	if err != nil {
		return nil, fmt.Errorf("hidden tests: %w", err)
	}
	return rep, nil
}

// failureText lists the first failures of a report on one line, for
// explanations that fit a table cell.
func failureText(rep *validate.Report) string {
	var parts []string
	for i, f := range rep.Failures {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("… %d more", len(rep.Failures)-3))
			break
		}
		parts = append(parts, f.Test+": "+firstLine(f.Message))
	}
	if len(rep.Failures) == 0 {
		for _, d := range rep.Diagnostics {
			if d.Source == validate.SourceTest {
				parts = append(parts, firstLine(d.Message))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
