package rag

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
)

// HTTP embeds through any OpenAI-compatible /v1/embeddings endpoint
// (text-embeddings-inference, vLLM, Ollama, llama.cpp, OpenAI) with the llm
// client, which bounds requests in flight and retries 429s and 5xx.
// Vectors are L2-normalised here, since not every model returns unit vectors.
type HTTP struct {
	// MaxInputBytes cuts each text before it is sent (at a character
	// boundary), because servers such as text-embeddings-inference reject
	// inputs over the model's limit (512 tokens for BGE and E5 models)
	// unless started with --auto-truncate. The stored chunk stays whole;
	// its vector comes from its beginning, where a function's signature and
	// docstring are. NewHTTP sets DefaultMaxInputBytes; 0 sends texts whole.
	MaxInputBytes int

	client *llm.Client
	model  string

	mu  sync.Mutex
	dim int // learned from the first answer
}

// NewHTTP returns an embedder asking client's server for model's vectors.
func NewHTTP(client *llm.Client, model string) (*HTTP, error) {
	if client == nil {
		return nil, errors.New("rag: http embedder: nil client")
	}
	if strings.TrimSpace(model) == "" {
		return nil, errors.New("rag: http embedder: no model; set index.embedding_model in r2c.toml")
	}
	return &HTTP{client: client, model: model, MaxInputBytes: DefaultMaxInputBytes}, nil
}

// DefaultMaxInputBytes keeps inputs under 512 tokens even for code, which
// tokenises at about 3.5 bytes a token.
const DefaultMaxInputBytes = 1600

// Name implements Embedder: "openai:" and the model.
func (h *HTTP) Name() string { return "openai:" + h.model }

// Dim implements Embedder: 0 until the server has answered once.
func (h *HTTP) Dim() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dim
}

// Embed implements Embedder.
func (h *HTTP) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if h.MaxInputBytes > 0 {
		cut := make([]string, len(texts))
		for i, t := range texts {
			cut[i] = truncateUTF8(t, h.MaxInputBytes)
		}
		texts = cut
	}
	vecs, err := h.client.Embed(ctx, h.model, texts)
	if err != nil {
		return nil, fmt.Errorf("embeddings from %s: %w", h.Name(), err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embeddings from %s: %d vectors for %d texts", h.Name(), len(vecs), len(texts))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, v := range vecs {
		if len(v) == 0 {
			return nil, fmt.Errorf("embeddings from %s: empty vector for text %d", h.Name(), i)
		}
		if h.dim == 0 {
			h.dim = len(v)
		}
		if len(v) != h.dim {
			return nil, fmt.Errorf("embeddings from %s: vectors of %d and %d dimensions in one session", h.Name(), h.dim, len(v))
		}
		out := make([]float32, len(v))
		copy(out, v)
		normalize(out)
		vecs[i] = out
	}
	return vecs, nil
}

// truncateUTF8 returns at most max bytes of s, cut before a character.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// EmbedderFromConfig returns the embedder cfg.Index selects: the offline
// one by default, or an OpenAI-compatible server (index.embedding_endpoint,
// falling back to the chat endpoint, and index.embedding_model).
func EmbedderFromConfig(cfg config.Config) (Embedder, error) {
	switch cfg.Index.Embedder {
	case "", "offline":
		return NewOffline(DefaultOfflineDim), nil
	case "openai":
		endpoint := firstNonEmpty(cfg.Index.EmbeddingEndpoint, cfg.Endpoint)
		if endpoint == "" {
			return nil, errors.New("rag: index.embedder is \"openai\" but no endpoint is set; set index.embedding_endpoint (e.g. http://localhost:8081/v1)")
		}
		if cfg.Index.EmbeddingModel == "" {
			return nil, errors.New("rag: index.embedder is \"openai\" but index.embedding_model is empty; name the embedding model the server serves")
		}
		key, err := cfg.APIKey()
		if err != nil {
			return nil, fmt.Errorf("rag: %w", err)
		}
		client, err := llm.New(llm.Config{
			BaseURL:     endpoint,
			APIKey:      key,
			Model:       cfg.Index.EmbeddingModel,
			MaxInFlight: cfg.MaxInFlight,
			MaxRetries:  cfg.MaxRetries,
		})
		if err != nil {
			return nil, fmt.Errorf("rag: embedding client: %w", err)
		}
		return NewHTTP(client, cfg.Index.EmbeddingModel)
	default:
		return nil, fmt.Errorf("rag: index.embedder must be \"offline\" or \"openai\", got %q", cfg.Index.Embedder)
	}
}
