package lsp_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

func diagCode(d protocol.Diagnostic) string {
	if s, ok := d.Code.(protocol.String); ok {
		return string(s)
	}
	return ""
}

func diagSource(d protocol.Diagnostic) string { s, _ := d.Source.Get(); return s }

func hasCode(code string) func([]protocol.Diagnostic) bool {
	return func(ds []protocol.Diagnostic) bool {
		return slices.ContainsFunc(ds, func(d protocol.Diagnostic) bool { return diagCode(d) == code })
	}
}

func python(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH: needed as the oracle for Python syntax")
	}
	return p
}

// syntaxErrorLine asks CPython where src's first syntax error is (0-based).
func syntaxErrorLine(t *testing.T, src string) int {
	t.Helper()
	cmd := exec.Command(python(t), "-c", "import ast,sys\ntry:\n ast.parse(sys.stdin.read())\n print(-1)\nexcept SyntaxError as e:\n print(e.lineno-1)")
	cmd.Stdin = strings.NewReader(src)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// functionNames asks CPython for the names of src's functions.
func functionNames(t *testing.T, src string) []string {
	t.Helper()
	cmd := exec.Command(python(t), "-c", "import ast,sys\nfor n in ast.walk(ast.parse(sys.stdin.read())):\n if isinstance(n, ast.FunctionDef): print(n.name)")
	cmd.Stdin = strings.NewReader(src)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 could not parse the buffer: %v\n%s", err, src)
	}
	return strings.Fields(string(out))
}

func TestSyntaxDiagnosticsWithoutProfileAndOneHint(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: noProfile})
	src := "import os\n\n\ndef f(:\n    pass\n"
	e.CreateBuffer("bad.py", src)
	ds := e.AwaitDiagnostics("bad.py", "a syntax error", hasCode("syntax-error"))
	want := syntaxErrorLine(t, src)
	for _, d := range ds {
		if diagCode(d) != "syntax-error" {
			t.Errorf("without a profile only syntax errors are reported, got %s %q", diagCode(d), d.Message)
			continue
		}
		if int(d.Range.Start.Line) != want || d.Severity != protocol.DiagnosticSeverityError || diagSource(d) != "r2c-syntax" {
			t.Errorf("syntax diagnostic %+v; CPython says line %d", d, want)
		}
	}
	// Fixing the error clears it, for the new version.
	e.EditBuffer("bad.py", lsptest.Edit{Range: protocol.Range{Start: e.PositionOf("bad.py", ":\n"), End: e.PositionOf("bad.py", ":\n")}, Text: ")"})
	if syntaxErrorLine(t, e.BufferText("bad.py")) != -1 {
		t.Fatalf("test bug: the edit did not fix the syntax: %q", e.BufferText("bad.py"))
	}
	e.AwaitDiagnostics("bad.py", "no diagnostics", func(ds []protocol.Diagnostic) bool { return len(ds) == 0 })

	e.CreateBuffer("other.py", "x = 1\n")
	e.AwaitDiagnostics("other.py", "a publication", func([]protocol.Diagnostic) bool { return true })
	hints := 0
	for _, m := range e.Snapshot().Messages {
		if strings.Contains(m.Message, "no style profile") && strings.Contains(m.Message, lsp.CommandLearnStyle) {
			hints++
		}
	}
	if hints != 1 {
		t.Fatalf("missing-profile hints = %d, want exactly 1", hints)
	}
	// Closing clears the editor's diagnostics.
	e.Notify(protocol.MethodTextDocumentDidClose, map[string]any{"textDocument": map[string]any{"uri": e.URI("other.py")}})
	e.Await("cleared diagnostics", func(s *lsptest.State) bool {
		v := s.Published[e.URI("other.py")]
		return len(v) >= 2 && v[len(v)-1] == -1 && len(s.Diagnostics[e.URI("other.py")].Diagnostics) == 0
	})
}

// styleWorkspace is a small code base with a consistent snake_case style.
func styleWorkspace() map[string]string {
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		files["lib/"+n+".py"] = "def compute_" + n + "(first, second):\n    \"\"\"Add.\"\"\"\n    total_sum = first + second\n    return total_sum\n\n\ndef scale_" + n + "(value):\n    return value * 2\n"
	}
	return files
}

func TestLearnStyleThenQuickFix(t *testing.T) {
	python(t)
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
		Files: styleWorkspace(),
		InitializationOptions: map[string]any{
			"style":  map[string]any{"profile": ".r2c/style.json", "min_evidence": 2},
			"server": map[string]any{"debounce": "5ms"},
		},
	})
	camel := "def computeValue(first, second):\n    return first + second\n\n\nresult = computeValue(1, 2)\n"
	e.CreateBuffer("lib/camel.py", camel)
	// Without a profile: no style findings.
	e.AwaitDiagnostics("lib/camel.py", "no diagnostics yet", func(ds []protocol.Diagnostic) bool { return len(ds) == 0 })

	var sum lsp.LearnSummary
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandLearnStyle}, &sum); err != nil {
		t.Fatalf("learnStyle: %v", err)
	}
	if sum.Files < 6 || !strings.Contains(sum.Summary, "snake_case") {
		t.Fatalf("learn summary = %+v", sum)
	}
	if _, err := os.Stat(e.Path(".r2c/style.json")); err != nil {
		t.Fatalf("profile not saved: %v", err)
	}
	ds := e.AwaitDiagnostics("lib/camel.py", "a naming diagnostic", hasCode("naming.function"))
	for _, d := range ds {
		if diagCode(d) == "naming.function" && (diagSource(d) != "r2c-style" || d.Range.Start != e.PositionOf("lib/camel.py", "computeValue")) {
			t.Errorf("naming diagnostic %+v", d)
		}
	}
	var progressEnded bool
	for _, p := range e.Snapshot().Progress {
		ok, msg := p.Ended()
		progressEnded = progressEnded || (ok && strings.Contains(msg, "learned your style"))
	}
	if !progressEnded {
		t.Error("learnStyle reported no finished progress")
	}

	pos := e.PositionOf("lib/camel.py", "computeValue")
	var fix *protocol.CodeAction
	for _, a := range e.CodeActions("lib/camel.py", protocol.Range{Start: pos, End: pos}, protocol.CodeActionKindQuickFix) {
		if strings.Contains(a.Title, "compute_value") {
			fix = &a
		}
	}
	if fix == nil {
		t.Fatal("no quick fix for the camelCase function")
	}
	if err := e.ApplyCodeAction(*fix); err != nil {
		t.Fatal(err)
	}
	names := functionNames(t, e.BufferText("lib/camel.py"))
	if !slices.Equal(names, []string{"compute_value"}) {
		t.Fatalf("functions after the fix = %v", names)
	}
	if !strings.Contains(e.BufferText("lib/camel.py"), "result = compute_value(1, 2)") {
		t.Errorf("call site not renamed: %q", e.BufferText("lib/camel.py"))
	}
	e.AwaitDiagnostics("lib/camel.py", "the naming diagnostic gone", func(ds []protocol.Diagnostic) bool { return !hasCode("naming.function")(ds) })
}

