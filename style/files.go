package style

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// skippedDirs are folders whose code is not the user's own: virtual
// environments, vendored dependencies, build output and caches.
var skippedDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".tox": true, ".nox": true, ".venv": true, "venv": true,
	"env": true, ".env": true, "site-packages": true, "dist-packages": true, "node_modules": true,
	"vendor": true, "vendored": true, "third_party": true, "_vendor": true, "build": true, "dist": true,
	"__pycache__": true, ".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true,
	".eggs": true, ".ipynb_checkpoints": true, ".r2c": true,
}

// skipPath reports whether a relative path lies in a skipped folder or is a
// generated file.
func skipPath(rel string) bool {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for _, p := range parts[:len(parts)-1] {
		if skippedDirs[p] || strings.HasSuffix(p, ".egg-info") {
			return true
		}
	}
	base := parts[len(parts)-1]
	// Protocol buffer and gRPC stubs are generated.
	return strings.HasSuffix(base, "_pb2.py") || strings.HasSuffix(base, "_pb2_grpc.py")
}

// generatedMarker is how code generators label their output.
var generatedMarker = []byte("DO NOT EDIT")

// isGenerated looks for a generator's marker in the first lines of src.
func isGenerated(src []byte) bool {
	head := src
	if len(head) > 512 {
		head = head[:512]
	}
	return bytes.Contains(head, generatedMarker) || bytes.Contains(head, []byte("@generated"))
}

// pythonFiles lists the .py files to learn from under dir, sorted: the
// git-tracked ones when dir is in a git work tree, else all found walking.
func pythonFiles(ctx context.Context, dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if strings.HasSuffix(dir, ".py") {
			return []string{dir}, nil
		}
		return nil, fmt.Errorf("not a directory or .py file")
	}
	if files, err := gitPythonFiles(ctx, dir); err == nil {
		return files, nil
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if path != dir && (skippedDirs[d.Name()] || strings.HasSuffix(d.Name(), ".egg-info")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasSuffix(path, ".py") && !skipPath(rel) {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// gitPythonFiles asks git for the tracked .py files under dir. It fails when
// git is missing or dir is not in a work tree.
func gitPythonFiles(ctx context.Context, dir string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "ls-files", "-z", "--cached", "--", "*.py")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" || skipPath(rel) {
			continue
		}
		path := filepath.Join(dir, rel)
		// Tracked but deleted in the work tree: nothing to learn from.
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, path)
	}
	if files == nil && !insideWorkTree(ctx, dir) {
		return nil, errors.New("not a git work tree")
	}
	sort.Strings(files)
	return files, nil
}

func insideWorkTree(ctx context.Context, dir string) bool {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--is-inside-work-tree").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}
