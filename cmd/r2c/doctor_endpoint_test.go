package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm/llmtest"
)

func TestDoctorChecksEndpointAndAdapters(t *testing.T) {
	root := isolatedWorkspace(t)
	srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxInputTokens: 4095, MaxTotalTokens: 4096}))
	srv.On(llmtest.Model("missing-adapter"), llmtest.Reply{Status: 422, ErrorMessage: "adapter missing-adapter is not loaded", ErrorType: "validation"})
	srv.On(llmtest.Always(), llmtest.Reply{Content: "ok"})
	toml := "endpoint = \"" + srv.URL() + "\"\n[model]\nname = \"my-style\"\n[agents.analyzer]\nname = \"tgi\"\n[agents.implementer]\nname = \"missing-adapter\"\n"
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := runCLI(t, "doctor", "--root", root)
	if code != exitFail {
		t.Fatalf("code %d with an adapter missing:\n%s", code, stdout)
	}
	for _, re := range []string{
		`\[ok  \] endpoint: tgi at http://\S+ serves codellama/CodeLlama-7b-Instruct-hf \(prompts up to 4095 tokens\)`,
		`\[ok  \] model "tgi": TGI's base model codellama/CodeLlama-7b-Instruct-hf, used by analyzer`,
		`\[ok  \] model "my-style": answers .*used by planner, validator`,
		`\[fail\] model "missing-adapter": not served \(used by implementer\): .*not loaded`,
		`fix: load the adapter with text-generation-launcher --lora-adapters missing-adapter=/path/to/adapter`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("doctor output lacks %s:\n%s", re, stdout)
		}
	}
}

func TestDoctorUnreachableEndpointNamesTheFix(t *testing.T) {
	root := isolatedWorkspace(t)
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte("endpoint = \"http://127.0.0.1:1/v1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := runCLI(t, "doctor", "--root", root)
	if code != exitFail || !strings.Contains(stdout, "[fail] endpoint: http://127.0.0.1:1/v1 is not reachable") || !strings.Contains(stdout, "R2C_ENDPOINT or --endpoint") {
		t.Fatalf("doctor output:\n%s", stdout)
	}
}

// --endpoint and --model check a server without any r2c.toml: chat
// template, streaming, and the server's limit (counted with its
// tokenizer) against each agent's fixed prompt and shortest answer.
func TestDoctorEndpointFlagChecksTemplateStreamingAndBudgets(t *testing.T) {
	root := isolatedWorkspace(t)
	srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxInputTokens: 4095, MaxTotalTokens: 4096}),
		llmtest.WithTokenizer(), llmtest.WithoutStreaming())
	srv.On(llmtest.Always(), llmtest.Reply{Content: "OK"})
	stdout, _, code := runCLI(t, "doctor", "--root", root, "--endpoint", srv.URL(), "--model", "my-lora")
	for _, re := range []string{
		`\[ok  \] endpoint: tgi at ` + regexp.QuoteMeta(srv.URL()),
		`\[ok  \] model "my-lora": answers .*used by analyzer, planner, implementer, validator`,
		`\[ok  \] chat template: system and user messages accepted`,
		`\[warn\] streaming: the server refuses streamed requests`,
		`\[(ok  |warn)\] context for analyzer: limit 4096 tokens \(TGI /info\); fixed prompt \d+ tokens \(counted by the server's tokenizer\); answer up to 1024, at least 512`,
		`\[ok  \] context for implementer: limit 4096 tokens`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("doctor output lacks %s:\n%s", re, stdout)
		}
	}
	_ = code

	// A server whose context cannot hold the Analyzer's schema and answer,
	// and that has no chat template.
	small := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "base-model", MaxInputTokens: 1199, MaxTotalTokens: 1200}))
	small.On(func(r *llmtest.Recorded) bool { return len(r.Messages) > 1 }, llmtest.Reply{Status: 422, ErrorType: "template_error", ErrorMessage: "Template error: template not found"})
	small.On(llmtest.Always(), llmtest.Reply{Content: "OK"})
	stdout, _, code = runCLI(t, "doctor", "--root", root, "--endpoint", small.URL(), "--model", "tgi")
	if code != exitFail {
		t.Errorf("code %d", code)
	}
	for _, re := range []string{
		`\[fail\] chat template: the server cannot apply a chat template.*Template error`,
		`fix: serve a model whose tokenizer_config.json has a chat_template`,
		`\[ok  \] streaming: answers stream`,
		`\[fail\] context for analyzer: limit 1200 tokens \(TGI /info\); fixed prompt \d+ tokens \(estimated: the server offers no /tokenize\)`,
		`fix: start the server with a longer context`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("doctor output lacks %s:\n%s", re, stdout)
		}
	}
}
