package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Where a ContextLimit's figures come from.
const (
	LimitFromConfig  = "config model.context_tokens"
	LimitFromTGI     = "TGI /info"
	LimitFromModels  = "/v1/models max_model_len"
	LimitFromProps   = "llama.cpp /props n_ctx"
	LimitFromServer  = "the server's 422 answer"
	LimitFromDefault = "default (the server does not say)"
)

// ContextLimit is how long one request to the server may be.
type ContextLimit struct {
	// Total bounds prompt plus answer (TGI max_total_tokens, vLLM
	// max_model_len, llama.cpp n_ctx).
	Total int `json:"total"`
	// Input bounds the prompt alone (TGI max_input_tokens); 0 when only
	// Total is known.
	Input int `json:"input,omitempty"`
	// Source says where the figures come from (one of the LimitFrom
	// constants).
	Source string `json:"source"`
}

// Prompt is the most prompt tokens a request answering with up to
// maxTokens tokens may send.
func (l ContextLimit) Prompt(maxTokens int) int {
	p := l.Total - maxTokens
	if l.Input > 0 && l.Input < p {
		p = l.Input
	}
	return max(p, 0)
}

// ContextLimit returns the server's real input limit: model.context_tokens
// when configured, else what the server reports (TGI /info, vLLM
// /v1/models max_model_len, llama.cpp /props n_ctx), else
// DefaultContextTokens. A limit the server revealed by refusing a request
// (a 422 "input too long" below what it reported) replaces the reported
// one for the client's lifetime.
func (c *Client) ContextLimit(ctx context.Context) (ContextLimit, error) {
	if l := c.learned.Load(); l != nil {
		return *l, nil
	}
	if c.cfg.ContextTokens > 0 {
		return ContextLimit{Total: c.cfg.ContextTokens, Source: LimitFromConfig}, nil
	}
	info, err := c.serverInfo(ctx)
	if err != nil && ctx.Err() != nil {
		return ContextLimit{}, err
	}
	if err != nil {
		c.log.Warn("llm: no server context limit, using the default", "default", DefaultContextTokens, "error", err.Error())
	}
	if info != nil && info.MaxTotalTokens > 0 {
		return ContextLimit{Total: info.MaxTotalTokens, Input: info.MaxInputTokens, Source: info.LimitSource}, nil
	}
	return ContextLimit{Total: DefaultContextTokens, Source: LimitFromDefault}, nil
}

// learnLimit lowers the limit after the server refused a request for its
// length, so later budgets use the server's real figure.
func (c *Client) learnLimit(total, input int) {
	cur, _ := c.ContextLimit(context.Background())
	l := ContextLimit{Total: cur.Total, Input: cur.Input, Source: LimitFromServer}
	if total > 0 && (l.Total == 0 || total < l.Total) {
		l.Total = total
	}
	if input > 0 && (l.Input == 0 || input < l.Input) {
		l.Input = input
	}
	c.learned.Store(&l)
}

// TokenCount is the size of a text or a prompt.
type TokenCount struct {
	Tokens int `json:"tokens"`
	// Exact is true when the server's tokenizer counted (TGI, vLLM and
	// llama.cpp /tokenize); false for ApproxTokens' estimate.
	Exact bool `json:"exact"`
}

// CountTokens counts text with the server's tokenizer where it offers one
// (TGI's and llama.cpp's /tokenize, vLLM's /tokenize), else with
// ApproxTokens (Exact false). A server without a tokenizer route is asked
// once; counts are cached per text.
func (c *Client) CountTokens(ctx context.Context, text string) TokenCount {
	if text == "" {
		return TokenCount{Exact: !c.noTokenize.Load()}
	}
	if c.noTokenize.Load() {
		return TokenCount{Tokens: approxTokens(text)}
	}
	h := fnv.New64a()
	io.WriteString(h, text)
	key := h.Sum64()
	if n, ok := c.tokenCache.Load(key); ok {
		return TokenCount{Tokens: n.(int), Exact: true}
	}
	n, err := c.tokenize(ctx, text)
	if err != nil {
		if ctx.Err() == nil {
			// A route the server lacks (404, 405) or an answer in another
			// shape: estimate from now on rather than ask every time.
			c.noTokenize.Store(true)
			c.log.Info("llm: the server offers no tokenizer, estimating token counts", "error", err.Error())
		}
		return TokenCount{Tokens: approxTokens(text)}
	}
	c.tokenCache.Store(key, n)
	return TokenCount{Tokens: n, Exact: true}
}

// CountMessages counts a chat prompt: every message's content plus the
// chat template's few tokens per message.
func (c *Client) CountMessages(ctx context.Context, msgs []Message) TokenCount {
	total := TokenCount{Exact: true}
	for _, m := range msgs {
		n := c.CountTokens(ctx, m.Content)
		total.Tokens += n.Tokens + messageOverhead
		total.Exact = total.Exact && n.Exact
	}
	return total
}

