package llm

import (
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is wrapped by errors of attempts that ran past the configured
// timeout.
var ErrTimeout = errors.New("no answer within the timeout")

// ErrTruncated is wrapped by errors of streams that ended before the server
// finished the answer (connection closed without a finish reason or
// "data: [DONE]"). A truncated answer is never returned as a success.
var ErrTruncated = errors.New("stream ended before the answer was complete")

// ErrAnswerTooLarge is wrapped by errors of answers longer than
// Config.MaxAnswerBytes. Such an answer is not retried.
var ErrAnswerTooLarge = errors.New("the server's answer is too large")

// APIError is an error answer from the server (any non-2xx status).
type APIError struct {
	// Status is the HTTP status code; 0 for an error event inside a
	// streamed 200 answer (TGI reports generation failures that way).
	Status int
	// Type is the server's error kind when it says one: TGI's error_type
	// ("validation", "overloaded", "generation", ...) or OpenAI's type.
	Type string
	// Message is the server's message, with the API key redacted.
	Message string
	// RetryAfter is the wait the server asked for (Retry-After), if any.
	RetryAfter time.Duration
	// URL is the request's endpoint path, e.g. /v1/chat/completions.
	URL string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	s := fmt.Sprintf("server answered %d", e.Status)
	if e.Status == 0 {
		s = "server failed mid-stream"
	}
	if e.Type != "" {
		s += " (" + e.Type + ")"
	}
	s += ": " + msg
	switch {
	case e.Status == 401 || e.Status == 403:
		s += " — check the API key (api_key_env / api_key_file)"
	case e.Status == 404:
		s += " — check the endpoint (it should end in /v1) and the model or adapter name"
	}
	return s
}

// Retryable reports whether the same request may succeed later: 408, 429
// and 5xx are transient; other 4xx answers (validation errors, unknown
// adapter, prompt too long) are not.
func (e *APIError) Retryable() bool {
	return e.Status == 408 || e.Status == 429 || e.Status >= 500
}

// InvalidJSONError is returned by ChatJSON when the answer still did not
// match the schema after the repair round.
type InvalidJSONError struct {
	// Raw is the model's last answer, unmodified.
	Raw string
	// Err is the parse or validation error of the last answer.
	Err error
}

func (e *InvalidJSONError) Error() string {
	return fmt.Sprintf("answer does not match the schema after a repair round: %v", e.Err)
}

func (e *InvalidJSONError) Unwrap() error { return e.Err }
