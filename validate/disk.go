package validate

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxDiskFile bounds each file OptionsFromDisk reads.
const maxDiskFile = 8 << 20

// OptionsFromDisk builds Options for a module file on disk. The Python files
// next to the module are copied too (a module imports its siblings), but only
// the module itself is checked. tests names a test file or directory; empty
// means test_<module>.py next to the module, else a tests/ directory next to
// it, else no test run. Keys of Files are relative to the module's directory
// (test files outside it go under tests/).
func OptionsFromDisk(module, tests string) (Options, error) {
	opts := Options{Files: map[string][]byte{}, DiskPaths: map[string]string{}}
	fi, err := os.Stat(module)
	if err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	if fi.IsDir() || !strings.HasSuffix(module, ".py") {
		return opts, fmt.Errorf("validate: %s is not a Python file (.py)", module)
	}
	base, err := filepath.Abs(filepath.Dir(module))
	if err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	siblings, err := filepath.Glob(filepath.Join(base, "*.py"))
	if err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	for _, p := range siblings {
		if !isRegular(p) {
			continue // a FIFO or socket named *.py would block the read
		}
		if err := addFile(opts, relKey(base, p, p), p); err != nil {
			return opts, err
		}
	}
	modKey := filepath.Base(module)
	opts.Modules = []string{modKey}

	if tests == "" {
		stem := strings.TrimSuffix(modKey, ".py")
		if _, err := os.Stat(filepath.Join(base, "test_"+stem+".py")); err == nil {
			tests = filepath.Join(base, "test_"+stem+".py")
		} else if fi, err := os.Stat(filepath.Join(base, "tests")); err == nil && fi.IsDir() {
			tests = filepath.Join(base, "tests")
		} else {
			return opts, nil
		}
	}
	tests, err = filepath.Abs(tests)
	if err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	fi, err = os.Stat(tests)
	if err != nil {
		return opts, fmt.Errorf("validate: tests: %w", err)
	}
	if !fi.IsDir() {
		if err := addFile(opts, relKey(base, tests, "tests/"+filepath.Base(tests)), tests); err != nil {
			return opts, err
		}
		opts.Tests = []string{relKey(base, tests, "tests/"+filepath.Base(tests))}
		return opts, nil
	}
	err = filepath.WalkDir(tests, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "__pycache__" || (p != tests && strings.HasPrefix(d.Name(), "."))) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".py") || d.Name() == "pytest.ini") && isRegular(p) {
			return addFile(opts, relKey(base, p, testsKey(tests, p)), p)
		}
		return nil
	})
	if err != nil {
		return opts, fmt.Errorf("validate: tests: %w", err)
	}
	opts.Tests = []string{relKey(base, tests, "tests")}
	return opts, nil
}

// testsKey is where a file of a test directory outside base goes: under
// tests/, keeping its place within the directory.
func testsKey(testsDir, p string) string {
	if rel, err := filepath.Rel(testsDir, p); err == nil {
		return "tests/" + filepath.ToSlash(rel)
	}
	return "tests/" + filepath.Base(p)
}

// relKey is p relative to base when inside it, else outside.
func relKey(base, p, outside string) string {
	if rel, err := filepath.Rel(base, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(rel)
	}
	return outside
}

// isRegular reports whether p is (or links to) a regular file.
func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// addFile reads p into opts.Files[key] and records where it came from.
func addFile(opts Options, key, p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("validate: %s is not a regular file", p)
	}
	if fi.Size() > maxDiskFile {
		return fmt.Errorf("validate: %s is larger than %d MiB", p, maxDiskFile>>20)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	opts.Files[key] = b
	opts.DiskPaths[key] = p
	return nil
}

// SortedFiles returns the keys of o.Files in order.
func (o Options) SortedFiles() []string {
	keys := make([]string, 0, len(o.Files))
	for k := range o.Files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
