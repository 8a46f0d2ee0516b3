package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

func TestContextLimitFromEachServer(t *testing.T) {
	info := llmtest.Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxInputTokens: 4000, MaxTotalTokens: 4096}
	cases := []struct {
		kind llmtest.Kind
		want llm.ContextLimit
	}{
		{llmtest.KindTGI, llm.ContextLimit{Total: 4096, Input: 4000, Source: llm.LimitFromTGI}},
		{llmtest.KindVLLM, llm.ContextLimit{Total: 4096, Source: llm.LimitFromModels}},
		{llmtest.KindLlamaCpp, llm.ContextLimit{Total: 4096, Source: llm.LimitFromProps}},
		{llmtest.KindOllama, llm.ContextLimit{Total: llm.DefaultContextTokens, Source: llm.LimitFromDefault}},
	}
	for _, tc := range cases {
		srv := llmtest.New(t, llmtest.WithKind(tc.kind), llmtest.WithInfo(info))
		got, err := newClient(t, srv, nil).ContextLimit(context.Background())
		if err != nil || got != tc.want {
			t.Errorf("%s: limit %+v, %v; want %+v", tc.kind, got, err, tc.want)
		}
	}
	srv := llmtest.New(t, llmtest.WithInfo(info))
	got, _ := newClient(t, srv, func(c *llm.Config) { c.ContextTokens = 8192 }).ContextLimit(context.Background())
	if got != (llm.ContextLimit{Total: 8192, Source: llm.LimitFromConfig}) {
		t.Errorf("configured limit: %+v", got)
	}
	if p := (llm.ContextLimit{Total: 4096, Input: 4000}).Prompt(1024); p != 3072 {
		t.Errorf("prompt room: %d", p)
	}
}

func TestCountTokensUsesTheServersTokenizer(t *testing.T) {
	text := "def attention(q, k, v):\n    return softmax(q @ k.T / np.sqrt(d_k)) @ v\n"
	for _, kind := range []llmtest.Kind{llmtest.KindTGI, llmtest.KindLlamaCpp, llmtest.KindVLLM} {
		srv := llmtest.New(t, llmtest.WithKind(kind), llmtest.WithTokenizer())
		c := newClient(t, srv, nil)
		got := c.CountTokens(context.Background(), text)
		if want := llmtest.Tokens(text); got != (llm.TokenCount{Tokens: want, Exact: true}) || want == llm.ApproxTokens(text) {
			t.Errorf("%s: count %+v, server says %d, estimate %d", kind, got, want, llm.ApproxTokens(text))
		}
		// Cached: a second count asks nothing.
		before := len(srv.Requests())
		c.CountTokens(context.Background(), text)
		if len(srv.Requests()) != before {
			t.Errorf("%s: count not cached", kind)
		}
	}
	// No tokenizer: an estimate, marked as such, and the route is asked once.
	srv := llmtest.New(t)
	c := newClient(t, srv, nil)
	for range 3 {
		if got := c.CountTokens(context.Background(), text); got != (llm.TokenCount{Tokens: llm.ApproxTokens(text)}) {
			t.Fatalf("estimate: %+v", got)
		}
	}
	if asked := len(srv.RequestsTo("/tokenize")); asked != 1 {
		t.Errorf("/tokenize asked %d times without a tokenizer", asked)
	}
}

func TestServerThatRefusesStreamingGetsPlainRequests(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithoutStreaming())
	srv.On(llmtest.Always(), llmtest.Reply{Content: "hello streaming world"})
	c := newClient(t, srv, nil)
	for i := range 2 {
		var got strings.Builder
		resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi"), OnToken: func(d string) { got.WriteString(d) }})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Content != "hello streaming world" || got.String() != resp.Content {
			t.Errorf("call %d: content %q, tokens %q", i, resp.Content, got.String())
		}
	}
	reqs := srv.ChatRequests()
	// First call: refused stream, then plain; second call: plain at once.
	if len(reqs) != 3 || !reqs[0].Stream || reqs[1].Stream || reqs[2].Stream {
		t.Fatalf("requests: %d, stream flags %v", len(reqs), streamFlags(reqs))
	}
}

func streamFlags(reqs []*llmtest.Recorded) []bool {
	var out []bool
	for _, r := range reqs {
		out = append(out, r.Stream)
	}
	return out
}

func TestStreamDroppedMidwayIsAnErrorNotAnAnswer(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "one two three four five", TruncateAfter: 2})
	c := newClient(t, srv, func(c *llm.Config) { c.MaxRetries = -1 })
	var got strings.Builder
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi"), OnToken: func(d string) { got.WriteString(d) }})
	if !errors.Is(err, llm.ErrTruncated) || resp != nil {
		t.Fatalf("dropped stream: %v, %+v", err, resp)
	}
	if got.String() != "one two" {
		t.Errorf("streamed before the drop: %q", got.String())
	}
}

// A server that reports 4096 tokens but enforces 3000: the client learns
// the real limit from the 422 and re-budgets max_tokens once.
func TestLyingLimitIsLearnedFromThe422(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "m", MaxInputTokens: 4095, MaxTotalTokens: 4096}), llmtest.WithEnforcedLimit(3000, 0))
	srv.On(llmtest.Always(), llmtest.Reply{Content: "ok"})
	c := newClient(t, srv, nil)
	if l, _ := c.ContextLimit(context.Background()); l.Total != 4096 {
		t.Fatalf("reported limit %+v", l)
	}
	msgs := userMsg(strings.Repeat("word ", 500))
	resp, err := c.Chat(context.Background(), llm.Request{Messages: msgs, MaxTokens: 2900})
	if err != nil {
		t.Fatal(err)
	}
	prompt := llmtest.PromptTokens([]llmtest.Message{{Role: "user", Content: msgs[0].Content}})
	reqs := srv.ChatRequests()
	if len(reqs) != 2 || reqs[0].MaxTokens != 2900 || reqs[1].MaxTokens != 3000-prompt-8 || resp.MaxTokens != reqs[1].MaxTokens {
		t.Fatalf("requests %d, max_tokens %d then %d (prompt %d), response %d", len(reqs), reqs[0].MaxTokens, reqs[len(reqs)-1].MaxTokens, prompt, resp.MaxTokens)
	}
	l, _ := c.ContextLimit(context.Background())
	if l.Total != 3000 || l.Source != llm.LimitFromServer {
		t.Errorf("learned limit %+v", l)
	}
	// A prompt longer than the limit cannot be fixed by the client: a
	// ContextError with the numbers, sent once.
	srv2 := llmtest.New(t, llmtest.WithEnforcedLimit(0, 100))
	srv2.On(llmtest.Always(), llmtest.Reply{Content: "ok"})
	c2 := newClient(t, srv2, nil)
	_, err = c2.Chat(context.Background(), llm.Request{Messages: msgs})
	var cerr *llm.ContextError
	if !errors.As(err, &cerr) || cerr.Limit != 100 || cerr.Prompt != prompt || len(srv2.ChatRequests()) != 1 {
		t.Fatalf("prompt too long: %v (%+v), %d requests", err, cerr, len(srv2.ChatRequests()))
	}
	if l, _ := c2.ContextLimit(context.Background()); l.Input != 100 {
		t.Errorf("learned input limit %+v", l)
	}
}
