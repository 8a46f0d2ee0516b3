package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync"

	"go.lsp.dev/jsonrpc2"
)

// Limits of the base-protocol framing. A frame over maxFrameBytes is read
// and discarded (the server answers it with an error) rather than buffered.
const (
	maxHeaderBytes = 8 << 10
	readChunk      = 64 << 10
)

// maxFrameBytes is a variable so tests can exercise the limit cheaply.
var maxFrameBytes = 64 << 20

var contentLengthKey = []byte("content-length:")

// errBadFrame wraps every framing or envelope problem the stream answered
// itself; such errors never reach jsonrpc2, so they never end the connection.
var errBadFrame = errors.New("bad frame")

// stream is a jsonrpc2.Stream with LSP header framing that survives bad
// input. jsonrpc2's own header stream ends the connection on the first
// malformed header or body; an editor that sends one bad frame would lose
// its language server. This stream instead answers a bad frame with a
// JSON-RPC error response (ParseError or InvalidRequest, with the request's id
// when it can be recovered), resynchronises on the next "Content-Length:"
// header — looking inside the rejected body first, so a message swallowed by
// a too-long Content-Length is still served — and reads on.
type stream struct {
	rwc io.ReadWriteCloser

	// Read side, used only by the connection's read goroutine.
	buf []byte // unread input is buf[off:]
	off int
	eof error // sticky read error

	writeMu sync.Mutex
	wbuf    []byte

	// onBadFrame, when set, is told about every frame the stream rejected.
	onBadFrame func(err error)
}

func newStream(rwc io.ReadWriteCloser) *stream { return &stream{rwc: rwc} }

