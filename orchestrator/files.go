package orchestrator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// File is one generated file, its path relative to the output folder.
type File struct {
	Path    string `json:"path"`
	Content []byte `json:"-"`
}

// WriteFiles writes files under dir all-or-nothing: it refuses to overwrite
// anything that exists, checks every path before writing, creates each file
// exclusively (so a file that appears meanwhile is not clobbered) and, if
// any write fails, removes what it wrote and the folders it created.
func WriteFiles(dir string, files []File) (err error) {
	if dir == "" {
		return errors.New("write files: no output folder")
	}
	var problems []error
	seen := map[string]bool{}
	for _, f := range files {
		p := f.Path
		if p == "" || strings.Contains(p, `\`) || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
			problems = append(problems, fmt.Errorf("%q is not a clean relative path", p))
			continue
		}
		if seen[p] {
			problems = append(problems, fmt.Errorf("%q is given twice", p))
		}
		seen[p] = true
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
			problems = append(problems, fmt.Errorf("%s already exists (r2c never overwrites; choose another --out or move it)", filepath.Join(dir, filepath.FromSlash(p))))
		} else if !errors.Is(err, fs.ErrNotExist) {
			problems = append(problems, err)
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
			if _, err := os.Stat(p); err == nil {
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
