package eval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/sandbox"
)

// needPytest skips when no interpreter with pytest and numpy exists.
func needPytest(t testing.TB) {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest and numpy (Debian: python3-pytest python3-numpy): %v", err)
	}
}

func TestShippedSuiteIsComplete(t *testing.T) {
	tasks, err := LoadSuite(Shipped())
	if err != nil {
		t.Fatal(err)
	}
	torch := 0
	for _, task := range tasks {
		if task.Err != nil {
			t.Errorf("%s: %v", task.ID, task.Err)
			continue
		}
		if task.Framework == FrameworkTorch {
			torch++
		}
		if _, ok := task.Reference[task.Module]; !ok {
			t.Errorf("%s: no reference/%s", task.ID, task.Module)
		}
		// The prompt side must name the interface, and never a hidden test.
		md := task.PaperMarkdown()
		if !strings.Contains(md, "`"+task.Module+"`") {
			t.Errorf("%s: the section does not name the module %s", task.ID, task.Module)
		}
		for name := range task.Hidden {
			if strings.Contains(md, strings.TrimSuffix(name, ".py")) {
				t.Errorf("%s: the section mentions the hidden file %s", task.ID, name)
			}
		}
	}
	if len(tasks) < 12 || torch < 4 {
		t.Errorf("%d tasks, %d in PyTorch; want at least 12 and 4", len(tasks), torch)
	}
}

// TestReferencesPassHiddenTests is the suite's own check: every hidden test
// passes on its reference code, in the sandbox, before it judges anything.
func TestReferencesPassHiddenTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every task's hidden tests")
	}
	needPytest(t)
	tasks, err := LoadSuite(Shipped())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	torchPy, torchErr := FindTorchPython(ctx)
	for _, task := range tasks {
		t.Run(task.ID, func(t *testing.T) {
			env := Env{}
			if task.Framework == FrameworkTorch {
				if torchErr != nil {
					t.Skipf("PyTorch task: %v", torchErr)
				}
				env.TorchPython = torchPy
			}
			ref, err := CheckReference(ctx, task, env)
			if err != nil {
				t.Fatal(err)
			}
			if !ref.OK() {
				t.Fatalf("%s", ref.Error)
			}
			if ref.Total < 5 {
				t.Errorf("only %d hidden tests", ref.Total)
			}
			t.Logf("%d/%d hidden tests pass on the reference in %.1fs (limit %.0fs)", ref.Passed, ref.Total, ref.Seconds, ref.TimeoutSeconds)
		})
	}
}

func writeTask(t *testing.T, root, id string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, id)
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const tinyToml = "id = %q\ntitle = \"Double\"\nframework = \"numpy\"\npaper = \"A Paper\"\nsection = \"2\"\nmodule = \"double.py\"\n"

func TestLoadSuiteExplainsBrokenTasks(t *testing.T) {
	root := t.TempDir()
	good := map[string]string{
		"task.toml":             strings.Replace(tinyToml, "%q", `"good"`, 1),
		"section.md":            "## 2 Doubling\n\nReturn `2 * x` from `double.py`.\n",
		"hidden/test_double.py": "from double import double\n\ndef test_two():\n    assert double(2) == 4\n",
		"reference/double.py":   "def double(x):\n    return 2 * x\n",
	}
	writeTask(t, root, "good", good)
	noSection := map[string]string{"task.toml": strings.Replace(tinyToml, "%q", `"nosection"`, 1), "hidden/test_double.py": good["hidden/test_double.py"]}
	writeTask(t, root, "nosection", noSection)
	wrongHeading := map[string]string{"task.toml": strings.Replace(tinyToml, "%q", `"heading"`, 1), "section.md": "## 3 Other\n\ntext\n", "hidden/test_double.py": good["hidden/test_double.py"]}
	writeTask(t, root, "heading", wrongHeading)
	noTests := map[string]string{"task.toml": strings.Replace(tinyToml, "%q", `"notests"`, 1), "section.md": good["section.md"], "hidden/README": "x"}
	writeTask(t, root, "notests", noTests)
	badKey := map[string]string{"task.toml": strings.Replace(tinyToml, "%q", `"badkey"`, 1) + "minutes = 3\n", "section.md": good["section.md"], "hidden/test_double.py": good["hidden/test_double.py"]}
	writeTask(t, root, "badkey", badKey)
	writeTask(t, root, "notes", map[string]string{"README.md": "not a task"})

	tasks, err := LoadSuiteDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"good":      "",
		"nosection": "the section section.md is missing",
		"heading":   `has no heading for section 2: start it with "## 2 <title>"`,
		"notests":   "hidden/ has no test_*.py file",
		"badkey":    `unknown key "minutes"`,
	}
	if len(tasks) != len(want) {
		t.Fatalf("%d tasks, want %d (the notes folder is no task)", len(tasks), len(want))
	}
	for _, task := range tasks {
		w := want[task.ID]
		switch {
		case w == "" && task.Err != nil:
			t.Errorf("%s: %v", task.ID, task.Err)
		case w != "" && (task.Err == nil || !strings.Contains(task.Err.Error(), w)):
			t.Errorf("%s: error %v, want it to say %q", task.ID, task.Err, w)
		}
	}
	sel, err := Select(tasks, "go*,heading")
	if err != nil || len(sel) != 2 {
		t.Errorf("Select: %v %v", sel, err)
	}
	if _, err := Select(tasks, "zz*"); err == nil || !strings.Contains(err.Error(), "badkey, good") {
		t.Errorf("a glob matching nothing should list the ids: %v", err)
	}
}