// fill reads more input; it returns the read error only when nothing was read.
func (s *stream) fill() error {
	if s.eof != nil {
		return s.eof
	}
	if s.off > 0 && s.off == len(s.buf) {
		s.buf, s.off = s.buf[:0], 0
	} else if s.off > readChunk && s.off > len(s.buf)/2 {
		s.buf = append(s.buf[:0], s.buf[s.off:]...)
		s.off = 0
	}
	if cap(s.buf)-len(s.buf) < readChunk {
		nb := make([]byte, len(s.buf), 2*cap(s.buf)+readChunk)
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.rwc.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.eof = err
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// readLine returns the next header line without its terminator, and
// appends the raw consumed bytes to *raw.
func (s *stream) readLine(raw *[]byte) ([]byte, error) {
	for {
		if i := bytes.IndexByte(s.buf[s.off:], '\n'); i >= 0 {
			line := s.buf[s.off : s.off+i]
			*raw = append(*raw, s.buf[s.off:s.off+i+1]...)
			s.off += i + 1
			return bytes.TrimSuffix(line, []byte{'\r'}), nil
		}
		if len(s.buf)-s.off > maxHeaderBytes {
			return nil, fmt.Errorf("%w: header line longer than %d bytes", errBadFrame, maxHeaderBytes)
		}
		if err := s.fill(); err != nil {
			if errors.Is(err, io.EOF) && len(s.buf) > s.off {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// readHeader reads one header block and returns its Content-Length. On a
// malformed header it puts back all it consumed but the first byte, so
// resync finds a real header that followed inside the bad block.
func (s *stream) readHeader() (n int, err error) {
	var raw []byte
	defer func() {
		if errors.Is(err, errBadFrame) && len(raw) > 1 {
			s.pushBack(raw[1:])
		}
	}()
	length, total, seen := -1, 0, false
	for {
		line, err := s.readLine(&raw)
		if err != nil {
			if seen && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if len(line) == 0 {
			if !seen { // stray blank line between frames: tolerate
				continue
			}
			break
		}
		seen = true
		total += len(line)
		if total > maxHeaderBytes {
			return 0, fmt.Errorf("%w: header block longer than %d bytes", errBadFrame, maxHeaderBytes)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return 0, fmt.Errorf("%w: header line %q has no colon", errBadFrame, truncate(line, 40))
		}
		if !bytes.EqualFold(bytes.TrimSpace(name), []byte("content-length")) {
			continue // Content-Type and unknown fields are ignored
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%w: invalid Content-Length %q", errBadFrame, truncate(value, 40))
		}
		length = n
	}
	if length < 0 {
		return 0, fmt.Errorf("%w: header has no Content-Length", errBadFrame)
	}
	return length, nil
}

// readBody returns the next n bytes as a fresh slice.
func (s *stream) readBody(n int) ([]byte, error) {
	for len(s.buf)-s.off < n {
		if err := s.fill(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	body := bytes.Clone(s.buf[s.off : s.off+n])
	s.off += n
	return body, nil
}

// discard skips n bytes without buffering them, keeping a short prefix so
// the request id of an oversized frame can still be answered.
func (s *stream) discard(n int) (prefix []byte, err error) {
	for n > 0 {
		if len(s.buf) == s.off {
			if err := s.fill(); err != nil {
				if errors.Is(err, io.EOF) {
					return prefix, io.ErrUnexpectedEOF
				}
				return prefix, err
			}
		}
		k := min(n, len(s.buf)-s.off)
		if len(prefix) < 4096 {
			prefix = append(prefix, s.buf[s.off:s.off+min(k, 4096-len(prefix))]...)
		}
		s.off += k
		n -= k
	}
	return prefix, nil
}

// pushBack makes b the next input.
func (s *stream) pushBack(b []byte) {
	s.buf = append(bytes.Clone(b), s.buf[s.off:]...)
	s.off = 0
}

// resync drops input up to the next "Content-Length:" header.
func (s *stream) resync() error {
	for {
		rest := s.buf[s.off:]
		if i := indexFold(rest, contentLengthKey); i >= 0 {
			s.off += i
			return nil
		}
		// Keep a tail that might hold the start of a split key.
		if keep := len(contentLengthKey) - 1; len(rest) > keep {
			s.off += len(rest) - keep
		}
		if err := s.fill(); err != nil {
			return err
		}
	}
}

// ReadFrame returns the body of the next well-formed JSON-RPC message,
// answering and skipping every malformed one. The returned slice is owned by
// the caller. jsonrpc2.Conn uses this method when the stream provides it.
func (s *stream) ReadFrame(ctx context.Context) ([]byte, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		n, err := s.readHeader()
		if err != nil {
			if !errors.Is(err, errBadFrame) {
				return nil, 0, err
			}
			s.reject(jsonrpc2.ID{}, jsonrpc2.ParseError, err)
			if err := s.resync(); err != nil {
				return nil, 0, err
			}
			continue
		}
		if n > maxFrameBytes {
			prefix, err := s.discard(n)
			if err != nil {
				return nil, 0, err
			}
			s.reject(peekID(prefix, true), jsonrpc2.InvalidRequest,
				fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", errBadFrame, n, maxFrameBytes))
			continue
		}
		body, err := s.readBody(n)
		if err != nil {
			return nil, 0, err
		}
		if checkErr := checkMessage(body); checkErr != nil {
			code := jsonrpc2.InvalidRequest
			if !json.Valid(body) {
				code = jsonrpc2.ParseError
				// A too-long Content-Length swallows the start of the next
				// message: serve that message rather than losing it.
				if i := indexFold(body[1:], contentLengthKey); i >= 0 {
					s.pushBack(body[1+i:])
				} else if err := s.resync(); err != nil { // too short: skip the rest
					s.reject(peekID(body, false), code, checkErr)
					return nil, 0, err
				}
			}
			s.reject(peekID(body, false), code, checkErr)
			continue
		}
		return body, int64(n), nil
	}
}

// checkMessage reports whether body is one JSON-RPC message jsonrpc2 can
// decode. Batches are refused: the LSP base protocol has none.
func checkMessage(body []byte) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return fmt.Errorf("%w: batch messages are not part of the Language Server Protocol", errBadFrame)
	}
	if !json.Valid(body) {
		return fmt.Errorf("%w: body is not valid JSON", errBadFrame)
	}
	if _, err := jsonrpc2.DecodeMessage(body); err != nil {
		return fmt.Errorf("%w: %v", errBadFrame, err)
	}
	return nil
}

var idPattern = regexp.MustCompile(`"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")`)

// peekID recovers a request id from a (possibly truncated) body, or returns
// the null id (as the specification asks when a message cannot be parsed).
// The prefix of an oversized frame, valid JSON cut short by the server
// itself, is searched for the first "id" member instead.
func peekID(body []byte, truncated bool) jsonrpc2.ID {
	var env struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &env) != nil && truncated {
		if m := idPattern.FindSubmatch(body); m != nil {
			env.ID = m[1]
		}
	}
	if len(env.ID) == 0 {
		return jsonrpc2.ID{}
	}
	var n int64
	if json.Unmarshal(env.ID, &n) == nil {
		return jsonrpc2.NewNumberID(n)
	}
	var str string
	if json.Unmarshal(env.ID, &str) == nil {
		return jsonrpc2.NewStringID(str)
	}
	return jsonrpc2.ID{}
}

// reject answers a bad frame. Write errors are ignored here: a broken
// writer shows up on the connection's next write.
func (s *stream) reject(id jsonrpc2.ID, code jsonrpc2.Code, err error) {
	if s.onBadFrame != nil {
		s.onBadFrame(err)
	}
	_, _ = s.WriteFrame(context.Background(), jsonrpc2.AppendResponse(nil, id, nil, jsonrpc2.NewError(code, err.Error())))
}

// Read implements jsonrpc2.Stream for callers that do not use ReadFrame.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	body, n, err := s.ReadFrame(ctx)
	if err != nil {
		return nil, 0, err
	}
	msg, err := jsonrpc2.DecodeMessage(body)
	return msg, n, err
}

// Write implements jsonrpc2.Stream.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	return s.WriteFrame(ctx, jsonrpc2.AppendMessage(nil, msg))
}

// WriteFrame frames an encoded message and writes it with one Write call.
func (s *stream) WriteFrame(ctx context.Context, data []byte) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.wbuf = append(s.wbuf[:0], "Content-Length: "...)
	s.wbuf = strconv.AppendInt(s.wbuf, int64(len(data)), 10)
	s.wbuf = append(s.wbuf, "\r\n\r\n"...)
	s.wbuf = append(s.wbuf, data...)
	n, err := s.rwc.Write(s.wbuf)
	if cap(s.wbuf) > 1<<20 { // do not pin a huge buffer after one large message
		s.wbuf = nil
	}
	return int64(n), err
}

// Close implements jsonrpc2.Stream.
func (s *stream) Close() error { return s.rwc.Close() }

// indexFold is bytes.Index with ASCII case folding of b (key is lower case).
func indexFold(b, key []byte) int {
	for i := 0; i+len(key) <= len(b); i++ {
		c := b[i] | 0x20
		if c != key[0] {
			continue
		}
		if bytes.EqualFold(b[i:i+len(key)], key) {
			return i
		}
	}
	return -1
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
