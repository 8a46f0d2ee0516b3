package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// trainRepo commits one Python file with git and returns the work tree.
func trainRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not installed; the test builds its repository with it")
	}
	dir := filepath.Join(t.TempDir(), "proj")
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "import math\n\n\ndef area(radius):\n    \"\"\"Area of a circle.\"\"\"\n    squared = radius * radius\n    return math.pi * squared\n"
	if err := os.WriteFile(filepath.Join(dir, "pkg", "geo.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=me", "-c", "user.email=me@example.com", "commit", "-q", "-m", "x"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func TestTrainCommands(t *testing.T) {
	isolatedWorkspace(t)
	repo := trainRepo(t)
	work := t.TempDir()
	ds := filepath.Join(work, "ds")

	_, errOut, code := runCLI(t, "train", "dataset", "--repo", work, "--out", ds)
	if code != exitUsage || !strings.Contains(errOut, "not a git repository") {
		t.Errorf("not a repository: code %d, %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "train", "dataset", "--out", ds)
	if code != exitUsage || !strings.Contains(errOut, "--repo") {
		t.Errorf("no --repo: code %d, %s", code, errOut)
	}
	mapping := filepath.Join(work, "papers.json")
	os.WriteFile(mapping, []byte(`[{"paper":"P","section":"2","text":"the area","file":"pkg/geo.py","symbol":"volume"}]`), 0o644)
	_, errOut, code = runCLI(t, "train", "dataset", "--repo", repo, "--papers", mapping, "--out", ds)
	if code != exitUsage || !strings.Contains(errOut, "volume") || !strings.Contains(errOut, "area") {
		t.Errorf("missing symbol: code %d, %s", code, errOut)
	}
	if _, err := os.Stat(ds); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s behind", ds)
	}
	out, errOut, code := runCLI(t, "train", "dataset", "--repo", repo, "--out", ds)
	if code != exitOK || !strings.Contains(out, "dataset in") {
		t.Fatalf("dataset: code %d, %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(ds, "card.md")); err != nil {
		t.Error(err)
	}

	out, errOut, code = runCLI(t, "train", "run", "--data", ds, "--out", filepath.Join(work, "run"), "--dry-run")
	if code != exitOK || !strings.Contains(out, "accelerate launch --config_file") {
		t.Errorf("dry run: code %d, %s %s", code, out, errOut)
	}
	_, errOut, code = runCLI(t, "train", "run", "--data", ds, "--out", filepath.Join(work, "run"), "--venv", filepath.Join(work, "none"))
	if code != exitUsage || !strings.Contains(errOut, "r2c train setup") {
		t.Errorf("no venv: code %d, %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "train", "run", "--data", ds, "--quantization", "2bit", "--dry-run", "--out", filepath.Join(work, "run"))
	if code != exitUsage || !strings.Contains(errOut, "8bit") {
		t.Errorf("bad quantization: code %d, %s", code, errOut)
	}
}