func TestDiagnosticsAreDebouncedAndNeverStale(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/none.json"},
		"server": map[string]any{"debounce": "2s"},
	}})
	e.CreateBuffer("t.py", "x = 1\n")
	e.AwaitDiagnostics("t.py", "the first publication", func([]protocol.Diagnostic) bool { return true })
	// Five quick edits, the last one leaving a syntax error.
	for i := 0; i < 4; i++ {
		e.EditBuffer("t.py", lsptest.Edit{Range: protocol.Range{}, Text: "y = 2\n"})
	}
	e.EditBuffer("t.py", lsptest.Edit{Range: protocol.Range{}, Text: "def (\n"})
	e.AwaitDiagnostics("t.py", "the syntax error of the last version", hasCode("syntax-error"))
	versions := e.Snapshot().Published[e.URI("t.py")]
	if !slices.Equal(versions, []int32{1, 6}) {
		t.Fatalf("published versions %v, want [1 6]: the debounce should coalesce the edits", versions)
	}
}

func TestStyleDiagnosticsCanBeTurnedOff(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: map[string]any{
		"style": map[string]any{"profile": ".r2c/none.json", "diagnostics": false},
	}})
	e.CreateBuffer("bad.py", "def (\n")
	e.AwaitDiagnostics("bad.py", "an empty publication", func(ds []protocol.Diagnostic) bool { return len(ds) == 0 })
	// Turning them on through didChangeConfiguration re-checks open files.
	e.Notify(protocol.MethodWorkspaceDidChangeConfiguration, map[string]any{"settings": map[string]any{"r2c": map[string]any{"style": map[string]any{"diagnostics": true}}}})
	e.AwaitDiagnostics("bad.py", "the syntax error", hasCode("syntax-error"))
}

func TestBadConfigurationIsShownWithTheFix(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
		Files:                 map[string]string{"r2c.toml": "rounds = -1\n"},
		InitializationOptions: map[string]any{"styel": 1},
	})
	s := e.Await("a configuration error message", func(s *lsptest.State) bool {
		return slices.ContainsFunc(s.Messages, func(m protocol.ShowMessageParams) bool {
			return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "configuration")
		})
	})
	for _, m := range s.Messages {
		if strings.Contains(m.Message, "configuration") {
			for _, want := range []string{"styel", "rounds must be at least 1", "r2c.toml", "r2c doctor"} {
				if !strings.Contains(m.Message, want) {
					t.Errorf("message lacks %q: %s", want, m.Message)
				}
			}
		}
	}
}

// TestDebounceDoesNotDelayTheFirstChange: after a quiet spell, the first
// change is checked at once (well within the debounce delay), and a second
// change that follows it within the delay waits for the delay, so a burst
// still costs one more check.
func TestDebounceDoesNotDelayTheFirstChange(t *testing.T) {
	const debounce = 1500 * time.Millisecond
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/none.json"},
		"server": map[string]any{"debounce": debounce.String()},
	}})
	e.CreateBuffer("q.py", "x = 1\n")
	e.AwaitDiagnostics("q.py", "the first publication", func([]protocol.Diagnostic) bool { return true })
	time.Sleep(debounce + 200*time.Millisecond) // a quiet spell
	start := time.Now()
	e.EditBuffer("q.py", lsptest.Edit{Range: protocol.Range{Start: protocol.Position{Line: 1}, End: protocol.Position{Line: 1}}, Text: "def (\n"})
	e.AwaitDiagnostics("q.py", "the syntax error of the first change", hasCode("syntax-error"))
	if waited := time.Since(start); waited >= debounce {
		t.Fatalf("the first change after a quiet spell was published after %v: delayed by the %v debounce", waited, debounce)
	}
	start = time.Now()
	e.EditBuffer("q.py", lsptest.Edit{Range: protocol.Range{Start: protocol.Position{Line: 1}, End: protocol.Position{Line: 2}}, Text: ""})
	e.AwaitDiagnostics("q.py", "the fix of the second change", func(ds []protocol.Diagnostic) bool { return !hasCode("syntax-error")(ds) })
	if waited := time.Since(start); waited < debounce {
		t.Fatalf("a change right after another was published after %v, before the %v debounce", waited, debounce)
	}
	if got := e.Snapshot().Published[e.URI("q.py")]; !slices.Equal(got, []int32{1, 2, 3}) {
		t.Fatalf("published versions %v, want [1 2 3]", got)
	}
}
