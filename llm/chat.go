package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// maxRetryAfter caps how long a server's Retry-After can make one wait, so a
// misconfigured proxy cannot park a run for hours.
const maxRetryAfter = 5 * time.Minute

// callName names a call in errors and logs ("chat \"model\""), built only
// when one is written.
type callName struct{ kind, model string }

func (n callName) String() string { return n.kind + " " + strconv.Quote(n.model) }

// attemptFunc performs one HTTP attempt under actx. progressed reports
// whether the caller already saw part of the answer (stream tokens), which
// makes a retry unsafe.
type attemptFunc func(actx context.Context, st *attemptState) (progressed bool, err error)

// withRetries runs op until it succeeds, fails for good, or retries run out.
// It holds an in-flight slot only during each attempt.
func (c *Client) withRetries(ctx context.Context, what callName, timeout time.Duration, fields *encodedFields, op attemptFunc) (attempts int, err error) {
	for attempt := 1; ; attempt++ {
		if err := c.acquire(ctx); err != nil {
			return attempt - 1, fmt.Errorf("llm: %s: %w", what, err)
		}
		// The deadline counts from when the attempt holds its slot: a
		// call queued behind MaxInFlight others loses none of its time.
		actx, st := newAttemptCtx(ctx, time.Now().Add(timeout), fields)
		progressed, opErr := op(actx, st)
		timedOut := st.timedOut(opErr) && ctx.Err() == nil
		c.release()
		if opErr == nil {
			return attempt, nil
		}
		switch {
		case ctx.Err() != nil:
			return attempt, fmt.Errorf("llm: %s: %w", what, context.Cause(ctx))
		case timedOut:
			return attempt, fmt.Errorf("llm: %s: %w (%s; raise the model timeout or lower max_tokens)", what, ErrTimeout, timeout)
		}
		err := c.classify(opErr, st)
		retry, wait := c.shouldRetry(err, progressed, attempt)
		if !retry {
			return attempt, c.redactErr(fmt.Errorf("llm: %s: %w%s", what, err, c.hint(err)))
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// Sleeping would only end in the deadline: give up now with the
			// server's answer rather than a bare "deadline exceeded" later.
			return attempt, c.redactErr(fmt.Errorf("llm: %s: %w (not retried: the next attempt would start after %s, past the deadline in %s)",
				what, err, wait.Round(time.Millisecond), time.Until(deadline).Round(time.Millisecond)))
		}
		c.log.Warn("llm: retrying", "call", what, "attempt", attempt, "wait", wait, "error", c.redact(err.Error()))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return attempt, fmt.Errorf("llm: %s: %w", what, context.Cause(ctx))
		case <-timer.C:
		}
	}
}

// hint names the likely fix for errors that carry no server message.
func (c *Client) hint(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return " (is the model server running at " + c.cfg.BaseURL + "? check the endpoint setting)"
	}
	return ""
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (c *Client) release() { <-c.slots }

// shouldRetry decides whether to try again and how long to wait first.
func (c *Client) shouldRetry(err error, progressed bool, attempt int) (bool, time.Duration) {
	if attempt > c.cfg.MaxRetries || progressed {
		return false, 0
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if !apiErr.Retryable() {
			return false, 0
		}
		wait := c.backoff(attempt)
		if apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		return true, wait
	}
	var invalid *invalidAnswerError
	if errors.As(err, &invalid) || errors.Is(err, ErrAnswerTooLarge) {
		return false, 0
	}
	// No HTTP status: the connection failed or broke before any of the
	// answer reached the caller.
	return true, c.backoff(attempt)
}

// backoff is exponential in the attempt number with "equal jitter": half
// the delay is fixed, half random, so concurrent clients spread out but
// never retry immediately.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.RetryBaseDelay << min(attempt-1, 20)
	if d <= 0 || d > c.cfg.RetryMaxDelay {
		d = c.cfg.RetryMaxDelay
	}
	half := d / 2
	return half + rand.N(half+1)
}

// invalidAnswerError marks a 2xx answer that cannot be used (no choices,
// undecodable); retrying it would most likely get the same answer.
type invalidAnswerError struct{ msg string }

func (e *invalidAnswerError) Error() string { return e.msg }

