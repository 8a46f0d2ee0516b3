package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/llm"
)

// Model is the part of *llm.Client the agents use.
type Model interface {
	Chat(ctx context.Context, req llm.Request) (*llm.Response, error)
	ChatJSON(ctx context.Context, req llm.Request, schema *llm.Schema, out any) (*llm.Response, error)
}

// Settings are what one agent needs to call the model. The zero values of
// the optional fields use the client's defaults.
type Settings struct {
	// Model is the client. When it is also a Budgeter (an *llm.Client
	// is), every prompt is built against the server's real context limit
	// and counted with its tokenizer; otherwise prompts are not limited.
	Model Model
	// ModelName is the request's "model" field (a LoRA adapter on TGI);
	// empty uses the client's default.
	ModelName   string
	Temperature *float32
	// MaxTokens bounds the answer; 0 takes the agent's default
	// (DefaultMaxTokens). Either is lowered, down to MinMaxTokens, when
	// the context cannot hold the prompt and the whole answer.
	MaxTokens int
	Timeout   time.Duration
	// OnExchange, if set, receives every model call (prompt, answer, usage)
	// after it returns, for the run record. It may be called concurrently.
	OnExchange func(Exchange)
	// OnToken, if set, streams every answer and receives each delta with
	// the task it belongs to ("" for the Analyzer and the Planner). It may
	// be called concurrently.
	OnToken func(taskID, delta string)
	// OnPrompt, if set, receives every prompt's report (its parts' sizes
	// and the cuts made to fit it) before it is sent. It may be called
	// concurrently.
	OnPrompt func(PromptReport)
}

// Exchange is one HTTP round trip to the model as the run record keeps
// it: a retried request, ChatJSON's malformed answer and its repair re-ask
// are exchanges of their own, so the record holds every prompt and answer.
type Exchange struct {
	Agent  Name   `json:"agent"`
	TaskID string `json:"task_id,omitempty"`
	llm.Exchange
}

// request builds the client request; every round trip it causes goes to
// OnExchange as the agent's, every streamed delta to OnToken.
func (s Settings) request(agent Name, taskID string, p *prompt) llm.Request {
	req := llm.Request{Model: s.ModelName, Messages: p.msgs, Temperature: s.Temperature, MaxTokens: p.maxTokens, Timeout: s.Timeout, FitToContext: p.followUp}
	if s.OnExchange != nil {
		req.OnExchange = func(e llm.Exchange) {
			if e.Model == "" {
				e.Model = s.ModelName
			}
			s.OnExchange(Exchange{Agent: agent, TaskID: taskID, Exchange: e})
		}
	}
	if s.OnToken != nil {
		req.OnToken = func(delta string) { s.OnToken(taskID, delta) }
	}
	return req
}

// refitOnce sends p with send and, when the server refuses the prompt as
// longer than its real limit (below what it reported), builds it again
// against the limit the refusal revealed and sends it once more.
func refitOnce(ctx context.Context, p *prompt, send func(*prompt) (*llm.Response, error)) (*llm.Response, error) {
	resp, err := send(p)
	var tooLong *llm.ContextError
	if err == nil || !errors.As(err, &tooLong) || p.refit == nil {
		return resp, err
	}
	smaller, ferr := p.refit(ctx)
	if ferr != nil {
		return resp, fmt.Errorf("%w; rebuilt for the limit the server revealed: %w", err, ferr)
	}
	return send(smaller)
}

// chatJSON asks for a JSON answer matching schema and decodes it into out.
func (s Settings) chatJSON(ctx context.Context, agent Name, p *prompt, schema *llm.Schema, out any) (llm.Usage, error) {
	if s.Model == nil {
		return llm.Usage{}, fmt.Errorf("%s: no model client configured", agent)
	}
	resp, err := refitOnce(ctx, p, func(p *prompt) (*llm.Response, error) {
		return s.Model.ChatJSON(ctx, s.request(agent, "", p), schema, out)
	})
	if resp == nil {
		return llm.Usage{}, err
	}
	return resp.Usage, err
}

// chatCode asks for code and returns it without fences or special tokens.
// An answer with no code in it (an empty code block, only special tokens)
// is sent back once saying so; the usage covers both calls. An answer cut
// off at max_tokens is an error that says so, never code to validate.
func (s Settings) chatCode(ctx context.Context, agent Name, taskID string, p *prompt) (string, llm.Usage, error) {
	if s.Model == nil {
		return "", llm.Usage{}, fmt.Errorf("%s: no model client configured", agent)
	}
	var total llm.Usage
	for attempt := 0; ; attempt++ {
		resp, err := refitOnce(ctx, p, func(p *prompt) (*llm.Response, error) { return s.Model.Chat(ctx, s.request(agent, taskID, p)) })
		if err != nil {
			return "", total, err
		}
		total = total.Add(resp.Usage)
		if resp.FinishReason == "length" {
			return "", total, fmt.Errorf("%w: the answer was cut off at max_tokens %d (finish reason \"length\"): raise agents.%s.max_tokens, give the model a longer context, or plan smaller tasks", ErrTruncatedAnswer, resp.MaxTokens, agent)
		}
		code := strings.TrimSpace(llm.ExtractCode(resp.Content))
		if code != "" {
			return code + "\n", total, nil
		}
		if attempt == 1 {
			return "", total, fmt.Errorf("%w: the model's answer held no code twice (finish reason %q)", ErrEmptyAnswer, resp.FinishReason)
		}
		next := *p
		next.msgs = append(append([]llm.Message(nil), p.msgs...),
			llm.Message{Role: llm.RoleAssistant, Content: resp.Content},
			llm.Message{Role: llm.RoleUser, Content: "Your answer held no code. Answer with the complete code in one ```python block."})
		next.refit, next.followUp = nil, true
		p = &next
	}
}

// Errors of answers that cannot be used.
var (
	ErrTruncatedAnswer = errors.New("truncated answer")
	ErrEmptyAnswer     = errors.New("empty answer")
)

// schemaOf turns an embedded schema into the client's Schema type.
func schemaOf(raw json.RawMessage) (*llm.Schema, error) {
	var s llm.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &s, nil
}
