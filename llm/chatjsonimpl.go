package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxJSONCandidates bounds how many '{' or '[' positions are tried when
// looking for the JSON value inside a chatty answer.
const maxJSONCandidates = 64

func (c *Client) chatJSON(ctx context.Context, req Request, schema *Schema, out any) (*Response, error) {
	if schema == nil {
		return nil, errors.New("llm: ChatJSON needs a schema")
	}
	schemaJSON, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("llm: encode schema: %w", err)
	}
	// The successful round trip of each round is reported once its answer
	// was checked, so the exchange says whether it matched the schema.
	report := req.OnExchange
	var pending *Exchange
	hold := func(r Request, repair bool) Request {
		if report == nil {
			return r
		}
		r.OnExchange = func(ex Exchange) {
			ex.Repair = repair
			if ex.Err != nil {
				report(ex)
				return
			}
			pending = &ex
		}
		return r
	}
	flush := func(verr error) {
		if pending == nil {
			return
		}
		if verr != nil {
			pending.Invalid = verr.Error()
		}
		report(*pending)
		pending = nil
	}

	first := req
	first.Messages = withJSONInstruction(req.Messages, string(schemaJSON))
	first = hold(first, false)

	mode := c.jsonMode(ctx)
	resp, err := c.chat(ctx, first, constrainedFields(mode, schema))
	if err != nil && mode != JSONModeNone && isRejection(err) {
		// Perhaps the server does not understand this constrained-decoding
		// form (older TGI, grammar support disabled): try without it, and
		// if that works, validate only for the rest of the client's life.
		resp2, err2 := c.chat(ctx, first, nil)
		if err2 != nil {
			return nil, err // the request itself is the problem: report the first answer
		}
		c.noJSON.Store(true)
		c.log.Warn("llm: server rejected constrained decoding; validating only", "mode", string(mode), "error", err.Error())
		mode, resp, err = JSONModeNone, resp2, nil
		resp.Attempts++ // the rejected attempt counts too
	}
	if err != nil {
		return nil, err
	}
	total := *resp
	verr := cutShort(resp, decodeAnswer(resp.Content, schema, out))
	flush(verr)
	if verr == nil {
		return &total, nil
	}
	c.log.Info("llm: JSON answer invalid, asking again", "error", verr.Error())

	repair := req
	repair.Messages = append(append([]Message(nil), first.Messages...),
		Message{Role: RoleAssistant, Content: resp.Content},
		Message{Role: RoleUser, Content: "Your answer is not valid: " + verr.Error() +
			"\nAnswer again with only the corrected JSON value that matches the schema: no prose, no code fences."})
	repair.FitToContext = true // the answer and the error make it longer
	repair = hold(repair, true)
	resp2, err := c.chat(ctx, repair, constrainedFields(mode, schema))
	if err != nil {
		return &total, err // the first round's usage still counts
	}
	total.Content, total.FinishReason, total.Model = resp2.Content, resp2.FinishReason, resp2.Model
	total.Usage = total.Usage.Add(resp2.Usage)
	total.Attempts += resp2.Attempts
	total.Duration += resp2.Duration
	verr = cutShort(resp2, decodeAnswer(resp2.Content, schema, out))
	flush(verr)
	if verr != nil {
		return &total, fmt.Errorf("llm: %w", &InvalidJSONError{Raw: resp2.Content, Err: verr})
	}
	return &total, nil
}

// withJSONInstruction appends the schema instruction to the last user
// message. A separate message would break chat templates that require
// strictly alternating roles (CodeLlama's and Llama 2's raise an error).
func withJSONInstruction(msgs []Message, schema string) []Message {
	note := jsonInstruction(schema)
	out := append([]Message(nil), msgs...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].Role == RoleUser {
			out[i].Content += note
			return out
		}
	}
	return append(out, Message{Role: RoleUser, Content: strings.TrimSpace(note)})
}

