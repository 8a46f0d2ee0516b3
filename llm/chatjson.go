package llm

import (
	"context"
	"encoding/json"
	"fmt"
)

// ChatJSON asks for a JSON answer matching schema and decodes it into out
// (a pointer, or nil to only validate). It tells the model the schema in the
// last user message, uses the server's constrained decoding when available
// (see JSONMode), strips fences and prose around the JSON, validates it, and
// on failure re-asks once with the validation error. When the second answer
// fails too it returns *InvalidJSONError carrying the raw answer. The
// returned Response's Usage, Attempts and Duration cover both rounds; it is
// returned with the error too once a first answer arrived (nil otherwise).
func (c *Client) ChatJSON(ctx context.Context, req Request, schema *Schema, out any) (*Response, error) {
	return c.chatJSON(ctx, req, schema, out)
}

// JSONInstruction is the text ChatJSON appends to the last user message
// for schema (about 750 tokens for r2c's plan schema), so that a prompt
// budget can count it.
func JSONInstruction(schema *Schema) (string, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return "", fmt.Errorf("llm: encode schema: %w", err)
	}
	return jsonInstruction(string(b)), nil
}
