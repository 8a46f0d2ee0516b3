package llmtest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away mid-request
	}
	rec := &Recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Time: time.Now()}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		s.serveChat(w, r, rec)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/embeddings":
		s.serveEmbeddings(w, rec)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		s.record(rec)
		s.serveModels(w)
	case r.Method == http.MethodGet && r.URL.Path == "/info" && s.kind == KindTGI:
		s.record(rec)
		if !wait(r, s.infoLatency) {
			return
		}
		s.serveInfo(w)
	case r.Method == http.MethodPost && r.URL.Path == "/tokenize" && s.tokenizer && s.kind != KindOllama:
		s.record(rec)
		s.serveTokenize(w, rec)
	case r.Method == http.MethodGet && r.URL.Path == "/props" && s.kind == KindLlamaCpp:
		s.record(rec)
		writeJSON(w, http.StatusOK, map[string]any{
			"default_generation_settings": map[string]any{"n_ctx": s.info.MaxTotalTokens},
			"total_slots":                 1,
			"chat_template":               "{% for message in messages %}<|{{ message.role }}|>{{ message.content }}{% endfor %}",
		})
	case r.Method == http.MethodGet && r.URL.Path == "/api/version" && s.kind == KindOllama:
		s.record(rec)
		writeJSON(w, http.StatusOK, map[string]any{"version": "0.12.6"})
	default:
		s.record(rec)
		if s.kind == KindTGI {
			w.WriteHeader(http.StatusNotFound) // axum answers unknown routes with an empty 404
			return
		}
		s.writeError(w, Reply{Status: http.StatusNotFound, ErrorMessage: "not found: " + r.URL.Path})
	}
}

