package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

// newClient returns a client of srv with fast backoff, so retry tests do
// not wait for the production delays.
func newClient(t *testing.T, srv *llmtest.Server, mod func(*llm.Config)) *llm.Client {
	t.Helper()
	cfg := llm.Config{
		BaseURL:        srv.URL(),
		Model:          "tgi",
		MaxTokens:      256,
		Timeout:        30 * time.Second,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func userMsg(s string) []llm.Message { return []llm.Message{{Role: llm.RoleUser, Content: s}} }

func TestChatSendsTheRequestAndReadsTheAnswer(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Contains("attention"), llmtest.Reply{Content: "def attention(q, k, v): ...", Usage: &llmtest.Usage{PromptTokens: 11, CompletionTokens: 7}})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.APIKey = "key-1234" })

	zero := float32(0)
	resp, err := c.Chat(context.Background(), llm.Request{
		Model:       "my-adapter",
		Messages:    []llm.Message{{Role: llm.RoleSystem, Content: "You write Python."}, {Role: llm.RoleUser, Content: "Implement attention"}},
		Temperature: &zero,
		Stop:        []string{"</code>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "def attention(q, k, v): ..." || resp.FinishReason != "stop" || resp.Model != "my-adapter" {
		t.Errorf("response = %+v", resp)
	}
	if resp.Usage != (llm.Usage{PromptTokens: 11, CompletionTokens: 7, TotalTokens: 18}) || resp.Attempts != 1 {
		t.Errorf("usage %+v attempts %d", resp.Usage, resp.Attempts)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Model != "my-adapter" || r.MaxTokens != 256 || r.Stream || !slices.Equal(r.Stop, []string{"</code>"}) {
		t.Errorf("request = %+v", r)
	}
	// TGI samples at temperature 1 when the field is absent: a zero
	// temperature must be on the wire.
	if r.Temperature == nil || *r.Temperature != 0 {
		t.Errorf("temperature not sent as 0: %s", r.Body)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer key-1234" {
		t.Errorf("Authorization = %q", got)
	}
	if len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Content != "Implement attention" {
		t.Errorf("messages = %+v", r.Messages)
	}
	if got := c.Usage(); got.TotalTokens != 18 {
		t.Errorf("aggregate usage = %+v", got)
	}
}

// TestSystemInUserFoldsTheInstructions: for chat templates without a
// system role the instructions travel at the start of the first user
// message, as Gemma's own template puts them, and nothing is lost.
func TestSystemInUserFoldsTheInstructions(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "ok"})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.SystemInUser = true })
	for _, tc := range []struct {
		msgs []llm.Message
		want []llmtest.Message
	}{
		{
			msgs: []llm.Message{{Role: llm.RoleSystem, Content: "You write Python."}, {Role: llm.RoleUser, Content: "Implement attention"},
				{Role: llm.RoleAssistant, Content: "def f(): ..."}, {Role: llm.RoleUser, Content: "Fix it"}},
			want: []llmtest.Message{{Role: "user", Content: "You write Python.\n\nImplement attention"}, {Role: "assistant", Content: "def f(): ..."}, {Role: "user", Content: "Fix it"}},
		},
		{
			msgs: []llm.Message{{Role: llm.RoleSystem, Content: "Only instructions."}},
			want: []llmtest.Message{{Role: "user", Content: "Only instructions."}},
		},
		{
			msgs: []llm.Message{{Role: llm.RoleUser, Content: "No system message"}},
			want: []llmtest.Message{{Role: "user", Content: "No system message"}},
		},
	} {
		before := slices.Clone(tc.msgs)
		if _, err := c.Chat(context.Background(), llm.Request{Messages: tc.msgs}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(before, tc.msgs) {
			t.Errorf("the caller's messages were modified: %+v", tc.msgs)
		}
		reqs := srv.ChatRequests()
		if got := reqs[len(reqs)-1].Messages; !slices.Equal(got, tc.want) {
			t.Errorf("%+v sent as %+v, want %+v", tc.msgs, got, tc.want)
		}
	}
}

