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
type transport struct {
	next    http.RoundTripper
	maxBody int64 // answer bodies longer than this fail with ErrAnswerTooLarge
}

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
	if resp != nil && t.maxBody > 0 {
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.maxBody, limit: t.maxBody}
	}
	if st != nil && resp != nil {
		st.status = resp.StatusCode
		st.retryAfter = resp.Header.Get("Retry-After")
		if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			resp.Body = &sseSniffer{ReadCloser: resp.Body, st: st}
		}
	}
	return resp, err
}

// limitedBody fails a read that would go past the answer size limit,
// rather than truncating silently (a cut JSON answer would look like a
// model error).
type limitedBody struct {
	io.ReadCloser
	left, limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for more: an answer of exactly the limit is fine.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, &answerTooLargeError{limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// answerTooLargeError wraps ErrAnswerTooLarge with the limit.
type answerTooLargeError struct{ limit int64 }

func (e *answerTooLargeError) Error() string {
	return fmt.Sprintf("%v (more than %d bytes; lower max_tokens)", ErrAnswerTooLarge, e.limit)
}

func (e *answerTooLargeError) Unwrap() error { return ErrAnswerTooLarge }

// maxSSELine bounds the line the sniffer keeps; error events are short.
const maxSSELine = 64 << 10

// sseSniffer passes a stream through unchanged and records error events.
// It buffers only the start of each line, and a whole line only when that
// start is an error event's, so ordinary chunks cost a newline search.
type sseSniffer struct {
	io.ReadCloser
	st   *attemptState
	line []byte // the current line, while it may still be an error event
	skip bool   // the current line is known not to be one
}

var errorEventPrefixes = [][]byte{[]byte(`data: {"error"`), []byte(`data:{"error"`)}

func (s *sseSniffer) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	data := p[:n]
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		part := data
		if nl >= 0 {
			part = data[:nl]
		}
		if !s.skip && len(s.line) < maxSSELine {
			s.line = append(s.line, part...)
			s.skip = !mayBeErrorEvent(s.line)
		}
		if nl < 0 {
			break
		}
		if line := bytes.TrimSpace(s.line); !s.skip && isErrorEvent(line) {
			payload, _ := bytes.CutPrefix(line, []byte("data:"))
			s.st.streamError = bytes.TrimSpace(append([]byte(nil), payload...))
		}
		s.line, s.skip = s.line[:0], false
		data = data[nl+1:]
	}
	return n, err
}

// mayBeErrorEvent reports whether line could still turn out to be
// `data: {"error"...`.
func mayBeErrorEvent(line []byte) bool {
	line = bytes.TrimLeft(line, " \r")
	for _, prefix := range errorEventPrefixes {
		k := min(len(line), len(prefix))
		if bytes.Equal(line[:k], prefix[:k]) {
			return true
		}
	}
	return false
}

func isErrorEvent(line []byte) bool {
	for _, prefix := range errorEventPrefixes {
		if bytes.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// mergeJSON sets extra's fields on the JSON object body. Fields the body
// lacks are appended in place (the common case: the client never sets them
// on the go-openai request); a field already present is replaced through a
// full decode, so the result never holds a duplicate key (serde, which TGI
// uses, rejects those).
func mergeJSON(body []byte, extra map[string]any) ([]byte, error) {
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, fmt.Errorf("request body is not a JSON object")
	}
	out := make([]byte, 0, len(body)+256)
	out = append(out, body[:len(body)-1]...)
	empty := len(bytes.TrimSpace(body[1:len(body)-1])) == 0
	for k, v := range extra {
		key, _ := json.Marshal(k)
		if bytes.Contains(body, append(key, ':')) {
			return mergeJSONSlow(body, extra)
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode request field %q: %w", k, err)
		}
		if !empty {
			out = append(out, ',')
		}
		empty = false
		out = append(append(append(out, key...), ':'), val...)
	}
	return append(out, '}'), nil
}

func mergeJSONSlow(body []byte, extra map[string]any) ([]byte, error) {
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
