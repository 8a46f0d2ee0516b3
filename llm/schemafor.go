package llm

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// SchemaFor derives a Schema from a Go value's type, following
// encoding/json's rules: exported fields by their json names, "-" skipped,
// embedded structs flattened. A field is required unless it has omitempty
// or is a pointer. Struct schemas reject unknown properties. A
// `jsonschema:"..."` tag refines a field with ';'-separated items:
// description=TEXT, enum=a|b|c, minItems=N, required, optional.
// Types JSON cannot carry (channels, functions) give an empty schema.
func SchemaFor(v any) *Schema {
	t := reflect.TypeOf(v)
	if t == nil {
		return &Schema{}
	}
	return schemaOf(t, map[reflect.Type]bool{})
}

func schemaOf(t reflect.Type, seen map[reflect.Type]bool) *Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer"}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return &Schema{Type: "string"} // encoding/json writes []byte as base64
		}
		return &Schema{Type: "array", Items: schemaOf(t.Elem(), seen)}
	case reflect.Map:
		return &Schema{Type: "object"}
	case reflect.Struct:
		if seen[t] {
			return &Schema{Type: "object"} // recursive type: stop here
		}
		seen[t] = true
		defer delete(seen, t)
		s := &Schema{Type: "object", Properties: map[string]*Schema{}, AdditionalProperties: new(bool)}
		addFields(s, t, seen)
		return s
	case reflect.Interface:
		return &Schema{}
	}
	return &Schema{}
}

func addFields(s *Schema, t reflect.Type, seen map[reflect.Type]bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft, seen)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs := schemaOf(f.Type, seen)
		required := !strings.Contains(","+opts+",", ",omitempty,") && f.Type.Kind() != reflect.Pointer
		for item := range strings.SplitSeq(f.Tag.Get("jsonschema"), ";") {
			key, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			switch key {
			case "description":
				fs.Description = val
			case "enum":
				for e := range strings.SplitSeq(val, "|") {
					fs.Enum = append(fs.Enum, e)
				}
			case "minItems":
				if n, err := strconv.Atoi(val); err == nil {
					fs.MinItems = &n
				}
			case "required":
				required = true
			case "optional":
				required = false
			}
		}
		s.Properties[name] = fs
		if required && !slices.Contains(s.Required, name) {
			s.Required = append(s.Required, name)
		}
	}
}

func sortStrings(s []string) { slices.Sort(s) }