func TestStreamingDeliversEveryDeltaInOrder(t *testing.T) {
	srv := llmtest.New(t)
	chunks := []string{"def", " f(x):", "\n", "    return", " x", " *", " 2", "\n", "", "# é✓"}
	srv.On(llmtest.Always(), llmtest.Reply{Chunks: chunks, Usage: &llmtest.Usage{PromptTokens: 5, CompletionTokens: 10}})
	c := newClient(t, srv, nil)

	var got []string
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("double"), OnToken: func(d string) { got = append(got, d) }})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ch := range chunks {
		if ch != "" { // an empty delta carries nothing to report
			want = append(want, ch)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("deltas = %q, want %q", got, want)
	}
	if resp.Content != strings.Join(chunks, "") {
		t.Errorf("content = %q", resp.Content)
	}
	if resp.Usage.TotalTokens != 15 {
		t.Errorf("usage from the final chunk = %+v", resp.Usage)
	}
	r := srv.ChatRequests()[0]
	if !r.Stream || !r.IncludeUsage {
		t.Errorf("stream %v include_usage %v", r.Stream, r.IncludeUsage)
	}
	// A compressing server or proxy would hold the events back in gzip's
	// buffer: the client must not invite it.
	if ae := r.Header.Get("Accept-Encoding"); ae != "" {
		t.Errorf("the stream was requested with Accept-Encoding %q", ae)
	}
}

func TestRetries503ThenSucceeds(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(),
		llmtest.Reply{Status: 503, ErrorMessage: "Model is overloaded"},
		llmtest.Reply{Status: 502},
		llmtest.Reply{Content: "ok"})
	c := newClient(t, srv, nil)
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "ok" || resp.Attempts != 3 || len(srv.ChatRequests()) != 3 {
		t.Errorf("content %q attempts %d requests %d", resp.Content, resp.Attempts, len(srv.ChatRequests()))
	}
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Status: 503, ErrorMessage: "still loading"})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = 2 })
	_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.Message != "still loading" || apiErr.Type != "unhealthy" {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.ChatRequests()); n != 3 {
		t.Errorf("%d requests, want 1 + 2 retries", n)
	}

	noRetry := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = -1 })
	before := len(srv.ChatRequests())
	if _, err := noRetry.Chat(context.Background(), llm.Request{Messages: userMsg("hi")}); err == nil {
		t.Fatal("no error")
	}
	if n := len(srv.ChatRequests()) - before; n != 1 {
		t.Errorf("MaxRetries -1 sent %d requests", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(),
		llmtest.Reply{Status: 429, ErrorMessage: "Model is overloaded", RetryAfter: "1"},
		llmtest.Reply{Content: "ok"})
	c := newClient(t, srv, nil) // backoff alone would wait at most 5ms
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.ChatRequests()
	if resp.Attempts != 2 || len(reqs) != 2 {
		t.Fatalf("attempts %d requests %d", resp.Attempts, len(reqs))
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < time.Second {
		t.Errorf("retried after %v, server asked for 1s", gap)
	}
}

func TestNoRetryOnValidationErrors(t *testing.T) {
	for _, status := range []int{400, 422, 404} {
		srv := llmtest.New(t)
		srv.On(llmtest.Always(), llmtest.Reply{Status: status, ErrorMessage: "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"})
		c := newClient(t, srv, nil)
		_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
		var apiErr *llm.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != status || apiErr.Retryable() {
			t.Fatalf("%d: err = %v", status, err)
		}
		if !strings.Contains(err.Error(), "must be <= 4096") {
			t.Errorf("%d: error lost the server's message: %v", status, err)
		}
		if n := len(srv.ChatRequests()); n != 1 {
			t.Errorf("%d: %d requests, want no retry", status, n)
		}
	}
}

func TestErrorBodiesOfOtherServers(t *testing.T) {
	for _, kind := range []llmtest.Kind{llmtest.KindVLLM, llmtest.KindOllama, llmtest.KindLlamaCpp} {
		srv := llmtest.New(t, llmtest.WithKind(kind))
		srv.On(llmtest.Always(), llmtest.Reply{Status: 400, ErrorMessage: "The model `x` does not exist.", ErrorType: "NotFoundError"})
		c := newClient(t, srv, nil)
		_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
		var apiErr *llm.APIError
		if !errors.As(err, &apiErr) || apiErr.Message != "The model `x` does not exist." || apiErr.Type != "NotFoundError" {
			t.Errorf("%s: err = %#v", kind, err)
		}
	}
}

func TestTimeoutIsAClearErrorAndNotRetried(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "late", Latency: time.Hour})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.Timeout = 50 * time.Millisecond })
	_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
	if !errors.Is(err, llm.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "50ms") {
		t.Errorf("error does not name the timeout: %v", err)
	}
	if n := len(srv.ChatRequests()); n != 1 {
		t.Errorf("%d requests, a timeout must not be retried", n)
	}
	// A per-request timeout overrides the client's.
	srv2 := llmtest.New(t)
	srv2.On(llmtest.Always(), llmtest.Reply{Content: "late", Latency: time.Hour})
	c2 := newClient(t, srv2, nil)
	if _, err := c2.Chat(context.Background(), llm.Request{Messages: userMsg("hi"), Timeout: 20 * time.Millisecond}); !errors.Is(err, llm.ErrTimeout) {
		t.Errorf("per-request timeout: %v", err)
	}
}

