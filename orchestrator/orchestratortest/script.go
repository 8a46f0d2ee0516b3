// Package orchestratortest scripts the fake model server (llm/llmtest) with
// realistic answers for a real paper section — Section 3.2, "Scaled
// Dot-Product Attention", of the Transformer paper — so the orchestrator and
// the CLI can be tested end to end over real HTTP with real pytest runs.
package orchestratortest

import (
	"embed"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm/llmtest"
)

//go:embed testdata
var files embed.FS

// Answer returns one scripted model answer from testdata/model.
func Answer(t testing.TB, name string) string {
	t.Helper()
	b, err := files.ReadFile("testdata/model/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Paper writes the fixture paper (Markdown) into a temporary folder and
// returns its path.
func Paper(t testing.TB) string {
	t.Helper()
	b, err := files.ReadFile("testdata/attention.md")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "attention.md")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// UserContains matches requests whose last user message holds every part.
func UserContains(parts ...string) llmtest.Matcher {
	return func(r *llmtest.Recorded) bool {
		for _, p := range parts {
			if !strings.Contains(r.LastUser(), p) {
				return false
			}
		}
		return true
	}
}

// Marker strings of the prompts, for matching requests to agents.
const (
	AnalyzerPrompt    = "You are the Analyzer"
	PlannerPrompt     = "You are the Planner"
	ValidatorPrompt   = "You are the Validator"
	CorrectionPrompt  = "previous version failed"
	RevisionPrompt    = "previous plan kept failing"
	SoftmaxTask       = "Task softmax:"
	AttentionTask     = "Task attention:"
	FixedAttention    = "attention_fixed.txt"
	UnscaledAttention = "attention_unscaled.txt"
)

// Script adds rules answering every agent for Section 3.2: the Analyzer's
// first JSON is cut off (the client re-asks and gets it whole), the
// Planner's first request meets a 503 (retried), and the first attention
// code forgets the 1/sqrt(d_k) scaling, which only the known-value test
// catches; the correction round (prompt with the evidence) gets it right.
// Rules added before Script win over its rules.
func Script(t testing.TB, srv *llmtest.Server) {
	spec := Answer(t, "spec.json")
	srv.On(llmtest.Contains(AnalyzerPrompt),
		llmtest.Reply{Content: spec[:len(spec)/2]},
		llmtest.Reply{Content: "```json\n" + spec + "```"})
	srv.On(llmtest.Contains(PlannerPrompt),
		llmtest.Reply{Status: 503, ErrorMessage: "Model is overloaded", ErrorType: "overloaded"},
		llmtest.Reply{Content: Answer(t, "plan.json")})
	srv.On(llmtest.Contains(ValidatorPrompt), llmtest.Reply{Content: Answer(t, "test_attention.txt")})
	srv.On(UserContains(AttentionTask, CorrectionPrompt), llmtest.Reply{Content: Answer(t, FixedAttention)})
	srv.On(UserContains(AttentionTask), llmtest.Reply{Content: Answer(t, UnscaledAttention)})
	srv.On(UserContains(SoftmaxTask), llmtest.Reply{Content: Answer(t, "softmax.txt")})
}
