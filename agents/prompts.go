package agents

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/r2c-ai/r2c/llm"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

var prompts = template.Must(template.New("").Funcs(template.FuncMap{
	// json keeps <, > and & as they are: signatures have "->".
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		err := enc.Encode(v)
		return strings.TrimSpace(b.String()), err
	},
	"join": strings.Join,
	// sig normalises a planned signature to a def line without its colon.
	"sig": func(s string) string { return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ":")) },
}).ParseFS(promptFS, "prompts/*.tmpl"))

// render builds a system + user conversation from the templates
// <name>_system.tmpl and <name>_user.tmpl. The server applies its own chat
// template to these messages, so no model-specific markers ([INST], <s>)
// appear here.
func render(name string, data any) ([]llm.Message, error) {
	// Prompts are plain text, not JSON dumps: a spec as a short list and a
	// planned module as Python stubs read better to a code model and take
	// half the tokens of the same data as indented JSON.
	var sys, user bytes.Buffer
	if err := prompts.ExecuteTemplate(&sys, name+"_system.tmpl", data); err != nil {
		return nil, fmt.Errorf("prompt %s: %w", name, err)
	}
	if err := prompts.ExecuteTemplate(&user, name+"_user.tmpl", data); err != nil {
		return nil, fmt.Errorf("prompt %s: %w", name, err)
	}
	return []llm.Message{
		{Role: llm.RoleSystem, Content: strings.TrimSpace(sys.String())},
		{Role: llm.RoleUser, Content: strings.TrimSpace(user.String())},
	}, nil
}