// The timeout bounds the whole answer, not only the wait for its first
// byte: a stream that stalls after its first token times out too, and the
// tokens already seen stay with the caller.
func TestStreamThatStallsTimesOut(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "one two three", ChunkLatency: time.Hour})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.Timeout = 150 * time.Millisecond })
	var got []string
	start := time.Now()
	_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x"), OnToken: func(d string) { got = append(got, d) }})
	if !errors.Is(err, llm.ErrTimeout) || !strings.Contains(err.Error(), "150ms") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the timed-out stream took %s", took)
	}
	if len(got) != 1 {
		t.Errorf("deltas = %q", got)
	}
	if n := len(srv.ChatRequests()); n != 1 {
		t.Errorf("%d requests, a timeout must not be retried", n)
	}
}

// A connection keeps the deadline of the last attempt that used it. That
// deadline must not end a later request on the same connection: an
// attempt after it, or a request outside attempts (the server's /info).
func TestAConnectionsOldDeadlineDoesNotEndTheNextRequest(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithInfoLatency(400*time.Millisecond))
	srv.On(llmtest.Contains("quick"), llmtest.Reply{Content: "ok"})
	srv.On(llmtest.Contains("slow"), llmtest.Reply{Content: "late but in time", Latency: 400 * time.Millisecond})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.Timeout = 5 * time.Second; cfg.MaxInFlight = 1 })
	quick := llm.Request{Messages: userMsg("quick"), Timeout: 100 * time.Millisecond}
	if _, err := c.Chat(context.Background(), quick); err != nil {
		t.Fatal(err)
	}
	// The first attempt's deadline passes while this one waits on the same
	// connection; its own is a second away.
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("slow"), Timeout: time.Second})
	if err != nil || resp.Content != "late but in time" || resp.Attempts != 1 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
	if _, err := c.Chat(context.Background(), quick); err != nil {
		t.Fatal(err)
	}
	// Discovery reuses the connection, and is bounded by its own timeout
	// instead of the last attempt's 100 ms deadline.
	if _, err := c.Info(context.Background()); err != nil {
		t.Fatalf("server info after an attempt: %v", err)
	}
	if infos := len(srv.RequestsTo("/info")); infos != 1 {
		t.Errorf("%d /info requests, want 1 (none resent after a broken connection)", infos)
	}
}

