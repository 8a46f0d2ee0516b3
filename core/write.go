package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/orchestrator"
)

// File is one generated file, its path relative to the output folder.
type File = orchestrator.File

// WriteFiles writes files under dir all-or-nothing, the one writer for
// generated files: it checks every path (internal/safepath, clean form),
// refuses a path given twice, a file that exists and a folder on the way
// that is a symbolic link (which could lead outside dir), creates each file
// exclusively (so one that appears meanwhile is not clobbered) and, if any
// write fails, removes what it wrote and the folders it created.
func WriteFiles(dir string, files []File) (err error) {
	if dir == "" {
		return errors.New("write files: no output folder")
	}
	var problems []error
	seen := map[string]bool{}
	for _, f := range files {
		if err := safepath.Check(f.Path); err != nil {
			problems = append(problems, fmt.Errorf("%w: generated files need a clean relative path inside the output folder", err))
			continue
		}
		if seen[f.Path] {
			problems = append(problems, fmt.Errorf("%q is given twice", f.Path))
		}
		seen[f.Path] = true
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		if _, err := os.Lstat(target); err == nil {
			problems = append(problems, fmt.Errorf("%s already exists (r2c never overwrites; choose another output folder or move it)", target))
		} else if !errors.Is(err, fs.ErrNotExist) {
			problems = append(problems, err)
		}
		if link := linkOnTheWay(dir, f.Path); link != "" {
			problems = append(problems, fmt.Errorf("%s is a symbolic link; r2c writes generated files only into real folders", link))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("write files: %w", errors.Join(problems...))
	}

	var created []string // files and folders, in creation order
	defer func() {
		if err == nil {
			return
		}
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i])
		}
	}()
	mkdirs := func(d string) error {
		var missing []string
		for p := d; ; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); err == nil {
				break
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			missing = append(missing, p)
			if filepath.Dir(p) == p {
				break
			}
		}
		for i := len(missing) - 1; i >= 0; i-- { // outermost first
			if err := os.Mkdir(missing[i], 0o755); err != nil {
				return err
			}
			created = append(created, missing[i])
		}
		return nil
	}
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := mkdirs(filepath.Dir(target)); err != nil {
			return fmt.Errorf("write files: %w", err)
		}
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("write files: %w", err)
		}
		created = append(created, target)
		_, werr := out.Write(f.Content)
		if cerr := out.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write files: %s: %w", target, werr)
		}
	}
	return nil
}

// linkOnTheWay returns the first existing folder between dir and the file
// rel (dir itself excluded: the user chose it) that is a symbolic link, or "".
func linkOnTheWay(dir, rel string) string {
	p := dir
	for _, part := range splitDirs(filepath.Dir(filepath.FromSlash(rel))) {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil {
			return "" // missing: created by WriteFiles itself
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return p
		}
	}
	return ""
}

// splitDirs splits a relative folder path into its names ("." is none).
func splitDirs(d string) []string {
	var out []string
	for d != "." && d != "" && d != string(filepath.Separator) {
		out = append([]string{filepath.Base(d)}, out...)
		d = filepath.Dir(d)
	}
	return out
}

// OutDirProblem says why dir cannot receive a run's files, or returns nil:
// it must not exist yet, or be an empty folder. Checked before any model
// call, so a run's minutes are never spent on files that cannot be written.
func OutDirProblem(dir string) error {
	if dir == "" {
		return errors.New("no output folder given")
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("output folder %s is a file: choose a new folder with --out", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("output folder %s already holds %d entries (r2c writes only into a new or empty folder and never overwrites): choose a new folder with --out, or empty it", dir, len(entries))
	}
	return nil
}
