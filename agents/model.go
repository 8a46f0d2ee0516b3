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

// Exchange is one model call as the run record keeps it.
type Exchange struct {
	Agent    string        `json:"agent"`
	TaskID   string        `json:"task_id,omitempty"`
	Model    string        `json:"model,omitempty"`
	Messages []llm.Message `json:"messages"`
	Response string        `json:"response"`
	Usage    llm.Usage     `json:"usage"`
	Attempts int           `json:"attempts"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

func (s Settings) request(msgs []llm.Message) llm.Request {
	return llm.Request{Model: s.ModelName, Messages: msgs, Temperature: s.Temperature, MaxTokens: s.MaxTokens, Timeout: s.Timeout}
}

func (s Settings) record(agent, taskID string, msgs []llm.Message, resp *llm.Response, start time.Time, err error) {
	if s.OnExchange == nil {
		return
	}
	ex := Exchange{Agent: agent, TaskID: taskID, Model: s.ModelName, Messages: msgs, Duration: time.Since(start)}
	if resp != nil {
		ex.Usage, ex.Attempts, ex.Response, ex.Model = resp.Usage, resp.Attempts, resp.Content, resp.Model
	}
	if err != nil {
		ex.Error = err.Error()
		var bad *llm.InvalidJSONError
		if errors.As(err, &bad) {
			ex.Response = bad.Raw
		}
	}
	s.OnExchange(ex)
}

// chatJSON asks for a JSON answer matching schema and decodes it into out.
func (s Settings) chatJSON(ctx context.Context, agent string, msgs []llm.Message, schema *llm.Schema, out any) (llm.Usage, error) {
	if s.Model == nil {
		return llm.Usage{}, fmt.Errorf("%s: no model client configured", agent)
	}
	start := time.Now()
	resp, err := s.Model.ChatJSON(ctx, s.request(msgs), schema, out)
	s.record(agent, "", msgs, resp, start, err)
	if resp == nil {
		return llm.Usage{}, err
	}
	return resp.Usage, err
}

// chatCode asks for code and returns it without fences or special tokens.
func (s Settings) chatCode(ctx context.Context, agent, taskID string, msgs []llm.Message) (string, llm.Usage, error) {
	if s.Model == nil {
		return "", llm.Usage{}, fmt.Errorf("%s: no model client configured", agent)
	}
	req := s.request(msgs)
	if s.OnToken != nil {
		req.OnToken = func(delta string) { s.OnToken(taskID, delta) }
	}
	start := time.Now()
	resp, err := s.Model.Chat(ctx, req)
	s.record(agent, taskID, msgs, resp, start, err)
	if err != nil {
		return "", llm.Usage{}, err
	}
	code := strings.TrimSpace(llm.ExtractCode(resp.Content))
	if code == "" {
		return "", resp.Usage, fmt.Errorf("%s: the model's answer held no code (finish reason %q)", agent, resp.FinishReason)
	}
	return code + "\n", resp.Usage, nil
}

// schemaOf turns an embedded schema into the client's Schema type.
func schemaOf(raw json.RawMessage) (*llm.Schema, error) {
	var s llm.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &s, nil
}
