// Package llmtest is a fake OpenAI-compatible model server for tests. It
// speaks text-generation-inference's wire format: chat completions as JSON
// or as SSE chunks ending with "data: [DONE]" (usage in the final chunk when
// stream_options.include_usage is set), TGI's error bodies
// {"error": "...", "error_type": "..."} with its status codes, /info,
// /v1/models and /v1/embeddings.
//
// Tests script it per request: On(matcher, replies...) serves the matching
// rule's replies in order (the last one repeats), with per-call latency and
// fault injection (error statuses, Retry-After, latency beyond the client's
// timeout, truncated streams, malformed or wrong-schema answers are just
// Content). Every request is recorded. Waiting honours the request's
// context, so a client that goes away never leaves the server blocked.
package llmtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one chat message as the server received it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Recorded is one request the server received, decoded.
type Recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Time         time.Time
	// Chat completion fields (zero for other routes).
	Model       string
	Messages    []Message
	Stream      bool
	MaxTokens   int
	Temperature *float64
	Stop        []string
	// IncludeUsage is stream_options.include_usage.
	IncludeUsage bool
	// ResponseFormat is the raw "response_format" object, if any.
	ResponseFormat json.RawMessage
	// GuidedJSON is vLLM's raw "guided_json" extra parameter, if any.
	GuidedJSON json.RawMessage
	// Input is /v1/embeddings' input list.
	Input []string
}

// LastUser returns the content of the last user message.
func (r *Recorded) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// Matcher selects the chat requests a rule answers.
type Matcher func(r *Recorded) bool

// Reply is one scripted answer to a chat completion. The server answers as
// the request asked: JSON, or SSE when "stream": true.
type Reply struct {
	// Content is the assistant's answer. When streaming it is sent one
	// word (with its leading whitespace) per chunk.
	Content string
	// Chunks, when set, are the exact stream deltas instead of splitting
	// Content (Content is then ignored).
	Chunks []string
	// FinishReason defaults to "stop".
	FinishReason string
	// Status, when not 0 or 200, answers with an error: ErrorBody if set,
	// else TGI's {"error": ErrorMessage, "error_type": ErrorType}.
	Status       int
	ErrorBody    string
	ErrorMessage string
	ErrorType    string
	// RetryAfter is sent as the Retry-After header.
	RetryAfter string
	// Latency is the time from the request's arrival to the answer (or
	// the request is abandoned when the client goes away first).
	Latency time.Duration
	// ChunkLatency is waited between stream chunks.
	ChunkLatency time.Duration
	// TruncateAfter > 0 closes the connection abruptly after that many
	// content chunks (streaming) or that many body bytes (JSON), without
	// a finish reason or "data: [DONE]".
	TruncateAfter int
	// StreamError, when set on a streamed reply, ends the stream after the
	// chunks with TGI's error event
	// data: {"error": StreamError, "error_type": ErrorType or "generation"}
	// instead of a finish reason and [DONE].
	StreamError string
	// Usage overrides the token counts the server reports (default:
	// prompt = words in all messages, completion = chunks sent).
	Usage *Usage
	// NoUsage leaves the token counts out, as servers do that ignore
	// stream_options.include_usage (no usage chunk) or report none ("usage"
	// absent from a JSON answer).
	NoUsage bool
	// Model overrides the "model" field of the answer (default: the
	// request's model).
	Model string
}

// Usage is the token count the server reports.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Info is what /info answers. JSON names follow TGI.
type Info struct {
	ModelID        string `json:"model_id"`
	MaxInputTokens int    `json:"max_input_tokens,omitempty"`
	MaxTotalTokens int    `json:"max_total_tokens,omitempty"`
	// LegacyMaxInputLength, when true, reports the limit under TGI 1.x's
	// name max_input_length instead of max_input_tokens.
	LegacyMaxInputLength bool   `json:"-"`
	Version              string `json:"version,omitempty"`
}

// Kind selects which server the fake poses as: it changes /info and
// /v1/models answers (and error body shapes for non-TGI kinds).
type Kind string

// Server kinds the fake can pose as.
const (
	KindTGI      Kind = "tgi"
	KindVLLM     Kind = "vllm"
	KindOllama   Kind = "ollama"
	KindLlamaCpp Kind = "llamacpp"
)

// Option configures a Server.
type Option func(*Server)

// WithKind makes the server pose as another implementation (default TGI).
func WithKind(k Kind) Option { return func(s *Server) { s.kind = k } }

// WithInfo sets the /info answer (TGI) and the context length reported by
// /v1/models (vLLM's max_model_len).
func WithInfo(info Info) Option { return func(s *Server) { s.info = info } }

