package llm

import "time"

// Exchange is one HTTP round trip of a chat call, as a run record keeps
// it: what was sent and what came back. A call reports one Exchange per
// attempt (a retried 503 is two), and ChatJSON reports its repair re-ask
// (and the unconstrained retry after a rejected grammar) as exchanges of
// their own, so a record built from them holds every prompt and answer,
// including the malformed ones the caller never sees.
//
// It is also the run record's JSON form of an exchange (agents.Exchange
// adds only the agent and the task).
type Exchange struct {
	Model string `json:"model,omitempty"`
	// Messages is the conversation sent, the schema instruction and the
	// repair message included.
	Messages []Message `json:"messages"`
	// Response is the content received: the whole answer, or the part
	// that streamed before the attempt failed.
	Response string `json:"response"`
	// FinishReason is the server's, when the answer finished.
	FinishReason string `json:"finish_reason,omitempty"`
	Usage        Usage  `json:"usage"`
	// Attempt numbers the HTTP attempts of one Chat call from 1 (retries
	// count up).
	Attempt int `json:"attempt"`
	// Repair is set on ChatJSON's re-ask with the validation error.
	Repair bool `json:"repair,omitempty"`
	// Status is the HTTP status of the answer (0 when none arrived).
	Status   int           `json:"status,omitempty"`
	Duration time.Duration `json:"duration"`
	// Err is the attempt's error: transport, server or timeout; Error is
	// its text, as the record keeps it.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
	// Invalid is ChatJSON's verdict on an answer that arrived but does not
	// match the schema ("" when it matches or was not checked).
	Invalid string `json:"invalid,omitempty"`
}
