package rag

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestIncrementalUpdateCounts(t *testing.T) {
	emb := &countingEmbedder{Offline: NewOffline(0)}
	repo := filepath.Join(t.TempDir(), "repo")
	writeTree(t, repo, sampleCode)
	ix, err := Create(filepath.Join(t.TempDir(), "index"), emb)
	if err != nil {
		t.Fatal(err)
	}
	update := func() *UpdateStats {
		t.Helper()
		st, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failed) > 0 {
			t.Fatalf("failed files: %v", st.Failed)
		}
		return st
	}

	st := update()
	if st.Added != 3 || st.Changed+st.Unchanged+st.Removed != 0 {
		t.Fatalf("first update: %+v", st)
	}
	if got := emb.texts.Load(); got != int64(st.Embedded) || st.Embedded != ix.Count(Code) || st.Embedded == 0 {
		t.Fatalf("first update embedded %d texts, stats say %d, index holds %d", got, st.Embedded, ix.Count(Code))
	}

	emb.texts.Store(0)
	st = update()
	if st.Unchanged != 3 || st.Added+st.Changed+st.Removed+st.Embedded != 0 || emb.texts.Load() != 0 {
		t.Fatalf("second update of unchanged files: %+v, %d texts embedded", st, emb.texts.Load())
	}

	// Change one file (keeping one of its chunks identical), remove one,
	// add one.
	before := ix.Count(Code)
	writeTree(t, repo, map[string]string{
		"attention.py": sampleCode["attention.py"] + "\n\ndef causal_mask(n):\n    return tril(ones(n, n))\n",
		"eval.py":      "def perplexity(loss):\n    return math.exp(loss)\n",
	})
	if err := os.Remove(filepath.Join(repo, "optim/schedule.py")); err != nil {
		t.Fatal(err)
	}
	emb.texts.Store(0)
	st = update()
	if st.Added != 1 || st.Changed != 1 || st.Unchanged != 1 || st.Removed != 1 {
		t.Fatalf("third update: %+v", st)
	}
	if emb.texts.Load() != int64(st.Embedded) || st.Embedded+st.Reused != st.Chunks || st.Reused == 0 {
		t.Fatalf("third update: embedder saw %d texts; stats %+v", emb.texts.Load(), st)
	}
	if got, want := ix.Count(Code), before-1+2; got != want {
		// -1: schedule.py's one chunk; +2: causal_mask and perplexity.
		t.Fatalf("index holds %d chunks, want %d", got, want)
	}
	chunks, err := ix.Retrieve(context.Background(), "warmup cosine learning rate", RetrieveOptions{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		if c.Metadata["path"] == "optim/schedule.py" {
			t.Fatalf("removed file still retrieved: %+v", c)
		}
	}
	var paths []string
	for _, f := range ix.Files() {
		rel, _ := filepath.Rel(repo, f.Path)
		paths = append(paths, filepath.ToSlash(rel))
	}
	if want := []string{"attention.py", "data/loader.py", "eval.py"}; !slices.Equal(paths, want) {
		t.Fatalf("indexed files %v, want %v", paths, want)
	}
}

