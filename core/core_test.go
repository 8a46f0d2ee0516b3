package core

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// isolated keeps the user's own r2c.toml and R2C_* settings out of a test.
func isolated(t *testing.T) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "R2C_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func requirePytest(t *testing.T) {
	t.Helper()
	if py, err := sandbox.FindPython(""); err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest (Debian: python3-pytest): %v", err)
	}
}

// writeTree writes files (slash paths relative to dir).
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const calcModule = "def add(a, b):\n    return a + b\n"

const calcTests = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"

func TestFindRoot(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"r2c.toml": "", "src/pkg/m.py": "", "other/.git/HEAD": "", "other/x/y.py": ""})
	for from, want := range map[string]string{
		"src/pkg":      dir,
		"src/pkg/m.py": dir,
		".":            dir,
		"other/x":      filepath.Join(dir, "other"),
		"other/x/y.py": filepath.Join(dir, "other"),
	} {
		if got := FindRoot(filepath.Join(dir, from)); got != want {
			t.Errorf("FindRoot(%s) = %s, want %s", from, got, want)
		}
	}
}

// Overrides (flags, editor settings) win over r2c.toml, and their relative
// folders are the workspace's, as r2c.toml's are.
func TestLoadConfigOverridesAndPaths(t *testing.T) {
	isolated(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"r2c.toml": "rounds = 5\nruns_dir = \"from-toml\"\n[style]\nmin_evidence = 9\n"})
	cfg, err := LoadConfig(root, config.Config{Rounds: 2}, config.Config{Index: config.Index{Dir: "idx"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rounds != 2 || cfg.RunsDir != filepath.Join(root, "from-toml") || cfg.Index.Dir != filepath.Join(root, "idx") || cfg.Style.MinEvidence != 9 {
		t.Errorf("rounds %d, runs %s, index %s, min_evidence %d", cfg.Rounds, cfg.RunsDir, cfg.Index.Dir, cfg.Style.MinEvidence)
	}
	if _, err := LoadConfig(root, config.Config{Endpoint: "localhost:8080"}); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("an invalid override was accepted: %v", err)
	}
}

func TestDiscoverTestsRule(t *testing.T) {
	cases := []struct {
		name   string
		module string
		files  map[string]string
		want   string // relative to dir; "" none
	}{
		{"a test module is its own test", "test_m.py", map[string]string{"test_m.py": "", "tests/test_test_m.py": ""}, "test_m.py"},
		{"beside it first", "m.py", map[string]string{"m.py": "", "test_m.py": "", "tests/test_m.py": ""}, "test_m.py"},
		{"then tests/test_<module>.py", "m.py", map[string]string{"m.py": "", "tests/test_m.py": "", "tests/test_other.py": ""}, "tests/test_m.py"},
		{"then tests/", "m.py", map[string]string{"m.py": "", "tests/test_other.py": ""}, "tests"},
		{"else none", "m.py", map[string]string{"m.py": "", "test_other.py": ""}, ""},
	}
	for _, c := range cases {
		dir := t.TempDir()
		writeTree(t, dir, c.files)
		got := DiscoverTests(filepath.Join(dir, c.module), Files{})
		want := ""
		if c.want != "" {
			want = filepath.Join(dir, filepath.FromSlash(c.want))
		}
		if got != want {
			t.Errorf("%s: %q, want %q", c.name, got, want)
		}
	}
	// An editor buffer not yet saved counts as a file.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"m.py": ""})
	open := func(p string) ([]byte, bool) { return []byte("x"), p == filepath.Join(dir, "test_m.py") }
	if got := DiscoverTests(filepath.Join(dir, "m.py"), Files{Open: open}); got != filepath.Join(dir, "test_m.py") {
		t.Errorf("open buffer: %q", got)
	}
}

func TestGatherKeysAndSiblings(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"pkg/calc.py": calcModule, "pkg/helper.py": "K = 1\n", "pkg/notes.txt": "x",
		"pkg/tests/test_calc.py": calcTests, "pkg/tests/conftest.py": "", "pkg/tests/__pycache__/x.py": "",
	})
	opts, err := gather(filepath.Join(dir, "pkg", "calc.py"), nil, "", Files{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sortedKeys(opts.Files), " "); got != "calc.py helper.py tests/conftest.py tests/test_calc.py" {
		t.Errorf("files %s", got)
	}
	if strings.Join(opts.Tests, ",") != "tests/test_calc.py" || opts.Modules[0] != "calc.py" {
		t.Errorf("tests %v modules %v", opts.Tests, opts.Modules)
	}
	// An explicit test file elsewhere goes under tests/; the buffer text
	// replaces the module's file.
	other := t.TempDir()
	writeTree(t, other, map[string]string{"test_x.py": calcTests})
	opts, err = gather(filepath.Join(dir, "pkg", "calc.py"), []byte("edited = 1\n"), filepath.Join(other, "test_x.py"), Files{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Tests[0] != "tests/test_x.py" || opts.DiskPaths["tests/test_x.py"] != filepath.Join(other, "test_x.py") || string(opts.Files["calc.py"]) != "edited = 1\n" {
		t.Errorf("outside test file: tests %v, paths %v, module %q", opts.Tests, opts.DiskPaths, opts.Files["calc.py"])
	}
	if _, err := gather(filepath.Join(dir, "pkg", "notes.txt"), nil, "", Files{}); err == nil || !strings.Contains(err.Error(), "not a Python file") {
		t.Errorf("a .txt module: %v", err)
	}
}

func TestGatherSkipsFIFOs(t *testing.T) {
	// A FIFO named like a module would block reading it forever.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"calc.py": calcModule, "tests/.keep": ""})
	for _, p := range []string{"pipe.py", "tests/test_pipe.py"} {
		if err := syscall.Mkfifo(filepath.Join(dir, p), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	opts, err := gather(filepath.Join(dir, "calc.py"), nil, "", Files{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sortedKeys(opts.Files), " "); got != "calc.py" {
		t.Errorf("files %q, want only calc.py", got)
	}
	if _, err := gather(filepath.Join(dir, "calc.py"), nil, filepath.Join(dir, "tests", "test_pipe.py"), Files{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO as tests: err %v", err)
	}
}

// snakeProfile learns a snake_case profile from n small files.
func snakeProfile(t *testing.T, n int) *style.Profile {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		writeTree(t, dir, map[string]string{filepath.Join("f" + string(rune('a'+i)) + ".py"): "def compute_value(input_value):\n    result_value = input_value + 1\n    return result_value\n"})
	}
	p, err := style.Learn(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// style.min_evidence decides which dimensions count, in validation as in
// the editor: the same thin profile gives style diagnostics at a low bound
// and none at a high one.
func TestValidateAppliesMinEvidence(t *testing.T) {
	isolated(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"m.py": "def computeValue(inputValue):\n    resultValue = inputValue + 1\n    return resultValue\n"})
	profile := snakeProfile(t, 3)
	count := func(minEvidence int) int {
		cfg := config.Default()
		cfg.Style.MinEvidence = minEvidence
		opts, err := ValidateOptions(ValidateRequest{Module: filepath.Join(dir, "m.py"), Root: dir, Config: &cfg, Profile: profile})
		if err != nil {
			t.Fatal(err)
		}
		if opts.Profile.MinEvidence != minEvidence {
			t.Fatalf("profile min_evidence %d, want %d", opts.Profile.MinEvidence, minEvidence)
		}
		res, err := style.CheckSource(opts.Profile, "m.py", opts.Files["m.py"])
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Diagnostics)
	}
	low, high := count(1), count(1000)
	if low == 0 || high != 0 {
		t.Errorf("style diagnostics: %d at min_evidence 1 (want some), %d at 1000 (want none)", low, high)
	}
	if profile.MinEvidence != 0 {
		t.Error("the caller's profile was changed")
	}
}

// The validation a front door asks for honours sandbox.keep_dirs and finds
// tests/test_<module>.py, through a real pytest run.
func TestValidateKeepsRunDirAndRunsDiscoveredTests(t *testing.T) {
	requirePytest(t)
	isolated(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"r2c.toml":            "[sandbox]\nkeep_dirs = true\n",
		"calc.py":             calcModule,
		"tests/test_calc.py":  calcTests,
		"tests/test_other.py": "def test_fails():\n    assert False\n",
	})
	var progress []string
	rep, err := Validate(context.Background(), ValidateRequest{Module: filepath.Join(root, "calc.py"), Progress: func(m string) { progress = append(progress, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RunDir == "" {
		t.Error("sandbox.keep_dirs = true, but no run directory was kept")
	} else {
		defer os.RemoveAll(rep.RunDir)
	}
	if rep.Tests.Total != 1 || rep.Tests.Passed != 1 || !rep.OK() {
		t.Errorf("tests %+v: want only tests/test_calc.py run, passing", rep.Tests)
	}
	if len(progress) != 1 || progress[0] != "running tests/test_calc.py" {
		t.Errorf("progress %q", progress)
	}
	sum := Summarize(filepath.Join(root, "calc.py"), rep)
	if !sum.OK || sum.SchemaVersion != SchemaVersion || !strings.Contains(sum.Message, "calc.py passed: 1/1 tests passed") {
		t.Errorf("summary %+v", sum)
	}
}

func TestSummarizeSaysWhenNoTestsWereFound(t *testing.T) {
	sum := Summarize("/w/m.py", &validate.Report{StyleScore: 100, Isolation: "none"})
	if !strings.Contains(sum.Message, "no tests found for m.py") || !sum.OK {
		t.Errorf("%+v", sum)
	}
}

func TestSectionFolder(t *testing.T) {
	for in, want := range map[string]string{
		"3.2 Scaled Dot-Product Attention": "scaled_dot_product_attention",
		"Multi-Head Attention":             "multi_head_attention",
		"3.2":                              "r2c_section",
		"Layer 2 Norm":                     "layer_2_norm",
		"../../etc":                        "etc",
	} {
		if got := SectionFolder(in); got != want {
			t.Errorf("SectionFolder(%q) = %q, want %q", in, got, want)
		}
	}
}

// A test file from another folder runs as tests/<name> and imports the
// module, through a real pytest run.
func TestValidateTestsFromElsewhere(t *testing.T) {
	requirePytest(t)
	isolated(t)
	dir, other := t.TempDir(), t.TempDir()
	writeTree(t, dir, map[string]string{"calc.py": calcModule})
	writeTree(t, other, map[string]string{"test_x.py": calcTests})
	rep, err := Validate(context.Background(), ValidateRequest{Module: filepath.Join(dir, "calc.py"), Tests: filepath.Join(other, "test_x.py")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tests.Passed != 1 || !rep.OK() || rep.Paths["tests/test_x.py"] != filepath.Join(other, "test_x.py") {
		t.Errorf("tests %+v, paths %v, diagnostics %+v", rep.Tests, rep.Paths, rep.Diagnostics)
	}
}
