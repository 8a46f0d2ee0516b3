package lsp

import (
	"context"
	"encoding/json"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/r2c-ai/r2c/style"
)

// Code action kinds r2c offers besides quickfix. They sit under the
// standard "source" and "refactor" kinds so editors put them in the usual
// menus and context.only filters work.
const (
	kindValidate   protocol.CodeActionKind = "source.r2c.validate"
	kindLearnStyle protocol.CodeActionKind = "source.r2c.learnStyle"
	kindImplement  protocol.CodeActionKind = "refactor.r2c.implement"
)

// bytePos is a domain position: 0-based line, UTF-8 byte column.
type bytePos struct{ line, col int }

func (a bytePos) less(b bytePos) bool {
	return a.line < b.line || (a.line == b.line && a.col < b.col)
}

func (s *Server) codeAction(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.CodeActionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d := s.docs.get(p.TextDocument.URI)
	if d == nil {
		return nil, invalidParams("%s is not open", p.TextDocument.URI)
	}
	s.mu.Lock()
	enc, caps := s.enc, s.caps
	s.mu.Unlock()
	// The style findings come with the snapshot they describe; every range
	// below (the request's, the fixes') is converted against that one text.
	var raw []style.Diagnostic
	var snap snapshot
	if d.isPython() {
		raw, snap = s.diags.styleFindings(d)
	} else {
		snap = d.snapshot()
	}
	sl, sc, err := snap.index.toByteCol(enc, p.Range.Start)
	if err != nil {
		return nil, invalidParams("range start: %v", err)
	}
	el, ec, err := snap.index.toByteCol(enc, p.Range.End)
	if err != nil {
		return nil, invalidParams("range end: %v", err)
	}
	start, end := bytePos{sl, sc}, bytePos{el, ec}
	if end.less(start) {
		return nil, invalidParams("range end before start")
	}

	var actions []protocol.CodeAction
	add := func(a protocol.CodeAction) {
		if a.Kind != nil && kindWanted(*a.Kind, p.Context.Only) {
			actions = append(actions, a)
		}
	}
	if d.isPython() {
		for _, f := range raw {
			if f.Fix == nil || len(f.Fix.Edits) == 0 {
				continue
			}
			fs, fe := bytePos{f.Range.Start.Line, f.Range.Start.Column}, bytePos{f.Range.End.Line, f.Range.End.Column}
			if end.less(fs) || fe.less(start) {
				continue
			}
			add(quickFix(snap, enc, caps, f))
		}
		add(commandAction("r2c: Validate module", kindValidate, CommandValidate, validateArgs{URI: string(snap.uri)}))
	}
	if req, ok := implementAt(snap, start.line, s.rootDir()); ok {
		add(commandAction("r2c: Implement "+describeSection(req), kindImplement, CommandImplement, req))
	}
	if s.opts.Index != nil && isPaperText(snap.lang, snap.path) {
		add(commandAction("r2c: Index this paper for retrieval", kindIndexPaper, CommandIndexPaper, indexArgs{Paper: snap.path}))
	}
	add(commandAction("r2c: Learn my style from this workspace", kindLearnStyle, CommandLearnStyle, learnArgs{}))
	return actions, nil
}

// kindWanted applies context.only: a kind matches an entry equal to it or
// a dot-separated prefix of it.
func kindWanted(k protocol.CodeActionKind, only []protocol.CodeActionKind) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if k == o || strings.HasPrefix(string(k), string(o)+".") {
			return true
		}
	}
	return false
}

// quickFix turns a style finding's Fix into a quickfix code action. With
// documentChanges support the edit carries the document version, so a
// client whose buffer moved on rejects it instead of corrupting the text.
func quickFix(snap snapshot, enc encoding, caps clientCaps, f style.Diagnostic) protocol.CodeAction {
	idx := snap.index
	edits := make([]protocol.TextEdit, len(f.Fix.Edits))
	for i, e := range f.Fix.Edits {
		edits[i] = protocol.TextEdit{Range: toProtocolRange(idx, enc, e.Range), NewText: e.NewText}
	}
	kind := protocol.CodeActionKindQuickFix
	preferred := true
	return protocol.CodeAction{
		Title:       f.Fix.Title,
		Kind:        &kind,
		Diagnostics: []protocol.Diagnostic{styleDiagnostic(idx, enc, f)},
		IsPreferred: &preferred,
		Edit:        versionedEdit(snap.uri, snap.version, caps, edits),
	}
}

// versionedEdit builds a WorkspaceEdit for one document.
func versionedEdit(u uri.URI, version int32, caps clientCaps, edits []protocol.TextEdit) *protocol.WorkspaceEdit {
	if !caps.documentChanges {
		return &protocol.WorkspaceEdit{Changes: map[uri.URI][]protocol.TextEdit{u: edits}}
	}
	elems := make([]protocol.TextDocumentEditElement, len(edits))
	for i := range edits {
		elems[i] = &edits[i]
	}
	v := version
	return &protocol.WorkspaceEdit{DocumentChanges: []protocol.DocumentChange{
		&protocol.TextDocumentEdit{
			TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u},
				Version:                &v,
			},
			Edits: elems,
		},
	}}
}

// commandAction is a code action that runs one of r2c's commands.
func commandAction(title string, kind protocol.CodeActionKind, command string, arg any) protocol.CodeAction {
	raw, err := json.Marshal(arg)
	if err != nil {
		raw = []byte("{}")
	}
	k := kind
	return protocol.CodeAction{
		Title:   title,
		Kind:    &k,
		Command: protocol.Command{Title: title, Command: command, Arguments: []protocol.LSPAny{protocol.LSPAny(raw)}},
	}
}
