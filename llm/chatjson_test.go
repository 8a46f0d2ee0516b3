package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

type hyperParameter struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Source string  `json:"source,omitempty"`
}

type spec struct {
	Algorithm       string           `json:"algorithm"`
	Framework       string           `json:"framework" jsonschema:"enum=pytorch|numpy|jax"`
	HyperParameters []hyperParameter `json:"hyper_parameters" jsonschema:"minItems=1"`
	Ambiguities     []string         `json:"ambiguities,omitempty"`
}

const validSpec = `{"algorithm": "Adam", "framework": "pytorch", "hyper_parameters": [{"name": "beta1", "value": 0.9, "source": "Algorithm 1"}]}`

func TestChatJSONDecodesAValidAnswerWithTGIGrammar(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: validSpec})
	c := newClient(t, srv, nil)
	var out spec
	resp, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("Extract the spec of Adam.")}, llm.SchemaFor(spec{}), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Algorithm != "Adam" || len(out.HyperParameters) != 1 || out.HyperParameters[0].Value != 0.9 {
		t.Errorf("out = %+v", out)
	}
	if resp.Attempts != 1 {
		t.Errorf("attempts %d", resp.Attempts)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d chat requests", len(reqs))
	}
	// TGI's grammar form: {"type": "json_object", "value": <schema>}.
	var rf struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(reqs[0].ResponseFormat, &rf); err != nil || rf.Type != "json_object" {
		t.Fatalf("response_format = %s", reqs[0].ResponseFormat)
	}
	var sent llm.Schema
	if err := json.Unmarshal(rf.Value, &sent); err != nil || sent.Properties["framework"] == nil || len(sent.Required) != 3 {
		t.Errorf("schema sent = %s", rf.Value)
	}
	if !strings.Contains(reqs[0].LastUser(), "Extract the spec of Adam.") || !strings.Contains(reqs[0].LastUser(), `"hyper_parameters"`) {
		t.Errorf("the schema is not in the prompt: %q", reqs[0].LastUser())
	}
	if len(reqs[0].Messages) != 1 {
		t.Errorf("the instruction must join the last user message (alternating roles): %+v", reqs[0].Messages)
	}
}

func TestChatJSONStripsFencesAndProse(t *testing.T) {
	answers := []string{
		"Sure! Here is the spec:\n```json\n" + validSpec + "\n```\nLet me know if you need more.",
		"<s>[INST] ignored [/INST] The answer is " + validSpec + " -- as requested.</s>",
		"```\n" + validSpec + "\n```",
		"Note {this is not JSON} but this is: " + validSpec,
	}
	for _, a := range answers {
		srv := llmtest.New(t)
		srv.On(llmtest.Always(), llmtest.Reply{Content: a})
		c := newClient(t, srv, nil)
		var out spec
		if _, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), &out); err != nil {
			t.Errorf("%q: %v", a, err)
			continue
		}
		if out.Algorithm != "Adam" || len(srv.ChatRequests()) != 1 {
			t.Errorf("%q: out %+v after %d requests", a, out, len(srv.ChatRequests()))
		}
	}
}

func TestChatJSONRepairsOnceWithTheValidationError(t *testing.T) {
	srv := llmtest.New(t)
	bad := `{"algorithm": "Adam", "framework": "tensorflow", "hyper_parameters": []}`
	srv.On(llmtest.Always(),
		llmtest.Reply{Content: bad, Usage: &llmtest.Usage{PromptTokens: 100, CompletionTokens: 20}},
		llmtest.Reply{Content: validSpec, Usage: &llmtest.Usage{PromptTokens: 130, CompletionTokens: 25}})
	c := newClient(t, srv, nil)
	var out spec
	resp, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Framework != "pytorch" {
		t.Errorf("out = %+v", out)
	}
	if resp.Usage.TotalTokens != 275 || resp.Attempts != 2 {
		t.Errorf("usage %+v attempts %d: both rounds must count", resp.Usage, resp.Attempts)
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	second := reqs[1].Messages
	if len(second) != 3 || second[1].Role != "assistant" || second[1].Content != bad || second[2].Role != "user" {
		t.Fatalf("repair conversation = %+v", second)
	}
	for _, want := range []string{`$.framework: "tensorflow" is not one of`, "$.hyper_parameters: expected at least 1 items"} {
		if !strings.Contains(second[2].Content, want) {
			t.Errorf("repair message lacks %q: %q", want, second[2].Content)
		}
	}
}

func TestChatJSONGivesUpAfterOneRepairWithTheRawAnswer(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(),
		llmtest.Reply{Content: "I think the algorithm is Adam."},
		llmtest.Reply{Content: `{"algorithm": "Adam"`}) // malformed: cut short
	c := newClient(t, srv, nil)
	var out spec
	resp, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), &out)
	var invalid *llm.InvalidJSONError
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v", err)
	}
	if invalid.Raw != `{"algorithm": "Adam"` {
		t.Errorf("raw = %q", invalid.Raw)
	}
	if resp == nil || resp.Attempts != 2 || len(srv.ChatRequests()) != 2 {
		t.Errorf("resp %+v, %d requests", resp, len(srv.ChatRequests()))
	}
}

