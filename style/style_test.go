package style

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// learnFixture learns the profile of the golden ML project.
func learnFixture(t testing.TB) *Profile {
	t.Helper()
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	p := NewProfile()
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "profile/") {
			if err := p.AddSource(f.Name, f.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p
}

func TestBadInput(t *testing.T) {
	p := learnFixture(t)
	t.Run("binary", func(t *testing.T) {
		src := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00")
		if _, err := CheckSource(p, "a.out", src); !errors.Is(err, ErrBinary) {
			t.Errorf("CheckSource: %v, want ErrBinary", err)
		}
		if _, err := Stats(src); !errors.Is(err, ErrBinary) {
			t.Errorf("Stats: %v, want ErrBinary", err)
		}
		if _, err := NewDocument(src); !errors.Is(err, ErrBinary) {
			t.Errorf("NewDocument: %v, want ErrBinary", err)
		}
	})
	t.Run("20MB", func(t *testing.T) {
		src := bytes.Repeat([]byte("x = 1\n"), 20<<20/6)
		_, err := CheckSource(p, "big.py", src)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MiB") {
			t.Errorf("CheckSource: %v, want ErrTooLarge naming the size", err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "big.py"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "small.py"), []byte("def load_data(path_name):\n    return path_name\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		learned, err := Learn(context.Background(), []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if learned.Files != 1 || len(learned.Skipped) != 1 || !strings.Contains(learned.Skipped[0], "big.py") {
			t.Errorf("Learn: files %d, skipped %q; want big.py skipped with a reason", learned.Files, learned.Skipped)
		}
	})
	t.Run("invalid UTF-8", func(t *testing.T) {
		src := []byte("def getData():\n    return '\xff\xfe'\n")
		r, err := CheckSource(p, "bad.py", src)
		if err != nil {
			t.Fatal(err)
		}
		var enc, naming *Diagnostic
		for i, d := range r.Diagnostics {
			switch d.Rule {
			case RuleEncoding:
				enc = &r.Diagnostics[i]
			case "naming.function":
				naming = &r.Diagnostics[i]
			}
		}
		if enc == nil || enc.Range.Start != (Position{1, 12}) || enc.Severity != SeverityError {
			t.Errorf("want an encoding error at 2:13, got %+v", r.Diagnostics)
		}
		if naming == nil {
			t.Errorf("the rest of the file was not analysed: %+v", r.Diagnostics)
		}
		latin1 := []byte("# -*- coding: latin-1 -*-\nname = \"caf\xe9\"\n")
		if r, _ := CheckSource(nil, "latin1.py", latin1); len(r.Diagnostics) != 0 {
			t.Errorf("a declared latin-1 file got %+v", r.Diagnostics)
		}
	})
	t.Run("empty", func(t *testing.T) {
		r, err := CheckSource(p, "empty.py", nil)
		if err != nil || r.Score != 100 || len(r.Diagnostics) != 0 {
			t.Errorf("empty file: %+v, %v", r, err)
		}
		st, err := Stats([]byte{})
		if err != nil || st.Functions != 0 || st.FunctionNames == nil {
			t.Errorf("Stats(empty): %+v, %v", st, err)
		}
	})
	t.Run("only a syntax error", func(t *testing.T) {
		for _, src := range []string{")))", "def (", "class", "\"\"\"unterminated", "@\n", "if x:"} {
			r, err := CheckSource(p, "e.py", []byte(src))
			if err != nil {
				t.Fatalf("%q: %v", src, err)
			}
			if len(r.Diagnostics) == 0 || r.Diagnostics[0].Rule != RuleSyntaxError {
				t.Errorf("%q: want a syntax-error diagnostic, got %+v", src, r.Diagnostics)
			}
		}
	})
}

// TestSyntaxErrorsWhereCPythonSeesThem checks that the line CPython's
// compiler names for a syntax error lies within the diagnostic's range.
func TestSyntaxErrorsWhereCPythonSeesThem(t *testing.T) {
	python := pythonForTests(t)
	cases := []string{
		"def f(:\n    return 1\n",
		"x = (1,\ny = 2\n",
		")))\n",
		"class A\n    pass\n",
		"if x:\npass\n",
		"print(\"a\" \n",
		"x = 1 +\n",
		"def f():\n    return [1, 2\n\ndef g():\n    pass\n",
		"import os\n\ndef ok():\n    return 1\n\ndef bad(:\n    pass\n",
	}
	for _, src := range cases {
		out, err := exec.Command(python, "-c", `import sys
try:
    compile(sys.argv[1], "x.py", "exec")
except SyntaxError as e:
    print(e.lineno)`, src).Output()
		if err != nil {
			t.Fatal(err)
		}
		var line int
		if err := json.Unmarshal(bytes.TrimSpace(out), &line); err != nil {
			t.Fatalf("%q: CPython accepted it (%q)", src, out)
		}
		r, err := CheckSource(nil, "x.py", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range r.Diagnostics {
			if d.Rule == RuleSyntaxError && d.Range.Start.Line <= line-1 && line-1 <= d.Range.End.Line {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: CPython reports line %d; diagnostics %+v", src, line, r.Diagnostics)
		}
	}
}

// TestSyntaxErrorDoesNotStopAnalysis: the functions after a broken one are
// still counted and checked.
func TestSyntaxErrorDoesNotStopAnalysis(t *testing.T) {
	for _, src := range []string{
		"def broken(:\n    pass\n\ndef loadData(fileName):\n    return fileName\n",
		// An unclosed bracket makes tree-sitter swallow the rest of the
		// file; the analysis restarts at the next top-level def.
		"def broken():\n    return abs(1\n\n\ndef loadData(fileName):\n    return fileName\n",
	} {
		checkAnalysedAfterError(t, []byte(src))
	}
}

// TestRunawayErrorRestartsAfterTheBreak: a typo in a `def` keyword makes
// tree-sitter wrap the whole file in one ERROR whose first children are the
// intact functions before the typo. The analysis must restart once, after
// the typo, not at each intact function in turn (which re-parsed the rest of
// the file up to 20 times per keystroke).
func TestRunawayErrorRestartsAfterTheBreak(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		name := fmt.Sprintf("func_%d", i)
		switch i {
		case 25:
			b.WriteString("xdef ")
		case 28:
			name = "loadData"
			b.WriteString("def ")
		default:
			b.WriteString("def ")
		}
		fmt.Fprintf(&b, "%s(x, y):\n    \"\"\"Compute.\"\"\"\n    total = x * 4 + y\n    return total\n\n\n", name)
	}
	src := []byte(b.String())
	a, err := analyzeSource(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := 26 * 6; a.resyncedFrom != want {
		t.Errorf("the analysis last restarted at line %d, want %d (the def after the typo)", a.resyncedFrom, want)
	}
	checkAnalysedAfterError(t, src)
}

func checkAnalysedAfterError(t *testing.T, src []byte) {
	t.Helper()
	st, err := Stats(src)
	if err != nil {
		t.Fatal(err)
	}
	if st.SyntaxErrors == 0 || !containsString(st.FunctionNames, "loadData") {
		t.Errorf("stats %+v: want syntax errors counted and loadData found", st)
	}
	r, _ := CheckSource(learnFixture(t), "x.py", src)
	rules := map[string]bool{}
	for _, d := range r.Diagnostics {
		rules[d.Rule] = true
	}
	if !rules[RuleSyntaxError] || !rules["naming.function"] {
		t.Errorf("%q: want syntax-error and naming.function diagnostics, got %v", src, rules)
	}
	for _, d := range r.Diagnostics {
		if d.Rule == "naming.function" && d.Range.Start != (Position{bytes.Count(src[:bytes.Index(src, []byte("loadData"))], []byte("\n")), 4}) {
			t.Errorf("%q: naming diagnostic at %+v", src, d.Range)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDocumentIncrementalMatchesFullParse applies random edits and checks,
// after each, that the incrementally re-parsed document reports exactly
// what a fresh parse of the same text reports.
func TestDocumentIncrementalMatchesFullParse(t *testing.T) {
	p := learnFixture(t)
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	src := archiveFile(t, ar, "check/off_style.py")
	doc, err := NewDocument(src)
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	rng := rand.New(rand.NewSource(1))
	snippets := []string{"x", "_", "(", ")", ":", "\n", "    ", "def newFunc(a):\n    return a\n", "'", "\"", "#", "é", ""}
	for step := 0; step < 300; step++ {
		cur := doc.Source()
		start := rng.Intn(len(cur) + 1)
		end := min(len(cur), start+rng.Intn(4))
		if rng.Intn(2) == 0 {
			end = start
		}
		text := snippets[rng.Intn(len(snippets))]
		if err := doc.Apply(Edit{StartByte: start, OldEndByte: end, NewText: []byte(text)}); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		want := append(append(append([]byte(nil), cur[:start]...), text...), cur[end:]...)
		if !bytes.Equal(doc.Source(), want) {
			t.Fatalf("step %d: source %q, want %q", step, doc.Source(), want)
		}
		got := doc.Check(p)
		fresh, err := CheckSource(p, "", want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, fresh) {
			g, _ := json.Marshal(got)
			f, _ := json.Marshal(fresh)
			t.Fatalf("step %d: incremental report differs from a fresh parse\nsource %q\ngot   %s\nfresh %s", step, want, g, f)
		}
	}
	if err := doc.Apply(Edit{StartByte: -1, OldEndByte: 0}); err == nil {
		t.Error("an edit outside the document was accepted")
	}
	doc.Close()
	if err := doc.Apply(Edit{}); err == nil {
		t.Error("Apply after Close succeeded")
	}
}

// TestSymbolsMatchPythonAST compares Symbols with the top-level functions,
// classes and methods CPython's ast finds, including line spans.
func TestSymbolsMatchPythonAST(t *testing.T) {
	python := pythonForTests(t)
	files := fixtureFiles(t)
	script := `import ast, json, sys
for path in sys.stdin.read().split("\n"):
    if not path:
        continue
    try:
        tree = ast.parse(open(path, "rb").read())
    except SyntaxError:
        print("null")
        continue
    out = []
    def span(node):
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        return start - 1, node.end_lineno - 1
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            s, e = span(node)
            out.append({"kind": kind, "name": node.name, "start_line": s, "end_line": e})
            if kind == "class":
                for child in node.body:
                    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        s, e = span(child)
                        out.append({"kind": "method", "name": child.name, "parent": node.name, "start_line": s, "end_line": e})
    print(json.dumps(out))
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(files, "\n"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("%d results for %d files", len(lines), len(files))
	}
	for i, f := range files {
		if lines[i] == "null" {
			continue // CPython rejects the file: no oracle
		}
		var want []Symbol
		if err := json.Unmarshal([]byte(lines[i]), &want); err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(f)
		got, err := Symbols(src)
		if err != nil {
			t.Fatal(err)
		}
		for j := range got {
			s := got[j]
			if s.StartByte < 0 || s.EndByte > len(src) || s.StartByte >= s.EndByte {
				t.Errorf("%s: bad byte span %+v", f, s)
			}
			if !bytes.Contains(src[s.StartByte:s.EndByte], []byte(s.Name)) {
				t.Errorf("%s: span of %s does not contain its name", f, s.Name)
			}
			got[j].StartByte, got[j].EndByte = 0, 0
		}
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", f, got, want)
		}
	}
}

func TestProfileSaveLoad(t *testing.T) {
	p := learnFixture(t)
	path := filepath.Join(t.TempDir(), "nested", "style.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Dimensions, q.Dimensions) || q.Version != ProfileVersion || q.Files != p.Files {
		t.Errorf("round trip changed the profile")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	raw, _ := os.ReadFile(path)
	// A profile saved before "schema_version" still loads.
	if err := os.WriteFile(path, bytes.Replace(raw, []byte(`"schema_version": 1`), []byte(`"version": 1`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if old, err := LoadProfile(path); err != nil || old.Version != ProfileVersion {
		t.Errorf("a profile with the old \"version\" key: %v", err)
	}
	if err := os.WriteFile(path, bytes.Replace(raw, []byte(`"schema_version": 1`), []byte(`"schema_version": 99`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProfile(path); err == nil || !strings.Contains(err.Error(), "r2c style learn") {
		t.Errorf("a future version loads or the error names no fix: %v", err)
	}
	if _, err := LoadProfile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "r2c style learn") {
		t.Errorf("missing profile: %v", err)
	}
}

func TestSummary(t *testing.T) {
	s := learnFixture(t).Summary()
	for _, want := range []string{"- function names: snake_case (100% of 11)", "- strings: double", "- parameters: annotated"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	// 4 classes are below the evidence threshold: not a preference yet.
	if strings.Contains(s, "class names") {
		t.Errorf("summary states a weakly evidenced preference:\n%s", s)
	}
	if got := NewProfile().Summary(); !strings.Contains(got, "no strong style preferences") {
		t.Errorf("empty profile summary %q", got)
	}
}

func TestNaming(t *testing.T) {
	for name, want := range map[string]string{
		"load_data": "snake_case", "loadData": "camelCase", "LoadData": "PascalCase", "MAX_SIZE": "UPPER_CASE",
		"_private_name": "snake_case", "__init__": "", "forward": "", "x": "", "X": "", "Load_data": "other",
		"HTTPServer": "PascalCase", "getHTTPResponse": "camelCase", "N2": "UPPER_CASE",
	} {
		if got := classifyName(name); got != want {
			t.Errorf("classifyName(%q) = %q, want %q", name, got, want)
		}
	}
	for _, c := range []struct{ in, conv, want string }{
		{"getHTTPResponse", "snake_case", "get_http_response"},
		{"_loadData", "snake_case", "_load_data"},
		{"load_data", "camelCase", "loadData"},
		{"early_stopper", "PascalCase", "EarlyStopper"},
		{"maxSize", "UPPER_CASE", "MAX_SIZE"},
		{"Class_", "snake_case", "class"},
	} {
		got := convertName(c.in, c.conv)
		if c.in == "Class_" {
			// "class" is a keyword: no usable rename.
			c.want = ""
		}
		if got != c.want {
			t.Errorf("convertName(%q, %s) = %q, want %q", c.in, c.conv, got, c.want)
		}
	}
}

// TestRenameFixApplies applies every suggested fix of the off-style file
// and checks with CPython that the result still compiles and that the
// renamed deviations are gone.
func TestRenameFixApplies(t *testing.T) {
	python := pythonForTests(t)
	p := learnFixture(t)
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	src := archiveFile(t, ar, "check/off_style.py")
	r, err := CheckSource(p, "off.py", src)
	if err != nil {
		t.Fatal(err)
	}
	fixes := 0
	for _, d := range r.Diagnostics {
		if d.Fix == nil || !strings.HasPrefix(d.Rule, "naming.") {
			continue
		}
		fixes++
		fixed := applyEdits(t, src, d.Fix.Edits)
		cmd := exec.Command(python, "-c", "import sys; compile(sys.stdin.read(), 'f.py', 'exec')")
		cmd.Stdin = bytes.NewReader(fixed)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s broke the file: %s", d.Fix.Title, out)
		}
		after, _ := CheckSource(p, "off.py", fixed)
		for _, d2 := range after.Diagnostics {
			if d2.Rule == d.Rule && d2.Range == d.Range {
				t.Errorf("%s: the deviation is still reported", d.Fix.Title)
			}
		}
	}
	if fixes < 5 {
		t.Errorf("only %d naming fixes offered", fixes)
	}
}

// applyEdits applies non-overlapping edits given in positions.
func applyEdits(t *testing.T, src []byte, edits []TextEdit) []byte {
	t.Helper()
	offset := func(p Position) int {
		line := 0
		for i := range src {
			if line == p.Line {
				return i + p.Column
			}
			if src[i] == '\n' {
				line++
			}
		}
		return len(src)
	}
	out := append([]byte(nil), src...)
	for i := len(edits) - 1; i >= 0; i-- {
		s, e := offset(edits[i].Range.Start), offset(edits[i].Range.End)
		out = append(out[:s], append([]byte(edits[i].NewText), out[e:]...)...)
	}
	return out
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const ownCode = "def load_data(path_name):\n    return path_name\n"

// TestLearnSkipsForeignCode: outside git, virtual environments, vendored
// and build folders and generated files are not learned from.
func TestLearnSkipsForeignCode(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"src/own.py":                             ownCode,
		"venv/lib/python3.11/site-packages/x.py": "def someFunc(): pass\n",
		".venv/y.py":                             "def someFunc(): pass\n",
		"node_modules/pkg/z.py":                  "def someFunc(): pass\n",
		"build/lib/w.py":                         "def someFunc(): pass\n",
		"src/api_pb2.py":                         "def someFunc(): pass\n",
		"src/gen.py":                             "# Code generated by tool. DO NOT EDIT.\ndef someFunc(): pass\n",
	})
	p, err := Learn(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if p.Files != 1 || p.Dimensions["naming.function"]["camelCase"] != 0 {
		t.Errorf("learned %d files, naming %v; want only src/own.py", p.Files, p.Dimensions["naming.function"])
	}
	if len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0], "gen.py") {
		t.Errorf("skipped %q, want gen.py named as generated", p.Skipped)
	}
}

// TestLearnGitTrackedOnly: inside a git work tree only tracked files count.
func TestLearnGitTrackedOnly(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"tracked.py": ownCode, "scratch.py": "def someFunc(): pass\n"})
	for _, args := range [][]string{{"init", "-q"}, {"add", "tracked.py"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	p, err := Learn(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if p.Files != 1 || p.Dimensions["naming.function"]["camelCase"] != 0 {
		t.Errorf("learned %d files (%v); want only the tracked one", p.Files, p.Dimensions["naming.function"])
	}
}

func TestLearnCancelled(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.py": ownCode})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Learn(ctx, []string{dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("Learn with a cancelled context: %v", err)
	}
}

func TestDocstringFormat(t *testing.T) {
	for doc, want := range map[string]string{
		`"""Compute the loss."""`:                                                "plain",
		`"""Note: the loss is averaged."""`:                                      "plain",
		"\"\"\"Scores.\n\n    ------\n    \"\"\"":                                "plain",
		"\"\"\"Scores.\n\n    Args:\n        x: the input.\n    \"\"\"":          "google",
		"\"\"\"Scores.\n\n    Returns:\n        the scores.\n    \"\"\"":         "google",
		"\"\"\"Scores.\n\n    Parameters\n    ----------\n    x : array\n\"\"\"": "numpy",
		"\"\"\"Scores.\n\n    Returns\n    ---\n    \"\"\"":                      "numpy",
		"\"\"\"Scores.\n\n    :param x: the input.\n    \"\"\"":                  "rest",
		"\"\"\"Scores.\n\n    :rtype: float\n    \"\"\"":                         "rest",
	} {
		if got := docstringFormat([]byte(doc)); got != want {
			t.Errorf("%q: %s, want %s", doc, got, want)
		}
	}
}
