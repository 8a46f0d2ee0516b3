package llm

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Schema is the JSON Schema subset r2c uses for agent hand-offs: type,
// properties, required, items, enum, additionalProperties and minItems.
// It marshals to standard JSON Schema, so it can be sent to a server's
// constrained decoder as is.
type Schema struct {
	// Type is "object", "array", "string", "number", "integer", "boolean"
	// or "null"; empty accepts any value.
	Type        string             `json:"type,omitempty"`
	Description string             `json:"description,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	// AdditionalProperties false rejects properties not listed.
	AdditionalProperties *bool `json:"additionalProperties,omitempty"`
	MinItems             *int  `json:"minItems,omitempty"`
}

// ValidationError lists every place where a document breaks a schema.
type ValidationError struct {
	// Problems are "$.path: what is wrong" lines in document order.
	Problems []string
}

func (e *ValidationError) Error() string {
	return "schema violation: " + strings.Join(e.Problems, "; ")
}

// Validate parses doc as JSON and checks it against s.
func (s *Schema) Validate(doc []byte) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return s.ValidateValue(v)
}

// ValidateValue checks a value decoded by encoding/json (map[string]any,
// []any, string, float64, bool, nil) against s.
func (s *Schema) ValidateValue(v any) error {
	var problems []string
	s.check("$", v, &problems)
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func (s *Schema) check(path string, v any, problems *[]string) {
	if s == nil {
		return
	}
	add := func(format string, args ...any) {
		*problems = append(*problems, path+": "+fmt.Sprintf(format, args...))
	}
	if s.Type != "" && !hasType(v, s.Type) {
		add("expected %s, got %s", s.Type, typeName(v))
		return
	}
	if len(s.Enum) > 0 && !inEnum(v, s.Enum) {
		add("%s is not one of %s", compact(v), compact(s.Enum))
	}
	switch v := v.(type) {
	case map[string]any:
		for _, name := range s.Required {
			if _, ok := v[name]; !ok {
				add("missing required property %q", name)
			}
		}
		for _, name := range sortedKeys(v) {
			sub, known := s.Properties[name]
			if !known {
				if s.AdditionalProperties != nil && !*s.AdditionalProperties {
					add("unexpected property %q", name)
				}
				continue
			}
			sub.check(path+"."+name, v[name], problems)
		}
	case []any:
		if s.MinItems != nil && len(v) < *s.MinItems {
			add("expected at least %d items, got %d", *s.MinItems, len(v))
		}
		for i, item := range v {
			s.Items.check(fmt.Sprintf("%s[%d]", path, i), item, problems)
		}
	}
}

func hasType(v any, want string) bool {
	switch want {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	}
	return true // an unknown type name constrains nothing
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func inEnum(v any, enum []any) bool {
	got := compact(v)
	for _, e := range enum {
		if compact(e) == got {
			return true
		}
	}
	return false
}

// compact renders a value as canonical JSON, so enum members compare by
// value whatever Go type they were written with (1 and 1.0 are equal).
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var norm any
	if json.Unmarshal(b, &norm) == nil {
		if nb, err := json.Marshal(norm); err == nil {
			return string(nb)
		}
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