// classify turns go-openai's errors for HTTP error answers into *APIError;
// other errors pass through.
func (c *Client) classify(err error, st *attemptState) error {
	var (
		oaErr  *openai.APIError
		reqErr *openai.RequestError
		out    *APIError
	)
	switch {
	case errors.As(err, &oaErr) && oaErr.HTTPStatusCode > 0:
		out = &APIError{Status: oaErr.HTTPStatusCode, Type: oaErr.Type, Message: oaErr.Message}
	case errors.As(err, &reqErr) && reqErr.HTTPStatusCode > 0:
		out = &APIError{Status: reqErr.HTTPStatusCode}
		out.Type, out.Message = parseErrorBody(reqErr.Body)
	default:
		return err
	}
	out.Message = c.redact(out.Message)
	out.RetryAfter = parseRetryAfter(st.retryAfter, time.Now())
	return out
}

// parseErrorBody reads the error bodies of the servers r2c supports:
// TGI {"error": "...", "error_type": "..."}, vLLM and FastAPI
// {"message": "...", "type": "..."} / {"detail": ...}, and OpenAI, Ollama
// and llama.cpp {"error": {"message": "...", "type": "..."}}.
func parseErrorBody(body []byte) (kind, message string) {
	var doc struct {
		Error     json.RawMessage `json:"error"`
		ErrorType string          `json:"error_type"`
		Message   string          `json:"message"`
		Type      string          `json:"type"`
		Detail    json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &doc) == nil {
		var s string
		var obj struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		}
		switch {
		case len(doc.Error) > 0 && json.Unmarshal(doc.Error, &s) == nil && s != "":
			return doc.ErrorType, s
		case len(doc.Error) > 0 && json.Unmarshal(doc.Error, &obj) == nil && obj.Message != "":
			return obj.Type, obj.Message
		case doc.Message != "":
			return doc.Type, doc.Message
		case len(doc.Detail) > 0:
			if json.Unmarshal(doc.Detail, &s) == nil {
				return "", s
			}
			return "", string(doc.Detail)
		}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return "", msg
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// redact removes the API key from text that may have come from the server.
func (c *Client) redact(s string) string {
	if k := c.cfg.APIKey; len(k) >= 4 {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// redactErr makes sure an error's text cannot leak the API key.
func (c *Client) redactErr(err error) error {
	if k := c.cfg.APIKey; len(k) >= 4 && strings.Contains(err.Error(), k) {
		return &redactedError{msg: c.redact(err.Error()), err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// chat sends a chat completion; extra adds request fields go-openai lacks.
func (c *Client) chat(ctx context.Context, req Request, extra map[string]any) (*Response, error) {
	start := time.Now()
	model := req.Model
	if model == "" {
		model = c.cfg.Model
	}
	temperature := c.cfg.Temperature
	if req.Temperature != nil {
		temperature = *req.Temperature
	}
	maxTokens := c.cfg.MaxTokens
	if req.MaxTokens > 0 {
		maxTokens = req.MaxTokens
	}
	timeout := c.cfg.Timeout
	if req.Timeout > 0 {
		timeout = req.Timeout
	}
	if len(req.Messages) == 0 {
		return nil, errors.New("llm: chat request has no messages")
	}
	if req.FitToContext && maxTokens > 0 {
		maxTokens = c.fitMaxTokens(ctx, req.Messages, maxTokens)
	}
	stream := req.OnToken != nil && !c.noStream.Load()
	oreq := openai.ChatCompletionRequest{
		Model:  model,
		Stop:   req.Stop,
		Stream: stream,
	}
	wire := c.wireMessages(req.Messages)
	oreq.Messages = make([]openai.ChatCompletionMessage, len(wire))
	for i, m := range wire {
		oreq.Messages[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	if oreq.Stream {
		oreq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	// go-openai drops a zero temperature (omitempty), and TGI samples at
	// temperature 1 when the field is absent, so always send it.
	// "max_tokens", not go-openai's max_completion_tokens: TGI, vLLM,
	// Ollama and llama.cpp read max_tokens (TGI defaults to 100 tokens when
	// it is missing).
	fields := bodyFields{temperature: temperature, maxTokens: maxTokens, extra: extra}

	what := callName{"chat", model}
	resp, err := c.send(ctx, req, oreq, fields, what, timeout)
	if err != nil && stream && streamRefused(err) {
		// A server (or proxy) that does not stream: ask once without
		// streaming, and if that works, stop asking to stream.
		plain := oreq
		plain.Stream, plain.StreamOptions = false, nil
		if resp2, err2 := c.send(ctx, req, plain, fields, what, timeout); err2 == nil {
			c.noStream.Store(true)
			c.log.Warn("llm: the server refused a streamed request; using plain requests", "error", err.Error())
			resp2.Attempts += resp.Attempts
			resp, err = resp2, nil
			stream = false // the answer arrived whole: OnToken gets it below
		}
	}
	if tl, ok := parseTooLong(err); ok && ctx.Err() == nil {
		// The server's real limit is below what the request assumed (it
		// reported a larger one, or the count was off): learn it, and when
		// a shorter answer makes the request fit, re-budget once instead
		// of failing or resending the same request.
		c.learnLimit(tl.total, tl.input)
		apiErr := new(APIError)
		errors.As(err, &apiErr)
		fit := 0
		if tl.total > 0 && tl.prompt > 0 {
			fit = tl.total - tl.prompt - rebudgetMargin
		}
		if tl.promptOnly || fit < minRebudgetTokens || (maxTokens > 0 && fit >= maxTokens) {
			limit := tl.input
			if limit == 0 {
				limit = tl.total
			}
			return nil, fmt.Errorf("llm: %s: %w", what, &ContextError{Limit: limit, Prompt: tl.prompt, Err: apiErr})
		}
		c.log.Warn("llm: the server refused the request as too long; lowering max_tokens once", "max_tokens", fit, "error", err.Error())
		lowered := fields
		lowered.maxTokens = fit
		resp2, err2 := c.send(ctx, req, oreq, lowered, what, timeout)
		if err2 != nil {
			return nil, err2
		}
		resp2.Attempts += resp.Attempts
		resp2.MaxTokens = fit
		resp, err = resp2, nil
	}
	resp.Duration = time.Since(start)
	if err != nil {
		return nil, err
	}
	if resp.MaxTokens == 0 {
		resp.MaxTokens = maxTokens
	}
	if req.OnToken != nil && !stream && resp.Content != "" {
		req.OnToken(resp.Content) // a server that does not stream: the whole answer at once
	}
	c.usage.Add(resp.Usage)
	return resp, nil
}

// wireMessages are msgs as sent: with SystemInUser, the system messages
// become the start of the first user message (or one user message of their
// own when there is none).
func (c *Client) wireMessages(msgs []Message) []Message {
	if !c.cfg.SystemInUser {
		return msgs
	}
	var system []string
	var rest []Message
	for _, m := range msgs {
		if m.Role == RoleSystem {
			system = append(system, m.Content)
			continue
		}
		rest = append(rest, m)
	}
	if len(system) == 0 {
		return msgs
	}
	prefix := strings.Join(system, "\n\n")
	for i, m := range rest {
		if m.Role == RoleUser {
			out := slices.Clone(rest)
			out[i].Content = prefix + "\n\n" + m.Content
			return out
		}
	}
	return append([]Message{{Role: RoleUser, Content: prefix}}, rest...)
}

// fitMaxTokens lowers maxTokens to what the context leaves after msgs,
// down to minRebudgetTokens; below that the request goes as asked and the
// server's answer decides.
func (c *Client) fitMaxTokens(ctx context.Context, msgs []Message, maxTokens int) int {
	l, err := c.ContextLimit(ctx)
	if err != nil {
		return maxTokens
	}
	n := c.CountMessages(ctx, msgs)
	margin := 16 + n.Tokens/100
	if !n.Exact {
		margin = 16 + n.Tokens/20
	}
	room := l.Total - n.Tokens - margin
	if l.Input > 0 && n.Tokens+margin > l.Input {
		return maxTokens
	}
	if room < maxTokens && room >= minRebudgetTokens {
		return room
	}
	return maxTokens
}

// rebudgetMargin is left free when max_tokens is lowered to the room a
// server's 422 answer names, for the server's own rounding.
const rebudgetMargin = 8

// streamRefused reports an error answer to a streamed request that says
// nothing about its content: the server may not stream at all.
func streamRefused(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status == 0 {
		return false
	}
	if _, tooLong := parseTooLong(err); tooLong {
		return false
	}
	switch apiErr.Status {
	case 400, 404, 405, 415, 422, 501:
		return true
	}
	return false
}

// send runs one request through the retry loop; the Response comes back
// with the error too (Attempts set).
func (c *Client) send(ctx context.Context, req Request, oreq openai.ChatCompletionRequest, fields bodyFields, what callName, timeout time.Duration) (*Response, error) {
	resp := &Response{Model: oreq.Model}
	encoded, err := c.encode(fields)
	if err != nil {
		return resp, fmt.Errorf("llm: %s: %w", what, err)
	}
	attempt := 0
	attempts, err := c.withRetries(ctx, what, timeout, encoded, func(actx context.Context, st *attemptState) (progressed bool, err error) {
		attempt++
		resp.Content, resp.FinishReason, resp.Usage = "", "", Usage{}
		if req.OnExchange != nil {
			began := time.Now()
			defer func() { req.OnExchange(c.exchange(ctx, actx, req, resp, st, attempt, began, err)) }()
		}
		defer func() {
			if err == nil && resp.Usage == (Usage{}) {
				resp.Usage = estimateUsage(req.Messages, resp.Content)
			}
		}()
		if oreq.Stream {
			progressed, err := c.streamOnce(actx, oreq, req.OnToken, resp)
			if err != nil && st.streamError != nil && actx.Err() == nil {
				kind, msg := parseErrorBody(st.streamError)
				err = &APIError{Type: kind, Message: c.redact(msg), URL: "/v1/chat/completions"}
			}
			return progressed, err
		}
		return false, c.chatOnce(actx, oreq, resp)
	})
	resp.Attempts = attempts
	return resp, err
}

// exchange describes one finished attempt for Request.OnExchange, with
// its error classified as the caller would see it.
func (c *Client) exchange(ctx, actx context.Context, req Request, resp *Response, st *attemptState, attempt int, began time.Time, err error) Exchange {
	ex := Exchange{
		Messages: req.Messages, Response: resp.Content, Model: resp.Model, FinishReason: resp.FinishReason,
		Usage: resp.Usage, Attempt: attempt, Status: st.status, Duration: time.Since(began),
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		ex.Err = context.Cause(ctx)
	case st.timedOut(err):
		ex.Err = ErrTimeout
	default:
		ex.Err = c.redactErr(c.classify(err, st))
	}
	if ex.Err != nil {
		ex.Error = ex.Err.Error()
	}
	return ex
}

func (c *Client) chatOnce(ctx context.Context, oreq openai.ChatCompletionRequest, resp *Response) error {
	out, err := c.api.CreateChatCompletion(ctx, oreq)
	if err != nil {
		return err
	}
	if len(out.Choices) == 0 {
		return &invalidAnswerError{msg: "server answered without choices"}
	}
	resp.Content = out.Choices[0].Message.Content
	resp.FinishReason = string(out.Choices[0].FinishReason)
	if out.Model != "" {
		resp.Model = out.Model
	}
	resp.Usage = Usage{PromptTokens: out.Usage.PromptTokens, CompletionTokens: out.Usage.CompletionTokens, TotalTokens: out.Usage.TotalTokens}
	return nil
}

// streamOnce reads one SSE answer, calling onToken with every delta.
func (c *Client) streamOnce(ctx context.Context, oreq openai.ChatCompletionRequest, onToken func(string), resp *Response) (progressed bool, err error) {
	stream, err := c.api.CreateChatCompletionStream(ctx, oreq)
	if err != nil {
		return false, err
	}
	defer stream.Close()
	var (
		content strings.Builder
		finish  string
		usage   Usage
		deltas  int
	)
	// What streamed before a failure still belongs in the run record.
	defer func() {
		if err != nil {
			resp.Content = content.String()
		}
	}()
	for {
		chunk, err := stream.Recv()
		if err == io.EOF { // go-openai's end of stream: [DONE] or a clean close
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return deltas > 0, ctx.Err()
			}
			return deltas > 0, fmt.Errorf("%w after %d deltas: %w", ErrTruncated, deltas, err)
		}
		if chunk.Usage != nil {
			usage = Usage{PromptTokens: chunk.Usage.PromptTokens, CompletionTokens: chunk.Usage.CompletionTokens, TotalTokens: chunk.Usage.TotalTokens}
		}
		if chunk.Model != "" {
			resp.Model = chunk.Model
		}
		for _, choice := range chunk.Choices {
			if choice.Index != 0 {
				continue
			}
			if d := choice.Delta.Content; d != "" {
				content.WriteString(d)
				deltas++
				onToken(d)
			}
			if choice.FinishReason != "" {
				finish = string(choice.FinishReason)
			}
		}
	}
	if finish == "" {
		// The body ended cleanly but the server never said it was done: a
		// proxy or server cut the stream.
		return deltas > 0, fmt.Errorf("%w: no finish reason after %d deltas", ErrTruncated, deltas)
	}
	resp.Content = content.String()
	resp.FinishReason = finish
	resp.Usage = usage
	return deltas > 0, nil
}