func (c *Client) tokenize(ctx context.Context, text string) (int, error) {
	info, err := c.serverInfo(ctx)
	if err != nil {
		return 0, err
	}
	var body any
	switch info.Kind {
	case ServerTGI:
		body = map[string]any{"inputs": text, "parameters": map[string]any{"max_new_tokens": 1}}
	case ServerLlamaCpp:
		body = map[string]any{"content": text, "add_special": false}
	case ServerVLLM:
		model := c.cfg.Model
		if model == "" {
			model = info.ModelID
		}
		body = map[string]any{"model": model, "prompt": text, "add_special_tokens": false}
	default:
		return 0, errors.New("no tokenizer route known for this server")
	}
	raw, err := c.postJSON(ctx, c.root+"/tokenize", body)
	if err != nil {
		return 0, err
	}
	// TGI: [{"id":…,"text":…}, …]; llama.cpp: {"tokens": […]}; vLLM:
	// {"count": n, "tokens": […]}.
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		return len(list), nil
	}
	var obj struct {
		Count  *int              `json:"count"`
		Tokens []json.RawMessage `json:"tokens"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || (obj.Count == nil && obj.Tokens == nil) {
		return 0, fmt.Errorf("/tokenize answered in an unknown form: %.100s", raw)
	}
	if obj.Count != nil {
		return *obj.Count, nil
	}
	return len(obj.Tokens), nil
}

// postJSON posts v to url and returns a 200 answer's body.
func (c *Client) postJSON(ctx context.Context, url string, v any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, min(infoTimeout, c.cfg.Timeout))
	defer cancel()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.redactErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		kind, msg := parseErrorBody(body)
		return nil, &APIError{Status: resp.StatusCode, Type: kind, Message: c.redact(msg), URL: strings.TrimPrefix(url, c.root)}
	}
	return body, nil
}

// ContextError is returned when the server refused a request because the
// prompt alone is longer than its limit: lowering max_tokens cannot help,
// the prompt must be shortened. Limit is the server's real figure (also
// what ContextLimit reports from now on).
type ContextError struct {
	// Limit is the longest prompt the server accepts (0 if it did not say).
	Limit int
	// Prompt is the prompt's length as the server counted it (0 if it did
	// not say).
	Prompt int
	Err    *APIError
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("the prompt is too long for the server (%d tokens, limit %d): %v", e.Prompt, e.Limit, e.Err)
}

func (e *ContextError) Unwrap() error { return e.Err }

// tooLong is what a server's "input too long" answer says.
type tooLong struct {
	total, input   int // the limits it names (0: not named)
	prompt, answer int // the request's sizes as it counted them
	promptOnly     bool
}

var (
	// TGI: "Input validation error: `inputs` tokens + `max_new_tokens` must
	// be <= 4096. Given: 3000 `inputs` tokens and 2048 `max_new_tokens`".
	tgiTotalRE = regexp.MustCompile("must be <= (\\d+)\\. Given: (\\d+) `inputs` tokens and (\\d+) `max_new_tokens`")
	// TGI: "Input validation error: `inputs` must have less than 4095
	// tokens. Given: 5000".
	tgiInputRE = regexp.MustCompile("`inputs` must have less than (\\d+) tokens\\. Given: (\\d+)")
	// vLLM: "This model's maximum context length is 4096 tokens. However,
	// you requested 5120 tokens (3072 in the messages, 2048 in the
	// completion)."
	vllmOldRE = regexp.MustCompile(`maximum context length is (\d+) tokens\. However, you requested \d+ tokens \((\d+) in the messages, (\d+) in the completion\)`)
	// vLLM ≥ 0.6: "… maximum context length is 4096 tokens and your request
	// has 3000 input tokens (2048 > 4096 - 3000)".
	vllmNewRE = regexp.MustCompile(`maximum context length is (\d+) tokens and your request has (\d+) input tokens(?: \((\d+) >)?`)
)

// parseTooLong recognises the servers' "input too long" answers (422 or
// 400); ok is false for any other error.
func parseTooLong(err error) (t tooLong, ok bool) {
	if err == nil {
		return t, false
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != 422 && apiErr.Status != 400) {
		return t, false
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	msg := apiErr.Message
	if m := tgiTotalRE.FindStringSubmatch(msg); m != nil {
		t = tooLong{total: num(m[1]), prompt: num(m[2]), answer: num(m[3])}
		t.promptOnly = t.prompt >= t.total
		return t, true
	}
	if m := tgiInputRE.FindStringSubmatch(msg); m != nil {
		return tooLong{input: num(m[1]) - 1, prompt: num(m[2]), promptOnly: true}, true
	}
	if m := vllmOldRE.FindStringSubmatch(msg); m != nil {
		t = tooLong{total: num(m[1]), prompt: num(m[2]), answer: num(m[3])}
		t.promptOnly = t.prompt >= t.total
		return t, true
	}
	if m := vllmNewRE.FindStringSubmatch(msg); m != nil {
		t = tooLong{total: num(m[1]), prompt: num(m[2]), answer: num(m[3])}
		t.promptOnly = t.prompt >= t.total
		return t, true
	}
	if strings.Contains(msg, "exceeds the available context size") { // llama.cpp
		return tooLong{promptOnly: true}, true
	}
	return t, false
}

// minRebudgetTokens is the shortest answer a re-budgeted request may
// allow: below it the answer could not hold anything useful.
const minRebudgetTokens = 64

// tokenCache maps a text's FNV-64 hash to its server token count.
type tokenCache = sync.Map
