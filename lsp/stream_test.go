package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
)

// memConn is an in-memory ReadWriteCloser: reads come from in, writes go to out.
type memConn struct {
	in  io.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)  { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error) { return m.out.Write(p) }
func (m *memConn) Close() error                { return nil }

func frame(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }

const okBody = `{"jsonrpc":"2.0","id":7,"method":"shutdown"}`

// readAll reads frames until EOF and returns their bodies and the error
// responses the stream wrote.
func readAll(t *testing.T, input string) (bodies []string, responses []map[string]any) {
	t.Helper()
	mc := &memConn{in: strings.NewReader(input)}
	s := newStream(mc)
	for {
		b, _, err := s.ReadFrame(context.Background())
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("ReadFrame: %v", err)
			}
			break
		}
		bodies = append(bodies, string(b))
	}
	out := mc.out.String()
	for out != "" {
		hdr, rest, ok := strings.Cut(out, "\r\n\r\n")
		if !ok {
			t.Fatalf("bad output framing: %q", out)
		}
		var n int
		if _, err := fmt.Sscanf(hdr, "Content-Length: %d", &n); err != nil {
			t.Fatalf("bad output header %q", hdr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(rest[:n]), &m); err != nil {
			t.Fatalf("bad output body %q", rest[:n])
		}
		responses = append(responses, m)
		out = rest[n:]
	}
	return bodies, responses
}

func errCode(m map[string]any) int {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return int(c)
}

func TestStreamRecoversFromBadFrames(t *testing.T) {
	cases := []struct {
		name     string
		input    string
		wantCode int
		wantID   any
	}{
		{"invalid JSON body", frame(`{"jsonrpc":"2.0","id":1,"method":`), int(jsonrpc2.ParseError), nil},
		{"non-numeric Content-Length", "Content-Length: abc\r\n\r\n{}", int(jsonrpc2.ParseError), nil},
		{"header without colon", "Content-Length 12\r\n\r\n{}", int(jsonrpc2.ParseError), nil},
		{"no Content-Length", "Content-Type: x\r\n\r\n{}", int(jsonrpc2.ParseError), nil},
		{"negative Content-Length", "Content-Length: -5\r\n\r\n", int(jsonrpc2.ParseError), nil},
		{"batch", frame(`[{"jsonrpc":"2.0","id":1,"method":"x"}]`), int(jsonrpc2.InvalidRequest), nil},
		{"not a request", frame(`{"jsonrpc":"2.0","id":3}`), int(jsonrpc2.InvalidRequest), float64(3)},
		{"too short Content-Length", "Content-Length: 10\r\n\r\n" + `{"jsonrpc":"2.0","id":4,"method":"x"}`, int(jsonrpc2.ParseError), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bodies, responses := readAll(t, c.input+frame(okBody))
			if len(bodies) != 1 || bodies[0] != okBody {
				t.Fatalf("the good frame after the bad one was not served: %q", bodies)
			}
			if len(responses) != 1 || errCode(responses[0]) != c.wantCode {
				t.Fatalf("responses = %v, want one error with code %d", responses, c.wantCode)
			}
			if id := responses[0]["id"]; id != c.wantID {
				t.Fatalf("error response id = %v, want %v", id, c.wantID)
			}
		})
	}
}

func TestStreamTooLongContentLengthKeepsNextMessage(t *testing.T) {
	first := `{"jsonrpc":"2.0","id":1,"method":"a"}`
	// The declared length swallows the start of the next frame.
	input := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(first)+30, first) + frame(okBody) + frame(okBody)
	bodies, responses := readAll(t, input)
	if len(responses) != 1 || errCode(responses[0]) != int(jsonrpc2.ParseError) {
		t.Fatalf("responses = %v", responses)
	}
	if len(bodies) != 2 {
		t.Fatalf("served %d good frames, want 2 (the swallowed one recovered): %q", len(bodies), bodies)
	}
}

func TestStreamOversizedFrameIsAnsweredAndSkipped(t *testing.T) {
	old := maxFrameBytes
	maxFrameBytes = 1 << 10
	defer func() { maxFrameBytes = old }()
	big := `{"jsonrpc":"2.0","id":42,"method":"textDocument/didOpen","params":{"text":"` + strings.Repeat("x", 4<<10) + `"}}`
	bodies, responses := readAll(t, frame(big)+frame(okBody))
	if len(bodies) != 1 {
		t.Fatalf("bodies = %d, want 1", len(bodies))
	}
	if len(responses) != 1 || errCode(responses[0]) != int(jsonrpc2.InvalidRequest) || responses[0]["id"] != float64(42) {
		t.Fatalf("responses = %v, want InvalidRequest for id 42", responses)
	}
}

func TestStreamToleratesSplitReads(t *testing.T) {
	input := frame(okBody) + "\r\n" + frame(okBody)
	mc := &memConn{in: &oneByteReader{r: strings.NewReader(input)}}
	s := newStream(mc)
	for i := 0; i < 2; i++ {
		b, _, err := s.ReadFrame(context.Background())
		if err != nil || string(b) != okBody {
			t.Fatalf("frame %d: %q, %v", i, b, err)
		}
	}
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// FuzzStream feeds arbitrary bytes to the framing: it must never panic,
// must end at EOF, must hand on only messages jsonrpc2 can decode, and
// must answer with well-framed JSON.
func FuzzStream(f *testing.F) {
	f.Add([]byte(frame(okBody)))
	f.Add([]byte("Content-Length: 5\r\n\r\n{}{}{"))
	f.Add([]byte("Content-Length: 99999999999999\r\n\r\n"))
	f.Add([]byte("content-length:3\n\n[1]" + frame(okBody)))
	f.Add([]byte(frame(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}`)))
	f.Add([]byte("\r\n\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		old := maxFrameBytes
		maxFrameBytes = 1 << 16
		defer func() { maxFrameBytes = old }()
		mc := &memConn{in: bytes.NewReader(data)}
		s := newStream(mc)
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("more frames than input bytes")
			}
			b, _, err := s.ReadFrame(context.Background())
			if err != nil {
				break
			}
			if _, err := jsonrpc2.DecodeMessage(b); err != nil {
				t.Fatalf("handed on an undecodable frame %q: %v", b, err)
			}
		}
		out := mc.out.Bytes()
		for len(out) > 0 {
			hdr, rest, ok := bytes.Cut(out, []byte("\r\n\r\n"))
			if !ok {
				t.Fatalf("unframed output %q", out)
			}
			var n int
			if _, err := fmt.Sscanf(string(hdr), "Content-Length: %d", &n); err != nil || n > len(rest) {
				t.Fatalf("bad output header %q", hdr)
			}
			if !json.Valid(rest[:n]) {
				t.Fatalf("invalid JSON written: %q", rest[:n])
			}
			out = rest[n:]
		}
	})
}
