package agents

import (
	"context"
	"encoding/json"
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
	Model Model
	// ModelName is the request's "model" field (a LoRA adapter on TGI);
	// empty uses the client's default.
	ModelName   string
	Temperature *float32
	MaxTokens   int
	Timeout     time.Duration
	// PromptTokens is how many tokens a prompt may take (llm.Client's
	// PromptBudget for MaxTokens); optional parts — retrieved passages,
	// dependency code, evidence — are shortened to fit. 0: no limit.
	PromptTokens int
	// OnExchange, if set, receives every model call (prompt, answer, usage)
	// after it returns, for the run record. It may be called concurrently.
	OnExchange func(Exchange)
	// OnToken, if set, streams code answers and receives every delta with
	// the task it belongs to. It may be called concurrently.
	OnToken func(taskID, delta string)
}

// Exchange is one HTTP round trip to the model as the run record keeps
// it: a retried request, ChatJSON's malformed answer and its repair re-ask
// are exchanges of their own, so the record holds every prompt and answer.
type Exchange struct {
	Agent    string        `json:"agent"`
	TaskID   string        `json:"task_id,omitempty"`
	Model    string        `json:"model,omitempty"`
	Messages []llm.Message `json:"messages"`
	// Response is the answer received: whole, or the part that streamed
	// before the attempt failed.
	Response     string    `json:"response"`
	FinishReason string    `json:"finish_reason,omitempty"`
	Usage        llm.Usage `json:"usage"`
	// Attempt numbers the HTTP attempts of one call from 1 (retries).
	Attempt int `json:"attempt"`
	// Repair marks the client's re-ask after an answer that did not match
	// the JSON schema.
	Repair bool `json:"repair,omitempty"`
	// Status is the HTTP status of the answer (0 when none arrived).
	Status   int           `json:"status,omitempty"`
	Duration time.Duration `json:"duration"`
	// Error is the attempt's transport, server or timeout error.
	Error string `json:"error,omitempty"`
	// Invalid says why an answer that arrived did not match the schema.
	Invalid string `json:"invalid,omitempty"`
}

// request builds the client request; every round trip it causes goes to
// OnExchange as the agent's.
func (s Settings) request(agent, taskID string, msgs []llm.Message) llm.Request {
	req := llm.Request{Model: s.ModelName, Messages: msgs, Temperature: s.Temperature, MaxTokens: s.MaxTokens, Timeout: s.Timeout}
	if s.OnExchange != nil {
		req.OnExchange = func(e llm.Exchange) {
			ex := Exchange{
				Agent: agent, TaskID: taskID, Model: e.Model, Messages: e.Messages, Response: e.Answer,
				FinishReason: e.FinishReason, Usage: e.Usage, Attempt: e.Attempt, Repair: e.Repair,
				Status: e.Status, Duration: e.Duration, Invalid: e.Invalid,
			}
			if ex.Model == "" {
				ex.Model = s.ModelName
			}
			if e.Err != nil {
				ex.Error = e.Err.Error()
			}
			s.OnExchange(ex)
		}
	}
	return req
}

// chatJSON asks for a JSON answer matching schema and decodes it into out.
func (s Settings) chatJSON(ctx context.Context, agent string, msgs []llm.Message, schema *llm.Schema, out any) (llm.Usage, error) {
	if s.Model == nil {
		return llm.Usage{}, fmt.Errorf("%s: no model client configured", agent)
	}
	resp, err := s.Model.ChatJSON(ctx, s.request(agent, "", msgs), schema, out)
	if resp == nil {
		return llm.Usage{}, err
	}
	return resp.Usage, err
}

// chatCode asks for code and returns it without fences or special tokens.
// An answer with no code in it (an empty code block, only special tokens)
// is sent back once saying so; the usage covers both calls.
func (s Settings) chatCode(ctx context.Context, agent, taskID string, msgs []llm.Message) (string, llm.Usage, error) {
	if s.Model == nil {
		return "", llm.Usage{}, fmt.Errorf("%s: no model client configured", agent)
	}
	var total llm.Usage
	for attempt := 0; ; attempt++ {
		req := s.request(agent, taskID, msgs)
		if s.OnToken != nil {
			req.OnToken = func(delta string) { s.OnToken(taskID, delta) }
		}
		resp, err := s.Model.Chat(ctx, req)
		if err != nil {
			return "", total, err
		}
		total = total.Add(resp.Usage)
		code := strings.TrimSpace(llm.ExtractCode(resp.Content))
		if code != "" {
			return code + "\n", total, nil
		}
		if attempt == 1 {
			return "", total, fmt.Errorf("the model's answer held no code twice (finish reason %q)", resp.FinishReason)
		}
		msgs = append(append([]llm.Message(nil), msgs...),
			llm.Message{Role: llm.RoleAssistant, Content: resp.Content},
			llm.Message{Role: llm.RoleUser, Content: "Your answer held no code. Answer with the complete code in one ```python block."})
	}
}

// schemaOf turns an embedded schema into the client's Schema type.
func schemaOf(raw json.RawMessage) (*llm.Schema, error) {
	var s llm.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &s, nil
}