// TestChatJSONSaysWhenTheAnswerHitTheTokenLimit: an answer the server cut
// at max_tokens is explained as that, with the setting to raise, not by
// the schema errors of whatever inner object survived the cut.
func TestChatJSONSaysWhenTheAnswerHitTheTokenLimit(t *testing.T) {
	srv := llmtest.New(t)
	cut := `{"algorithm": "Adam", "framework": "pytorch", "hyper_parameters": [{"name": "beta1", "value": 0.9}, {"name": "beta2"`
	srv.On(llmtest.Always(), llmtest.Reply{Content: cut, FinishReason: "length"})
	c := newClient(t, srv, nil)
	_, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), nil)
	var invalid *llm.InvalidJSONError
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "stopped at the token limit (max_tokens = 256)") || !strings.Contains(err.Error(), "model.max_tokens") {
		t.Errorf("err = %v", err)
	}
	// The repair round told the model why, too.
	reqs := srv.ChatRequests()
	if last := reqs[len(reqs)-1].Messages; !strings.Contains(last[len(last)-1].Content, "token limit") {
		t.Errorf("repair prompt %q", last[len(last)-1].Content)
	}
}

func TestChatJSONWrongSchemaTwice(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: `{"algorithm": 42}`})
	c := newClient(t, srv, nil)
	_, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), nil)
	var invalid *llm.InvalidJSONError
	var verr *llm.ValidationError
	if !errors.As(err, &invalid) || !errors.As(err, &verr) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "$.algorithm: expected string, got number") {
		t.Errorf("err = %v", err)
	}
}

func TestChatJSONFormByServerKind(t *testing.T) {
	cases := []struct {
		kind  llmtest.Kind
		mode  llm.JSONMode
		check func(r *llmtest.Recorded) bool
	}{
		{llmtest.KindVLLM, llm.JSONModeAuto, isJSONSchemaFormat},
		{llmtest.KindOllama, llm.JSONModeAuto, isJSONSchemaFormat},
		{llmtest.KindLlamaCpp, llm.JSONModeAuto, isJSONSchemaFormat},
		{llmtest.KindVLLM, llm.JSONModeGuided, func(r *llmtest.Recorded) bool {
			return len(r.GuidedJSON) > 0 && r.ResponseFormat == nil && strings.Contains(string(r.GuidedJSON), `"algorithm"`)
		}},
		{llmtest.KindTGI, llm.JSONModeNone, func(r *llmtest.Recorded) bool { return r.ResponseFormat == nil && r.GuidedJSON == nil }},
	}
	for _, tc := range cases {
		srv := llmtest.New(t, llmtest.WithKind(tc.kind))
		srv.On(llmtest.Always(), llmtest.Reply{Content: validSpec})
		c := newClient(t, srv, func(cfg *llm.Config) { cfg.JSONMode = tc.mode })
		if _, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), nil); err != nil {
			t.Fatalf("%s/%s: %v", tc.kind, tc.mode, err)
		}
		r := srv.ChatRequests()[0]
		if !tc.check(r) {
			t.Errorf("%s/%s: response_format %s guided_json %s", tc.kind, tc.mode, r.ResponseFormat, r.GuidedJSON)
		}
	}
}

func isJSONSchemaFormat(r *llmtest.Recorded) bool {
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string     `json:"name"`
			Schema llm.Schema `json:"schema"`
		} `json:"json_schema"`
	}
	return json.Unmarshal(r.ResponseFormat, &rf) == nil && rf.Type == "json_schema" &&
		rf.JSONSchema.Name != "" && rf.JSONSchema.Schema.Properties["algorithm"] != nil
}

func TestChatJSONFallsBackWhenConstrainedDecodingIsRejected(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(func(r *llmtest.Recorded) bool { return r.ResponseFormat != nil },
		llmtest.Reply{Status: 422, ErrorMessage: "Grammar and tools are not supported by this backend", ErrorType: "validation"})
	srv.On(llmtest.Always(), llmtest.Reply{Content: validSpec})
	c := newClient(t, srv, nil)
	for range 2 {
		if _, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec")}, llm.SchemaFor(spec{}), nil); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.ChatRequests()
	if len(reqs) != 3 || reqs[0].ResponseFormat == nil || reqs[1].ResponseFormat != nil || reqs[2].ResponseFormat != nil {
		t.Errorf("requests: %d, formats %v", len(reqs), func() (f []bool) {
			for _, r := range reqs {
				f = append(f, r.ResponseFormat != nil)
			}
			return
		}())
	}
}

func TestChatJSONStreams(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Always(), llmtest.Reply{Content: validSpec})
	c := newClient(t, srv, nil)
	var streamed strings.Builder
	var out spec
	_, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("spec"), OnToken: func(d string) { streamed.WriteString(d) }}, llm.SchemaFor(spec{}), &out)
	if err != nil || streamed.String() != validSpec || out.Algorithm != "Adam" {
		t.Errorf("err %v streamed %q", err, streamed.String())
	}
}

func TestChatJSONKeepsConstrainedDecodingWhenTheRequestItselfIsBad(t *testing.T) {
	srv := llmtest.New(t)
	srv.On(llmtest.Contains("too long"), llmtest.Reply{Status: 422, ErrorMessage: "Input validation error: `inputs` must have less than 4095 tokens. Given: 9000"})
	srv.On(llmtest.Always(), llmtest.Reply{Content: validSpec})
	c := newClient(t, srv, nil)
	_, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("too long")}, llm.SchemaFor(spec{}), nil)
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || !strings.Contains(err.Error(), "4095 tokens") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.ChatJSON(context.Background(), llm.Request{Messages: userMsg("short")}, llm.SchemaFor(spec{}), nil); err != nil {
		t.Fatal(err)
	}
	reqs := srv.ChatRequests()
	if last := reqs[len(reqs)-1]; last.ResponseFormat == nil {
		t.Error("a bad request must not switch constrained decoding off")
	}
}
