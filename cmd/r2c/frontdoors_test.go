package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/style"
)

// comparable drops what differs between two runs of the same validation:
// timing, the sandbox's temporary folder (in tracebacks and pytest's output).
func comparable(res *core.ValidateResult) *core.ValidateResult {
	c := *res
	rep := *res.Report
	rep.Duration, rep.TestOutput, rep.RunDir = 0, "", ""
	rep.Failures = append(rep.Failures[:0:0], rep.Failures...)
	for i := range rep.Failures {
		rep.Failures[i].Traceback = ""
	}
	c.Report = &rep
	return &c
}

// The same module validated through the CLI (r2c validate --json, run's
// argument list) and through the language server (r2c.validate from an
// editor, over the real protocol) gives the same result: the same tests
// found under tests/, the same diagnostics and failures, the same style
// score against the workspace's profile with its min_evidence, the same
// message.
func TestValidateGivesTheSameResultThroughTheCLIAndTheLanguageServer(t *testing.T) {
	pythonWithPytest(t)
	isolatedWorkspace(t)
	learned := t.TempDir()
	if err := os.WriteFile(filepath.Join(learned, "a.py"), []byte("def compute_value(input_value):\n    result_value = input_value + 1\n    return result_value\n\n\ndef other_value(x_value):\n    return x_value\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	profile, err := style.Learn(context.Background(), []string{learned})
	if err != nil {
		t.Fatal(err)
	}
	profileJSON, err := json.Marshal(profile)
	if err != nil {
		t.Fatal(err)
	}
	module := "def addValues(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n"
	tests := "from calc import addValues, div\n\n\ndef test_add():\n    assert addValues(1, 2) == 3\n\n\ndef test_div_zero():\n    assert div(1, 0) == 0\n"
	e := lsptest.New(t, cliServe(), lsptest.Config{Files: map[string]string{
		"r2c.toml":           "[style]\nmin_evidence = 2\n",
		".r2c/style.json":    string(profileJSON),
		"calc.py":            module,
		"tests/test_calc.py": tests,
		"tests/test_more.py": "def test_never_run():\n    assert False\n",
	}})

	out, errOut, code := runCLI(t, "validate", "--json", e.Path("calc.py"))
	if code != exitFail {
		t.Fatalf("CLI: code %d\n%s\n%s", code, out, errOut)
	}
	var viaCLI core.ValidateResult
	if err := json.Unmarshal([]byte(out), &viaCLI); err != nil || viaCLI.Report == nil {
		t.Fatalf("CLI output is not a ValidateResult: %v\n%s", err, out)
	}

	e.OpenFile("calc.py")
	raw, _ := json.Marshal(map[string]string{"uri": string(e.URI("calc.py"))})
	var viaLSP core.ValidateResult
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandValidate, Arguments: []protocol.LSPAny{raw}}, &viaLSP); err != nil || viaLSP.Report == nil {
		t.Fatalf("r2c.validate: %v", err)
	}

	// The rules really applied: discovery picked tests/test_calc.py only,
	// the profile counted, a test failed.
	rep := viaCLI.Report
	if strings.Join(rep.TestPaths, ",") != "tests/test_calc.py" || rep.Tests.Total != 2 || rep.Tests.Failed != 1 || !rep.StyleChecked || rep.StyleScore >= 100 {
		t.Errorf("CLI report: tests %v %+v, style checked %v score %v", rep.TestPaths, rep.Tests, rep.StyleChecked, rep.StyleScore)
	}
	a, b := comparable(&viaCLI), comparable(&viaLSP)
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.MarshalIndent(a, "", "  ")
		jb, _ := json.MarshalIndent(b, "", "  ")
		t.Errorf("the CLI and the language server differ:\nCLI:\n%s\nlanguage server:\n%s", ja, jb)
	}
}
