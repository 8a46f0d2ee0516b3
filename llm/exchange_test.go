package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

// A retried 503 is two round trips, and both reach OnExchange: the run
// record must show the failed attempt too.
func TestOnExchangeSeesEveryAttempt(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(),
		llmtest.Reply{Status: 503, ErrorMessage: "Model is overloaded", ErrorType: "overloaded"},
		llmtest.Reply{Content: "def f(): pass"})
	c := newClient(t, srv, nil)
	var got []llm.Exchange
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("write f"), OnExchange: func(e llm.Exchange) { got = append(got, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(srv.ChatRequests()) != 2 {
		t.Fatalf("%d exchanges for %d requests", len(got), len(srv.ChatRequests()))
	}
	var apiErr *llm.APIError
	if got[0].Attempt != 1 || got[0].Status != 503 || !errors.As(got[0].Err, &apiErr) || apiErr.Status != 503 || got[0].Response != "" {
		t.Errorf("first exchange %+v", got[0])
	}
	if got[1].Attempt != 2 || got[1].Err != nil || got[1].Response != resp.Content || got[1].Usage != resp.Usage || got[1].Messages[0].Content != "write f" {
		t.Errorf("second exchange %+v, response %+v", got[1], resp)
	}
}

// ChatJSON's malformed first answer and its repair re-ask are exchanges of
// their own, the first marked invalid with the validation error.
func TestOnExchangeSeesTheMalformedAnswerAndTheRepair(t *testing.T) {
	srv := llmtest.New(t)
	bad := `{"algorithm": "Adam", "framework": "tensorflow", "hyper_parameters": []}`
	srv.On(llmtest.Always(), llmtest.Reply{Content: bad}, llmtest.Reply{Content: validSpec})
	c := newClient(t, srv, nil)
	var got []llm.Exchange
	var out spec
	if _, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec"), OnExchange: func(e llm.Exchange) { got = append(got, e) }}, llm.SchemaFor(spec{}), &out); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d exchanges", len(got))
	}
	if got[0].Response != bad || got[0].Repair || !strings.Contains(got[0].Invalid, "tensorflow") {
		t.Errorf("first exchange %+v", got[0])
	}
	reqs := srv.ChatRequests()
	last := got[1].Messages[len(got[1].Messages)-1]
	if !got[1].Repair || got[1].Invalid != "" || got[1].Response != validSpec || !strings.Contains(last.Content, "Your answer is not valid") || last.Content != reqs[1].LastUser() {
		t.Errorf("repair exchange %+v", got[1])
	}
}

// A generation error mid-stream is reported with the part that streamed.
func TestOnExchangeKeepsThePartialStream(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Chunks: []string{"def", " f"}, StreamError: "Request failed during generation: Server error: CUDA out of memory"})
	c := newClient(t, srv, nil)
	var got []llm.Exchange
	_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x"), OnToken: func(string) {}, OnExchange: func(e llm.Exchange) { got = append(got, e) }})
	if err == nil || len(got) != 1 {
		t.Fatalf("err %v, %d exchanges", err, len(got))
	}
	var apiErr *llm.APIError
	if got[0].Response != "def f" || !errors.As(got[0].Err, &apiErr) || apiErr.Type != "generation" {
		t.Errorf("exchange %+v", got[0])
	}
}

// A Retry-After longer than what is left of the caller's deadline ends the
// call at once with the server's answer, instead of sleeping into the
// deadline and reporting a bare "context deadline exceeded".
func TestRetryAfterBeyondTheDeadlineGivesUpWithTheServersAnswer(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(),
		llmtest.Reply{Status: 429, ErrorMessage: "Model is overloaded", RetryAfter: "120"},
		llmtest.Reply{Content: "ok"})
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.Chat(ctx, llm.Request{Messages: userMsg("hi")})
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "past the deadline") {
		t.Fatalf("err = %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the call waited until the deadline")
	}
	if n := len(srv.ChatRequests()); n != 1 {
		t.Errorf("%d requests", n)
	}
}

// Servers that ignore stream_options.include_usage (or send no usage at
// all) still get a token count: an estimate, marked as one.
func TestUsageAbsentIsEstimated(t *testing.T) {
	for _, stream := range []bool{true, false} {
		srv := llmtest.New(t)
		srv.On(llmtest.Always(), llmtest.Reply{Content: "def attention(q, k, v):\n    return q", NoUsage: true})
		c := newClient(t, srv, nil)
		req := llm.Request{Messages: userMsg("Implement scaled dot-product attention")}
		if stream {
			req.OnToken = func(string) {}
		}
		resp, err := c.Chat(context.Background(), req)
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		u := resp.Usage
		if !u.Estimated || u.PromptTokens < 4 || u.CompletionTokens < 4 || u.TotalTokens != u.PromptTokens+u.CompletionTokens || c.Usage() != u {
			t.Errorf("stream=%v: usage %+v, client total %+v", stream, u, c.Usage())
		}
		if srv.ChatRequests()[0].Stream != stream {
			t.Errorf("stream=%v: request did not match", stream)
		}
	}
}

// A runaway answer larger than MaxAnswerBytes fails with ErrAnswerTooLarge
// after one request (retrying would get the same), streamed or not; one
// under the limit arrives whole.
func TestHugeAnswerIsBounded(t *testing.T) {
	huge := strings.Repeat("x = 1  # padding padding padding padding\n", 30000) // ~1.2 MB
	for _, stream := range []bool{false, true} {
		srv := llmtest.New(t)
		var chunks []string // big chunks: a word per chunk would make the test slow
		for i := 0; i < len(huge); i += 4096 {
			chunks = append(chunks, huge[i:min(i+4096, len(huge))])
		}
		srv.On(llmtest.Always(), llmtest.Reply{Chunks: chunks})
		c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxAnswerBytes = 256 << 10 })
		req := llm.Request{Messages: userMsg("write")}
		if stream {
			req.OnToken = func(string) {}
		}
		_, err := c.Chat(context.Background(), req)
		if !errors.Is(err, llm.ErrAnswerTooLarge) || !strings.Contains(err.Error(), "262144 bytes") {
			t.Errorf("stream=%v: err = %v", stream, err)
		}
		if n := len(srv.ChatRequests()); n != 1 {
			t.Errorf("stream=%v: %d requests", stream, n)
		}

		ok := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxAnswerBytes = 64 << 20 })
		resp, err := ok.Chat(context.Background(), req)
		if err != nil || resp.Content != huge {
			t.Errorf("stream=%v: under the limit: %v, %d bytes", stream, err, contentLen(resp))
		}
	}
}

func contentLen(r *llm.Response) int {
	if r == nil {
		return -1
	}
	return len(r.Content)
}
