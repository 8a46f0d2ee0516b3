package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout        = 5 * time.Minute
	DefaultMaxInFlight    = 4
	DefaultMaxRetries     = 3
	DefaultRetryBaseDelay = 500 * time.Millisecond
	DefaultRetryMaxDelay  = 30 * time.Second
	// DefaultContextTokens is assumed when neither the server nor
	// Config.ContextTokens says how long prompt plus answer may be: a
	// conservative figure every Llama-family server accepts.
	DefaultContextTokens = 4096
	// DefaultMaxAnswerBytes is Config.MaxAnswerBytes's default.
	DefaultMaxAnswerBytes = 64 << 20
)

// Config configures a Client. Zero fields take the defaults above.
type Config struct {
	// BaseURL is the OpenAI-compatible base URL including /v1, for example
	// http://localhost:8080/v1 for TGI or http://localhost:8000/v1 for vLLM.
	BaseURL string
	// APIKey is sent as a bearer token when non-empty. It is never logged
	// and never appears in errors.
	APIKey string
	// Model is the default "model" field: on TGI a LoRA adapter name or
	// "tgi" for the base model; on vLLM the served model or a --lora-modules
	// name. Request.Model overrides it.
	Model string
	// Temperature is the default sampling temperature; 0 asks for greedy
	// decoding.
	Temperature float32
	// MaxTokens is the default bound on generated tokens (0: server default).
	MaxTokens int
	// Timeout bounds one attempt: sending the request and reading the whole
	// answer. A timed-out attempt is not retried (the server is busy
	// generating; a second attempt would only add load). Default 5 minutes.
	Timeout time.Duration
	// MaxInFlight bounds concurrent requests to the server (default 4).
	// A slot is held during an attempt, not while waiting to retry.
	MaxInFlight int
	// MaxRetries bounds retries after the first attempt (default 3);
	// negative disables retries.
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff
	// (defaults 500ms and 30s). A server's Retry-After takes precedence when
	// it asks for a longer wait.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// Server names the server kind when detection is not wanted; empty
	// detects it from /info or /v1/models on first use.
	Server ServerKind
	// JSONMode picks the constrained-decoding form used by ChatJSON;
	// JSONModeAuto chooses by server kind.
	JSONMode JSONMode
	// SystemInUser sends system messages as the start of the first user
	// message instead, separated by a blank line, as Gemma's own chat
	// template does: some templates have no system role and drop such a
	// message silently (llama-cpp-python's "gemma") or refuse it.
	SystemInUser bool
	// ContextTokens overrides the server's context limit used by
	// PromptBudget; 0 reads it from the server.
	ContextTokens int
	// Logger receives retry and fallback notes (default: discard).
	Logger *slog.Logger
	// MaxAnswerBytes bounds the size of one HTTP answer body (default
	// 64 MiB, far above any max_tokens a model server accepts), so a
	// runaway or misbehaving server cannot exhaust memory. An answer past
	// it fails with ErrAnswerTooLarge and is not retried.
	MaxAnswerBytes int64
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Chat roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Request is one chat completion.
type Request struct {
	// Model overrides Config.Model (an adapter name on TGI).
	Model    string
	Messages []Message
	// Temperature overrides Config.Temperature when non-nil.
	Temperature *float32
	// MaxTokens overrides Config.MaxTokens when positive.
	MaxTokens int
	Stop      []string
	// Timeout overrides Config.Timeout for this request when positive.
	Timeout time.Duration
	// OnToken, when non-nil, streams the answer over SSE and is called with
	// every content delta in order, from the calling goroutine.
	OnToken func(delta string)
	// FitToContext lowers MaxTokens, when the server's limit is known, so
	// that the prompt (counted with the server's tokenizer where it has
	// one) and the answer fit: for follow-up requests (repairs) that grow
	// a prompt built to fit. ChatJSON's repair round always fits.
	FitToContext bool
	// OnExchange, when non-nil, is called after every HTTP round trip of
	// the call (retries and ChatJSON's repair re-ask included), from the
	// calling goroutine, before the call returns.
	OnExchange func(Exchange)
}

// Response is a finished chat completion.
type Response struct {
	Content      string
	Model        string
	FinishReason string
	// Usage is the server's token count for this call (summed over both
	// rounds for a repaired ChatJSON answer). Zero when the server did not
	// report usage.
	Usage Usage
	// Attempts counts HTTP attempts, retries included.
	Attempts int
	// Duration is the wall time of the whole call, waits included.
	Duration time.Duration
	// MaxTokens is the answer bound the request was finally sent with:
	// lower than asked when the server's 422 made the client re-budget.
	MaxTokens int
}

// Client talks to one OpenAI-compatible server. It is safe for concurrent use.
type Client struct {
	cfg    Config
	api    *openai.Client
	root   string // BaseURL without the trailing /v1, for TGI's /info
	http   *http.Client
	slots  chan struct{}
	usage  UsageCounter
	log    *slog.Logger
	info   atomic.Pointer[ServerInfo]
	noJSON atomic.Bool // the server rejected constrained decoding once
	// noStream is set once the server refused a streamed request that it
	// answered without streaming: later calls ask for plain answers.
	noStream atomic.Bool
	// noTokenize is set once /tokenize failed: counts are estimated.
	noTokenize atomic.Bool
	tokenCache tokenCache
	// learned is the limit a 422 "input too long" revealed, nil until then.
	learned atomic.Pointer[ContextLimit]
	// defaultFields are the body fields of a request that overrides
	// neither temperature nor max_tokens, encoded once (nil when the
	// configured temperature cannot be encoded: each call then fails).
	defaultFields *encodedFields
	// ownTransport is the transport New made, whose idle connections
	// Close closes.
	ownTransport *http.Transport
}

// New checks cfg and returns a Client. It does not contact the server.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, errors.New("llm: no endpoint configured (set endpoint, e.g. http://localhost:8080/v1)")
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("llm: endpoint %q must start with http:// or https://", cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.RetryBaseDelay <= 0 {
		cfg.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if cfg.RetryMaxDelay <= 0 {
		cfg.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if cfg.MaxAnswerBytes <= 0 {
		cfg.MaxAnswerBytes = DefaultMaxAnswerBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	cfg.BaseURL = base
	own := newHTTPTransport(cfg.MaxInFlight)
	wrapped := &http.Client{Transport: &transport{next: own, maxBody: cfg.MaxAnswerBytes}}

	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = base
	oc.HTTPClient = wrapped
	c := &Client{
		cfg:   cfg,
		api:   openai.NewClientWithConfig(oc),
		root:  strings.TrimSuffix(base, "/v1"),
		http:  wrapped,
		slots: make(chan struct{}, cfg.MaxInFlight),
		log:   cfg.Logger,

		ownTransport: own,
	}
	c.defaultFields, _ = bodyFields{temperature: cfg.Temperature, maxTokens: cfg.MaxTokens}.encode()
	return c, nil
}

// Close closes the client's idle keep-alive connections, so a client used
// for one run leaves no connection (and its goroutines) behind. Calls in
// flight are not affected, and the client stays usable: a later call dials
// again.
func (c *Client) Close() { c.ownTransport.CloseIdleConnections() }

// Config returns the effective configuration (defaults applied). The API
// key is blanked.
func (c *Client) Config() Config {
	cfg := c.cfg
	if cfg.APIKey != "" {
		cfg.APIKey = "(set)"
	}
	return cfg
}

// Usage returns the tokens used by every call of this client so far.
func (c *Client) Usage() Usage { return c.usage.Total() }

// Chat sends one chat completion, streaming when req.OnToken is set, and
// retries transient failures. Errors wrap context.Cause(ctx) (normally
// context.Canceled) when ctx ends,
// ErrTimeout when an attempt ran past the timeout, ErrTruncated when a
// stream ended early, and *APIError for server error answers.
func (c *Client) Chat(ctx context.Context, req Request) (*Response, error) {
	return c.chat(ctx, req, nil)
}
