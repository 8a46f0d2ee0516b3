package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/sandbox"
)

// repoRoot is the repository's top folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// buildR2C builds the r2c binary into dir/bin/r2c (where the VS Code
// extension looks first in a workspace) and returns its path.
func buildR2C(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin", "r2c")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/r2c")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// needPytest skips (or, where the scenario was asked for, fails) when no
// interpreter with pytest is found, as the sandbox looks for one.
func needPytest(t *testing.T, required bool) {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err == nil && py.HasPytest {
		return
	}
	msg := fmt.Sprintf("needs python3 with pytest and numpy (Debian: apt-get install python3-pytest python3-numpy): %v", err)
	if required {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// workspace writes the scenario's workspace: the Transformer paper's
// fixture, a module with a syntax error, and r2c.toml pointing at the
// scripted model server. It returns the folder.
func workspace(t *testing.T, srv *llmtest.Server, indexed bool) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	paper, err := os.ReadFile(orchestratortest.Paper(t))
	if err != nil {
		t.Fatal(err)
	}
	index := "[index]\ndisabled = true\n\n"
	if indexed {
		index = "[index]\nembedder = \"offline\"\n\n"
	}
	files := map[string]string{
		"papers/attention.md": string(paper),
		"bad.py":              "import os\n\n\ndef f(:\n    pass\n",
		"r2c.toml": "endpoint = \"" + srv.URL() + "\"\napi_key_env = \"R2C_TEST_NO_KEY\"\n\n" + index +
			"[style]\nprofile = \".r2c/style.json\"\n",
	}
	for rel, text := range files {
		p := filepath.Join(ws, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// generated lists the files under dir, relative and sorted.
func generated(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "__pycache__") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}
