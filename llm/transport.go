package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// attemptKey carries an *attemptState through a request's context to the
// transport, which is the only place that sees the raw request body and the
// response headers go-openai does not expose.
type attemptKey struct{}

// attemptState is written by transport.RoundTrip, which runs on the
// goroutine of the go-openai call that owns it, and read after that call.
type attemptState struct {
	// fields are body fields go-openai cannot express (TGI's
	// response_format "value", vLLM's guided_json, an explicit
	// "temperature": 0 that omitempty would drop), encoded once per call.
	fields *encodedFields
	// status and retryAfter come from the last response.
	status     int
	retryAfter string
	// limited wraps the answer body (transport.maxBody).
	limited limitedBody
	// streamError is the payload of an SSE error event
	// (data: {"error": ...}) seen in a 200 stream; go-openai cannot decode
	// TGI's form of it.
	streamError []byte
}

// attemptCtx is the caller's context carrying an attempt's state: one
// allocation where context.WithValue and the state would be two.
type attemptCtx struct {
	context.Context
	st attemptState
}

func (c *attemptCtx) Value(key any) any {
	if key == (attemptKey{}) {
		return &c.st
	}
	return c.Context.Value(key)
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
	if st != nil && st.fields != nil && r.Body != nil {
		merged, err := st.fields.merge(r.Body, r.ContentLength)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		// A shallow copy, as RoundTrip must not change the caller's
		// request: only the body fields differ, the rest is shared.
		r = r.WithContext(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(merged))
		r.ContentLength = int64(len(merged))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(merged)), nil }
	}
	resp, err := next.RoundTrip(r)
	if resp != nil && t.maxBody > 0 {
		lb := &limitedBody{}
		if st != nil {
			lb = &st.limited // one allocation less per call
		}
		*lb = limitedBody{ReadCloser: resp.Body, left: t.maxBody, limit: t.maxBody}
		resp.Body = lb
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

// bodyFields are the request fields r2c adds to what go-openai encodes.
type bodyFields struct {
	temperature float32
	maxTokens   int // 0: not sent
	// extra are further fields (ChatJSON's constraint), nil for none.
	extra map[string]any
}

// encodedFields are bodyFields as JSON members, made once per call so that
// each attempt only copies them into the body.
type encodedFields struct {
	members []byte   // "k":v,"k2":v2
	keys    [][]byte // each member's `"k":`, to find one go-openai also sent
	keyBuf  [2][]byte
}

var (
	temperatureKey = []byte(`"temperature":`)
	maxTokensKey   = []byte(`"max_tokens":`)
)

func (f bodyFields) encode() (*encodedFields, error) {
	if t := float64(f.temperature); math.IsNaN(t) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("temperature %v is not a number JSON can carry", f.temperature)
	}
	e := &encodedFields{}
	e.keys = append(e.keyBuf[:0], temperatureKey)
	b := make([]byte, 0, 64)
	b = strconv.AppendFloat(append(b, temperatureKey...), float64(f.temperature), 'g', -1, 32)
	if f.maxTokens > 0 {
		b = strconv.AppendInt(append(append(b, ','), maxTokensKey...), int64(f.maxTokens), 10)
		e.keys = append(e.keys, maxTokensKey)
	}
	// Sorted for a stable body; skipped when empty, as sorting allocates.
	if len(f.extra) > 0 {
		for _, k := range slices.Sorted(maps.Keys(f.extra)) {
			key, _ := json.Marshal(k)
			key = append(key, ':')
			val, err := json.Marshal(f.extra[k])
			if err != nil {
				return nil, fmt.Errorf("encode request field %q: %w", k, err)
			}
			b = append(append(append(b, ','), key...), val...)
			e.keys = append(e.keys, key)
		}
	}
	e.members = b
	return e, nil
}

// merge reads the JSON object body (size bytes when known, else -1) and
// returns it with the members added. Members the body lacks are appended
// in place (the common case: the client never sets them on the go-openai
// request); a member already present is replaced through a full decode, so
// the result never holds a duplicate key (serde, which TGI uses, rejects
// those).
func (e *encodedFields) merge(body io.Reader, size int64) ([]byte, error) {
	var buf []byte
	if size > 0 && size < 64<<20 {
		// One allocation: the body, then the members in the same buffer.
		buf = make([]byte, size, size+1+int64(len(e.members))+1)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
	} else {
		var err error
		if buf, err = io.ReadAll(body); err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
	}
	obj := bytes.TrimSpace(buf)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, fmt.Errorf("request body is not a JSON object")
	}
	for _, key := range e.keys {
		if bytes.Contains(obj, key) {
			return e.mergeSlow(obj)
		}
	}
	empty := len(bytes.TrimSpace(obj[1:len(obj)-1])) == 0
	out := obj[:len(obj)-1]
	if !empty {
		out = append(out, ',')
	}
	return append(append(out, e.members...), '}'), nil
}

func (e *encodedFields) mergeSlow(body []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(append(append([]byte{'{'}, e.members...), '}'), &members); err != nil {
		return nil, fmt.Errorf("encode request fields: %w", err)
	}
	maps.Copy(fields, members)
	return json.Marshal(fields)
}
