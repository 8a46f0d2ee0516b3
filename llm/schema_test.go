package llm_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
)

// planSchema is hand-written the way an agent would, from the JSON Schema
// keywords the subset supports.
const planSchema = `{
  "type": "object",
  "required": ["files", "tasks"],
  "additionalProperties": false,
  "properties": {
    "files": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    "libraries": {"type": "array", "items": {"type": "string", "enum": ["torch", "numpy", "scikit-learn"]}},
    "tasks": {"type": "array", "items": {
      "type": "object",
      "required": ["id", "depends_on"],
      "properties": {
        "id": {"type": "string"},
        "priority": {"type": "integer"},
        "weight": {"type": "number"},
        "optional": {"type": "boolean"},
        "note": {"type": "null"},
        "depends_on": {"type": "array", "items": {"type": "string"}}
      }
    }}
  }
}`

func TestSchemaValidate(t *testing.T) {
	var s llm.Schema
	if err := json.Unmarshal([]byte(planSchema), &s); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		doc  string
		want []string // expected problems; none means valid
	}{
		{`{"files": ["a.py"], "tasks": []}`, nil},
		{`{"files": ["a.py"], "libraries": ["torch"], "tasks": [{"id": "t1", "depends_on": [], "priority": 2, "weight": 0.5, "optional": true, "note": null, "extra": 1}]}`, nil},
		{`{"files": [], "tasks": []}`, []string{"$.files: expected at least 1 items, got 0"}},
		{`{"files": ["a.py"]}`, []string{`$: missing required property "tasks"`}},
		{`{"files": ["a.py"], "tasks": [], "x": 1}`, []string{`$: unexpected property "x"`}},
		{`{"files": ["a.py"], "tasks": [], "libraries": ["tensorflow"]}`, []string{`$.libraries[0]: "tensorflow" is not one of ["torch","numpy","scikit-learn"]`}},
		{`{"files": ["a.py", 3], "tasks": [{"id": 1, "depends_on": "t0", "priority": 1.5}]}`, []string{
			"$.files[1]: expected string, got number",
			"$.tasks[0].depends_on: expected array, got string",
			"$.tasks[0].id: expected string, got number",
			"$.tasks[0].priority: expected integer, got number",
		}},
		{`{"files": ["a.py"], "tasks": [{"id": "t", "depends_on": [], "optional": "yes", "note": 0}]}`, []string{
			"$.tasks[0].note: expected null, got number",
			"$.tasks[0].optional: expected boolean, got string",
		}},
		{`[]`, []string{"$: expected object, got array"}},
	}
	for _, tc := range cases {
		err := s.Validate([]byte(tc.doc))
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.doc, err)
			}
			continue
		}
		var verr *llm.ValidationError
		if !errors.As(err, &verr) {
			t.Errorf("%s: err = %v", tc.doc, err)
			continue
		}
		if strings.Join(verr.Problems, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.doc, verr.Problems, tc.want)
		}
	}
	if err := s.Validate([]byte(`{"files": [`)); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("malformed JSON: %v", err)
	}
}

func TestSchemaForFollowsEncodingJSON(t *testing.T) {
	type Tensor struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		Dtype string `json:"dtype,omitempty" jsonschema:"enum=float32|float64|int64;description=numpy dtype name"`
	}
	type Base struct {
		Version int `json:"version"`
	}
	type Spec struct {
		Base
		Algorithm string            `json:"algorithm"`
		Inputs    []Tensor          `json:"inputs" jsonschema:"minItems=1"`
		Notes     *string           `json:"notes"`
		Extra     map[string]string `json:"extra,omitempty"`
		Ignored   string            `json:"-"`
		//lint:ignore U1000 an unexported field proves SchemaFor skips it
		hidden int
		Score  float64
		Raw    []byte `json:"raw,omitempty" jsonschema:"required"`
	}
	s := llm.SchemaFor(&Spec{})
	if s.Type != "object" || strings.Join(s.Required, ",") != "version,algorithm,inputs,Score,raw" {
		t.Errorf("required = %v", s.Required)
	}
	for _, name := range []string{"Ignored", "hidden", "-"} {
		if s.Properties[name] != nil {
			t.Errorf("property %q should not exist", name)
		}
	}
	in := s.Properties["inputs"]
	if in.Type != "array" || *in.MinItems != 1 || in.Items.Properties["shape"].Items.Type != "integer" {
		t.Errorf("inputs = %+v", in)
	}
	if d := in.Items.Properties["dtype"]; len(d.Enum) != 3 || d.Description != "numpy dtype name" {
		t.Errorf("dtype = %+v", d)
	}
	if s.Properties["raw"].Type != "string" || s.Properties["Score"].Type != "number" || s.Properties["extra"].Type != "object" {
		t.Error("raw, Score or extra mistyped")
	}

	// Oracle: what encoding/json writes for a filled value must validate,
	// and the schema must catch what the type forbids.
	notes := "n"
	doc, _ := json.Marshal(Spec{Base: Base{Version: 1}, Algorithm: "Adam", Inputs: []Tensor{{Name: "x", Shape: []int{2, 3}, Dtype: "float32"}}, Notes: &notes, Raw: []byte("x")})
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s: %v", doc, err)
	}
	bad := strings.Replace(string(doc), `"float32"`, `"complex64"`, 1)
	if err := s.Validate([]byte(bad)); err == nil {
		t.Error("enum violation accepted")
	}
	if err := s.Validate([]byte(`{"version": 1, "algorithm": "A", "inputs": [], "Score": 1, "raw": "", "unknown": 1}`)); err == nil ||
		!strings.Contains(err.Error(), "unexpected property") || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("err = %v", err)
	}

	type Node struct {
		Name     string  `json:"name"`
		Children []*Node `json:"children,omitempty"`
	}
	if n := llm.SchemaFor(Node{}); n.Properties["children"].Items.Type != "object" {
		t.Error("recursive type")
	}
	if llm.SchemaFor(nil).Type != "" || llm.SchemaFor(make(chan int)).Type != "" {
		t.Error("unrepresentable types should give an empty schema")
	}
}
