package safepath

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	good := map[string]string{
		"a.py":       "a.py",
		"pkg/a.py":   "pkg/a.py",
		"./a.py":     "a.py",
		"a//b/./c":   "a/b/c",
		"a/../b.py":  "b.py",
		"..a/b":      "..a/b",
		"tests/x.py": "tests/x.py",
	}
	for in, want := range good {
		got, err := Clean(in)
		if err != nil || got != want {
			t.Errorf("Clean(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":             "empty",
		".":            "leaves",
		"..":           "leaves",
		"../a":         "leaves",
		"a/../../b":    "leaves",
		"/etc/passwd":  "absolute",
		`a\b.py`:       "backslash",
		`..\..\x`:      "backslash",
		"C:/x.py":      "absolute",
		"a\x00b":       "control",
		"a\nb":         "control",
		"a\x1b[2Jb.py": "control",
		"a\x7fb":       "control",
	}
	for in, why := range bad {
		if got, err := Clean(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("Clean(%q) = %q, %v; want an error saying %q", in, got, err, why)
		}
	}
}

func TestCheckRefusesUncleanSpellings(t *testing.T) {
	for _, p := range []string{"a.py", "pkg/a.py", "test_a.py"} {
		if err := Check(p); err != nil {
			t.Errorf("Check(%q): %v", p, err)
		}
	}
	for _, p := range []string{"./a.py", "pkg//a.py", "pkg/../a.py", "../a.py", "/a.py", ""} {
		if err := Check(p); err == nil {
			t.Errorf("Check(%q) accepted an unclean or unsafe path", p)
		}
	}
}

func TestJoin(t *testing.T) {
	dir := t.TempDir()
	got, err := Join(dir, "pkg/./m.py")
	if err != nil || got != filepath.Join(dir, "pkg", "m.py") {
		t.Errorf("Join = %q, %v", got, err)
	}
	if _, err := Join(dir, "../escape.py"); err == nil {
		t.Error("Join accepted a path leaving the folder")
	}
}

func TestWithin(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		p    string
		rel  string
		want bool
	}{
		{root, ".", true},
		{filepath.Join(root, "a", "b.py"), "a/b.py", true},
		{filepath.Join(root, "a", "..", "c"), "c", true},
		{filepath.Dir(root), "", false},
		{filepath.Join(root, "..", filepath.Base(root)+"x", "f"), "", false},
		{"/", "", false},
	}
	for _, c := range cases {
		rel, ok := Within(root, c.p)
		if ok != c.want || rel != c.rel {
			t.Errorf("Within(root, %q) = %q, %v; want %q, %v", c.p, rel, ok, c.rel, c.want)
		}
	}
}
