package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFilesWritesEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	files := []File{{Path: "attention.py", Content: []byte("x = 1\n")}, {Path: "pkg/sub/mask.py", Content: []byte("y = 2\n")}}
	if err := WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || string(b) != string(f.Content) {
			t.Errorf("%s: %q, %v", f.Path, b, err)
		}
	}
}

func TestWriteFilesRefusesToOverwriteAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b.py"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFiles(dir, []File{{Path: "a.py", Content: []byte("new")}, {Path: "sub/c.py"}, {Path: "b.py", Content: []byte("new")}})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err %v", err)
	}
	assertTree(t, dir, "b.py")
	if b, _ := os.ReadFile(filepath.Join(dir, "b.py")); string(b) != "mine\n" {
		t.Fatalf("b.py overwritten: %q", b)
	}
}

func TestWriteFilesRollsBackOnWriteError(t *testing.T) {
	dir := t.TempDir()
	// "blocker" is a file, so "blocker/x.py" cannot be created after
	// "a.py" and "new/b.py" were written: both must be removed again,
	// and so must the folder "new".
	if err := os.WriteFile(filepath.Join(dir, "blocker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFiles(dir, []File{{Path: "a.py"}, {Path: "new/b.py"}, {Path: "blocker/x.py"}})
	if err == nil {
		t.Fatal("no error")
	}
	assertTree(t, dir, "blocker")
}

func TestWriteFilesRejectsUnsafePaths(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"../evil.py", "/etc/evil.py", "a/../../evil.py", "", `a\b.py`, "./a.py", "a\x1b[2J.py"} {
		if err := WriteFiles(dir, []File{{Path: "ok.py"}, {Path: p}}); err == nil || !strings.Contains(err.Error(), "clean relative path") {
			t.Errorf("%q: err %v", p, err)
		}
	}
	assertTree(t, dir)
}

// A folder on the way that is a symbolic link could lead anywhere: the
// write is refused and nothing is written, there or through the link.
func TestWriteFilesRefusesSymlinkedFolders(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, "pkg")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	err := WriteFiles(dir, []File{{Path: "a.py"}, {Path: "pkg/b.py"}})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err %v", err)
	}
	assertTree(t, dir, "pkg")
	assertTree(t, elsewhere)
}

func TestWriteFilesRefusesDuplicates(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFiles(dir, []File{{Path: "a.py"}, {Path: "a.py"}}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Fatalf("err %v", err)
	}
	assertTree(t, dir)
}

func TestOutDirProblem(t *testing.T) {
	dir := t.TempDir()
	if err := OutDirProblem(filepath.Join(dir, "new")); err != nil {
		t.Errorf("a new folder: %v", err)
	}
	if err := OutDirProblem(dir); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := OutDirProblem(dir); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("a non-empty folder: %v", err)
	}
	if err := OutDirProblem(filepath.Join(dir, "x")); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("a file: %v", err)
	}
}

// assertTree fails unless dir holds exactly the given relative paths.
func assertTree(t *testing.T, dir string, want ...string) {
	t.Helper()
	var got []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tree %v, want %v", got, want)
	}
}
