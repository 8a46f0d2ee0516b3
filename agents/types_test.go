package agents

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func validPlan() *Plan {
	return &Plan{
		Files:     []PlannedFile{{Path: "attention.py", Purpose: "attention"}, {Path: "pkg/mask.py", Purpose: "masks"}},
		Libraries: []string{"numpy"},
		Tasks: []Task{
			{ID: "mask", File: "pkg/mask.py", Description: "causal mask"},
			{ID: "softmax", File: "attention.py", Symbol: "softmax", Description: "stable softmax"},
			{ID: "attn", File: "attention.py", Symbol: "scaled_dot_product_attention", Description: "attention", DependsOn: []string{"softmax", "mask"}},
		},
	}
}

func TestPlanValidateAcceptsDAG(t *testing.T) {
	p := validPlan()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	order := p.Order()
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	if len(order) != 3 {
		t.Fatalf("order %v", order)
	}
	for _, task := range p.Tasks {
		for _, d := range task.DependsOn {
			if pos[d] > pos[task.ID] {
				t.Errorf("order %v puts %s before its dependency %s", order, task.ID, d)
			}
		}
	}
}

func TestPlanValidateErrors(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(p *Plan)
		wants []string
	}{
		{"cycle", func(p *Plan) { p.Tasks[1].DependsOn = []string{"attn"} }, []string{"cycle: ", "softmax → attn → softmax"}},
		{"self", func(p *Plan) { p.Tasks[0].DependsOn = []string{"mask"} }, []string{`task "mask" depends on itself`}},
		{"unknown dep", func(p *Plan) { p.Tasks[2].DependsOn = append(p.Tasks[2].DependsOn, "nope") }, []string{`task "attn" depends on unknown task "nope"`}},
		{"unknown file", func(p *Plan) { p.Tasks[0].File = "masks.py" }, []string{`task "mask" writes unknown file "masks.py" (planned files: attention.py, pkg/mask.py)`, `file "pkg/mask.py" has no task`}},
		{"duplicate id", func(p *Plan) { p.Tasks[1].ID = "mask" }, []string{`task id "mask" is used twice`}},
		{"escape", func(p *Plan) { p.Files[1].Path = "../mask.py"; p.Tasks[0].File = "../mask.py" }, []string{"clean relative path"}},
		{"absolute", func(p *Plan) { p.Files[1].Path = "/tmp/mask.py"; p.Tasks[0].File = "/tmp/mask.py" }, []string{"clean relative path"}},
		{"not python", func(p *Plan) { p.Files[1].Path = "mask.txt"; p.Tasks[0].File = "mask.txt" }, []string{"not a .py module"}},
		{"empty", func(p *Plan) { *p = Plan{} }, []string{"no files", "no tasks"}},
		{"traversal", func(p *Plan) { p.Files[1].Path = "../../etc/x.py"; p.Tasks[0].File = "../../etc/x.py" }, []string{`"../../etc/x.py" must be a clean relative path`}},
		{"hidden traversal", func(p *Plan) { p.Files[1].Path = "pkg/../../x.py"; p.Tasks[0].File = "pkg/../../x.py" }, []string{"clean relative path"}},
		{"absolute etc", func(p *Plan) { p.Files[1].Path = "/etc/x.py"; p.Tasks[0].File = "/etc/x.py" }, []string{"clean relative path"}},
		{"backslash", func(p *Plan) { p.Files[1].Path = `..\x.py`; p.Tasks[0].File = `..\x.py` }, []string{"clean relative path"}},
		{"two whole-file tasks", func(p *Plan) {
			p.Tasks = append(p.Tasks, Task{ID: "mask2", File: "pkg/mask.py", Description: "the mask again"})
		}, []string{`tasks "mask" and "mask2" both write the whole of pkg/mask.py`}},
		{"test task id", func(p *Plan) {
			p.Tasks[0].ID = "tests:pkg/mask.py"
			p.Tasks[2].DependsOn = []string{"softmax", "tests:pkg/mask.py"}
		}, []string{`task id "tests:pkg/mask.py" starts with "tests:"`}},
		{"not importable", func(p *Plan) { p.Files[1].Path = "my-pkg/mask.py"; p.Tasks[0].File = "my-pkg/mask.py" }, []string{`"my-pkg" is not a Python identifier`}},
		{"file as folder", func(p *Plan) { p.Files[1].Path = "attention.py/mask.py"; p.Tasks[0].File = "attention.py/mask.py" }, []string{`file "attention.py/mask.py" lies inside "attention.py"`}},
		{"one symbol twice", func(p *Plan) { p.Tasks[2].Symbol = "softmax" }, []string{`tasks "softmax" and "attn" both write softmax in attention.py`}},
		{"module at a test path", func(p *Plan) { p.Files[1].Path = "test_attention.py"; p.Tasks[0].File = "test_attention.py" }, []string{`file "test_attention.py" has the path of the tests of "attention.py"`}},
		{"shared test file", func(p *Plan) {
			p.Files[0].Path = "pkg_mask.py"
			p.Tasks[1].File = "pkg_mask.py"
			p.Tasks[2].File = "pkg_mask.py"
		}, []string{`files "pkg_mask.py" and "pkg/mask.py" would share the test file test_pkg_mask.py`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := validPlan()
			c.edit(p)
			err := p.Validate()
			if err == nil {
				t.Fatal("accepted an invalid plan")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// The schemas must describe exactly the JSON fields of the Go types, so a
// schema-valid answer decodes without silently dropped fields.
func TestSchemasMatchTypes(t *testing.T) {
	check := func(schema json.RawMessage, v any) {
		t.Helper()
		var s map[string]any
		if err := json.Unmarshal(schema, &s); err != nil {
			t.Fatal(err)
		}
		compare(t, reflect.TypeOf(v).Name(), s, reflect.TypeOf(v))
	}
	check(SpecSchemaJSON(), Spec{})
	check(PlanSchemaJSON(), Plan{})
}

func compare(t *testing.T, where string, schema map[string]any, typ reflect.Type) {
	t.Helper()
	switch typ.Kind() {
	case reflect.Struct:
		props, _ := schema["properties"].(map[string]any)
		var fields, keys []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields = append(fields, name)
			sub, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: schema lacks property %q", where, name)
				continue
			}
			compare(t, where+"."+name, sub, f.Type)
		}
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(fields)
		sort.Strings(keys)
		if !slices.Equal(fields, keys) {
			t.Errorf("%s: fields %v, schema properties %v", where, fields, keys)
		}
		if schema["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties should be false", where)
		}
	case reflect.Slice:
		items, ok := schema["items"].(map[string]any)
		if schema["type"] != "array" || !ok {
			t.Fatalf("%s: want an array schema, got %v", where, schema)
		}
		compare(t, where+"[]", items, typ.Elem())
	case reflect.String:
		if schema["type"] != "string" {
			t.Errorf("%s: want string, got %v", where, schema["type"])
		}
	default:
		t.Fatalf("%s: unexpected kind %s", where, typ.Kind())
	}
}
