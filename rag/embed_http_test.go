package rag

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
)

// embeddingServer is an OpenAI-compatible /v1/embeddings endpoint whose
// vectors are word counts hashed into dim buckets, deliberately not
// normalised (scaled by 3), so the client's normalisation is observable.
type embeddingServer struct {
	*httptest.Server
	dim atomic.Int64

	mu       sync.Mutex
	models   []string
	inputs   int
	requests int
	longest  int // bytes of the longest input
}

func newEmbeddingServer(t *testing.T, dim int) *embeddingServer {
	s := &embeddingServer{}
	s.dim.Store(int64(dim))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.models = append(s.models, req.Model)
		s.inputs += len(req.Input)
		s.requests++
		for _, in := range req.Input {
			s.longest = max(s.longest, len(in))
		}
		s.mu.Unlock()
		dim := int(s.dim.Load())
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, text := range req.Input {
			v := make([]float32, dim)
			for _, word := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
				h := fnv.New32a()
				h.Write([]byte(word))
				v[int(h.Sum32()%uint32(dim))] += 3
			}
			data = append(data, item{"embedding", i, v})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)},
		})
	}))
	t.Cleanup(s.Close)
	return s
}

func httpEmbedder(t *testing.T, url, model string) *HTTP {
	t.Helper()
	client, err := llm.New(llm.Config{BaseURL: url + "/v1", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	emb, err := NewHTTP(client, model)
	if err != nil {
		t.Fatal(err)
	}
	return emb
}

func TestHTTPEmbedderIndexAndQuery(t *testing.T) {
	srv := newEmbeddingServer(t, 1024)
	emb := httpEmbedder(t, srv.URL, "bge-test")
	if emb.Name() != "openai:bge-test" || emb.Dim() != 0 {
		t.Fatalf("fresh embedder: name %q dim %d", emb.Name(), emb.Dim())
	}
	dir, repo, ix := buildSample(t, emb)
	srv.mu.Lock()
	inputs, models := srv.inputs, srv.models
	srv.mu.Unlock()
	if inputs != ix.Count(Code) || inputs == 0 {
		t.Fatalf("server embedded %d texts for %d chunks", inputs, ix.Count(Code))
	}
	for _, m := range models {
		if m != "bge-test" {
			t.Fatalf("request for model %q", m)
		}
	}
	if emb.Dim() != 1024 {
		t.Fatalf("dimension learned: %d", emb.Dim())
	}

	// Stored vectors are unit length although the server's are not.
	ix.mu.RLock()
	for _, f := range ix.man.Files[Code] {
		d, err := ix.cols[Code].GetByID(context.Background(), f.Chunks[0])
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, x := range d.Embedding {
			sum += float64(x) * float64(x)
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Fatalf("stored vector has squared length %f", sum)
		}
	}
	ix.mu.RUnlock()

	chunks, err := ix.Retrieve(context.Background(), "sharded loader reads tokenised shards", RetrieveOptions{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 1 || chunks[0].Metadata["path"] != "data/loader.py" {
		t.Fatalf("query through the server: %+v", chunks)
	}

	// The index remembers the model and the dimension.
	if _, err := Open(dir, httpEmbedder(t, srv.URL, "other-model")); !errors.Is(err, ErrEmbedderMismatch) {
		t.Fatalf("open with another model: %v", err)
	}
	if _, err := Open(dir, NewOffline(1024)); !errors.Is(err, ErrEmbedderMismatch) {
		t.Fatalf("open with the offline embedder: %v", err)
	}

	// Same name, but the server now answers with another dimension: the
	// update fails before changing anything, and so does a query.
	srv.dim.Store(32)
	again, err := Open(dir, httpEmbedder(t, srv.URL, "bge-test"))
	if err != nil {
		t.Fatal(err)
	}
	modifyRepo(t, repo)
	if _, err := again.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{}); !errors.Is(err, ErrEmbedderMismatch) {
		t.Fatalf("update with 32-dimensional vectors into a 1024-dimensional index: %v", err)
	}
	if _, err := again.Retrieve(context.Background(), "loader", RetrieveOptions{}); !errors.Is(err, ErrEmbedderMismatch) {
		t.Fatalf("query with 32-dimensional vectors: %v", err)
	}
	if got := len(again.Files()); got != len(sampleCode) {
		t.Fatalf("failed update changed the file list: %d files", got)
	}
}

func TestHTTPEmbedderServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"model bge-missing is not loaded","error_type":"validation"}`))
	}))
	t.Cleanup(srv.Close)
	emb := httpEmbedder(t, srv.URL, "bge-missing")
	repo := filepath.Join(t.TempDir(), "repo")
	writeTree(t, repo, sampleCode)
	ix, err := Create(filepath.Join(t.TempDir(), "index"), emb)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), "openai:bge-missing") {
		t.Fatalf("update against a failing server: %v", err)
	}
}

func TestEmbedderFromConfig(t *testing.T) {
	cfg := config.Default()
	emb, err := EmbedderFromConfig(cfg)
	if err != nil || emb.Name() != "offline-ngram-v1" || emb.Dim() != DefaultOfflineDim {
		t.Fatalf("default: %v, %v", emb, err)
	}
	cfg.Index.Embedder = "openai"
	if _, err := EmbedderFromConfig(cfg); err == nil || !strings.Contains(err.Error(), "index.embedding_model") {
		t.Fatalf("openai without a model: %v", err)
	}
	srv := newEmbeddingServer(t, 8)
	cfg.Index.EmbeddingEndpoint = srv.URL + "/v1"
	cfg.Index.EmbeddingModel = "nomic"
	emb, err = EmbedderFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := emb.Embed(context.Background(), []string{"a b", "c"})
	if err != nil || len(vecs) != 2 || len(vecs[0]) != 8 || emb.Name() != "openai:nomic" {
		t.Fatalf("configured embedder: %v %v", vecs, err)
	}

	// Long inputs are cut, at a character boundary, before they are sent.
	long := strings.Repeat("é", DefaultMaxInputBytes) // 2 bytes a character
	if _, err := emb.Embed(context.Background(), []string{long}); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	longest := srv.longest
	srv.mu.Unlock()
	if longest > DefaultMaxInputBytes || longest < DefaultMaxInputBytes-1 {
		t.Fatalf("longest input sent: %d bytes, limit %d", longest, DefaultMaxInputBytes)
	}
}
