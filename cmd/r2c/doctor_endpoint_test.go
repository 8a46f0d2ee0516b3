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
