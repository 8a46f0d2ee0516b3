package llm

import "time"

// Exchange is one HTTP round trip of a chat call, as a run record keeps
// it: what was sent and what came back. A call reports one Exchange per
// attempt (a retried 503 is two), and ChatJSON reports its repair re-ask
// (and the unconstrained retry after a rejected grammar) as exchanges of
// their own, so a record built from them holds every prompt and answer,
// including the malformed ones the caller never sees.
type Exchange struct {
	// Messages is the conversation sent, the schema instruction and the
	// repair message included.
	Messages []Message
	// Answer is the content received: the whole answer, or the part that
	// streamed before the attempt failed.
	Answer string
	Model  string
	// FinishReason is the server's, when the answer finished.
	FinishReason string
	Usage        Usage
	// Attempt numbers the HTTP attempts of one Chat call from 1 (retries
	// count up).
	Attempt int
	// Repair is set on ChatJSON's re-ask with the validation error.
	Repair bool
	// Status is the HTTP status of the answer (0 when none arrived).
	Status int
	// Err is the attempt's error: transport, server or timeout.
	Err error
	// Invalid is ChatJSON's verdict on an answer that arrived but does not
	// match the schema ("" when it matches or was not checked).
	Invalid  string
	Duration time.Duration
}
