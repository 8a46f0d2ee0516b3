package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportJSONLWritesLoadableTasks(t *testing.T) {
	dir := t.TempDir()
	lines := `{"id": "double", "title": "Double", "framework": "numpy", "paper": "P", "section": "2", "section_text": "## 2 Doubling\n\nWrite ` + "`double.py`" + `.\n", "module": "double.py", "manual_minutes": 12, "hidden": {"test_double.py": "from double import double\n\ndef test_a():\n    assert double(1) == 2\n"}, "reference": {"double.py": "def double(x):\n    return 2 * x\n"}}

{"id": "nosection", "framework": "numpy", "section": "3", "section_text": "no heading here", "module": "m.py", "hidden": {"test_m.py": "def test_a():\n    pass\n"}}
`
	ids, err := ImportJSONL(strings.NewReader(lines), dir)
	if err != nil || strings.Join(ids, ",") != "double,nosection" {
		t.Fatalf("%v %v", ids, err)
	}
	tasks, err := LoadSuiteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tasks[0].Err != nil || tasks[0].ManualMinutes != 12 || string(tasks[0].Reference["double.py"]) == "" {
		t.Errorf("imported task: %+v", tasks[0])
	}
	// A bad task imports, and LoadSuite explains it like any folder.
	if tasks[1].Err == nil || !strings.Contains(tasks[1].Err.Error(), "no heading for section 3") {
		t.Errorf("nosection: %v", tasks[1].Err)
	}
	// Importing again never replaces a folder.
	before, _ := os.ReadFile(filepath.Join(dir, "double", "task.toml"))
	if _, err := ImportJSONL(strings.NewReader(lines), dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("re-import: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "double", "task.toml"))
	if string(before) != string(after) {
		t.Error("re-import changed a task")
	}
	for _, bad := range []string{`{"id": "x", "hidden": {"../evil.py": "x"}, "section_text": "s"}`, `{"id": "Bad Id"}`, `{"id": "x", "unknown": 1}`, `not json`} {
		if _, err := ImportJSONL(strings.NewReader(bad), t.TempDir()); err == nil || !strings.HasPrefix(err.Error(), "line 1:") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
