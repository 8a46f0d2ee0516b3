package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"time"
)

// attemptKey carries an *attemptState through a request's context to the
// transport, which is the only place that sees the raw request body and the
// response headers go-openai does not expose.
type attemptKey struct{}

// attemptState is written by transport.RoundTrip, which runs on the
// goroutine of the go-openai call that owns it, and read after that call.
type attemptState struct {
	// deadline ends the attempt (newAttemptCtx always sets it): the
	// connection the request gets is given it as its read deadline (see
	// newHTTPTransport).
	deadline time.Time
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
// allocation where context.WithValue and the state would be two. It is not
// a context of its own for cancellation: the attempt's deadline is the
// connection's (see newHTTPTransport), and the caller's cancellation
// reaches net/http unchanged.
type attemptCtx struct {
	context.Context
	st    attemptState
	trace httptrace.ClientTrace
	// ownTrace is set when Value answers for trace (the caller has none).
	ownTrace bool
}

// newAttemptCtx starts an attempt that must end by deadline. The returned
// context carries the state and the trace that hands the deadline to the
// connection.
func newAttemptCtx(ctx context.Context, deadline time.Time, fields *encodedFields) (context.Context, *attemptState) {
	ac := &attemptCtx{Context: ctx, st: attemptState{deadline: deadline, fields: fields}}
	ac.trace.GotConn = func(info httptrace.GotConnInfo) { setConnDeadline(info.Conn, deadline) }
	if httptrace.ContextClientTrace(ctx) != nil {
		// The caller traces its requests: compose the two traces.
		return httptrace.WithClientTrace(ac, &ac.trace), &ac.st
	}
	ac.ownTrace = true
	return ac, &ac.st
}

// timedOut reports whether err ended the attempt because its deadline
// passed: the connection then fails every read and write, so whatever error
// the read ran into, the deadline is the cause.
func (s *attemptState) timedOut(err error) bool {
	return err != nil && !time.Now().Before(s.deadline)
}

// setConnDeadline gives conn the deadline of the request that got it. A
// read deadline is enough: net/http reads the answer while it writes the
// request, and a failed read closes the connection, which ends a write
// that is stuck too. An error only means the connection is already
// closed, which the request will find out itself.
func setConnDeadline(conn net.Conn, deadline time.Time) { _ = conn.SetReadDeadline(deadline) }

// clearDeadline is the trace of requests outside an attempt (server
// detection, token counts): a connection an attempt used keeps that
// attempt's deadline, which must not end a later request.
func clearDeadline(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { setConnDeadline(info.Conn, time.Time{}) }})
}

// newHTTPTransport is the client's transport. An attempt's timeout is its
// connection's deadline, set when the request gets the connection, instead
// of a context deadline: that costs net/http a timer, a context and a
// cancellation link per request, which was most of the client's overhead
// over go-openai alone. It needs what the transport ensures:
//   - HTTP/1.1 only. An HTTP/2 connection carries many requests at once,
//     and one request's deadline would end the others'. Model servers
//     speak HTTP/1.1, and MaxInFlight connections are few.
//   - Every request sets its connection's deadline (an attempt's, or none),
//     so the deadline a connection kept from its last attempt never ends a
//     later request. An idle connection whose old deadline passes is
//     closed, as its idle timeout would close it, and a request that was
//     about to reuse it is sent again on a new one (net/http does that for
//     a request nothing of which was written).
//   - Dials are bounded by the deadline too (net/http dials with the
//     request's context values, not its deadline).
func newHTTPTransport(maxInFlight int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	t.ForceAttemptHTTP2 = false
	// The default transport keeps only 2 idle connections per host; keep
	// one per in-flight slot so batches reuse their connections.
	t.MaxIdleConnsPerHost = max(maxInFlight, 2)
	// No "Accept-Encoding: gzip": a compressed event stream is held back by
	// gzip's buffering (tokens arrive in bursts, or only at the end),
	// answers are a few kilobytes, and model servers on a LAN gain nothing
	// from it.
	t.DisableCompression = true
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		// The dial's context keeps the request's values, not its deadline.
		if st, ok := ctx.Value(attemptKey{}).(*attemptState); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, st.deadline)
			defer cancel()
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return t
}

