package agents

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// Shared sub-schemas, spliced in where the schema files say {"$ref": "name"}:
// the model client's JSON Schema subset has no references.
var schemaRefs = map[string]string{
	"tensor":   `{"type": "object", "properties": {"name": {"type": "string"}, "shape": {"type": "array", "items": {"type": "string"}}, "dtype": {"type": "string"}, "description": {"type": "string"}}, "required": ["name", "shape", "dtype"], "additionalProperties": false}`,
	"function": `{"type": "object", "properties": {"name": {"type": "string"}, "signature": {"type": "string"}, "docstring": {"type": "string"}}, "required": ["name", "signature", "docstring"], "additionalProperties": false}`,
}

// schemaJSON returns the named schema (spec, plan) with references expanded.
func schemaJSON(name string) (json.RawMessage, error) {
	b, err := schemaFS.ReadFile("schemas/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	s := string(b)
	for ref, sub := range schemaRefs {
		s = strings.ReplaceAll(s, `{"$ref": "`+ref+`"}`, sub)
	}
	if strings.Contains(s, `"$ref"`) {
		return nil, fmt.Errorf("schema %s: unresolved $ref", name)
	}
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("schema %s: not valid JSON", name)
	}
	return json.RawMessage(s), nil
}

// SpecSchemaJSON is the JSON Schema the Analyzer's answer must satisfy.
func SpecSchemaJSON() json.RawMessage { return mustSchema("spec") }

// PlanSchemaJSON is the JSON Schema the Planner's answer must satisfy.
func PlanSchemaJSON() json.RawMessage { return mustSchema("plan") }

// mustSchema is used only for the embedded files, which a test checks, so
// a failure here is a build defect rather than a run-time condition.
func mustSchema(name string) json.RawMessage {
	s, err := schemaJSON(name)
	if err != nil {
		panic(err)
	}
	return s
}
