package llm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

func TestInfoReadsTGI(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxInputTokens: 8000, MaxTotalTokens: 8192, Version: "2.4.1", LegacyMaxInputLength: legacy}))
		c := newClient(t, srv, nil)
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.Kind != llm.ServerTGI || info.ModelID != "codellama/CodeLlama-7b-Instruct-hf" || info.MaxInputTokens != 8000 || info.MaxTotalTokens != 8192 || info.Version != "2.4.1" {
			t.Errorf("legacy=%v: info = %+v", legacy, info)
		}
		// Prompt budget: the tighter of max_input_tokens and
		// max_total_tokens - max_new_tokens, less a 5% margin.
		for _, tc := range []struct{ maxNew, want int }{{1000, 7192 * 95 / 100}, {100, 8000 * 95 / 100}} {
			got, err := c.PromptBudget(context.Background(), tc.maxNew)
			if err != nil || got != tc.want {
				t.Errorf("budget(%d) = %d, %v; want %d", tc.maxNew, got, err, tc.want)
			}
		}
		// Cached after the first success.
		before := len(srv.Requests())
		if _, err := c.Info(context.Background()); err != nil || len(srv.Requests()) != before {
			t.Errorf("info not cached: %v", err)
		}
	}
}

func TestInfoDetectsOtherServers(t *testing.T) {
	cases := []struct {
		kind  llmtest.Kind
		want  llm.ServerKind
		total int
	}{
		{llmtest.KindVLLM, llm.ServerVLLM, 16384},
		{llmtest.KindOllama, llm.ServerOllama, 0},
		{llmtest.KindLlamaCpp, llm.ServerLlamaCpp, 16384}, // /props n_ctx
	}
	for _, tc := range cases {
		srv := llmtest.New(t, llmtest.WithKind(tc.kind),
			llmtest.WithInfo(llmtest.Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxTotalTokens: 16384}),
			llmtest.WithModels("codellama/CodeLlama-7b-Instruct-hf", "my-style-lora"))
		c := newClient(t, srv, nil)
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.Kind != tc.want || info.MaxTotalTokens != tc.total || !slices.Equal(info.Models, []string{"codellama/CodeLlama-7b-Instruct-hf", "my-style-lora"}) {
			t.Errorf("%s: info = %+v", tc.kind, info)
		}
		models, err := c.Models(context.Background())
		if err != nil || len(models) != 2 || models[1] != "my-style-lora" {
			t.Errorf("%s: models %v %v", tc.kind, models, err)
		}
	}
}

func TestPromptBudgetWithoutAServerLimit(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithKind(llmtest.KindOllama))
	c := newClient(t, srv, nil)
	if got, err := c.PromptBudget(context.Background(), 1096); err != nil || got != (llm.DefaultContextTokens-1096)*95/100 {
		t.Errorf("default budget = %d, %v", got, err)
	}
	c2 := newClient(t, srv, func(cfg *llm.Config) { cfg.ContextTokens = 16000 })
	if got, _ := c2.PromptBudget(context.Background(), 0); got != (16000-256)*95/100 {
		t.Errorf("configured budget = %d", got)
	}
}

func TestInfoOnAnUnreachableServerSaysWhatToCheck(t *testing.T) {
	srv := llmtest.New(t)
	url := srv.URL()
	srv.Close()
	c, err := llm.New(llm.Config{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Info(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach a model server at "+url) {
		t.Errorf("err = %v", err)
	}
}

func TestEmbed(t *testing.T) {
	srv := llmtest.New(t)
	c := newClient(t, srv, nil)
	inputs := []string{"scaled dot product attention", "Adam optimizer update rule", "scaled dot product attention"}
	vecs, err := c.Embed(context.Background(), "BAAI/bge-small-en-v1.5", inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 {
		t.Fatalf("%d vectors", len(vecs))
	}
	for i, in := range inputs {
		if !slices.Equal(vecs[i], llmtest.Embedding(in, 16)) {
			t.Errorf("vector %d does not match the server's for %q", i, in)
		}
	}
	r := srv.Requests()[0]
	if r.Path != "/v1/embeddings" || r.Model != "BAAI/bge-small-en-v1.5" || !slices.Equal(r.Input, inputs) {
		t.Errorf("request = %+v", r)
	}
	if vecs, err := c.Embed(context.Background(), "", nil); err != nil || vecs != nil {
		t.Errorf("empty input: %v %v", vecs, err)
	}
}

func TestEmbedCancelled(t *testing.T) {
	srv := llmtest.New(t)
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Embed(ctx, "m", []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestCheckModel(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Model("missing-adapter"), llmtest.Reply{Status: 422, ErrorMessage: "Adapter missing-adapter is not loaded"})
	srv.On(llmtest.Always(), llmtest.Reply{Content: "OK"})
	c := newClient(t, srv, nil)
	if err := c.CheckModel(context.Background(), "my-style-lora"); err != nil {
		t.Errorf("served adapter: %v", err)
	}
	err := c.CheckModel(context.Background(), "missing-adapter")
	if err == nil || !strings.Contains(err.Error(), "is not loaded") {
		t.Errorf("missing adapter: %v", err)
	}
	if r := srv.ChatRequests()[0]; r.MaxTokens != 1 || r.Model != "my-style-lora" {
		t.Errorf("probe = %+v", r)
	}
}
