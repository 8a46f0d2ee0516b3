package orchestrator

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/llm/llmtest"
)

type answer struct {
	Name string `json:"name"`
}

// chatJSONThrough sends one ChatJSON request through a client built by
// ClientConfig from settings given as initializationOptions JSON, and
// returns what the server received.
func chatJSONThrough(t *testing.T, srv *llmtest.Server, settings string) []*llmtest.Recorded {
	t.Helper()
	cfg := testConfig(t, srv.URL())
	over, err := config.ParseJSON([]byte(settings))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Merge(over)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := llm.New(ClientConfig(cfg, ""))
	if err != nil {
		t.Fatal(err)
	}
	srv.On(llmtest.Always(), llmtest.Reply{Content: `{"name": "adam"}`})
	var out answer
	if _, err := client.ChatJSON(context.Background(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "name it"}}}, llm.SchemaFor(answer{}), &out); err != nil || out.Name != "adam" {
		t.Fatalf("ChatJSON: %v, %+v", err, out)
	}
	return srv.Requests()
}

func responseFormatType(t *testing.T, r *llmtest.Recorded) string {
	t.Helper()
	if len(r.ResponseFormat) == 0 {
		return ""
	}
	var rf struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(r.ResponseFormat, &rf); err != nil {
		t.Fatalf("response_format %s: %v", r.ResponseFormat, err)
	}
	return rf.Type
}

func lastChat(t *testing.T, reqs []*llmtest.Recorded) *llmtest.Recorded {
	t.Helper()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == "/v1/chat/completions" {
			return reqs[i]
		}
	}
	t.Fatal("no chat request")
	return nil
}

func TestClientConfigAutoDetectsTheServer(t *testing.T) {
	// The fake poses as TGI; detected, TGI gets its grammar form.
	reqs := chatJSONThrough(t, llmtest.New(t), `{"server_kind":"auto"}`)
	if got := responseFormatType(t, lastChat(t, reqs)); got != "json_object" {
		t.Fatalf("auto-detected TGI: response_format type %q, want TGI's json_object", got)
	}
}

func TestClientConfigServerKindSkipsDetection(t *testing.T) {
	reqs := chatJSONThrough(t, llmtest.New(t), `{"server_kind":"vllm"}`)
	for _, r := range reqs {
		if r.Path == "/info" || r.Path == "/v1/models" {
			t.Errorf("server_kind = vllm, yet the server was asked %s", r.Path)
		}
	}
	if got := responseFormatType(t, lastChat(t, reqs)); got != "json_schema" {
		t.Fatalf("server_kind = vllm: response_format type %q, want json_schema", got)
	}
}

func TestClientConfigJSONMode(t *testing.T) {
	r := lastChat(t, chatJSONThrough(t, llmtest.New(t), `{"json_mode":"none"}`))
	if len(r.ResponseFormat) != 0 || len(r.GuidedJSON) != 0 {
		t.Fatalf("json_mode = none sent response_format %s, guided_json %s", r.ResponseFormat, r.GuidedJSON)
	}
	r = lastChat(t, chatJSONThrough(t, llmtest.New(t), `{"json_mode":"guided_json"}`))
	if len(r.GuidedJSON) == 0 || len(r.ResponseFormat) != 0 {
		t.Fatalf("json_mode = guided_json sent response_format %s, guided_json %s", r.ResponseFormat, r.GuidedJSON)
	}
	// llama-cpp-python's form: the schema under "schema", not TGI's "value".
	r = lastChat(t, chatJSONThrough(t, llmtest.New(t), `{"json_mode":"json_object"}`))
	var rf struct {
		Type   string          `json:"type"`
		Schema json.RawMessage `json:"schema"`
		Value  json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(r.ResponseFormat, &rf); err != nil || rf.Type != "json_object" || len(rf.Schema) == 0 || len(rf.Value) != 0 {
		t.Fatalf("json_mode = json_object sent response_format %s (%v)", r.ResponseFormat, err)
	}
}

func TestClientConfigContextTokens(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "m", MaxInputTokens: 2047, MaxTotalTokens: 2048}))
	budget := func(settings string) int {
		cfg := testConfig(t, srv.URL())
		over, err := config.ParseJSON([]byte(settings))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Merge(over)
		client, err := llm.New(ClientConfig(cfg, ""))
		if err != nil {
			t.Fatal(err)
		}
		b, err := client.PromptBudget(context.Background(), 512)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fromServer, configured := budget(`{}`), budget(`{"context_tokens":32768}`)
	// The server's 2048-token context leaves under 1536 prompt tokens; the
	// configured 32768 leaves far more.
	if fromServer >= 2048-512 || configured <= 2048 {
		t.Fatalf("prompt budget: %d from the server's limit, %d with context_tokens = 32768", fromServer, configured)
	}
}

func TestPlanRevisionsDefault(t *testing.T) {
	if got := planRevisions(config.Config{}); got != MaxPlanRevisions {
		t.Fatalf("unset plan_revisions: %d", got)
	}
	if got := planRevisions(config.Default()); got != 1 {
		t.Fatalf("default plan_revisions: %d", got)
	}
}

func TestPaperOptionsFromConfig(t *testing.T) {
	over, err := config.ParseJSON([]byte(`{"paper":{"cache_dir":"/tmp/papers","download_timeout":"5s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Merge(over)
	if o := PaperOptions(cfg); o.CacheDir != "/tmp/papers" || o.Timeout.String() != "5s" {
		t.Fatalf("paper options %+v", o)
	}
}