// A caller that traces its requests still sees its trace hooks called, and
// the attempt's deadline still holds.
func TestCallersTraceComposesWithTheDeadline(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Contains("quick"), llmtest.Reply{Content: "ok"})
	srv.On(llmtest.Contains("slow"), llmtest.Reply{Content: "late", Latency: time.Hour})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.Timeout = 100 * time.Millisecond })
	var conns atomic.Int32
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { conns.Add(1) }})
	if _, err := c.Chat(ctx, llm.Request{Messages: userMsg("quick")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(ctx, llm.Request{Messages: userMsg("slow")}); !errors.Is(err, llm.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("the caller's GotConn ran %d times, want 2", n)
	}
}

// The client adds temperature, max_tokens and the constraint fields to the
// body go-openai encodes, without looking for them there: go-openai omits
// the matching fields, which the client leaves zero. The bodies as sent
// hold each top-level key once (TGI's serde rejects a duplicate).
func TestWireBodiesHoldEachFieldOnce(t *testing.T) {
	for _, kind := range []llmtest.Kind{llmtest.KindTGI, llmtest.KindVLLM} {
		srv := llmtest.New(t, llmtest.WithKind(kind))
		srv.On(llmtest.Always(), llmtest.Reply{Content: `{"answer": 42}`})
		c := newClient(t, srv, func(cfg *llm.Config) { cfg.Temperature = 0.2 })
		hot := float32(0.9)
		ctx := context.Background()
		for _, req := range []llm.Request{
			{Messages: userMsg("plain")},
			{Messages: userMsg("override"), Temperature: &hot, MaxTokens: 7, Stop: []string{"}"}},
			{Messages: userMsg("stream"), OnToken: func(string) {}},
		} {
			if _, err := c.Chat(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		var out struct{ Answer int }
		schema := &llm.Schema{Type: "object", Properties: map[string]*llm.Schema{"answer": {Type: "integer"}}, Required: []string{"answer"}}
		if _, err := c.ChatJSON(ctx, llm.Request{Messages: userMsg("json")}, schema, &out); err != nil {
			t.Fatal(err)
		}
		reqs := srv.ChatRequests()
		if len(reqs) != 4 {
			t.Fatalf("%s: %d chat requests", kind, len(reqs))
		}
		for _, r := range reqs {
			keys := topLevelKeys(t, r.Body)
			for key, n := range keys {
				if n != 1 {
					t.Errorf("%s: %q appears %d times in %s", kind, key, n, r.Body)
				}
			}
			if keys["temperature"] != 1 || keys["max_tokens"] != 1 {
				t.Errorf("%s: temperature or max_tokens missing from %s", kind, r.Body)
			}
		}
		if reqs[3].ResponseFormat == nil && reqs[3].GuidedJSON == nil {
			t.Errorf("%s: ChatJSON sent no constraint: %s", kind, reqs[3].Body)
		}
	}
}

// topLevelKeys counts the keys of the JSON object body, at its top level.
func topLevelKeys(t *testing.T, body []byte) map[string]int {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("body is not an object: %s", body)
	}
	keys := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, body)
		}
		keys[tok.(string)]++
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v in %s", err, body)
		}
	}
	return keys
}

func TestTruncatedStreamIsAnError(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "def f():\n    return 1\n", TruncateAfter: 2})
	c := newClient(t, srv, nil)
	var got []string
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("f"), OnToken: func(d string) { got = append(got, d) }})
	if !errors.Is(err, llm.ErrTruncated) || resp != nil {
		t.Fatalf("resp %+v err %v", resp, err)
	}
	if len(got) != 2 {
		t.Errorf("deltas before the cut = %q", got)
	}
	// Tokens already reached the caller: retrying would repeat them.
	if n := len(srv.ChatRequests()); n != 1 {
		t.Errorf("%d requests", n)
	}
}

func TestStreamWithoutDoneOrFinishIsAnError(t *testing.T) {
	srv := llmtest.New(t)
	// All content sent, then the connection drops before [DONE].
	srv.On(llmtest.Always(), llmtest.Reply{Chunks: []string{"a", "b"}, TruncateAfter: 2})
	c := newClient(t, srv, nil)
	_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x"), OnToken: func(string) {}})
	if !errors.Is(err, llm.ErrTruncated) {
		t.Fatalf("err = %v", err)
	}
}

func TestBrokenConnectionBeforeAnyAnswerIsRetried(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "first", TruncateAfter: 10}, llmtest.Reply{Content: "second"})
	c := newClient(t, srv, nil)
	resp, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "second" || resp.Attempts != 2 {
		t.Errorf("content %q attempts %d", resp.Content, resp.Attempts)
	}
}

func TestCancelMidStreamReturnsPromptly(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "one two three four", ChunkLatency: time.Hour})
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	_, err := c.Chat(ctx, llm.Request{Messages: userMsg("x"), OnToken: func(d string) {
		got = append(got, d)
		cancel() // the caller gives up after the first token
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 1 {
		t.Errorf("deltas = %q", got)
	}
	if n := len(srv.ChatRequests()); n != 1 {
		t.Errorf("%d requests after cancellation", n)
	}
	// The server's handler ends with the request (else the server's
	// Cleanup would block for an hour).
}

func TestCancelWhileWaitingToRetry(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Status: 429, RetryAfter: "3600"})
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Chat(ctx, llm.Request{Messages: userMsg("x")})
		done <- err
	}()
	waitForRequest(t, srv)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// waitForRequest blocks until the server records another request.
