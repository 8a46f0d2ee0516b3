// Package safepath is r2c's one rule for paths that come from outside —
// a model's plan, a sandboxed program, a run record, an editor — and must
// stay inside a folder: the generated-file writer, the sandbox, the run
// recorder, the validator and the front doors all call it, so a path that
// one of them refuses is refused by all of them.
//
// It lives below every other package (it imports only the standard
// library) so that sandbox and validate can use it without importing the
// core that sits above them.
package safepath

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Clean turns name, a slash-separated path relative to some folder, into
// its clean form, or explains why it cannot name something inside the
// folder: empty, absolute (also a Windows drive or UNC name), "." or
// leaving the folder through "..", or containing a backslash, a NUL or
// another control character (which would let a path mean different things
// to different tools, or hide part of itself in a terminal). "a/./b" and
// "a//b" are accepted and cleaned to "a/b".
func Clean(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("path is empty")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("path %q contains a control character", name)
		}
	}
	if strings.Contains(name, `\`) {
		return "", fmt.Errorf("path %q contains a backslash; use / between folders", name)
	}
	c := path.Clean(name)
	if path.IsAbs(c) || filepath.VolumeName(c) != "" || isDrive(c) {
		return "", fmt.Errorf("path %q is absolute; it must be relative to its folder", name)
	}
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q leaves its folder", name)
	}
	return c, nil
}

// Check accepts only paths that Clean leaves unchanged: what a model plans
// or a generator writes must be spelt one way, so that two spellings of one
// file cannot both be written or both be checked.
func Check(name string) error {
	c, err := Clean(name)
	if err != nil {
		return err
	}
	if c != name {
		return fmt.Errorf("path %q is not in clean form (write %q)", name, c)
	}
	return nil
}

// Join is dir joined with the relative, slash-separated name after Clean
// has accepted it: the one way to turn an outside name into a file path.
func Join(dir, name string) (string, error) {
	c, err := Clean(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.FromSlash(c)), nil
}

// Within reports whether the file path p lies inside (or is) the folder
// root, lexically, and returns it relative to root with slashes. Both are
// made absolute first. Symbolic links are not followed: callers that
// create files refuse links on their own (see core.WriteFiles).
func Within(root, p string) (rel string, ok bool) {
	ar, err1 := filepath.Abs(root)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return "", false
	}
	r, err := filepath.Rel(ar, ap)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// isDrive reports a Windows drive prefix ("C:", "c:/x"): harmless on Linux
// but absolute wherever the result is copied to Windows.
func isDrive(c string) bool {
	return len(c) >= 2 && c[1] == ':' && (('a' <= c[0] && c[0] <= 'z') || ('A' <= c[0] && c[0] <= 'Z'))
}
