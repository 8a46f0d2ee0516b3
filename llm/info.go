package llm

import "context"

// ServerKind names an OpenAI-compatible server implementation.
type ServerKind string

// Server kinds r2c knows how to talk to.
const (
	ServerUnknown  ServerKind = ""
	ServerTGI      ServerKind = "tgi"      // Hugging Face text-generation-inference
	ServerVLLM     ServerKind = "vllm"     // vLLM's OpenAI-compatible server
	ServerOllama   ServerKind = "ollama"   // Ollama's /v1 routes
	ServerLlamaCpp ServerKind = "llamacpp" // llama.cpp's llama-server
	ServerOpenAI   ServerKind = "openai"   // api.openai.com or another strict implementation
)

// JSONMode is how ChatJSON asks the server for constrained decoding.
type JSONMode string

// Constrained-decoding forms.
const (
	// JSONModeAuto picks by server kind: TGI gets JSONModeTGI; vLLM,
	// Ollama, llama.cpp and OpenAI get JSONModeSchema; an unknown server
	// gets JSONModeNone.
	JSONModeAuto JSONMode = ""
	// JSONModeNone relies on the prompt and validation alone.
	JSONModeNone JSONMode = "none"
	// JSONModeTGI sends TGI's grammar form:
	// "response_format": {"type": "json_object", "value": SCHEMA}.
	JSONModeTGI JSONMode = "tgi"
	// JSONModeSchema sends the OpenAI form:
	// "response_format": {"type": "json_schema", "json_schema": {"name": ..., "schema": SCHEMA}}.
	JSONModeSchema JSONMode = "json_schema"
	// JSONModeGuided sends vLLM's older extra parameter "guided_json": SCHEMA.
	JSONModeGuided JSONMode = "guided_json"
	// JSONModeObject sends llama-cpp-python's grammar form (also read by
	// llama.cpp's llama-server):
	// "response_format": {"type": "json_object", "schema": SCHEMA}.
	JSONModeObject JSONMode = "json_object"
)

// ServerInfo describes the server, for `r2c doctor` and prompt budgets.
type ServerInfo struct {
	Kind ServerKind
	// ModelID is the served base model (TGI's model_id, or the first
	// /v1/models entry elsewhere).
	ModelID string
	// Models are the ids /v1/models lists. vLLM lists its --lora-modules
	// there; TGI lists only the base model (use CheckModel for an adapter).
	Models []string
	// MaxInputTokens is the longest prompt the server accepts; 0 if unknown.
	MaxInputTokens int
	// MaxTotalTokens bounds prompt plus answer; 0 if unknown.
	MaxTotalTokens int
	// LimitSource says where MaxTotalTokens comes from (LimitFromTGI,
	// LimitFromModels or LimitFromProps); empty when unknown.
	LimitSource string
	// ChatTemplate is the chat template the server applies, when it says
	// (llama.cpp's /props); empty otherwise.
	ChatTemplate string
	// Version is the server's version string when it reports one.
	Version string
}

// Info asks the server what it serves: TGI's /info first, then /v1/models.
// The answer is cached for the client's lifetime after the first success.
func (c *Client) Info(ctx context.Context) (*ServerInfo, error) {
	return c.serverInfo(ctx)
}

// Models lists the ids /v1/models returns.
func (c *Client) Models(ctx context.Context) ([]string, error) {
	return c.listModels(ctx)
}

// CheckModel verifies that the server serves model (a LoRA adapter name on
// TGI, where /info and /v1/models list only the base model) by asking it
// for one token. It returns the server's error, which names the problem,
// when the model or adapter is not loaded.
func (c *Client) CheckModel(ctx context.Context, model string) error {
	greedy := float32(0)
	_, err := c.chat(ctx, Request{
		Model:       model,
		Messages:    []Message{{Role: RoleUser, Content: "Say OK."}},
		Temperature: &greedy,
		MaxTokens:   1,
	}, nil)
	return err
}

// StreamingRefused reports whether the server refused a streamed request
// that it then answered without streaming: since then the client sends
// plain requests, and OnToken receives each answer whole.
func (c *Client) StreamingRefused() bool { return c.noStream.Load() }
