package core

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/validate"
)

// Bounds on what a validation copies into the sandbox. The module and its
// tests must fit (else an error says so); sibling modules beyond the bounds
// are left out, since a module rarely imports hundreds of them.
const (
	maxFileBytes    = 8 << 20  // one module or test file
	maxSiblingFiles = 200      // Python files beside the module
	maxTotalBytes   = 32 << 20 // everything copied, together
)

// Files is where a validation reads its files from: an editor's open
// buffers first (Open, which may be nil), then the disk. Open buffers win
// because the user validates what they see, saved or not.
type Files struct {
	Open func(path string) ([]byte, bool)
}

func (f Files) open(p string) ([]byte, bool) {
	if f.Open == nil {
		return nil, false
	}
	return f.Open(p)
}

// isFile reports whether p is an open buffer or a regular file on disk
// (links followed): a FIFO or a socket named *.py would block the read.
func (f Files) isFile(p string) bool {
	if _, ok := f.open(p); ok {
		return true
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// read returns p's text, refusing what is not a regular file or too large.
func (f Files) read(p string) ([]byte, error) {
	if b, ok := f.open(p); ok {
		return b, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", p, maxFileBytes>>20)
	}
	return os.ReadFile(p)
}

// DiscoverTests returns the tests of a Python module, as a file or folder
// path, or "" when it has none. The one rule, in order:
//
//  1. a module named test_*.py is its own test;
//  2. test_<module>.py beside it;
//  3. tests/test_<module>.py beside it;
//  4. the tests/ folder beside it (pytest then collects its test_*.py).
//
// Open editor buffers count as files (files.Open).
func DiscoverTests(module string, files Files) string {
	dir, name := filepath.Dir(module), filepath.Base(module)
	if strings.HasPrefix(name, "test_") && strings.HasSuffix(name, ".py") {
		return module
	}
	for _, p := range []string{filepath.Join(dir, "test_"+name), filepath.Join(dir, "tests", "test_"+name)} {
		if files.isFile(p) {
			return p
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "tests")); err == nil && fi.IsDir() {
		return filepath.Join(dir, "tests")
	}
	return ""
}

// gather builds the validator's options for one module: the module (text,
// when given, instead of its file), the Python files beside it (which it
// may import) and its tests (explicit, else DiscoverTests). Keys of Files
// are relative to the module's folder; a test file or folder outside it
// goes under tests/.
func gather(module string, text []byte, tests string, files Files) (validate.Options, error) {
	opts := validate.Options{Files: map[string][]byte{}, DiskPaths: map[string]string{}}
	if !strings.HasSuffix(module, ".py") {
		return opts, fmt.Errorf("validate: %s is not a Python file (.py)", module)
	}
	abs, err := filepath.Abs(module)
	if err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	base, modKey := filepath.Dir(abs), filepath.Base(abs)
	if text == nil {
		if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
			return opts, fmt.Errorf("validate: %s is a folder, not a Python file (.py)", module)
		}
		if text, err = files.read(abs); err != nil {
			return opts, fmt.Errorf("validate: %w", err)
		}
	}
	total := len(text)
	add := func(key, p string, b []byte) error {
		if total+len(b) > maxTotalBytes {
			return fmt.Errorf("validate: the module and its tests are larger than %d MiB together", maxTotalBytes>>20)
		}
		total += len(b)
		opts.Files[key], opts.DiskPaths[key] = b, p
		return nil
	}
	opts.Files[modKey], opts.DiskPaths[modKey] = text, abs
	opts.Modules = []string{modKey}

	// Siblings: best effort within the bounds, in name order so the same
	// folder always gives the same set.
	entries, _ := os.ReadDir(base)
	n := 0
	for _, e := range entries {
		p := filepath.Join(base, e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".py") || e.Name() == modKey || n >= maxSiblingFiles || !files.isFile(p) {
			continue
		}
		b, err := files.read(p)
		if err != nil || total+len(b) > maxTotalBytes {
			continue
		}
		_ = add(e.Name(), p, b)
		n++
	}

	if tests == "" {
		tests = DiscoverTests(abs, files)
		if tests == "" {
			return opts, nil
		}
	}
	if tests, err = filepath.Abs(tests); err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	if tests == abs {
		opts.Tests = []string{modKey}
		return opts, nil
	}
	fi, statErr := os.Stat(tests)
	if statErr != nil && !files.isFile(tests) {
		return opts, fmt.Errorf("validate: tests: %w", statErr)
	}
	if statErr != nil || !fi.IsDir() {
		key := keyFor(base, tests, "tests/"+filepath.Base(tests))
		b, err := files.read(tests)
		if err != nil {
			return opts, fmt.Errorf("validate: tests: %w", err)
		}
		if err := add(key, tests, b); err != nil {
			return opts, err
		}
		// Fixtures the test file relies on live in conftest.py beside it.
		if conf := filepath.Join(filepath.Dir(tests), "conftest.py"); filepath.Dir(tests) != base && files.isFile(conf) {
			if b, err := files.read(conf); err == nil {
				if err := add(keyFor(base, conf, "tests/conftest.py"), conf, b); err != nil {
					return opts, err
				}
			}
		}
		opts.Tests = []string{key}
		return opts, nil
	}
	dirKey := keyFor(base, tests, "tests")
	err = filepath.WalkDir(tests, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "__pycache__" || (p != tests && strings.HasPrefix(d.Name(), "."))) {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".py") || d.Name() == "pytest.ini") || !files.isFile(p) {
			return nil
		}
		rel, _ := safepath.Within(tests, p)
		key := dirKey + "/" + rel
		if dirKey == "." {
			key = rel
		}
		b, err := files.read(p)
		if err != nil {
			return err
		}
		return add(key, p, b)
	})
	if err != nil {
		return opts, fmt.Errorf("validate: tests: %w", err)
	}
	opts.Tests = []string{dirKey}
	return opts, nil
}

// keyFor is p relative to base when inside it, else outside.
func keyFor(base, p, outside string) string {
	if rel, ok := safepath.Within(base, p); ok && rel != "." {
		return rel
	}
	return outside
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