func TestUpdateLeavesOtherRootsAlone(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "b")
	writeTree(t, a, map[string]string{"one.py": "def one():\n    return 1\n"})
	writeTree(t, b, map[string]string{"two.py": "def two():\n    return 2\n"})
	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ix.Update(ctx, Sources{Code: []string{a}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := ix.Update(ctx, Sources{Code: []string{b}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 1 || st.Removed != 0 || len(ix.Files()) != 2 {
		t.Fatalf("indexing b after a: %+v, files %+v", st, ix.Files())
	}
	// A folder that was indexed and is now gone removes its files.
	if err := os.RemoveAll(a); err != nil {
		t.Fatal(err)
	}
	st, err = ix.Update(ctx, Sources{Code: []string{a}}, UpdateOptions{})
	if err != nil || st.Removed != 1 || len(ix.Files()) != 1 {
		t.Fatalf("re-index of a removed folder: %+v, %v", st, err)
	}
	// A path never indexed and not there is an error.
	if _, err := ix.Update(ctx, Sources{Code: []string{filepath.Join(b, "missing")}}, UpdateOptions{}); err == nil {
		t.Fatal("no error for a missing path")
	}
}

func TestUpdateProgressAndConcurrency(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	files := map[string]string{}
	for i := range 40 {
		files[filepath.Join("pkg", "m"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+".py")] = "def f" + strings.Repeat("g", i) + "(x):\n    return x\n"
	}
	writeTree(t, repo, files)
	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	var events []Progress // Progress is called serially: no lock needed
	st, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{
		Concurrency: 3, BatchSize: 4,
		Progress: func(p Progress) { events = append(events, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var embedDone []int
	stages := map[string]bool{}
	for _, e := range events {
		stages[e.Stage] = true
		if e.Stage == "embed" {
			embedDone = append(embedDone, e.Done)
			if e.Total != st.Embedded {
				t.Fatalf("embed progress total %d, want %d", e.Total, st.Embedded)
			}
		}
	}
	for _, s := range []string{"scan", "chunk", "embed", "save"} {
		if !stages[s] {
			t.Errorf("no %q progress", s)
		}
	}
	if len(embedDone) != (st.Embedded+3)/4 || !slices.IsSorted(embedDone) || embedDone[len(embedDone)-1] != st.Embedded {
		t.Fatalf("embed progress %v for %d chunks in batches of 4", embedDone, st.Embedded)
	}
}

func TestUpdateCancelled(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	writeTree(t, repo, sampleCode)
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Create(dir, NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Update(ctx, Sources{Code: []string{repo}}, UpdateOptions{}); err == nil {
		t.Fatal("cancelled update succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, manifestName)); !os.IsNotExist(err) {
		t.Fatalf("cancelled update wrote a manifest (%v)", err)
	}
}

// TestListCodeFollowsGit checks what the index takes from style's file
// rules (style's own tests cover each rule): in a real git repository the
// tracked and untracked-but-not-ignored Python files, with paths relative to
// the repository, less foreign and generated code.
func TestListCodeFollowsGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := filepath.Join(t.TempDir(), "proj")
	writeTree(t, repo, map[string]string{
		"model.py":             "x = 1\n",
		"pkg/train.py":         "y = 2\n",
		"pkg/new_untracked.py": "z = 3\n",
		"pkg/api_gen.py":       "# Code generated by a tool. DO NOT EDIT.\nv = 0\n",
		"generated/out.py":     "ignored = True\n",
		".gitignore":           "generated/\n",
		"vendor/lib.py":        "v = 1\n",
		"env1/pyvenv.cfg":      "home = /usr/bin\n",
		"env1/lib/site.py":     "v = 3\n",
	})
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "model.py", "pkg/train.py", "pkg/api_gen.py", ".gitignore", "vendor/lib.py", "env1")
	git("commit", "-q", "-m", "init")

	// What an update indexes from a root, as repository-relative paths,
	// in a fresh index each time.
	indexed := func(root string) []string {
		t.Helper()
		ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
		if err != nil {
			t.Fatal(err)
		}
		st, err := ix.Update(context.Background(), Sources{Code: []string{root}}, UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failed) > 0 {
			t.Fatalf("failed files: %v", st.Failed)
		}
		var got []string
		for _, f := range ix.Files() {
			rel, _ := filepath.Rel(repo, f.Path)
			got = append(got, filepath.ToSlash(rel))
		}
		return got
	}
	if got, want := indexed(repo), []string{"model.py", "pkg/new_untracked.py", "pkg/train.py"}; !slices.Equal(got, want) {
		t.Errorf("indexed %v, want %v", got, want)
	}
	// A subfolder of the repository keeps repository-relative paths.
	files, err := listFiles(context.Background(), Code, filepath.Join(repo, "pkg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.repo != "proj" || !strings.HasPrefix(f.rel, "pkg/") {
			t.Errorf("%s: repo %q rel %q, want proj and pkg/...", f.path, f.repo, f.rel)
		}
	}
	if got, want := indexed(filepath.Join(repo, "pkg")), []string{"pkg/new_untracked.py", "pkg/train.py"}; !slices.Equal(got, want) {
		t.Errorf("indexed %v from pkg/, want %v", got, want)
	}
	// A generated file named on its own is indexed: the user asked for it,
	// also when its folder is named too.
	gen := filepath.Join(repo, "pkg", "api_gen.py")
	if got, want := indexed(gen), []string{"pkg/api_gen.py"}; !slices.Equal(got, want) {
		t.Errorf("indexed %v for the file alone, want %v", got, want)
	}
	if _, err := listFiles(context.Background(), Code, filepath.Join(repo, ".gitignore")); err == nil {
		t.Error("a non-Python file given as code was accepted")
	}

	// A file indexed while hand-written and then marked as generated
	// leaves the index on the next update of its folder.
	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	writeTree(t, repo, map[string]string{"model.py": "# @generated by protoc\nx = 1\n"})
	st, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 1 || ix.Count(Code) == 0 {
		t.Errorf("after model.py became generated: %+v", st)
	}
	for _, f := range ix.Files() {
		if strings.HasSuffix(f.Path, "model.py") {
			t.Errorf("generated model.py still indexed")
		}
	}
}

// TestListPapersSkipsForeignFolders: a papers folder is walked with the
// same folder rules as code.
func TestListPapersSkipsForeignFolders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "papers")
	writeTree(t, dir, map[string]string{
		"attention.pdf":             "%PDF-1.4\n",
		"notes/reading.md":          "# notes\n",
		"code.py":                   "x = 1\n",
		"venv/pyvenv.cfg":           "home = /usr\n",
		"venv/share/doc/README.md":  "# a dependency\n",
		"tools/pyvenv.cfg":          "home = /usr\n",
		"tools/share/doc/guide.txt": "a dependency\n",
		".cache/old.md":             "# cached\n",
		"node_modules/x/README.md":  "# a dependency\n",
	})
	files, err := listFiles(context.Background(), Papers, dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f.path)
		got = append(got, filepath.ToSlash(rel))
	}
	if want := []string{"attention.pdf", "notes/reading.md"}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}
