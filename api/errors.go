package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error codes: the machine-readable half of every error response.
const (
	codeBadRequest     = "bad_request"
	codeUnauthorized   = "unauthorized"
	codeNotFound       = "not_found"
	codeTooLarge       = "body_too_large"
	codeUnsupported    = "unsupported_media_type"
	codeQueueFull      = "queue_full"
	codeUnavailable    = "unavailable"
	codeTimeout        = "timeout"
	codeConflict       = "conflict"
	codeInternal       = "internal"
	codeMethod         = "method_not_allowed"
	codeShuttingDown   = "shutting_down"
	codeEnvironment    = "environment"
	codeNotImplemented = "not_implemented"
)

// httpError is an error with the status and code it is answered with.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

func newError(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *httpError {
	return newError(http.StatusBadRequest, codeBadRequest, format, args...)
}

// errorBody is the one JSON shape of every error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers err: an *httpError as itself, anything else as 500
// with its message (errors reaching here carry no secrets: the API key is
// redacted by the model client).
func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = newError(http.StatusInternalServerError, codeInternal, "%v", err)
	}
	writeJSON(w, he.status, errorBody{errorDetail{Code: he.code, Message: he.message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{errorDetail{Code: codeInternal, Message: "encoding the response: " + err.Error()}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads the request body into v: JSON only, unknown fields
// refused (a typo in an option must not be silently ignored), one value,
// the body capped by the server's limit.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONType(ct) {
		return newError(http.StatusUnsupportedMediaType, codeUnsupported,
			"content type %q is not accepted: send application/json (files go in the JSON body, base64 for binary ones)", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return newError(http.StatusRequestEntityTooLarge, codeTooLarge,
				"request body is over the server's limit of %d bytes (r2c api --max-body)", tooBig.Limit)
		}
		return badRequest("malformed JSON body: %v", err)
	}
	if dec.More() {
		return badRequest("malformed JSON body: more than one JSON value")
	}
	return nil
}

func isJSONType(ct string) bool {
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			ct = ct[:i]
			break
		}
	}
	return ct == "application/json" || ct == "application/json " || ct == "text/json"
}
