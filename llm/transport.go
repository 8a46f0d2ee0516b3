package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// attemptKey carries an *attemptState through a request's context to the
// transport, which is the only place that sees the raw request body and the
// response headers go-openai does not expose.
type attemptKey struct{}

// attemptState is written by transport.RoundTrip, which runs on the
// goroutine of the go-openai call that owns it, and read after that call.
type attemptState struct {
	// extra holds body fields go-openai cannot express (TGI's
	// response_format "value", vLLM's guided_json, an explicit
	// "temperature": 0 that omitempty would drop).
	extra map[string]any
	// status and retryAfter come from the last response.
	status     int
	retryAfter string
	// streamError is the payload of an SSE error event
	// (data: {"error": ...}) seen in a 200 stream; go-openai cannot decode
	// TGI's form of it.
	streamError []byte
}

func withAttempt(ctx context.Context, st *attemptState) context.Context {
	return context.WithValue(ctx, attemptKey{}, st)
}

// transport merges extra body fields into JSON requests and records the
// response status and Retry-After header for the retry loop.
type transport struct{ next http.RoundTripper }

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	st, _ := r.Context().Value(attemptKey{}).(*attemptState)
	if st != nil && len(st.extra) > 0 && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		merged, err := mergeJSON(body, st.extra)
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(merged))
		r.ContentLength = int64(len(merged))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(merged)), nil }
	}
	resp, err := next.RoundTrip(r)
	if st != nil && resp != nil {
		st.status = resp.StatusCode
		st.retryAfter = resp.Header.Get("Retry-After")
		if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			resp.Body = &sseSniffer{ReadCloser: resp.Body, st: st}
		}
	}
	return resp, err
}

// maxSSELine bounds the line the sniffer keeps; error events are short.
const maxSSELine = 64 << 10

// sseSniffer passes a stream through unchanged and records error events.
type sseSniffer struct {
	io.ReadCloser
	st   *attemptState
	line []byte
}

func (s *sseSniffer) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	for _, b := range p[:n] {
		if b != '\n' {
			if len(s.line) < maxSSELine {
				s.line = append(s.line, b)
			}
			continue
		}
		line := bytes.TrimSpace(s.line)
		if payload, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			payload = bytes.TrimSpace(payload)
			if bytes.HasPrefix(payload, []byte(`{"error"`)) {
				s.st.streamError = append([]byte(nil), payload...)
			}
		}
		s.line = s.line[:0]
	}
	return n, err
}

// mergeJSON sets extra's fields on the JSON object body, replacing fields
// of the same name.
func mergeJSON(body []byte, extra map[string]any) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	for k, v := range extra {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode request field %q: %w", k, err)
		}
		fields[k] = b
	}
	return json.Marshal(fields)
}