func jsonInstruction(schema string) string {
	return "\n\nAnswer with only a JSON value that matches this JSON Schema, without prose or code fences:\n" + schema
}

// constrainedFields returns the request fields that ask the server for
// schema-constrained decoding in the given form.
func constrainedFields(mode JSONMode, schema *Schema) map[string]any {
	switch mode {
	case JSONModeTGI:
		return map[string]any{"response_format": map[string]any{"type": "json_object", "value": schema}}
	case JSONModeSchema:
		return map[string]any{"response_format": map[string]any{
			"type":        "json_schema",
			"json_schema": map[string]any{"name": "answer", "schema": schema},
		}}
	case JSONModeGuided:
		return map[string]any{"guided_json": schema}
	case JSONModeObject:
		return map[string]any{"response_format": map[string]any{"type": "json_object", "schema": schema}}
	}
	return nil
}

// cutShort explains an invalid answer that the server stopped at the token
// limit: its JSON never closed, and the error found in what is there (often
// an inner object checked against the whole schema) would mislead.
func cutShort(resp *Response, verr error) error {
	if verr == nil || resp.FinishReason != "length" {
		return verr
	}
	limit := "max_tokens"
	if resp.MaxTokens > 0 {
		limit = fmt.Sprintf("max_tokens = %d", resp.MaxTokens)
	}
	return fmt.Errorf("the answer stopped at the token limit (%s) before its JSON value was complete; raise model.max_tokens if the answer needs more (%w)", limit, verr)
}

// isRejection reports a 400 or 422 answer: the request's form, not the
// server's state, is the problem.
func isRejection(err error) bool {
	var tooLong *ContextError
	if errors.As(err, &tooLong) {
		return false // the prompt's length, not the grammar, is the problem
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.Status == 400 || apiErr.Status == 422)
}

// decodeAnswer finds the JSON value in answer, validates it against schema
// and decodes it into out (when non-nil).
func decodeAnswer(answer string, schema *Schema, out any) error {
	doc, err := findJSON(answer, schema.Type)
	if err != nil {
		return err
	}
	if err := schema.Validate(doc); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(doc, out); err != nil {
		return fmt.Errorf("JSON does not fit the expected shape: %w", err)
	}
	return nil
}

// findJSON extracts the JSON value from an answer that may wrap it in code
// fences, prose or special tokens: fenced blocks first, then the first
// position where a complete value of the wanted kind decodes.
func findJSON(answer, wantType string) ([]byte, error) {
	s := fencesOnOwnLines(stripSpecialTokens(answer))
	for _, b := range fencedBlocks(s) {
		if doc, ok := firstValue(b.body, wantType); ok {
			return doc, nil
		}
	}
	if doc, ok := firstValue(s, wantType); ok {
		return doc, nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("the answer is empty")
	}
	var probe any
	err := json.Unmarshal([]byte(strings.TrimSpace(s)), &probe)
	if err == nil {
		return nil, fmt.Errorf("expected a JSON %s, got %s", wantType, typeName(probe))
	}
	return nil, fmt.Errorf("no JSON %s found in the answer: %w", orValue(wantType), err)
}

func orValue(t string) string {
	if t == "" {
		return "value"
	}
	return t
}

func firstValue(s, wantType string) ([]byte, bool) {
	opens := "{["
	switch wantType {
	case "object":
		opens = "{"
	case "array":
		opens = "["
	}
	tried := 0
	for i := 0; i < len(s) && tried < maxJSONCandidates; i++ {
		if !strings.ContainsRune(opens, rune(s[i])) {
			continue
		}
		tried++
		dec := json.NewDecoder(strings.NewReader(s[i:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == nil {
			return bytes.TrimSpace(raw), true
		}
	}
	if wantType != "" && wantType != "object" && wantType != "array" {
		trimmed := strings.TrimSpace(s)
		if json.Valid([]byte(trimmed)) {
			return []byte(trimmed), true
		}
	}
	return nil, false
}
