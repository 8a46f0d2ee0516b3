package agents

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/style"
)

// TestInput is what the Validator writes one module's tests from: the
// Spec and Plan only, never the implementation, so tests encode the paper
// rather than whatever the code happens to do.
type TestInput struct {
	Spec   *Spec
	Plan   *Plan
	Module string // the planned file the tests are for
	// Problem says why the previous tests for Module could not run, when
	// they are written again.
	Problem string
}

// Validator writes pytest tests from the Spec and Plan and runs the
// model-free validation (syntax, sandboxed tests, style) on generated code.
type Validator struct {
	Settings
}

type testView struct {
	TestInput
	File       *PlannedFile
	ImportName string
	TestPath   string
}

func (v *testView) partTexts() map[PromptPart]string {
	return map[PromptPart]string{PartFailingTest: v.Problem}
}

// TestPath is where the tests of module live: next to the package root, so
// pytest's default import mode can import the module by its dotted name.
func TestPath(module string) string {
	return "test_" + strings.ReplaceAll(strings.TrimSuffix(module, ".py"), "/", "_") + ".py"
}

// ImportName is module's dotted Python import name ("pkg/mask.py" → "pkg.mask").
func ImportName(module string) string {
	return strings.ReplaceAll(strings.TrimSuffix(path.Clean(module), ".py"), "/", ".")
}

// GenerateTests asks the model for a pytest file for one planned module:
// output shapes and dtypes, invariants the equations imply, and small
// known values computed by hand from the paper's equations.
func (v *Validator) GenerateTests(ctx context.Context, in TestInput) (*Code, llm.Usage, error) {
	if in.Spec == nil || in.Plan == nil {
		return nil, llm.Usage{}, fmt.Errorf("validator: spec and plan are required")
	}
	file := in.Plan.File(in.Module)
	if file == nil {
		return nil, llm.Usage{}, fmt.Errorf("validator: module %q is not in the plan", in.Module)
	}
	view := testView{TestInput: in, File: file, ImportName: ImportName(in.Module), TestPath: TestPath(in.Module)}
	p, err := v.fit(ctx, fitSpec{agent: NameValidator, taskID: TestTaskPrefix + in.Module, template: "validator", view: &view,
		fix: "plan smaller modules or lower agents.validator.max_tokens"})
	if err != nil {
		return nil, llm.Usage{}, err
	}
	// A test file that does not parse would stop pytest for every module,
	// so it is sent back at once (tree-sitter, no interpreter needed).
	var total llm.Usage
	for attempt := 0; ; attempt++ {
		code, usage, err := v.chatCode(ctx, NameValidator, TestTaskPrefix+in.Module, p)
		total = total.Add(usage)
		if err != nil {
			return nil, total, fmt.Errorf("validator: tests for %s: %w", in.Module, err)
		}
		problems := syntaxProblems(view.TestPath, code)
		if problems == "" {
			return &Code{TaskID: TestTaskPrefix + in.Module, File: view.TestPath, Source: code}, total, nil
		}
		if attempt == 1 {
			return nil, total, fmt.Errorf("validator: tests for %s still do not parse after one repair: %s", in.Module, problems)
		}
		p = &prompt{maxTokens: p.maxTokens, followUp: true, msgs: append(slices.Clone(p.msgs),
			llm.Message{Role: llm.RoleAssistant, Content: "```python\n" + code + "```"},
			llm.Message{Role: llm.RoleUser, Content: "That file does not parse:\n" + problems + "\nAnswer with the corrected " + view.TestPath + " in one ```python block."})}
	}
}

// syntaxProblems lists the syntax errors tree-sitter finds in src, one per
// line, or "" when it parses.
func syntaxProblems(path, src string) string {
	report, err := style.CheckSource(nil, path, []byte(src))
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, d := range report.Diagnostics {
		if d.Severity == style.SeverityError {
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", path, d.Range.Start.Line+1, d.Range.Start.Column+1, d.Message))
		}
	}
	return strings.Join(lines, "\n")
}
