package style

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// This file is r2c's one definition of "the user's own Python files": style
// learns from them and the rag index chunks them, so both see the same set.

// SourceFile is one of the user's own Python files.
type SourceFile struct {
	Path string // the file, absolute
	Repo string // the git work tree's folder name, or outside git the listed folder's
	Rel  string // the file's slash-separated path inside Repo
}

// FileOptions adjusts which files PythonFiles lists inside a git work tree.
type FileOptions struct {
	// IncludeUntracked adds files git does not track but would (untracked
	// and not ignored). Without it only tracked files are listed, which is
	// what learning a style wants: scratch files are not the user's settled
	// code. Outside git every file is a candidate either way.
	IncludeUntracked bool
}

// skippedDirs are folders whose code is not the user's own: virtual
// environments, vendored dependencies, build output and caches. Hidden
// folders, *.egg-info and folders holding pyvenv.cfg are skipped too (see
// SkipDir).
var skippedDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".tox": true, ".nox": true, ".venv": true, "venv": true,
	"env": true, ".env": true, "site-packages": true, "dist-packages": true, "node_modules": true,
	"vendor": true, "vendored": true, "third_party": true, "_vendor": true, "build": true, "dist": true,
	"__pycache__": true, ".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true,
	".eggs": true, ".ipynb_checkpoints": true, ".r2c": true,
}

// skippedName reports whether a folder is skipped by its name alone.
func skippedName(name string) bool {
	return skippedDirs[name] || strings.HasSuffix(name, ".egg-info") ||
		(strings.HasPrefix(name, ".") && name != "." && name != "..")
}

// isVenv reports whether dir is a virtual environment, whatever its name:
// venv and virtualenv both write pyvenv.cfg at its top.
func isVenv(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "pyvenv.cfg"))
	return err == nil
}

// SkipDir reports whether the folder at path, whose base name is name,
// holds no code of the user's own: a virtual environment (by name or by its
// pyvenv.cfg), a vendored or third-party tree, build output, a cache, an
// *.egg-info folder or any hidden folder. It suits filepath.WalkDir
// callbacks; callers walking from a root should not apply it to the root.
func SkipDir(path, name string) bool {
	return skippedName(name) || isVenv(path)
}

// isGeneratedName reports whether a file name is a code generator's output:
// protocol buffer and gRPC stubs.
func isGeneratedName(name string) bool {
	return strings.HasSuffix(name, "_pb2.py") || strings.HasSuffix(name, "_pb2_grpc.py")
}

// generatedHead is how far into a file IsGenerated looks for a marker.
const generatedHead = 512

// IsGenerated reports whether src, a file's content or at least its first
// 512 bytes, carries a code generator's marker ("DO NOT EDIT" or
// "@generated"). PythonFiles does not read files, so callers check this
// where they read them anyway.
func IsGenerated(src []byte) bool {
	head := src
	if len(head) > generatedHead {
		head = head[:generatedHead]
	}
	return bytes.Contains(head, []byte("DO NOT EDIT")) || bytes.Contains(head, []byte("@generated"))
}

// IsGeneratedFile reads the start of the file at path and applies IsGenerated.
func IsGeneratedFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, generatedHead)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, err
	}
	return IsGenerated(head[:n]), nil
}

// isPython reports whether a path names a Python source file.
func isPython(path string) bool { return strings.EqualFold(filepath.Ext(path), ".py") }

// PythonFiles lists the user's own Python files under root, sorted by path.
// Inside a git work tree they are the files git tracks (plus, with
// IncludeUntracked, the untracked files .gitignore does not exclude); elsewhere
// every .py file found walking root. Either way files in folders SkipDir
// rejects, generated protocol buffer stubs (*_pb2.py, *_pb2_grpc.py),
// symlinks and tracked files deleted from the work tree are left out. A root
// that is a .py file is listed as given, without those rules; any other file
// is an error. Files marked as generated inside are not detected here: see
// IsGenerated.
func PythonFiles(ctx context.Context, root string, opts FileOptions) ([]SourceFile, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if !isPython(root) {
			return nil, fmt.Errorf("%s is not a folder or a Python file (.py)", root)
		}
		repo, rel := repoPath(gitToplevel(ctx, filepath.Dir(root)), filepath.Dir(root), root)
		return []SourceFile{{Path: root, Repo: repo, Rel: rel}}, nil
	}
	top := gitToplevel(ctx, root)
	var rels []string
	if top != "" {
		if rels, err = gitFiles(ctx, root, opts); err != nil {
			top = "" // git is there but cannot list: walk instead
		}
	}
	if top == "" {
		if rels, err = walkPython(root); err != nil {
			return nil, err
		}
	}
	venv := map[string]bool{}
	var out []SourceFile
	for _, rel := range rels {
		if !isPython(rel) || isGeneratedName(filepath.Base(rel)) || skippedPath(root, rel, venv) {
			continue
		}
		p := filepath.Join(root, rel)
		if info, err := os.Lstat(p); err != nil || !info.Mode().IsRegular() {
			continue // tracked but deleted, or a symlink
		}
		repo, repoRel := repoPath(top, root, p)
		out = append(out, SourceFile{Path: p, Repo: repo, Rel: repoRel})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// gitFiles asks git for the files under root, as paths relative to root.
func gitFiles(ctx context.Context, root string, opts FileOptions) ([]string, error) {
	args := []string{"-C", root, "ls-files", "-z", "--cached"}
	if opts.IncludeUntracked {
		args = append(args, "--others", "--exclude-standard")
	}
	cmd := exec.CommandContext(ctx, "git", append(args, "--", ".")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rels []string
	for _, r := range bytes.Split(out, []byte{0}) {
		if len(r) > 0 {
			rels = append(rels, filepath.FromSlash(string(r)))
		}
	}
	return rels, nil
}

// walkPython lists the .py files under root outside git, as paths relative
// to root, not descending into folders SkipDir rejects. An unreadable
// subfolder is passed over; an unreadable root is an error.
func walkPython(root string) ([]string, error) {
	var rels []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if p != root && SkipDir(p, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && isPython(p) {
			if rel, err := filepath.Rel(root, p); err == nil {
				rels = append(rels, rel)
			}
		}
		return nil
	})
	return rels, err
}

// skippedPath reports whether a folder on rel's way down from root is one
// SkipDir rejects; git lists files, not folders, so each is checked here.
// venv caches the pyvenv.cfg checks per folder.
func skippedPath(root, rel string, venv map[string]bool) bool {
	dir := filepath.Dir(rel)
	if dir == "." {
		return false
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for i, part := range parts {
		if skippedName(part) {
			return true
		}
		sub := filepath.Join(parts[:i+1]...)
		is, ok := venv[sub]
		if !ok {
			is = isVenv(filepath.Join(root, sub))
			venv[sub] = is
		}
		if is {
			return true
		}
	}
	return false
}

// gitToplevel returns the root of the git work tree holding dir, or "" when
// there is none (or no git).
func gitToplevel(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// repoPath names the repository a file belongs to and the file's path in it:
// the git work tree top when there is one, else the folder listed.
func repoPath(top, root, file string) (repo, rel string) {
	base := root
	if top != "" {
		base = top
		// git reports the resolved path; match it if root went through a symlink.
		if resolved, err := filepath.EvalSymlinks(file); err == nil {
			file = resolved
		}
	}
	rel, err := filepath.Rel(base, file)
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.Base(root), filepath.Base(file)
	}
	return filepath.Base(base), filepath.ToSlash(rel)
}
