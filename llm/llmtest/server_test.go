package llmtest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm/llmtest"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestStreamWireFormat checks the SSE answer against TGI's documented
// OpenAI-compatible form, read with a plain HTTP client.
func TestStreamWireFormat(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "Hello big world"})
	resp := post(t, srv.URL()+"/chat/completions", `{"model":"tgi","messages":[{"role":"user","content":"say hi"}],"stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line without data: prefix: %q", line)
		}
		events = append(events, data)
	}
	if len(events) != 5 || events[4] != "[DONE]" {
		t.Fatalf("events = %q", events)
	}
	var content strings.Builder
	for i, ev := range events[:3] {
		var chunk struct {
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Delta        struct{ Role, Content string } `json:"delta"`
				FinishReason *string                        `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(ev), &chunk); err != nil || chunk.Object != "chat.completion.chunk" || chunk.Model != "tgi" || len(chunk.Choices) != 1 {
			t.Fatalf("chunk %d = %s (%v)", i, ev, err)
		}
		content.WriteString(chunk.Choices[0].Delta.Content)
		if (chunk.Choices[0].FinishReason != nil) != (i == 2) {
			t.Errorf("finish_reason on chunk %d: %s", i, ev)
		}
	}
	if content.String() != "Hello big world" {
		t.Errorf("content = %q", content.String())
	}
	var usage struct {
		Choices []any `json:"choices"`
		Usage   struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(events[3]), &usage); err != nil || len(usage.Choices) != 0 || usage.Usage.CompletionTokens != 3 {
		t.Errorf("usage chunk = %s", events[3])
	}
}

func TestErrorBodiesAndScripting(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Contains("busy"), llmtest.Reply{Status: 429, RetryAfter: "2"}, llmtest.Reply{Content: "free"})
	srv.On(llmtest.Model("adapter-a"), llmtest.Reply{Content: "from a"})

	resp := post(t, srv.URL()+"/chat/completions", `{"model":"tgi","messages":[{"role":"user","content":"are you busy?"}]}`)
	body, _ := io.ReadAll(resp.Body)
	var tgiErr struct {
		Error     string `json:"error"`
		ErrorType string `json:"error_type"`
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || json.Unmarshal(body, &tgiErr) != nil || tgiErr.ErrorType != "overloaded" || tgiErr.Error == "" {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	for range 2 { // the last reply repeats
		resp = post(t, srv.URL()+"/chat/completions", `{"model":"tgi","messages":[{"role":"user","content":"busy?"}]}`)
		if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.Contains(string(body), `"content":"free"`) {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	}
	resp = post(t, srv.URL()+"/chat/completions", `{"model":"adapter-a","messages":[{"role":"user","content":"x"}]}`)
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), "from a") {
		t.Errorf("%s", body)
	}
	resp = post(t, srv.URL()+"/chat/completions", `{"model":"other","messages":[{"role":"user","content":"unscripted"}]}`)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 422 || !strings.Contains(string(body), "no scripted reply") {
		t.Errorf("unscripted: %d %s", resp.StatusCode, body)
	}
	if n := len(srv.ChatRequests()); n != 5 {
		t.Errorf("%d recorded", n)
	}
	resp, err := http.Get(srv.RootURL() + "/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if json.NewDecoder(resp.Body).Decode(&info) != nil || info["max_input_tokens"] == nil || info["max_total_tokens"] == nil || info["model_id"] == nil {
		t.Errorf("info = %v", info)
	}
}

func TestEmbeddingSimilarity(t *testing.T) {
	a := llmtest.Embedding("scaled dot product attention", 64)
	b := llmtest.Embedding("dot product attention", 64)
	c := llmtest.Embedding("Adam optimizer", 64)
	dot := func(x, y []float32) (s float32) {
		for i := range x {
			s += x[i] * y[i]
		}
		return
	}
	if d := dot(a, a); d < 0.999 || d > 1.001 {
		t.Errorf("not unit length: %v", d)
	}
	if dot(a, b) <= dot(a, c) {
		t.Errorf("texts sharing words should be closer: %v <= %v", dot(a, b), dot(a, c))
	}
}