// WithInfoLatency makes /info wait d before answering.
func WithInfoLatency(d time.Duration) Option { return func(s *Server) { s.infoLatency = d } }

// WithModels sets the ids /v1/models lists (default: the info's model id;
// on vLLM add the LoRA module names here).
func WithModels(ids ...string) Option { return func(s *Server) { s.models = ids } }

// WithEnforcedLimit makes the server refuse, as TGI does with a 422,
// chat requests whose prompt (counted with Tokens, plus 4 per message)
// exceeds input tokens, or whose prompt plus max_tokens exceeds total.
// With a smaller figure than WithInfo's, the server lies about its limit.
// 0 leaves that bound off.
func WithEnforcedLimit(total, input int) Option {
	return func(s *Server) { s.enforceTotal, s.enforceInput = total, input }
}

// WithTokenizer serves /tokenize in the imitated server's form (TGI: a list
// of tokens; llama.cpp: {"tokens": [...]}; vLLM: {"count": n, ...}),
// counting with Tokens.
func WithTokenizer() Option { return func(s *Server) { s.tokenizer = true } }

// WithoutStreaming makes the server refuse streamed chat requests with a
// 400, as some proxies and servers do.
func WithoutStreaming() Option { return func(s *Server) { s.noStream = true } }

// WithoutRecording keeps no record of the requests (Requests, ChatRequests
// and Arrived stay empty): for benchmarks, where hundreds of thousands of
// records would grow the heap, and the collector's work with it, as the
// benchmark runs, biasing against whatever runs later.
func WithoutRecording() Option { return func(s *Server) { s.noRecord = true } }

// Server is the fake model server.
type Server struct {
	srv         *httptest.Server
	kind        Kind
	info        Info
	infoLatency time.Duration
	models      []string

	enforceTotal, enforceInput int
	tokenizer, noStream        bool
	noRecord                   bool

	mu          sync.Mutex
	rules       []*rule
	requests    []*Recorded
	inFlight    int
	maxInFlight int
	embedDim    int
	arrived     chan *Recorded
}

type rule struct {
	match   Matcher
	replies []Reply
	fn      func(*Recorded) Reply
	served  int
}

// New starts a fake server that t.Cleanup closes.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{
		kind:     KindTGI,
		info:     Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxInputTokens: 4095, MaxTotalTokens: 4096, Version: "3.3.4"},
		embedDim: 16,
		arrived:  make(chan *Recorded, 1024),
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)
	return s
}

// URL is the OpenAI-compatible base URL, ending in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// RootURL is the server's root (TGI's /info lives there).
func (s *Server) RootURL() string { return s.srv.URL }

// Close stops the server; New registers it with t.Cleanup.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// On adds a rule: chat requests matching match are answered with replies in
// order, the last one repeating. Rules are tried in the order they were
// added; a request no rule matches gets a TGI validation error (422)
// naming the problem, so a missing script fails loudly.
func (s *Server) On(match Matcher, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &rule{match: match, replies: replies})
}

// OnFunc adds a rule whose reply is computed from the request. reply runs
// on the request's handler goroutine without the server's lock, so it may
// block (to hold requests in flight) and may call the server's methods.
func (s *Server) OnFunc(match Matcher, reply func(r *Recorded) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &rule{match: match, fn: reply})
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []*Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Recorded(nil), s.requests...)
}

// Arrived delivers every request as it is recorded (before any scripted
// latency), so tests can wait for an event instead of sleeping. Requests
// beyond its buffer of 1024 unread ones are still recorded but not sent.
func (s *Server) Arrived() <-chan *Recorded { return s.arrived }

// ChatRequests returns the chat completion requests received so far.
func (s *Server) ChatRequests() []*Recorded { return s.RequestsTo("/v1/chat/completions") }

// RequestsTo returns the requests for path received so far, in arrival
// order.
func (s *Server) RequestsTo(path string) []*Recorded {
	var out []*Recorded
	for _, r := range s.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// MaxConcurrent is the most chat requests the server was handling at once.
func (s *Server) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Always matches every chat request.
func Always() Matcher { return func(*Recorded) bool { return true } }

// Contains matches requests with substr in any message.
func Contains(substr string) Matcher {
	return func(r *Recorded) bool {
		for _, m := range r.Messages {
			if strings.Contains(m.Content, substr) {
				return true
			}
		}
		return false
	}
}

// Model matches requests for one model or adapter name.
func Model(name string) Matcher { return func(r *Recorded) bool { return r.Model == name } }
