package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMergeFields(t *testing.T) {
	fields := bodyFields{temperature: 0, maxTokens: 512, extra: map[string]any{
		"response_format": map[string]any{"type": "json_object", "value": map[string]any{"type": "object"}},
	}}
	enc, err := fields.encode()
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{`{"model":"tgi","messages":[]}`, `{}`, ` { } `, `{"model":"tgi","stop":["\"temperature\":"]}`, `{"stream":true,"model":"m"}` + "\n"}
	for _, body := range bodies {
		for _, size := range []int64{int64(len(body)), -1} {
			got, err := enc.merge(strings.NewReader(body), size)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			// Oracle: encoding/json decodes of the body and the fields,
			// merged as maps.
			var want, have map[string]any
			if err := json.Unmarshal([]byte(body), &want); err != nil {
				t.Fatal(err)
			}
			want["temperature"] = 0.0
			want["max_tokens"] = 512.0
			b, _ := json.Marshal(fields.extra)
			json.Unmarshal(b, &want)
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatalf("%s: invalid JSON %s", body, got)
			}
			if !reflect.DeepEqual(want, have) {
				t.Errorf("%s:\n got %s\nwant %v", body, got, want)
			}
			// encoding/json keeps the last of duplicate keys; TGI's serde
			// rejects them, so each key must appear once (a key's text
			// inside a string is escaped, so it does not count).
			for _, key := range []string{`"temperature":`, `"max_tokens":`} {
				if n := bytes.Count(got, []byte(key)); n != 1 {
					t.Errorf("%s: %s appears %d times in %s", body, key, n, got)
				}
			}
		}
	}
	if _, err := enc.merge(strings.NewReader(`[1]`), 3); err == nil {
		t.Error("array body accepted")
	}
	if _, err := enc.merge(strings.NewReader(`{"a":1}`), 20); err == nil {
		t.Error("a body shorter than its Content-Length accepted")
	}
	for _, temp := range []float32{0.7, 1e-5, 2} {
		enc, err := bodyFields{temperature: temp}.encode()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := enc.merge(strings.NewReader(`{}`), 2)
		var have struct{ Temperature float32 }
		if err := json.Unmarshal(got, &have); err != nil || have.Temperature != temp {
			t.Errorf("temperature %v sent as %s (%v)", temp, got, err)
		}
	}
}

// An HTTP/2 connection carries many requests, and one attempt's deadline on
// it would end the others': the client's transport speaks HTTP/1.1 even to
// a server that offers HTTP/2.
func TestTransportSpeaksHTTP1Only(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig
	proto := func(tr *http.Transport) string {
		t.Helper()
		tr.TLSClientConfig = roots.Clone()
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// The control: the server does speak HTTP/2 to a client that asks.
	if got := proto(http.DefaultTransport.(*http.Transport).Clone()); got != "HTTP/2.0" {
		t.Fatalf("the default transport spoke %s, want HTTP/2.0 (is HTTP/2 on in the test server?)", got)
	}
	if got := proto(newHTTPTransport(2)); got != "HTTP/1.1" {
		t.Errorf("the client's transport spoke %s, want HTTP/1.1", got)
	}
}

// A dial for an attempt ends with the attempt's deadline (a dial's context
// keeps the request's values, not its deadline).
func TestDialEndsWithTheAttemptsDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := newHTTPTransport(2).DialContext
	conn, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("a dial outside attempts: %v", err)
	}
	conn.Close()
	past := context.WithValue(context.Background(), attemptKey{}, &attemptState{deadline: time.Now().Add(-time.Second)})
	if conn, err := dial(past, "tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("a dial for an attempt past its deadline succeeded")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

// net/http finds an attempt's trace, which sets the connection's deadline,
// through the key attemptCtx answers; with a caller's own trace, both run.
func TestAttemptContextCarriesItsTrace(t *testing.T) {
	var conn net.Conn = &deadlineRecorder{}
	actx, st := newAttemptCtx(context.Background(), time.Now().Add(time.Minute), nil)
	trace := httptrace.ContextClientTrace(actx)
	if trace == nil || trace.GotConn == nil {
		t.Fatal("httptrace finds no trace in an attempt's context")
	}
	trace.GotConn(httptrace.GotConnInfo{Conn: conn})
	if got := conn.(*deadlineRecorder).read; !got.Equal(st.deadline) {
		t.Errorf("connection deadline %v, want the attempt's %v", got, st.deadline)
	}
	if actx.Value(attemptKey{}) != st {
		t.Error("the attempt's state is not in its context")
	}

	callers := 0
	parent := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { callers++ }})
	actx, st = newAttemptCtx(parent, time.Now().Add(2*time.Minute), nil)
	httptrace.ContextClientTrace(actx).GotConn(httptrace.GotConnInfo{Conn: conn})
	if got := conn.(*deadlineRecorder).read; callers != 1 || !got.Equal(st.deadline) {
		t.Errorf("composed trace: the caller's hook ran %d times, deadline %v want %v", callers, got, st.deadline)
	}
}

// deadlineRecorder is a net.Conn that records its read deadline.
type deadlineRecorder struct {
	net.Conn
	read time.Time
}

func (c *deadlineRecorder) SetReadDeadline(t time.Time) error {
	c.read = t
	return nil
}
