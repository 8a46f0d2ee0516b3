package rag

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// listedFile is a file found under a root.
type listedFile struct {
	path      string // absolute
	repo, rel string // code: repository name and path inside it
}

// listFiles finds the files of a collection under root (a file or folder).
func listFiles(ctx context.Context, collection, root string) ([]listedFile, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if collection == Papers {
		if !info.IsDir() {
			return []listedFile{{path: root}}, nil
		}
		var out []listedFile
		err := walkFiles(root, func(p string) {
			if isPaperFile(p) {
				out = append(out, listedFile{path: p})
			}
		})
		return out, err
	}
	return listCode(ctx, root, info.IsDir())
}

var paperExts = map[string]bool{".pdf": true, ".md": true, ".markdown": true, ".tex": true, ".txt": true}

func isPaperFile(p string) bool { return paperExts[strings.ToLower(filepath.Ext(p))] }

// skipDirs are folders never indexed: virtual environments, vendored and
// generated trees, caches.
var skipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".r2c": true, "node_modules": true, "vendor": true,
	"third_party": true, "site-packages": true, "dist-packages": true, "__pycache__": true,
	".venv": true, "venv": true, ".tox": true, ".nox": true, ".eggs": true, ".mypy_cache": true,
	".pytest_cache": true, "build": true, "dist": true,
}

// walkFiles calls fn for every regular file under root, skipping skipDirs,
// hidden folders and virtual environments (folders holding pyvenv.cfg).
func walkFiles(root string, fn func(string)) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable subfolder is skipped, not fatal
		}
		if d.IsDir() {
			if p != root && (skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".") || isVenv(p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			fn(p)
		}
		return nil
	})
}

func isVenv(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "pyvenv.cfg"))
	return err == nil
}

// listCode lists the Python files under root. In a git work tree these are
// the files git tracks or would track (untracked but not ignored), which
// keeps build output and anything .gitignore names out; elsewhere every
// Python file. Virtual environments and vendored trees are skipped in both.
func listCode(ctx context.Context, root string, isDir bool) ([]listedFile, error) {
	dir := root
	if !isDir {
		dir = filepath.Dir(root)
	}
	if !isDir && !isPython(root) {
		return nil, fmt.Errorf("%s is not a Python file (.py)", root)
	}
	top := gitToplevel(ctx, dir)
	if !isDir {
		repo, rel := repoPath(top, dir, root)
		return []listedFile{{path: root, repo: repo, rel: rel}}, nil
	}
	var rels []string
	if top != "" {
		out, err := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".").Output()
		if err == nil {
			for _, r := range bytes.Split(out, []byte{0}) {
				if len(r) > 0 {
					rels = append(rels, filepath.FromSlash(string(r)))
				}
			}
		} else {
			top = "" // not usable after all: walk instead
		}
	}
	if top == "" {
		if err := walkFiles(root, func(p string) {
			if rel, err := filepath.Rel(root, p); err == nil {
				rels = append(rels, rel)
			}
		}); err != nil {
			return nil, err
		}
	}
	venv := map[string]bool{}
	var out []listedFile
	for _, rel := range rels {
		if !isPython(rel) || skippedPath(root, rel, venv) {
			continue
		}
		p := filepath.Join(root, rel)
		if info, err := os.Lstat(p); err != nil || !info.Mode().IsRegular() {
			continue // tracked but deleted, or a symlink
		}
		repo, repoRel := repoPath(top, root, p)
		out = append(out, listedFile{path: p, repo: repo, rel: repoRel})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

func isPython(p string) bool { return strings.EqualFold(filepath.Ext(p), ".py") }

// skippedPath reports whether a folder on rel's way from root is one never
// indexed; venv caches pyvenv.cfg checks per folder.
func skippedPath(root, rel string, venv map[string]bool) bool {
	dir := filepath.Dir(rel)
	if dir == "." {
		return false
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for i, part := range parts {
		if skipDirs[part] || (strings.HasPrefix(part, ".") && part != ".") {
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
// the git work tree when there is one, else the folder indexed.
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
