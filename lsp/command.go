package lsp

import (
	"context"
	"encoding/json"
	"fmt"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// validateArgs are r2c.validate's arguments.
type validateArgs struct {
	URI string `json:"uri"`
}

// learnArgs are r2c.learnStyle's arguments; empty Dirs means the workspace root.
type learnArgs struct {
	Dirs []string `json:"dirs,omitempty"`
}

func (s *Server) executeCommand(ctx context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.ExecuteCommandParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	token := workDoneToken(p.WorkDoneProgressParams)
	switch p.Command {
	case CommandValidate:
		var a validateArgs
		if err := commandArgs(p.Arguments, &a, "uri"); err != nil {
			return nil, err
		}
		d := s.docs.get(uri.URI(a.URI))
		if d == nil {
			return nil, invalidParams("r2c.validate: %s is not open", a.URI)
		}
		return s.validateDocument(ctx, d, token)
	case CommandLearnStyle:
		var a learnArgs
		if err := commandArgs(p.Arguments, &a); err != nil {
			return nil, err
		}
		return s.learnStyle(ctx, a, token)
	case CommandIndexPaper:
		var a indexArgs
		if err := commandArgs(p.Arguments, &a, "paper"); err != nil {
			return nil, err
		}
		return s.indexPaper(ctx, a, token)
	case CommandImplement:
		var a ImplementRequest
		if err := commandArgs(p.Arguments, &a, "paper", "section", "targetDir"); err != nil {
			return nil, err
		}
		return s.implement(ctx, a, token)
	case CommandSections:
		var a sectionsArgs
		if err := commandArgs(p.Arguments, &a, "paper"); err != nil {
			return nil, err
		}
		return s.sections(ctx, a, token)
	}
	return nil, invalidParams("unknown command %q (r2c offers %s, %s, %s, %s and %s)", p.Command, CommandImplement, CommandValidate, CommandLearnStyle, CommandIndexPaper, CommandSections)
}

// commandArgs decodes arguments given either as one object or, for
// editors where that is awkward, as positional strings named by fields.
func commandArgs(args []protocol.LSPAny, v any, fields ...string) error {
	if len(args) == 0 {
		if len(fields) == 0 {
			return nil
		}
		return invalidParams("missing arguments (want {%s})", joinFields(fields))
	}
	if len(args) == 1 && len(args[0]) > 0 && args[0][0] == '{' {
		if err := json.Unmarshal(args[0], v); err != nil {
			return invalidParams("arguments: %v", err)
		}
		return nil
	}
	if len(args) > len(fields) {
		return invalidParams("too many arguments (want {%s})", joinFields(fields))
	}
	obj := make(map[string]json.RawMessage, len(args))
	for i, a := range args {
		obj[fields[i]] = json.RawMessage(a)
	}
	raw, _ := json.Marshal(obj)
	if err := json.Unmarshal(raw, v); err != nil {
		return invalidParams("arguments: %v", err)
	}
	return nil
}

func joinFields(fields []string) string {
	out := ""
	for i, f := range fields {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", f)
	}
	return out
}
