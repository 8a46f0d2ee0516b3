package rag

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/r2c-ai/r2c/style"
)

// listedFile is a file found under a root.
type listedFile struct {
	path      string // absolute
	repo, rel string // code: repository name and path inside it
	// skipGenerated: the file was found in a folder, so it is left out if
	// its content is marked as generated (the check is made where the
	// update reads the file, so each file is read once).
	skipGenerated bool
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

// walkFiles calls fn for every regular file under root, skipping the
// folders style.SkipDir rejects (virtual environments, vendored trees,
// caches, hidden folders): a papers folder kept inside a project should
// not pick up a dependency's documentation.
func walkFiles(root string, fn func(string)) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable subfolder is skipped, not fatal
		}
		if d.IsDir() {
			if p != root && style.SkipDir(p, d.Name()) {
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

// listCode lists the user's own Python files under root as style defines
// them, untracked-but-not-ignored files included so that new code is
// searchable before its first commit. A folder's files marked as generated
// (DO NOT EDIT, @generated) are flagged to be left out once read; a single
// file named on its own is indexed whatever it holds.
func listCode(ctx context.Context, root string, isDir bool) ([]listedFile, error) {
	files, err := style.PythonFiles(ctx, root, style.FileOptions{IncludeUntracked: true})
	if err != nil {
		return nil, err
	}
	out := make([]listedFile, 0, len(files))
	for _, f := range files {
		out = append(out, listedFile{path: f.Path, repo: f.Repo, rel: f.Rel, skipGenerated: isDir})
	}
	return out, nil
}