func (s *Server) record(rec *Recorded) {
	if s.noRecord {
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	select {
	case s.arrived <- rec:
	default:
	}
}

// chatBody is the part of an OpenAI chat request the fake reads.
type chatBody struct {
	Model         string    `json:"model"`
	Messages      []Message `json:"messages"`
	Stream        bool      `json:"stream"`
	MaxTokens     int       `json:"max_tokens"`
	Temperature   *float64  `json:"temperature"`
	Stop          []string  `json:"stop"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat json.RawMessage `json:"response_format"`
	GuidedJSON     json.RawMessage `json:"guided_json"`
}

func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, rec *Recorded) {
	var body chatBody
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		s.record(rec)
		s.writeError(w, Reply{Status: http.StatusUnprocessableEntity, ErrorMessage: "Failed to deserialize the JSON body into the target type: " + err.Error(), ErrorType: "validation"})
		return
	}
	rec.Model, rec.Messages, rec.Stream = body.Model, body.Messages, body.Stream
	rec.MaxTokens, rec.Temperature, rec.Stop = body.MaxTokens, body.Temperature, body.Stop
	rec.IncludeUsage = body.StreamOptions != nil && body.StreamOptions.IncludeUsage
	rec.ResponseFormat, rec.GuidedJSON = body.ResponseFormat, body.GuidedJSON
	s.record(rec)
	if msg := s.tooLong(rec); msg != "" {
		s.writeError(w, Reply{Status: http.StatusUnprocessableEntity, ErrorMessage: msg, ErrorType: "validation"})
		return
	}

	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	reply, fn, ok := s.nextReply(rec)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if !ok {
		s.writeError(w, Reply{Status: http.StatusUnprocessableEntity, ErrorType: "validation",
			ErrorMessage: fmt.Sprintf("llmtest: no scripted reply matches this request (last user message: %.80q)", rec.LastUser())})
		return
	}
	if fn != nil {
		reply = fn(rec) // outside the lock: a test's function may block
	}
	// The latency counts from the request's arrival, as a real server's
	// time to answer includes its own reading and validating of the
	// request.
	if !wait(r, reply.Latency-time.Since(rec.Time)) {
		return
	}
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		s.writeError(w, reply)
		return
	}
	if body.Stream && s.noStream {
		s.writeError(w, Reply{Status: http.StatusBadRequest, ErrorMessage: "streaming is not supported by this server", ErrorType: "validation"})
		return
	}
	if reply.Model == "" {
		reply.Model = rec.Model
	}
	if reply.FinishReason == "" {
		reply.FinishReason = "stop"
	}
	chunks := reply.Chunks
	if chunks == nil {
		chunks = splitWords(reply.Content)
	}
	usage := Usage{PromptTokens: promptWords(rec.Messages), CompletionTokens: len(chunks)}
	if reply.Usage != nil {
		usage = *reply.Usage
	}
	usage.TotalTokens = max(usage.TotalTokens, usage.PromptTokens+usage.CompletionTokens)
	if body.Stream {
		s.stream(w, r, rec, reply, chunks, usage)
		return
	}
	resp := map[string]any{
		"object":             "chat.completion",
		"id":                 "",
		"created":            time.Now().Unix(),
		"model":              reply.Model,
		"system_fingerprint": s.info.Version + "-native",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": strings.Join(chunks, "")},
			"logprobs":      nil,
			"finish_reason": reply.FinishReason,
		}},
		"usage": usage,
	}
	if reply.NoUsage {
		delete(resp, "usage")
	}
	b, _ := json.Marshal(resp)
	if reply.TruncateAfter > 0 && reply.TruncateAfter < len(b) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:reply.TruncateAfter])
		flush(w)
		panic(http.ErrAbortHandler) // closes the connection without finishing the body
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// stream writes TGI's SSE form: one chat.completion.chunk per delta, the
// finish reason on the last content chunk, a usage chunk with empty
// choices when stream_options.include_usage is set, then "data: [DONE]".
func (s *Server) stream(w http.ResponseWriter, r *http.Request, rec *Recorded, reply Reply, chunks []string, usage Usage) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	created := time.Now().Unix()
	event := func(choices []any, u *Usage) {
		b, _ := json.Marshal(map[string]any{
			"object":             "chat.completion.chunk",
			"id":                 "",
			"created":            created,
			"model":              reply.Model,
			"system_fingerprint": s.info.Version + "-native",
			"choices":            choices,
			"usage":              u,
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		flush(w)
	}
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	for i, c := range chunks {
		if reply.TruncateAfter > 0 && i == reply.TruncateAfter {
			panic(http.ErrAbortHandler)
		}
		if i > 0 && !wait(r, reply.ChunkLatency) {
			return
		}
		var finish any
		if i == len(chunks)-1 && reply.StreamError == "" {
			finish = reply.FinishReason
		}
		event([]any{map[string]any{
			"index":         0,
			"delta":         map[string]any{"role": "assistant", "content": c},
			"logprobs":      nil,
			"finish_reason": finish,
		}}, nil)
	}
	if reply.StreamError != "" {
		kind := reply.ErrorType
		if kind == "" {
			kind = "generation"
		}
		b, _ := json.Marshal(map[string]string{"error": reply.StreamError, "error_type": kind})
		fmt.Fprintf(w, "data: %s\n\n", b)
		flush(w)
		return
	}
	if reply.TruncateAfter > 0 && reply.TruncateAfter >= len(chunks) {
		panic(http.ErrAbortHandler) // everything sent, but no [DONE]
	}
	if rec.IncludeUsage && !reply.NoUsage {
		event([]any{}, &usage)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	flush(w)
}

// nextReply picks the first matching rule's next reply, or its function.
// s.mu is held.
func (s *Server) nextReply(rec *Recorded) (Reply, func(*Recorded) Reply, bool) {
	for _, rl := range s.rules {
		if !rl.match(rec) {
			continue
		}
		if rl.fn != nil {
			return Reply{}, rl.fn, true
		}
		if len(rl.replies) == 0 {
			continue
		}
		i := min(rl.served, len(rl.replies)-1)
		rl.served++
		return rl.replies[i], nil, true
	}
	return Reply{}, nil, false
}

// writeError answers with the error body of the server being imitated.
func (s *Server) writeError(w http.ResponseWriter, reply Reply) {
	status := reply.Status
	if reply.ErrorBody != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply.ErrorBody)
		return
	}
	msg, kind := reply.ErrorMessage, reply.ErrorType
	if msg == "" {
		msg = http.StatusText(status)
	}
	if kind == "" {
		kind = tgiErrorType(status)
	}
	switch s.kind {
	case KindVLLM:
		writeJSON(w, status, map[string]any{"object": "error", "message": msg, "type": kind, "param": nil, "code": status})
	case KindOllama, KindLlamaCpp:
		writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": kind, "code": status}})
	default:
		writeJSON(w, status, map[string]any{"error": msg, "error_type": kind})
	}
}

// tgiErrorType is the error_type TGI sends with each status.
func tgiErrorType(status int) string {
	switch status {
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return "validation"
	case http.StatusTooManyRequests:
		return "overloaded"
	case http.StatusFailedDependency:
		return "generation"
	case http.StatusServiceUnavailable:
		return "unhealthy"
	}
	return "incomplete_generation"
}

func (s *Server) serveInfo(w http.ResponseWriter) {
	info := map[string]any{
		"model_id":                s.info.ModelID,
		"model_sha":               nil,
		"model_pipeline_tag":      "text-generation",
		"max_concurrent_requests": 128,
		"max_best_of":             2,
		"max_stop_sequences":      4,
		"max_total_tokens":        s.info.MaxTotalTokens,
		"validation_workers":      2,
		"max_client_batch_size":   4,
		"router":                  "text-generation-router",
		"version":                 s.info.Version,
		"sha":                     nil,
		"docker_label":            nil,
	}
	if s.info.LegacyMaxInputLength {
		info["max_input_length"] = s.info.MaxInputTokens
	} else {
		info["max_input_tokens"] = s.info.MaxInputTokens
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) serveModels(w http.ResponseWriter) {
	ids := s.models
	if len(ids) == 0 {
		ids = []string{s.info.ModelID}
	}
	data := make([]any, 0, len(ids))
	for _, id := range ids {
		entry := map[string]any{"id": id, "object": "model", "created": 0}
		switch s.kind {
		case KindVLLM:
			entry["owned_by"] = "vllm"
			entry["root"] = s.info.ModelID
			entry["max_model_len"] = s.info.MaxTotalTokens
		case KindOllama:
			entry["owned_by"] = "library"
		case KindLlamaCpp:
			entry["owned_by"] = "llamacpp"
		default:
			entry["owned_by"] = s.info.ModelID
		}
		data = append(data, entry)
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// serveEmbeddings answers with deterministic unit vectors derived from each
// input's hashed words, so equal texts embed equally and texts sharing
// words are closer than unrelated ones.
func (s *Server) serveEmbeddings(w http.ResponseWriter, rec *Recorded) {
	var body struct {
		Input json.RawMessage `json:"input"`
		Model string          `json:"model"`
	}
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		s.record(rec)
		s.writeError(w, Reply{Status: http.StatusUnprocessableEntity, ErrorMessage: err.Error()})
		return
	}
	var one string
	if json.Unmarshal(body.Input, &one) == nil {
		rec.Input = []string{one}
	} else if err := json.Unmarshal(body.Input, &rec.Input); err != nil {
		s.record(rec)
		s.writeError(w, Reply{Status: http.StatusUnprocessableEntity, ErrorMessage: "input must be a string or a list of strings"})
		return
	}
	rec.Model = body.Model
	s.record(rec)
	data := make([]any, 0, len(rec.Input))
	tokens := 0
	for i, in := range rec.Input {
		tokens += len(strings.Fields(in))
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": Embedding(in, s.embedDim)})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "model": body.Model, "data": data,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// Embedding is the vector the fake server returns for text: the
// L2-normalised sum of one hashed basis direction per lower-cased word.
func Embedding(text string, dim int) []float32 {
	v := make([]float64, dim)
	for _, word := range strings.Fields(strings.ToLower(text)) {
		h := fnv.New64a()
		h.Write([]byte(word))
		x := h.Sum64()
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(dim)] += sign
	}
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, dim)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// wait sleeps d unless the client goes away first; it reports whether the
// handler should go on.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

var wordRE = regexp.MustCompile(`\s*\S+`)

// splitWords cuts content into deltas of one word with its leading
// whitespace; trailing whitespace goes with the last delta.
func splitWords(content string) []string {
	chunks := wordRE.FindAllString(content, -1)
	joined := strings.Join(chunks, "")
	if rest := content[len(joined):]; rest != "" {
		if len(chunks) == 0 {
			return []string{rest}
		}
		chunks[len(chunks)-1] += rest
	}
	return chunks
}

// tooLong is TGI's validation message for a request over the enforced
// limit, or "".
func (s *Server) tooLong(rec *Recorded) string {
	if s.enforceInput <= 0 && s.enforceTotal <= 0 {
		return "" // nothing to enforce: no need to tokenize
	}
	prompt := PromptTokens(rec.Messages)
	if s.enforceInput > 0 && prompt > s.enforceInput {
		return fmt.Sprintf("Input validation error: `inputs` must have less than %d tokens. Given: %d", s.enforceInput+1, prompt)
	}
	if s.enforceTotal > 0 && prompt+rec.MaxTokens > s.enforceTotal {
		return fmt.Sprintf("Input validation error: `inputs` tokens + `max_new_tokens` must be <= %d. Given: %d `inputs` tokens and %d `max_new_tokens`", s.enforceTotal, prompt, rec.MaxTokens)
	}
	return ""
}

var tokenRE = regexp.MustCompile(`[A-Za-z]{1,6}|\d|[^\sA-Za-z\d]|\s+`)

// Tokens is the fake server's tokenizer: runs of up to six letters, each
// digit, each other character and each run of whitespace are one token.
// It differs from llm.ApproxTokens on purpose, so tests see whether the
// server's count or the estimate was used.
func Tokens(text string) int { return len(tokenRE.FindAllStringIndex(text, -1)) }

// PromptTokens is a chat prompt's length as the fake server counts it:
// Tokens of every message plus 4 for the chat template's markers.
func PromptTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += Tokens(m.Content) + 4
	}
	return n
}

func (s *Server) serveTokenize(w http.ResponseWriter, rec *Recorded) {
	var body struct {
		Inputs  string `json:"inputs"`
		Content string `json:"content"`
		Prompt  string `json:"prompt"`
	}
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		s.writeError(w, Reply{Status: http.StatusUnprocessableEntity, ErrorMessage: err.Error()})
		return
	}
	switch s.kind {
	case KindLlamaCpp:
		n := Tokens(body.Content)
		writeJSON(w, http.StatusOK, map[string]any{"tokens": make([]int, n)})
	case KindVLLM:
		n := Tokens(body.Prompt)
		writeJSON(w, http.StatusOK, map[string]any{"count": n, "max_model_len": s.info.MaxTotalTokens, "tokens": make([]int, n)})
	default:
		n := Tokens(body.Inputs)
		list := make([]map[string]any, n)
		for i := range list {
			list[i] = map[string]any{"id": i, "text": "", "start": 0, "stop": 0}
		}
		writeJSON(w, http.StatusOK, list)
	}
}

func promptWords(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(strings.Fields(m.Content))
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
