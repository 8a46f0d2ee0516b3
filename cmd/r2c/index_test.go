package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// indexWorkspace gives a test its own workspace root and configuration
// (no user r2c.toml) and returns the root.
func indexWorkspace(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("R2C_INDEX_DIR", "")
	return t.TempDir()
}

func fixturePapers(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "rag", "testdata", "papers"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIndexThenSearch(t *testing.T) {
	root := indexWorkspace(t)
	code := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(code, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "def warmup_cosine(step, warmup, total, peak):\n    \"\"\"Linear warm-up, then cosine decay of the learning rate.\"\"\"\n    return peak\n"
	if err := os.WriteFile(filepath.Join(code, "schedule.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errOut, status := runCLI(t, "index", "--root", root, "--papers", fixturePapers(t))
	if status != exitOK {
		t.Fatalf("index papers: %d\n%s\n%s", status, out, errOut)
	}
	if !strings.Contains(out, "files: 3 added, 0 changed, 0 unchanged, 0 removed") {
		t.Fatalf("index summary:\n%s", out)
	}
	for _, want := range []string{"scanning files (3)", "embedding", "saving"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress on stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".r2c", "index", "manifest.json")); err != nil {
		t.Fatalf("index not under the workspace's .r2c/index: %v", err)
	}

	// Without flags a folder is code.
	out, errOut, status = runCLI(t, "index", "--root", root, "--json", code)
	if status != exitOK {
		t.Fatalf("index code: %d\n%s\n%s", status, out, errOut)
	}
	var summary map[string]any
	if err := json.Unmarshal([]byte(out), &summary); err != nil {
		t.Fatalf("index --json: %v\n%s", err, out)
	}
	if summary["added"] != 1.0 || summary["code_chunks"] != 1.0 || summary["embedder"] != "offline-ngram-v1" {
		t.Fatalf("index --json summary: %v", summary)
	}

	// Re-indexing unchanged papers embeds nothing.
	out, _, status = runCLI(t, "index", "--root", root, "--papers", fixturePapers(t))
	if status != exitOK || !strings.Contains(out, "3 unchanged") || !strings.Contains(out, "(0 embedded") {
		t.Fatalf("re-index: %d\n%s", status, out)
	}

	// --rebuild starts over: everything is added again.
	out, _, status = runCLI(t, "index", "--root", root, "--rebuild", "--papers", fixturePapers(t))
	if status != exitOK || !strings.Contains(out, "files: 3 added") || !strings.Contains(out, "0 code chunks") {
		t.Fatalf("index --rebuild: %d\n%s", status, out)
	}
	if _, _, status = runCLI(t, "index", "--root", root, code); status != exitOK {
		t.Fatalf("re-index code after the rebuild: %d", status)
	}

	out, errOut, status = runCLI(t, "search", "--root", root, "--json", "-k", "2", "--papers", "B starts at zero and A is Gaussian at initialization")
	if status != exitOK {
		t.Fatalf("search: %d\n%s\n%s", status, out, errOut)
	}
	var results []struct {
		Source, Collection, Text string
		Score                    float64
		Metadata                 map[string]string
	}
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("search --json: %v\n%s", err, out)
	}
	if len(results) != 2 || results[0].Source != "lowrank-adapters.tex §3.2 Initialization" || results[0].Metadata["section"] != "3.2" {
		t.Fatalf("search results: %+v", results)
	}

	out, _, status = runCLI(t, "search", "--root", root, "--code", "cosine", "decay", "schedule")
	if status != exitOK || !strings.HasPrefix(out, "1. [") || !strings.Contains(out, "repo/schedule.py:1-3") || !strings.Contains(out, "def warmup_cosine") {
		t.Fatalf("search text output: %d\n%s", status, out)
	}
}

func TestSearchWithoutIndex(t *testing.T) {
	root := indexWorkspace(t)
	_, errOut, status := runCLI(t, "search", "--root", root, "attention")
	if status != exitUsage || !strings.Contains(errOut, "r2c index") {
		t.Fatalf("search without an index: %d, %q", status, errOut)
	}
	_, errOut, status = runCLI(t, "search", "--root", root)
	if status != exitUsage || !strings.Contains(errOut, "QUERY") {
		t.Fatalf("search without a query: %d, %q", status, errOut)
	}
}

func TestIndexErrors(t *testing.T) {
	root := indexWorkspace(t)
	_, errOut, status := runCLI(t, "index", "--root", root)
	if status != exitUsage || !strings.Contains(errOut, "at least one") {
		t.Fatalf("index without paths: %d, %q", status, errOut)
	}
	_, errOut, status = runCLI(t, "index", "--root", root, filepath.Join(root, "missing"))
	if status != exitUsage || !strings.Contains(errOut, "missing") {
		t.Fatalf("index of a missing folder: %d, %q", status, errOut)
	}
	// A paper that cannot be parsed is skipped with exit status 1; the rest
	// is indexed.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.pdf"), []byte("%PDF-1.4 not really a pdf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.md"), []byte("# T\n\n## 1 Intro\n\nSome text about attention.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, status := runCLI(t, "index", "--root", root, "--papers", dir)
	if status != exitFail || !strings.Contains(errOut, "skipped "+filepath.Join(dir, "broken.pdf")) || !strings.Contains(out, "1 added") {
		t.Fatalf("index with a broken pdf: %d\n%s\n%s", status, out, errOut)
	}
	// Retrieval can be switched off.
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte("[index]\ndisabled = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, status = runCLI(t, "search", "--root", root, "attention")
	if status != exitUsage || !strings.Contains(errOut, "disabled") {
		t.Fatalf("search with retrieval disabled: %d, %q", status, errOut)
	}
}