func waitForRequest(t *testing.T, srv *llmtest.Server) {
	t.Helper()
	select {
	case <-srv.Arrived():
	case <-time.After(10 * time.Second):
		t.Fatal("no request arrived")
	}
}

func TestAPIKeyNeverInErrorsOrLogs(t *testing.T) {
	const key = "sk-r2c-secret-0123456789"
	// A careless proxy echoes the request headers in its error bodies.
	echo := func(status int) func(r *llmtest.Recorded) llmtest.Reply {
		return func(r *llmtest.Recorded) llmtest.Reply {
			return llmtest.Reply{Status: status, ErrorMessage: "bad request with headers " + r.Header.Get("Authorization")}
		}
	}
	for _, status := range []int{401, 503} {
		srv := llmtest.New(t)
		srv.OnFunc(llmtest.Always(), echo(status))
		var logs bytes.Buffer
		c := newClient(t, srv, func(cfg *llm.Config) {
			cfg.APIKey = key
			cfg.MaxRetries = 2
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("hi")})
		if err == nil {
			t.Fatal("no error")
		}
		if got := srv.ChatRequests()[0].Header.Get("Authorization"); got != "Bearer "+key {
			t.Fatalf("key not sent: %q", got)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("%d: error leaks the key: %v", status, err)
		}
		var apiErr *llm.APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.Message, key) {
			t.Errorf("%d: APIError.Message leaks the key", status)
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("%d: expected the echoed key to be redacted: %v", status, err)
		}
		if strings.Contains(logs.String(), key) {
			t.Errorf("%d: logs leak the key: %s", status, logs.String())
		}
		if status == 503 && !strings.Contains(logs.String(), "retrying") {
			t.Errorf("retries were not logged: %q", logs.String())
		}
		if c.Config().APIKey == key {
			t.Error("Config() exposes the key")
		}
	}
}

func TestMaxInFlightBoundsConcurrency(t *testing.T) {
	const limit, callers = 3, 10
	srv := llmtest.New(t)
	arrived := make(chan struct{}, callers)
	release := make(chan struct{})
	srv.OnFunc(llmtest.Always(), func(*llmtest.Recorded) llmtest.Reply {
		arrived <- struct{}{}
		<-release
		return llmtest.Reply{Content: "ok"}
	})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxInFlight = limit })
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x")})
			errs <- err
		})
	}
	for range limit {
		<-arrived
	}
	if got := srv.MaxConcurrent(); got != limit {
		t.Errorf("in flight after %d arrivals: %d", limit, got)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.MaxConcurrent(); got != limit {
		t.Errorf("max concurrent requests at the server = %d, want %d", got, limit)
	}
	if n := len(srv.ChatRequests()); n != callers {
		t.Errorf("%d requests", n)
	}
}

func TestUsageCounterIsSafeForConcurrentUse(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: "ok", Usage: &llmtest.Usage{PromptTokens: 3, CompletionTokens: 2}})
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxInFlight = 8 })
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x")}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := c.Usage(); got != (llm.Usage{PromptTokens: 60, CompletionTokens: 40, TotalTokens: 100}) {
		t.Errorf("usage = %+v", got)
	}
}

func TestNewRejectsBadEndpoints(t *testing.T) {
	for _, u := range []string{"", "localhost:8080/v1", "ftp://x"} {
		if _, err := llm.New(llm.Config{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestConnectionRefusedIsRetriedThenReported(t *testing.T) {
	srv := llmtest.New(t)
	url := srv.URL()
	srv.Close()
	c, err := llm.New(llm.Config{BaseURL: url, RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), llm.Request{Messages: userMsg("x")})
	if err == nil || !strings.Contains(err.Error(), "connect") || !strings.Contains(err.Error(), "is the model server running at "+url) {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorEventMidStream(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Chunks: []string{"def", " f"}, StreamError: "Request failed during generation: Server error: CUDA out of memory"})
	c := newClient(t, srv, nil)
	var got []string
	_, err := c.Chat(context.Background(), llm.Request{Messages: userMsg("x"), OnToken: func(d string) { got = append(got, d) }})
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.Type != "generation" || !strings.Contains(apiErr.Message, "CUDA out of memory") {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 2 || len(srv.ChatRequests()) != 1 {
		t.Errorf("deltas %q, %d requests", got, len(srv.ChatRequests()))
	}
}