func (c *attemptCtx) Value(key any) any {
	switch key {
	case attemptKey{}:
		return &c.st
	case traceKey:
		if c.ownTrace {
			return &c.trace
		}
	}
	return c.Context.Value(key)
}

// traceKey is the key net/http/httptrace finds a request's trace by,
// learnt once by asking httptrace for the trace of a context that records
// the key it is asked for. attemptCtx answers it itself, so that its trace
// costs no context of its own. TestAttemptContextCarriesItsTrace fails
// should httptrace ever look traces up another way.
var traceKey = func() any {
	probe := &keyProbe{Context: context.Background()}
	httptrace.ContextClientTrace(probe)
	return probe.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// transport merges extra body fields into JSON requests and records the
// response status and Retry-After header for the retry loop.
type transport struct {
	next    http.RoundTripper // newHTTPTransport's
	maxBody int64             // answer bodies longer than this fail with ErrAnswerTooLarge
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	st, _ := r.Context().Value(attemptKey{}).(*attemptState)
	switch {
	case st == nil:
		r = r.WithContext(clearDeadline(r.Context()))
	case st.fields != nil && r.Body != nil:
		merged, err := st.fields.merge(r.Body, r.ContentLength)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = rewrite(r, merged)
	}
	resp, err := t.next.RoundTrip(r)
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

// rewritten is a request with a new body, in one allocation.
type rewritten struct {
	req  http.Request
	body bytes.Reader
}

// rewrite returns a shallow copy of r sending body: RoundTrip must not
// change the caller's request, and only the body differs. The body stays
// an io.NopCloser over a *bytes.Reader, which net/http recognises as held in
// memory (it then sends the body with the headers).
func rewrite(r *http.Request, body []byte) *http.Request {
	rw := &rewritten{req: *r}
	rw.body.Reset(body)
	rw.req.Body = io.NopCloser(&rw.body)
	rw.req.ContentLength = int64(len(body))
	// For net/http's resend of a request that a stale keep-alive
	// connection never took.
	rw.req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return &rw.req
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

// encodedFields are bodyFields as JSON members, made once per call (or once
// per client, for its default fields) so that each attempt only copies them
// into the body. They are not changed once made.
type encodedFields struct {
	members []byte // "k":v,"k2":v2
}

// encode is f.encode, answered without work for the fields most calls
// send: the client's own temperature and max_tokens.
func (c *Client) encode(f bodyFields) (*encodedFields, error) {
	if f.extra == nil && f.temperature == c.cfg.Temperature && f.maxTokens == c.cfg.MaxTokens && c.defaultFields != nil {
		return c.defaultFields, nil
	}
	return f.encode()
}

func (f bodyFields) encode() (*encodedFields, error) {
	if t := float64(f.temperature); math.IsNaN(t) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("temperature %v is not a number JSON can carry", f.temperature)
	}
	e := &encodedFields{}
	b := make([]byte, 0, 64)
	b = strconv.AppendFloat(append(b, `"temperature":`...), float64(f.temperature), 'g', -1, 32)
	if f.maxTokens > 0 {
		b = strconv.AppendInt(append(b, `,"max_tokens":`...), int64(f.maxTokens), 10)
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
		}
	}
	e.members = b
	return e, nil
}

// merge reads the JSON object body (size bytes when known, else -1) and
// returns it with the members added at its end. The body never holds one
// of them already (serde, which TGI uses, rejects duplicate keys): the
// client leaves the matching go-openai fields zero (Temperature,
// MaxTokens, ResponseFormat), which go-openai omits, and
// TestWireBodiesHoldEachFieldOnce checks the bodies as sent. Looking for
// each key instead cost 6 µs on an 8 kB prompt.
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
	empty := len(bytes.TrimSpace(obj[1:len(obj)-1])) == 0
	out := obj[:len(obj)-1]
	if !empty {
		out = append(out, ',')
	}
	return append(append(out, e.members...), '}'), nil
}
