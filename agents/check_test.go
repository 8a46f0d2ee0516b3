package agents

import (
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// attributeOne runs attribute on a one-module plan with its test file.
func attributeOne(t *testing.T, d validate.Diagnostic) *Verdict {
	t.Helper()
	const module = "attention.py"
	plan := &Plan{Tasks: []Task{{ID: "attention", File: module}}}
	tests := map[string]string{TestPath(module): "def test_x():\n    pass\n"}
	d.Path, d.Source, d.Severity = TestPath(module), validate.SourceTest, style.SeverityError
	report := &validate.Report{Diagnostics: []validate.Diagnostic{d}}
	if report.OK() {
		t.Fatal("an error diagnostic must make the report fail")
	}
	return attribute(plan, []string{module}, tests, report)
}

func TestSuiteThatShowsNothingIsABrokenTest(t *testing.T) {
	v := attributeOne(t, validate.Diagnostic{Code: validate.CodeTestSuite, Message: "pytest collected no tests"})
	if len(v.BrokenTests) != 1 || !strings.Contains(v.TestEvidence[v.BrokenTests[0]], "collected no tests") {
		t.Fatalf("want the test file rewritten with the reason, got broken %v evidence %v", v.BrokenTests, v.TestEvidence)
	}
	if len(v.FailingTasks) != 0 {
		t.Errorf("the module was blamed for its tests collecting nothing: %v", v.FailingTasks)
	}
}

func TestUnfinishedRunIsEvidenceForTheModule(t *testing.T) {
	v := attributeOne(t, validate.Diagnostic{Code: validate.CodeTestRun, Message: "the test run did not finish (killed: wall-clock limit 60s)"})
	if len(v.BrokenTests) != 0 {
		t.Errorf("a timeout is not the tests' fault alone: broken %v", v.BrokenTests)
	}
	if got := v.Evidence["attention.py"]; !strings.Contains(got, "wall-clock") {
		t.Fatalf("the timeout must reach the Implementer as evidence, got %q", got)
	}
	if len(v.FailingTasks) != 1 || v.FailingTasks[0] != "attention" {
		t.Errorf("failing tasks %v", v.FailingTasks)
	}
}
